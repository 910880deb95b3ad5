/*
 * sandbox/lb_gate.h: regulation scripts -> compiled gate rules, and the Lua
 * side of the compliance gate (the `regulation` DSL, `decide` for specs, the
 * check callback that runs a rule's `check` function).
 */
#ifndef TM_LB_GATE_H
#define TM_LB_GATE_H

#include "gate.h"
#include "sandbox.h"

/* Registers the regulation DSL globals (`regulation`, `block`, `days`,
 * `hours`) and `decide` for every sandbox created afterwards. Call once at
 * start-up, before creating sandboxes. */
void tm_lb_gate_register(void);

/* A problem found while loading, "path:line: message"; `fatal` when the
 * script or rule could not be used (the gate then fails closed for it). */
typedef void (*tm_gate_report_fn)(void *ud, const char *message, int fatal);

/* Builds a gate from the sandbox's script set: every script under
 * regulations/ and policies/ (not *_spec.lua) whose value is a regulation
 * (or a list of them) is compiled, and regulations/sol.lua gives the
 * statutes of limitation. A rule or script that cannot be compiled becomes a
 * rule that blocks every contact it could apply to (fail closed), and is
 * reported. The gate's check callbacks run in `sb`, which must outlive the
 * gate, and the sandbox remembers the gate for `decide` in specs.
 * Caller frees the gate with tm_gate_free(). */
int tm_lb_gate_load(tm_sandbox *sb, tm_gate **out, tm_gate_report_fn report, void *ud,
                    struct tm_err *err);

/* Makes `gate` the one `decide` (in specs) uses in this sandbox. */
void tm_lb_gate_attach(tm_sandbox *sb, tm_gate *gate);

#endif
