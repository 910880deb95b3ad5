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

/* How a binding fails (STYLE.md, "Errors"):
 *   - an argument of the wrong type or out of range raises tm_lb_argerror()
 *     (or one of the tm_lb_check* readers below, which call it): one shape,
 *     "file:line: bad argument #2 to 'tm.pay.settlement' (basis points 0 to
 *     1000000 expected, got 1500000)", on Lua 5.4 and LuaJIT alike;
 *   - a refusal a script is expected to branch on returns nil, message, code
 *     (or false, message) and raises nothing;
 *   - anything else (out of memory, a failure that is no one argument's
 *     fault, such as a template that does not render with the values given)
 *     raises tm_lb_error(): "file:line: fn: message".
 * `fn` is always the function as scripts call it ("tm.time.from_local",
 * "days"), given by the binding: debug information names a function reached
 * through a table by its last field, or '?' on LuaJIT. */

/* Raises "file:line: fn: message" at the calling script's position (level 1
 * is the C function itself, which has no line; then level 2 is used).
 * Never returns. The message is cut at 400 bytes. */
int tm_lb_error(lua_State *L, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Raises "file:line: bad argument #arg to 'fn' (message)" at the calling
 * script's position, as tm_lb_error() finds it. Never returns. The message
 * is cut at 400 bytes. */
int tm_lb_argerror(lua_State *L, int arg, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Raises tm_lb_argerror() with "<expected> expected, got <type of arg>"
 * (luaL_typeerror's wording; "no value" for a missing argument). */
int tm_lb_typeerror(lua_State *L, int arg, const char *fn, const char *expected);

/* Argument readers that raise through tm_lb_argerror(), with the values
 * they accept those of the auxiliary library's luaL_check* on Lua 5.4:
 *   checklstring  a string or a number (converted in place); `len` may be NULL;
 *   checkstring   the same, for a real string only (a number is refused);
 *   checkinteger  an integer, or a number or numeric string with an exact
 *                 integer value ("number has no integer representation"
 *                 otherwise, also on LuaJIT, which would truncate);
 *   checktable    a table;
 *   opt*          the default when the argument is absent or nil. */
const char *tm_lb_checklstring(lua_State *L, int arg, const char *fn, size_t *len);
const char *tm_lb_checkstring(lua_State *L, int arg, const char *fn, size_t *len);
const char *tm_lb_optlstring(lua_State *L, int arg, const char *fn, const char *def, size_t *len);
lua_Integer tm_lb_checkinteger(lua_State *L, int arg, const char *fn);
lua_Integer tm_lb_optinteger(lua_State *L, int arg, const char *fn, lua_Integer def);
void tm_lb_checktable(lua_State *L, int arg, const char *fn);

/* Makes a limit error name the script: err->msg (a TM_ELIMIT_* from a call
 * just made in `sb`, else left alone) becomes "file:line: <limit>", with
 * where the sandbox stopped the call (tm_sandbox_trip_where) or, when that
 * is not known, where the function that was called begins. Pops the value
 * at the top of the stack: that function, or anything (nil) when there is
 * none to name. */
struct tm_sandbox;
void tm_lb_limit_where(struct tm_sandbox *sb, lua_State *L, struct tm_err *err);

#endif
