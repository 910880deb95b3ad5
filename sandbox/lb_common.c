/*
 * sandbox/lb_common.c: helpers shared by the binding files (lb_common.h).
 */
#include "lb_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sandbox.h"

/* Pushes the calling script's position, "file:line: " (or ""): level 1 is
 * the C function's caller; when that is a C function too (pcall), level 2. */
static void push_where(lua_State *L)
{
    luaL_where(L, 1);
    const char *where = lua_tostring(L, -1);
    if (where == NULL || *where == '\0') {
        lua_pop(L, 1);
        luaL_where(L, 2);
    }
}

int tm_lb_error(lua_State *L, const char *fn, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    push_where(L);
    lua_pushfstring(L, "%s: %s", fn, msg);
    lua_concat(L, 2);
    return lua_error(L);
}

int tm_lb_argerror(lua_State *L, int arg, const char *fn, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    push_where(L);
    lua_pushfstring(L, "bad argument #%d to '%s' (%s)", arg, fn, msg);
    lua_concat(L, 2);
    return lua_error(L);
}

int tm_lb_typeerror(lua_State *L, int arg, const char *fn, const char *expected)
{
    const char *got = lua_isnone(L, arg) ? "no value" : luaL_typename(L, arg);
    return tm_lb_argerror(L, arg, fn, "%s expected, got %s", expected, got);
}

const char *tm_lb_checklstring(lua_State *L, int arg, const char *fn, size_t *len)
{
    const char *s = lua_tolstring(L, arg, len);
    if (s == NULL)
        tm_lb_typeerror(L, arg, fn, "string");
    return s;
}

const char *tm_lb_checkstring(lua_State *L, int arg, const char *fn, size_t *len)
{
    if (lua_type(L, arg) != LUA_TSTRING)
        tm_lb_typeerror(L, arg, fn, "string");
    return lua_tolstring(L, arg, len);
}

const char *tm_lb_optlstring(lua_State *L, int arg, const char *fn, const char *def, size_t *len)
{
    if (lua_isnoneornil(L, arg)) {
        if (len)
            *len = def ? strlen(def) : 0;
        return def;
    }
    return tm_lb_checklstring(L, arg, fn, len);
}

lua_Integer tm_lb_checkinteger(lua_State *L, int arg, const char *fn)
{
    if (!lua_isnumber(L, arg))
        tm_lb_typeerror(L, arg, fn, "number");
#if LUA_VERSION_NUM >= 503
    int exact = 0;
    lua_Integer v = lua_tointegerx(L, arg, &exact);
    if (!exact)
        tm_lb_argerror(L, arg, fn, "number has no integer representation");
    return v;
#else
    lua_Number x = lua_tonumber(L, arg);
    if (!tm_lua_whole(x))
        tm_lb_argerror(L, arg, fn, "number has no integer representation");
    return (lua_Integer)x;
#endif
}

lua_Integer tm_lb_optinteger(lua_State *L, int arg, const char *fn, lua_Integer def)
{
    return lua_isnoneornil(L, arg) ? def : tm_lb_checkinteger(L, arg, fn);
}

void tm_lb_checktable(lua_State *L, int arg, const char *fn)
{
    if (lua_type(L, arg) != LUA_TTABLE)
        tm_lb_typeerror(L, arg, fn, "table");
}

void tm_lb_limit_where(tm_sandbox *sb, lua_State *L, struct tm_err *err)
{
    char where[300] = "";
    snprintf(where, sizeof where, "%s", tm_sandbox_trip_where(sb));
    if (!where[0] && lua_isfunction(L, -1)) {
        lua_Debug ar; /* lua_getinfo(">S") pops the function */
        if (lua_getinfo(L, ">S", &ar) && ar.linedefined > 0)
            snprintf(where, sizeof where, "%s:%d",
                     ar.source && ar.source[0] == '@' ? ar.source + 1 : ar.short_src, ar.linedefined);
    } else {
        lua_pop(L, 1);
    }
    if (!err || !where[0] ||
        (err->code != TM_ELIMIT_MEM && err->code != TM_ELIMIT_INSTR && err->code != TM_ELIMIT_TIME))
        return;
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%.300s: %.200s", where, err->msg);
    memcpy(err->msg, msg, sizeof msg);
}
