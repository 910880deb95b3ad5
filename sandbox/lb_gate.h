/*
 * sandbox/lb_gate.h: the Lua side of the compliance gate: the regulation
 * language's globals, `decide` for specs, and the check callback that runs a
 * rule's `check` function. The compiler itself is rulec.h.
 */
#ifndef TM_LB_GATE_H
#define TM_LB_GATE_H

#include "gate.h"
#include "rulec.h"
#include "sandbox.h"

/* Registers the regulation DSL globals (`regulation`, `block`, `days`,
 * `hours`) and `decide` for every sandbox created afterwards. Call once at
 * start-up, before creating sandboxes. */
void tm_lb_gate_register(void);

/* Builds a gate from the sandbox's script set with the regulation compiler
 * (tm_rulec_compile(), which says what is compiled, reported and failed
 * closed), with rule `check` functions called through this binding. The
 * gate's check callbacks run in `sb`, which must outlive the gate, and the
 * sandbox remembers the gate for `decide` in specs. Caller frees the gate
 * with tm_gate_free(). TM_ENOMEM only. */
int tm_lb_gate_load(tm_sandbox *sb, tm_gate **out, tm_gate_report_fn report, void *ud,
                    struct tm_err *err);

/* Makes `gate` the one `decide` (in specs) uses in this sandbox. */
/* The gate attached to `sb` (tm_lb_gate_attach, tm_lb_gate_load), or NULL. */
tm_gate *tm_lb_gate_attached(tm_sandbox *sb);
void tm_lb_gate_attach(tm_sandbox *sb, tm_gate *gate);

#endif
