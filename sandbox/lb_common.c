/*
 * sandbox/lb_common.c: helpers shared by the binding files (lb_common.h).
 */
#include "lb_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sandbox.h"

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
