/*
 * sandbox/lb_pay.h: the `tm.money` and `tm.pay` libraries (see lb_pay.c),
 * the payment primitives of core/pay.h for scripts.
 */
#ifndef TM_LB_PAY_H
#define TM_LB_PAY_H

struct lua_State;

/* Push the tm.money / tm.pay tables. */
int tm_lb_open_money(struct lua_State *L);
int tm_lb_open_pay(struct lua_State *L);

/* Registers both libraries for every sandbox created afterwards (call once,
 * before the first sandbox, like tm_lb_gate_register()). */
void tm_lb_pay_register(void);

#endif
