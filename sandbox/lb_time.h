/*
 * sandbox/lb_time.h: the `tm.time` library (see lb_time.c).
 */
#ifndef TM_LB_TIME_H
#define TM_LB_TIME_H

struct lua_State;

/* Pushes the tm.time table; register with tm_sandbox_add_library("time", ...). */
int tm_lb_open_time(struct lua_State *L);

#endif
