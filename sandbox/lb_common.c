/*
 * sandbox/lb_common.c: helpers shared by the binding files (lb_common.h).
 */
#include "lb_common.h"

#include <stdarg.h>
#include <stdio.h>

int tm_lb_error(lua_State *L, const char *fn, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    luaL_where(L, 1);
    const char *where = lua_tostring(L, -1);
    if (where == NULL || *where == '\0') {
        lua_pop(L, 1);
        luaL_where(L, 2);
    }
    lua_pushfstring(L, "%s: %s", fn, msg);
    lua_concat(L, 2);
    return lua_error(L);
}
