/*
 * sandbox/lsurface.c: Lua 5.4's library surface on a LuaJIT build
 * (lsurface.h).
 *
 * Each guarded function is wrapped by a C closure that checks its integer
 * arguments the way 5.4 does and then calls the stock function (upvalue 1)
 * with values it reads the same way. LuaJIT reads such arguments as 32-bit
 * ints: a position past 2^31 wraps, which for string.sub/byte/select
 * changes the answer. Positions there are clamped to +-(2^31 - 1), which is
 * exact, since no string or argument list is that long; counts and table
 * positions that 5.4 would refuse get 5.4's error; and the few ranges of
 * table indices 5.4 reads beyond 2^31 (table.concat, unpack, move over
 * keys that large) are read here, raw, as LuaJIT's own functions read.
 */
#include "lsurface.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lcompat.h"
#include "lpattern.h"
#include "lutf8.h"

#if LUA_VERSION_NUM < 502

#define POS_MAX ((lua_Integer)INT32_MAX)
#define TICK_EVERY 1024 /* loop steps between two reports to the budget */
#define UNPACK_MAX 8000 /* LuaJIT's C stack: more results cannot be returned */

/* Where the loops below report their steps (upvalue 2 of every guard): they
 * run in C, where no count hook fires, so they tell the budget as the
 * pattern matcher does. */
typedef struct budget {
    tm_pattern_tick_fn tick; /* may be NULL */
    void *ud;
} budget;

static void step(lua_State *L, uint64_t k)
{
    if ((k & (TICK_EVERY - 1)) != TICK_EVERY - 1)
        return;
    const budget *b = lua_touserdata(L, lua_upvalueindex(2));
    if (b && b->tick)
        b->tick(L, b->ud, TICK_EVERY);
}

static int fits32(lua_Integer v)
{
    return v >= -POS_MAX && v <= POS_MAX;
}

/* Calls the stock function (upvalue 1) with the arguments as they now are. */
static int call_stock(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Argument i, when given, checked as an integer and clamped to 32 bits. */
static void clamp_arg(lua_State *L, int i)
{
    if (lua_isnoneornil(L, i))
        return;
    lua_Integer v = tm_lua_checkinteger(L, i);
    lua_pushinteger(L, v > POS_MAX ? POS_MAX : v < -POS_MAX ? -POS_MAX : v);
    lua_replace(L, i);
}

/* string.sub(s, i [, j]), string.byte(s [, i [, j]]) */
static int g_positions(lua_State *L)
{
    clamp_arg(L, 2);
    clamp_arg(L, 3);
    return call_stock(L);
}

/* string.char(...): each a byte value. */
static int g_char(lua_State *L)
{
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        lua_Integer c = tm_lua_checkinteger(L, i);
        luaL_argcheck(L, c >= 0 && c <= 255, i, "value out of range");
    }
    return call_stock(L);
}

/* string.format(fmt, ...): the arguments of %c %d %i %o %x %X are integers. */
static int g_format(lua_State *L)
{
    size_t fl;
    const char *f = luaL_checklstring(L, 1, &fl);
    int arg = 1;
    for (size_t k = 0; k < fl; k++) {
        if (f[k] != '%')
            continue;
        if (++k < fl && f[k] == '%')
            continue;
        arg++;
        while (k < fl && f[k] && strchr("-+ #0", f[k]))
            k++;
        while (k < fl && f[k] >= '0' && f[k] <= '9')
            k++;
        if (k < fl && f[k] == '.')
            k++;
        while (k < fl && f[k] >= '0' && f[k] <= '9')
            k++;
        if (k < fl && f[k] && strchr("cdioxX", f[k]) && !lua_isnone(L, arg))
            tm_lua_checkinteger(L, arg);
    }
    return call_stock(L);
}

/* select(n, ...) */
static int g_select(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING && *lua_tostring(L, 1) == '#')
        return call_stock(L);
    clamp_arg(L, 1);
    if (lua_isnone(L, 1))
        tm_lua_checkinteger(L, 1); /* "number expected, got no value" */
    return call_stock(L);
}

/* math.random([m [, n]]) */
static int g_random(lua_State *L)
{
    for (int i = 1; i <= 2 && i <= lua_gettop(L); i++)
        tm_lua_checkinteger(L, i);
    return call_stock(L);
}

/* table.insert(t, [pos,] v) */
static int g_insert(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    if (n == 3) {
        lua_Integer e = (lua_Integer)lua_objlen(L, 1) + 1;
        lua_Integer pos = tm_lua_checkinteger(L, 2);
        luaL_argcheck(L, (uint64_t)pos - 1u < (uint64_t)e, 2, "position out of bounds");
    } else if (n != 2) {
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    return call_stock(L);
}

/* table.remove(t [, pos]): 5.4 names argument 1 in its range error. */
static int g_remove(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer size = (lua_Integer)lua_objlen(L, 1);
    if (!lua_isnoneornil(L, 2)) {
        lua_Integer pos = tm_lua_checkinteger(L, 2);
        if (pos != size)
            luaL_argcheck(L, (uint64_t)pos - 1u <= (uint64_t)size, 1, "position out of bounds");
    }
    return call_stock(L);
}

/* t[k], raw, for any whole-number key; pushes the value. */
static void rawget_at(lua_State *L, int t, lua_Integer k)
{
    lua_pushnumber(L, (lua_Number)k);
    lua_rawget(L, t);
}

/* table.concat(t [, sep [, i [, j]]]) */
static int g_concat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t sl;
    const char *sep = luaL_optlstring(L, 2, "", &sl);
    lua_Integer i = tm_lua_optinteger(L, 3, 1);
    lua_Integer j = lua_isnoneornil(L, 4) ? (lua_Integer)lua_objlen(L, 1) : tm_lua_checkinteger(L, 4);
    if (fits32(i) && fits32(j))
        return call_stock(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (lua_Integer k = i; k <= j; k++) {
        step(L, (uint64_t)k - (uint64_t)i);
        rawget_at(L, 1, k);
        if (!lua_isstring(L, -1)) {
            char m[120];
            snprintf(m, sizeof m, "invalid value (%s) at index %lld in table for 'concat'",
                     luaL_typename(L, -1), (long long)k);
            return luaL_error(L, "%s", m);
        }
        luaL_addvalue(&b);
        if (k == j)
            break;
        luaL_addlstring(&b, sep, sl);
    }
    luaL_pushresult(&b);
    return 1;
}

/* table.unpack(t [, i [, j]]) */
static int g_unpack(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer i = tm_lua_optinteger(L, 2, 1);
    lua_Integer j = lua_isnoneornil(L, 3) ? (lua_Integer)lua_objlen(L, 1) : tm_lua_checkinteger(L, 3);
    if (i > j)
        return 0;
    if (fits32(i) && fits32(j))
        return call_stock(L);
    if ((uint64_t)j - (uint64_t)i >= UNPACK_MAX || !lua_checkstack(L, (int)(j - i) + 1))
        return luaL_error(L, "too many results to unpack");
    for (lua_Integer k = i;; k++) {
        rawget_at(L, 1, k);
        if (k == j)
            break;
    }
    return (int)(j - i) + 1;
}

/* table.move(a1, f, e, t [, a2]) */
static int g_move(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer f = tm_lua_checkinteger(L, 2);
    lua_Integer e = tm_lua_checkinteger(L, 3);
    lua_Integer t = tm_lua_checkinteger(L, 4);
    int dst = lua_isnoneornil(L, 5) ? 1 : 5;
    luaL_checktype(L, dst, LUA_TTABLE);
    if (e < f)
        return call_stock(L);
    luaL_argcheck(L, f > 0 || e < INT64_MAX + f, 3, "too many elements to move");
    lua_Integer n = e - f;
    luaL_argcheck(L, t <= INT64_MAX - n, 4, "destination wrap around");
    if (fits32(f) && fits32(e) && fits32(t) && fits32(t + n))
        return call_stock(L);
    int forward = t > e || t <= f || (dst != 1 && !lua_rawequal(L, 1, dst));
    for (lua_Integer k = 0;; k++) {
        step(L, (uint64_t)k);
        lua_Integer at = forward ? k : n - k;
        lua_pushnumber(L, (lua_Number)(t + at));
        rawget_at(L, 1, f + at);
        lua_rawset(L, dst);
        if (k == n)
            break;
    }
    lua_pushvalue(L, dst);
    return 1;
}

/* rawlen(v): the length of a table or string without metamethods. */
static int l_rawlen(lua_State *L)
{
    int t = lua_type(L, 1);
    if (t != LUA_TTABLE && t != LUA_TSTRING)
        return luaL_argerror(L, 1, lua_pushfstring(L, "table or string expected, got %s",
                                                   luaL_typename(L, 1)));
    lua_pushinteger(L, (lua_Integer)lua_objlen(L, 1));
    return 1;
}

/* table.pack(...): the arguments in a table with n = their count. */
static int l_pack(lua_State *L)
{
    int n = lua_gettop(L);
    lua_createtable(L, n, 1);
    lua_insert(L, 1);
    for (int i = n; i >= 1; i--)
        lua_rawseti(L, 1, i);
    lua_pushinteger(L, n);
    lua_setfield(L, 1, "n");
    return 1;
}

/* Replaces t[name] (t at index `t`) by `fn` around the stock function, with
 * the budget (at the top of the stack) as its second upvalue. */
static void guard(lua_State *L, int t, const char *name, lua_CFunction fn)
{
    lua_getfield(L, t, name);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushvalue(L, -2); /* the budget */
    lua_pushcclosure(L, fn, 2);
    lua_setfield(L, t, name);
}

void tm_surface_align(lua_State *L, int globals, tm_pattern_tick_fn tick, void *ud)
{
    int g = tm_lua_absindex(L, globals);
    budget *bud = lua_newuserdata(L, sizeof *bud); /* stays on the stack until the end */
    bud->tick = tick;
    bud->ud = ud;
    lua_pushcfunction(L, tm_lutf8_open);
    lua_call(L, 0, 1);
    lua_setfield(L, g, "utf8");
    lua_pushcfunction(L, l_rawlen);
    lua_setfield(L, g, "rawlen");
    guard(L, g, "select", g_select);
    guard(L, g, "unpack", g_unpack); /* the sandbox moves it to table.unpack */

    lua_getfield(L, g, "string");
    int s = lua_gettop(L);
    lua_pushvalue(L, -2);
    guard(L, s, "sub", g_positions);
    guard(L, s, "byte", g_positions);
    guard(L, s, "char", g_char);
    guard(L, s, "format", g_format);
    lua_pop(L, 2);

    lua_getfield(L, g, "table");
    int t = lua_gettop(L);
    lua_pushvalue(L, -2);
    static const char *const gone[] = {"foreach", "foreachi", "getn", "maxn", NULL};
    for (int i = 0; gone[i]; i++) {
        lua_pushnil(L);
        lua_setfield(L, t, gone[i]);
    }
    lua_pushcfunction(L, l_pack);
    lua_setfield(L, t, "pack");
    guard(L, t, "concat", g_concat);
    guard(L, t, "insert", g_insert);
    guard(L, t, "remove", g_remove);
    guard(L, t, "move", g_move);
    lua_pop(L, 2);

    lua_getfield(L, g, "math");
    lua_pushvalue(L, -2);
    guard(L, lua_gettop(L) - 1, "random", g_random);
    lua_pop(L, 3); /* math, the budget twice */
}

#else

void tm_surface_align(lua_State *L, int globals, tm_pattern_tick_fn tick, void *ud)
{
    (void)L;
    (void)globals;
    (void)tick;
    (void)ud;
}

#endif
