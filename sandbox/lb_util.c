/*
 * sandbox/lb_util.c: the journey durations business_days(n) and minutes(n),
 * and `tm.bucket(key)`: a number from 0 to 9999 fixed by the
 * key's SHA-256, so a debt's champion/challenger variant is the same on
 * every run, on every machine and in both Lua builds, and does not move when
 * other debts come and go. Percentages map onto it in basis points, so
 * changing them moves only the debts in the slice that changed hands.
 * And `tm.nearest(word, names)`, the "did you mean" of the script
 * libraries' checks (core/text.h's, the one the regulation compiler uses).
 */
#include "lb_util.h"

#include <string.h>

#include "crypto.h"
#include "lb_common.h"
#include "text.h"
#include "lcompat.h"
#include "sandbox.h"

/***
 * @function tm.bucket(key)
 * A number fixed by the key's SHA-256: the same on every run, machine and
 * build, so a debt's variant never moves by accident.
 * @param key {string} e.g. "early_stage:D000000042"
 * @return {integer} 0..9999
 */
static int l_bucket(lua_State *L)
{
    size_t len;
    const char *key = tm_lb_checkstring(L, 1, "tm.bucket", &len);
    lua_pushinteger(L, (lua_Integer)tm_sha256_bucket(key, len));
    return 1;
}

/* Durations for journeys, shaped like the regulation language's days(n) and
 * hours(n): {unit = "business_days" | "minutes", n = n}. */
static int duration(lua_State *L, const char *unit, lua_Integer max)
{
    if (lua_type(L, 1) != LUA_TNUMBER)
        return tm_lb_typeerror(L, 1, unit, "whole number");
    lua_Integer n = tm_lb_checkinteger(L, 1, unit);
    if (n < 1 || n > max)
        return tm_lb_argerror(L, 1, unit, "1 to %lld expected, got %lld", (long long)max,
                              (long long)n);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, unit);
    lua_setfield(L, -2, "unit");
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
    return 1;
}
/***
 * @function business_days(n)
 * A journey duration: n business days (weekends and federal holidays
 * skipped), at the same local time.
 * @param n {integer} 1 to 3660
 * @return {tm.Duration} {unit = "business_days", n = n}
 */
static int l_business_days(lua_State *L) { return duration(L, "business_days", 3660); }

/***
 * @function minutes(n)
 * A journey duration: n minutes.
 * @param n {integer} 1 to 100000
 * @return {tm.Duration} {unit = "minutes", n = n}
 */
static int l_minutes(lua_State *L) { return duration(L, "minutes", 100000); }
static int push_business_days(lua_State *L)
{
    lua_pushcfunction(L, l_business_days);
    return 1;
}
static int push_minutes(lua_State *L)
{
    lua_pushcfunction(L, l_minutes);
    return 1;
}

/***
 * @function tm.nearest(word, names)
 * "Did you mean": the name in the list nearest to `word` by edit distance
 * (an insertion, deletion, substitution or swap of two neighbours counts
 * one), when it is near enough to be a slip (1 edit up to 4 letters, 2 up
 * to 8, 3 beyond); nil otherwise, or when `word` is in the list.
 * @param word {string} e.g. "afterr"
 * @param names {string[]} the names expected, at most 256 (others are ignored)
 * @return {string|nil} e.g. "after"
 */
static int l_nearest(lua_State *L)
{
    size_t len;
    const char *word = tm_lb_checkstring(L, 1, "tm.nearest", &len);
    tm_lb_checktable(L, 2, "tm.nearest");
    const char *names[257];
    int n = 0;
    lua_Integer k = (lua_Integer)tm_lua_rawlen(L, 2);
    for (lua_Integer i = 1; i <= k && n < 256; i++) {
        lua_rawgeti(L, 2, i); /* the strings stay anchored in the table */
        if (lua_type(L, -1) == LUA_TSTRING)
            names[n++] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    names[n] = NULL;
    int at = tm_text_nearest(word, names);
    if (at < 0)
        lua_pushnil(L);
    else
        lua_pushstring(L, names[at]);
    return 1;
}

static int push_nearest(lua_State *L)
{
    lua_pushcfunction(L, l_nearest);
    return 1;
}

static int push_bucket(lua_State *L)
{
    lua_pushcfunction(L, l_bucket);
    return 1;
}

void tm_lb_util_register(void)
{
    tm_sandbox_add_library("bucket", push_bucket);
    tm_sandbox_add_library("nearest", push_nearest);
    tm_sandbox_add_global("business_days", push_business_days);
    tm_sandbox_add_global("minutes", push_minutes);
}
