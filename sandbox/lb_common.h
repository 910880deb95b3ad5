/*
 * sandbox/lb_common.h: helpers shared by the binding files (sandbox/lb_*.c).
 * Internal to sandbox/; scripts and core/ never see these.
 */
#ifndef TM_LB_COMMON_H
#define TM_LB_COMMON_H

#include <stddef.h>

#include "lcompat.h"
#include "tm_status.h"

/* Writes the Lua value at `idx` as JSON text (raw walk: no metamethods run).
 * *out is malloc'd (caller frees). TM_ECONVERT names what cannot be written. */
int tm_lb_json_encode(lua_State *L, int idx, char **out, size_t *outlen, struct tm_err *err);

/* Raises "file:line: fn: message" at the calling script's position (level 1
 * is the C function itself, which has no line; then level 2 is used).
 * Never returns. The message is cut at 400 bytes. */
int tm_lb_error(lua_State *L, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Makes a limit error name the script: err->msg (a TM_ELIMIT_* from a call
 * just made in `sb`, else left alone) becomes "file:line: <limit>", with
 * where the sandbox stopped the call (tm_sandbox_trip_where) or, when that
 * is not known, where the function that was called begins. Pops the value
 * at the top of the stack: that function, or anything (nil) when there is
 * none to name. */
struct tm_sandbox;
void tm_lb_limit_where(struct tm_sandbox *sb, lua_State *L, struct tm_err *err);

#endif
