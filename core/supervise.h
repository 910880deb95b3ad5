/*
 * core/supervise.h: runs a piece of work in a child process under a deadline.
 *
 * This is the stop from outside the VM that backs up the sandbox's in-VM
 * limits: whatever a script manages to do (a loop the hook cannot see, a
 * crash of the VM), the supervisor kills the child past its deadline with
 * SIGKILL and the caller gets a clean answer instead of a hang or a signal.
 */
#ifndef TM_SUPERVISE_H
#define TM_SUPERVISE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

/* The work: runs in the child; writes its output to `out_fd` and its error
 * text to `err_fd`; its return value becomes the child's exit code (0-125). */
typedef int (*tm_child_fn)(void *ud, int out_fd, int err_fd);

typedef struct tm_supervised {
    int exit_code;  /* the child's exit code, when it exited */
    int signal;     /* the signal that ended it, or 0 */
    int timed_out;  /* 1 when the supervisor killed it at the deadline */
    char *out;      /* everything written to out_fd (NUL-terminated; caller frees) */
    size_t outlen;
    char *errtext;  /* everything written to err_fd (NUL-terminated; caller frees) */
    size_t errlen;
} tm_supervised;

/* Forks, runs fn(ud, ...) in the child and collects its output. The child is
 * killed with SIGKILL when it runs past `deadline_ms` (0: no deadline).
 * Returns TM_OK when the child was started and reaped (inspect *res), or
 * TM_EIO when it could not be started. Free res->out and res->errtext with
 * free() in every TM_OK case. */
int tm_supervise(tm_child_fn fn, void *ud, uint32_t deadline_ms, tm_supervised *res,
                 struct tm_err *err);

#endif
