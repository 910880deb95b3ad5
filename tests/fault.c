/*
 * tests/fault.c: linked into build/<variant>/tests/tallyman-fault, a tallyman
 * whose store fails on request, for the fault-injection tests (SQLite's
 * anomaly tests, applied to our store). The product binary has no such
 * switch: this file is not part of it.
 *
 * TM_STORE_FAULT=N:CODE makes the Nth SQLite call of the store (a prepare, a
 * step or an exec, counted from 1 over the whole process) fail with CODE,
 * one of busy, ioerr, full; every other call runs. When it fires, the line
 * "tallyman-fault: injected CODE at call N (WHAT)" goes to stderr.
 *
 * TM_STORE_COUNT=1 counts the calls instead: at exit the line
 * "tallyman-fault: calls: prepare P, step S, exec E" goes to stderr (the
 * test that statements are prepared once, not once a row, reads it).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static long fault_at, calls, nprepare, nstep, nexec;
static int fault_code;
static const char *fault_name;

static int hook(void *ud, const char *what)
{
    (void)ud;
    if (strcmp(what, "prepare") == 0)
        nprepare++;
    else if (strcmp(what, "step") == 0)
        nstep++;
    else
        nexec++;
    if (++calls != fault_at)
        return 0;
    fprintf(stderr, "tallyman-fault: injected %s at call %ld (%s)\n", fault_name, calls, what);
    return fault_code;
}

static void print_counts(void)
{
    fprintf(stderr, "tallyman-fault: calls: prepare %ld, step %ld, exec %ld\n", nprepare, nstep, nexec);
}

__attribute__((constructor)) static void install(void)
{
    const char *c = getenv("TM_STORE_COUNT");
    if (c && strcmp(c, "1") == 0) {
        tm__store_fault_install(hook, NULL);
        atexit(print_counts);
    }
    const char *v = getenv("TM_STORE_FAULT");
    if (!v)
        return;
    char *end = NULL;
    fault_at = strtol(v, &end, 10);
    if (fault_at <= 0 || !end || *end != ':')
        return;
    fault_name = end + 1;
    fault_code = strcmp(fault_name, "busy") == 0    ? SQLITE_BUSY
                 : strcmp(fault_name, "ioerr") == 0 ? SQLITE_IOERR_WRITE
                 : strcmp(fault_name, "full") == 0  ? SQLITE_FULL
                                                    : 0;
    if (fault_code)
        tm__store_fault_install(hook, NULL);
}
