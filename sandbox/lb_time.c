/*
 * sandbox/lb_time.c: the time primitives (core/tz.h, core/calendar.h) as the
 * `tm.time` library for scripts: local times in IANA zones, the zones of a
 * state, federal holidays and business days, RFC 3339 times. Registered with
 * the regulation language (lb_gate.c), which needs it first.
 */
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "lb_common.h"
#include "lb_time.h"
#include "lcompat.h"
#include "tz.h"

/* A string argument the C parsers read: one with a NUL byte inside would be
 * read only up to the NUL, so "2026-01-01T00:00:00Z\0junk" would pass as a
 * time. Refused instead. */
static const char *check_text(lua_State *L, int i, const char *fn)
{
    size_t len;
    const char *s = tm_lb_checklstring(L, i, fn, &len);
    if (strlen(s) != len)
        tm_lb_argerror(L, i, fn, "contains a NUL byte (at byte %d)", (int)strlen(s) + 1);
    return s;
}

static const tm_zone *check_zone(lua_State *L, int i, const char *fn)
{
    const char *name = check_text(L, i, fn);
    const tm_zone *z = NULL;
    if (tm_tz_get(name, &z, NULL) != TM_OK)
        tm_lb_argerror(L, i, fn, "unknown time zone '%.200s'", name);
    return z;
}

static int64_t check_time(lua_State *L, int i, const char *fn)
{
    if (lua_type(L, i) == LUA_TSTRING) {
        int64_t t;
        int32_t ns;
        int off;
        struct tm_err e = {0};
        if (tm_calendar_parse_rfc3339(check_text(L, i, fn), &t, &ns, &off, &e) != TM_OK)
            tm_lb_argerror(L, i, fn, "%s", e.msg);
        return t;
    }
    if (lua_type(L, i) != LUA_TNUMBER)
        tm_lb_typeerror(L, i, fn, "number or RFC 3339 string");
    return (int64_t)lua_tonumber(L, i);
}

static tm_date check_date(lua_State *L, int i, const char *fn)
{
    tm_date d;
    struct tm_err e = {0};
    if (tm_calendar_parse_date(check_text(L, i, fn), &d, &e) != TM_OK)
        tm_lb_argerror(L, i, fn, "%s", e.msg);
    return d;
}

/* Pushes d as "YYYY-MM-DD". A date that cannot be written so (a year past
 * 9999 or before 0000, reached by arithmetic) raises against argument `arg`
 * rather than answer "", which a script would take for a date. */
static void push_date(lua_State *L, tm_date d, int arg, const char *fn)
{
    char b[16];
    struct tm_err e = {0};
    if (tm_calendar_format_date(d, b, sizeof b, &e) != TM_OK)
        tm_lb_argerror(L, arg, fn, "the resulting date is out of range: %s", e.msg);
    lua_pushstring(L, b);
}

/***
 * @function tm.time.parse(t)
 * @param t {string|integer} an RFC 3339 time ("2026-11-23T14:05:00Z",
 *   "2026-11-23T09:05:00-05:00"), or seconds since 1970 (returned as they are)
 * @return {integer} seconds since 1970-01-01T00:00:00Z
 */
static int l_time_parse(lua_State *L)
{
    const char *fn = "tm.time.parse";
    lua_pushinteger(L, (lua_Integer)check_time(L, 1, fn));
    return 1;
}

/***
 * @function tm.time.format(t)
 * @param t {integer|string} seconds since 1970, or an RFC 3339 time
 * @return {string} the UTC instant as RFC 3339 ("2026-11-23T14:05:00Z")
 */
static int l_time_format(lua_State *L)
{
    const char *fn = "tm.time.format";
    int64_t t = check_time(L, 1, fn);
    char b[40];
    if (tm_calendar_format_rfc3339(t, 0, b, sizeof b, NULL) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "time out of range");
    lua_pushstring(L, b);
    return 1;
}

/***
 * @function tm.time.local_time(zone, t)
 * The local civil time of an instant in an IANA zone.
 * @param zone {string} IANA zone ("America/New_York")
 * @param t {integer|string} seconds since 1970, or an RFC 3339 time
 * @return {table} {date = "YYYY-MM-DD", year, month, day, hour, min, sec,
 *   wday = "sun".."sat", offset = seconds east of UTC, dst = boolean}
 */
static int l_time_local(lua_State *L)
{
    const char *fn = "tm.time.local_time";
    const tm_zone *z = check_zone(L, 1, fn);
    int64_t t = check_time(L, 2, fn);
    tm_civil c;
    if (tm_tz_to_local(z, t, &c) != TM_OK)
        return tm_lb_argerror(L, 2, fn, "time out of range");
    static const char *const wd[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    lua_createtable(L, 0, 10);
    push_date(L, (tm_date){c.year, c.month, c.day}, 2, fn);
    lua_setfield(L, -2, "date");
    lua_pushinteger(L, c.year);
    lua_setfield(L, -2, "year");
    lua_pushinteger(L, c.month);
    lua_setfield(L, -2, "month");
    lua_pushinteger(L, c.day);
    lua_setfield(L, -2, "day");
    lua_pushinteger(L, c.hour);
    lua_setfield(L, -2, "hour");
    lua_pushinteger(L, c.min);
    lua_setfield(L, -2, "min");
    lua_pushinteger(L, c.sec);
    lua_setfield(L, -2, "sec");
    lua_pushstring(L, wd[c.wday]);
    lua_setfield(L, -2, "wday");
    lua_pushinteger(L, c.offset);
    lua_setfield(L, -2, "offset");
    lua_pushboolean(L, c.is_dst);
    lua_setfield(L, -2, "dst");
    return 1;
}

/***
 * @function tm.time.from_local(zone, date, clock [, which])
 * The instant of a local date and time in an IANA zone. A time skipped by a
 * change to summer time moves forward by the gap; a time that happens twice
 * is the earlier occurrence unless `which` is "later".
 * @param zone {string} IANA zone
 * @param date {string} "YYYY-MM-DD"
 * @param clock {string} "HH:MM" or "HH:MM:SS"
 * @param which {string} "earlier" (default) or "later"
 * @return {integer} seconds since 1970
 */
static int l_time_from_local(lua_State *L)
{
    const char *fn = "tm.time.from_local";
    const tm_zone *z = check_zone(L, 1, fn);
    tm_date d = check_date(L, 2, fn);
    int secs;
    const char *hm = check_text(L, 3, fn);
    if (tm_calendar_parse_clock(hm, TM_CLOCK_SECONDS, &secs, NULL) != TM_OK)
        return tm_lb_argerror(L, 3, fn, "HH:MM or HH:MM:SS expected, got '%.40s'", hm);
    const char *which = lua_isnoneornil(L, 4) ? "earlier" : check_text(L, 4, fn);
    if (strcmp(which, "earlier") != 0 && strcmp(which, "later") != 0)
        return tm_lb_argerror(L, 4, fn, "\"earlier\" or \"later\" expected, got '%.40s'", which);
    tm_civil c = {0};
    c.year = d.year;
    c.month = d.month;
    c.day = d.day;
    c.hour = secs / 3600;
    c.min = secs / 60 % 60;
    c.sec = secs % 60;
    int64_t t;
    struct tm_err e = {0};
    if (tm_tz_from_local(z, &c, strcmp(which, "later") == 0 ? TM_TZ_LATER : TM_TZ_EARLIER, &t, &e) !=
        TM_OK)
        return tm_lb_argerror(L, 3, fn, "%s", e.msg);
    lua_pushinteger(L, (lua_Integer)t);
    return 1;
}

/***
 * @function tm.time.state_zones(usps)
 * @param usps {string} a USPS state code ("TX")
 * @return {string[]?} the IANA zones in use in the state, or nil for an
 *   unknown code
 */
static int l_time_state_zones(lua_State *L)
{
    const char *fn = "tm.time.state_zones";
    const char *const *zones = tm_tz_state_zones(check_text(L, 1, fn));
    if (!zones) {
        lua_pushnil(L);
        return 1;
    }
    lua_newtable(L);
    for (int i = 0; zones[i]; i++) {
        lua_pushstring(L, zones[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/***
 * @function tm.time.holiday(date)
 * @param date {string} "YYYY-MM-DD"
 * @return {string?, string?} the US federal holiday on that date, and the one
 *   observed on it (a holiday on a weekend is observed on a Friday or Monday)
 */
static int l_time_holiday(lua_State *L)
{
    const char *fn = "tm.time.holiday";
    tm_date d = check_date(L, 1, fn);
    tm_holiday_info hi;
    struct tm_err e = {0};
    if (tm_calendar_us_holiday(d, &hi, &e) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    if (hi.actual)
        lua_pushstring(L, tm_calendar_holiday_name(hi.actual));
    else
        lua_pushnil(L);
    if (hi.observed)
        lua_pushstring(L, tm_calendar_holiday_name(hi.observed));
    else
        lua_pushnil(L);
    return 2;
}

/***
 * @function tm.time.is_business_day(date)
 * @param date {string} "YYYY-MM-DD"
 * @return {boolean} Monday to Friday and not an observed federal holiday
 */
static int l_time_is_business_day(lua_State *L)
{
    const char *fn = "tm.time.is_business_day";
    tm_date d = check_date(L, 1, fn);
    int yes = 0;
    struct tm_err e = {0};
    if (tm_calendar_is_business_day(d, NULL, &yes, &e) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    lua_pushboolean(L, yes);
    return 1;
}

/***
 * @function tm.time.add_business_days(date, n)
 * @param date {string} "YYYY-MM-DD"
 * @param n {integer} -3660 to 3660
 * @return {string} the n-th business day after (n > 0) or before (n < 0) the
 *   date, "YYYY-MM-DD"
 */
static int l_time_add_business_days(lua_State *L)
{
    const char *fn = "tm.time.add_business_days";
    tm_date d = check_date(L, 1, fn);
    lua_Integer n = tm_lb_checkinteger(L, 2, fn);
    if (n < -3660 || n > 3660)
        return tm_lb_argerror(L, 2, fn, "-3660 to 3660 business days expected, got %lld",
                              (long long)n);
    tm_date out;
    struct tm_err e = {0};
    if (tm_calendar_add_business_days(d, (int64_t)n, NULL, &out, &e) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    push_date(L, out, 2, fn);
    return 1;
}

/***
 * @function tm.time.add_days(date, n)
 * @param date {string} "YYYY-MM-DD"
 * @param n {integer} calendar days
 * @return {string} the date n days later (earlier when n < 0), "YYYY-MM-DD"
 */
static int l_time_add_days(lua_State *L)
{
    const char *fn = "tm.time.add_days";
    tm_date d = check_date(L, 1, fn);
    lua_Integer n = tm_lb_checkinteger(L, 2, fn);
    tm_date out;
    struct tm_err e = {0};
    if (tm_calendar_add_days(d, (int64_t)n, &out, &e) != TM_OK)
        return tm_lb_argerror(L, 2, fn, "%s", e.msg);
    push_date(L, out, 2, fn);
    return 1;
}

static const luaL_Reg time_funcs[] = {
    {"parse", l_time_parse},
    {"format", l_time_format},
    {"local_time", l_time_local},
    {"from_local", l_time_from_local},
    {"state_zones", l_time_state_zones},
    {"holiday", l_time_holiday},
    {"is_business_day", l_time_is_business_day},
    {"add_business_days", l_time_add_business_days},
    {"add_days", l_time_add_days},
    {NULL, NULL},
};

int tm_lb_open_time(lua_State *L)
{
    lua_createtable(L, 0, (int)(sizeof time_funcs / sizeof *time_funcs));
    luaL_setfuncs(L, time_funcs, 0);
    return 1;
}
