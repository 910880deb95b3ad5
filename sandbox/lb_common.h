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

#endif
