/*
 * sandbox/lcompat.h: the small layer that lets the sandbox build against both
 * Lua 5.4 and LuaJIT 2.1 (the Lua 5.1 C API with some 5.2 additions).
 * Only what the sandbox and bindings need; nothing here is public.
 */
#ifndef TM_LCOMPAT_H
#define TM_LCOMPAT_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#if LUA_VERSION_NUM < 502
#define lua_pushglobaltable(L) lua_pushvalue((L), LUA_GLOBALSINDEX)
#endif

#if LUA_VERSION_NUM >= 502
#define tm_lua_rawlen(L, i) lua_rawlen((L), (i))
#define tm_lua_absindex(L, i) lua_absindex((L), (i))
#else
#define tm_lua_rawlen(L, i) lua_objlen((L), (i))
#define tm_lua_absindex(L, i)                                                   \
    (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#endif

#if LUA_VERSION_NUM >= 503
#define tm_lua_isinteger(L, i) lua_isinteger((L), (i))
#else
/* LuaJIT numbers are doubles: an integral value in range counts as an integer. */
static inline int tm_lua_isinteger(lua_State *L, int i)
{
    if (lua_type(L, i) != LUA_TNUMBER)
        return 0;
    lua_Number n = lua_tonumber(L, i);
    return n == (lua_Number)(lua_Integer)n;
}
#endif

/* Integer arguments as Lua 5.4 reads them, on every build. LuaJIT's own
 * checks truncate 2.5 to 2 and wrap 2^31 to a negative count; here a number
 * that is not whole or lies outside the 64-bit range raises "number has no
 * integer representation", as luaL_checkinteger does in 5.4, and
 * tm_lua_tointeger answers 0 for it, as lua_tointeger does. */
#if LUA_VERSION_NUM >= 503
#define tm_lua_checkinteger(L, i) luaL_checkinteger((L), (i))
#define tm_lua_optinteger(L, i, d) luaL_optinteger((L), (i), (d))
#define tm_lua_tointeger(L, i) lua_tointeger((L), (i))
#else
static inline int tm_lua_whole(lua_Number x)
{
    return x >= -9223372036854775808.0 && x < 9223372036854775808.0 &&
           x == (lua_Number)(lua_Integer)x;
}
static inline lua_Integer tm_lua_checkinteger(lua_State *L, int i)
{
    lua_Number x = luaL_checknumber(L, i);
    if (!tm_lua_whole(x))
        luaL_argerror(L, i, "number has no integer representation");
    return (lua_Integer)x;
}
static inline lua_Integer tm_lua_optinteger(lua_State *L, int i, lua_Integer d)
{
    return lua_isnoneornil(L, i) ? d : tm_lua_checkinteger(L, i);
}
static inline lua_Integer tm_lua_tointeger(lua_State *L, int i)
{
    lua_Number x = lua_tonumber(L, i);
    return tm_lua_whole(x) ? (lua_Integer)x : 0;
}
#endif

/* Sets the environment of the function at the top of the stack to the value
 * just below... no: pops the value at the top and makes it the environment of
 * the Lua function at index `fidx`. Returns 1 on success. */
static inline int tm_lua_setfenv(lua_State *L, int fidx)
{
#if LUA_VERSION_NUM >= 502
    /* A main chunk's first upvalue is _ENV. */
    return lua_setupvalue(L, fidx, 1) != NULL ? 1 : (lua_pop(L, 1), 0);
#else
    return lua_setfenv(L, fidx);
#endif
}

#endif
