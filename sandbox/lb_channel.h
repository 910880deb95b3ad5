/*
 * sandbox/lb_channel.h: the `tm.template` and `tm.sms` libraries (see
 * lb_channel.c), channel templates (SMS, email, letters) for strategy scripts,
 * over core/tmpl.h and core/sms.h.
 */
#ifndef TM_LB_CHANNEL_H
#define TM_LB_CHANNEL_H

struct lua_State;

/* At most this many placeholder occurrences in one template given to
 * tm.template.render or tm.template.placeholders; more is an error raised
 * before any work proportional to the count is done. */
#define TM_LB_TMPL_MAX_PLACEHOLDERS 10000

/* Output cap of tm.template.render when opts.max is absent: 64 KiB. */
#define TM_LB_TMPL_MAX_DEFAULT ((long)64 * 1024)

/* The largest opts.max a script may ask for: 16 MiB. The output buffer lives
 * outside the Lua allocator, so this bounds the C memory one call can take. */
#define TM_LB_TMPL_MAX_CEILING ((long)16 * 1024 * 1024)

/* Push the tm.template / tm.sms tables. */
int tm_lb_open_template(struct lua_State *L);
int tm_lb_open_sms(struct lua_State *L);

/* Registers both libraries for every sandbox created afterwards (call once,
 * at start-up, before the first sandbox, like tm_lb_gate_register()). */
void tm_lb_channel_register(void);

#endif
