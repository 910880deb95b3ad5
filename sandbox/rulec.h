/*
 * sandbox/rulec.h: the regulation-language compiler. Turns the
 * `regulation { ... }` tables that scripts under regulations/ and policies/
 * return into the gate's C rules (core/gate.h), and regulations/sol.lua into
 * its statutes of limitation. The Lua side scripts call (the `regulation`,
 * `block`, `days`, `hours` globals, `decide` in specs, and the callback that
 * runs a rule's `check` function) is the binding, lb_gate.h.
 */
#ifndef TM_RULEC_H
#define TM_RULEC_H

#include "gate.h"
#include "sandbox.h"

/* The raw fields `regulation { ... }` sets on its table: the mark that says
 * the table is a regulation (value "regulation"), and the line it was
 * declared on. The compiler reads both; scripts never see them documented. */
#define TM_RULEC_MARK "__dsl"
#define TM_RULEC_LINE "__line"

/* A problem found while loading, "path:line: message"; `fatal` when the
 * script or rule could not be used (the gate then fails closed for it). */
typedef void (*tm_gate_report_fn)(void *ud, const char *message, int fatal);

/* Builds a new gate from the sandbox's script set: every script under
 * regulations/ and policies/ (not *_spec.lua) whose value is a regulation (or
 * a list of them) is run and compiled, and regulations/sol.lua gives the
 * statutes of limitation. A set that is a single file is taken whatever its
 * path. A rule or script that cannot be compiled becomes a rule that blocks
 * every contact it could apply to (fail closed), and is reported through
 * `report` (may be NULL). A rule's `check` function is kept in the Lua
 * registry (tm_rule.check_ref) and `check` becomes its callback, with `sb`
 * as its ud: `sb` must outlive the gate. On TM_OK *out is the gate (caller
 * frees with tm_gate_free()); TM_ENOMEM when the gate cannot be created. */
int tm_rulec_compile(tm_sandbox *sb, tm_check_fn check, tm_gate_report_fn report, void *ud,
                     tm_gate **out, struct tm_err *err);

#endif
