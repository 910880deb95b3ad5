/*
 * sandbox/lb_spec.h: the spec runner behind `tallyman test`.
 */
#ifndef TM_LB_SPEC_H
#define TM_LB_SPEC_H

#include <stddef.h>

#include "sandbox.h"

/* Called per case: ok = 1 with the case's name when it passed; ok = 0 with a
 * one-line "file:line: message [case]" when it failed. */
typedef void (*tm_spec_report_fn)(void *ud, const char *message, int ok);

/* Runs the spec file `src` (shown as `display`) in `sb`: the file declares
 * cases with describe(name, fn) / it(name, fn); each case then runs as its
 * own call under the sandbox's limits. Helpers available to the file:
 * assert_eq, assert_true, assert_allowed, assert_blocked, assert_not_blocked,
 * assert_next, assert_requires, assert_not_requires, merge, show, plus the
 * globals every script has (decide among them, when a gate is attached).
 * Adds to *passed / *failed (a file that does not load counts as one
 * failure). Returns TM_OK when the file loaded. */
int tm_spec_run(tm_sandbox *sb, const char *display, const char *src, size_t len,
                tm_spec_report_fn report, void *ud, int *passed, int *failed);

#endif
