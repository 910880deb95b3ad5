/*
 * core/tm_status.h: status codes and the error out-parameter shared by every
 * tallyman module.
 *
 * Core functions return TM_OK (0) or a negative TM_E* code, and fill an
 * optional `struct tm_err *` with a human message (Redis `sds *err` style).
 * The codes come from one X-macro table so names and messages never drift.
 */
#ifndef TM_STATUS_H
#define TM_STATUS_H

#include <stddef.h>

#define TM_STATUS_MAP(X)                                                        \
    X(OK, 0, "ok")                                                              \
    X(EINVAL, -1, "invalid argument")                                           \
    X(ENOMEM, -2, "out of memory")                                              \
    X(EIO, -3, "input/output error")                                            \
    X(ENOENT, -4, "not found")                                                  \
    X(ESYNTAX, -5, "syntax error")                                              \
    X(ESCRIPT, -6, "script error")                                              \
    X(ELIMIT_MEM, -7, "memory limit exceeded")                                  \
    X(ELIMIT_INSTR, -8, "instruction limit exceeded")                           \
    X(ELIMIT_TIME, -9, "time limit exceeded")                                   \
    X(EFORBIDDEN, -10, "forbidden")                                             \
    X(ECONVERT, -11, "value cannot be converted")                               \
    X(EENCODING, -12, "invalid encoding")                                       \
    X(ECRASH, -13, "worker crashed")                                            \
    X(EEXIST, -14, "already exists")                                            \
    X(ESTORE, -15, "store error")                                               \
    X(ECRYPTO, -16, "cryptography error")                                       \
    X(EBUSY, -17, "busy")

enum tm_status {
#define TM_STATUS_ENUM_(name, code, msg) TM_##name = code,
    TM_STATUS_MAP(TM_STATUS_ENUM_)
#undef TM_STATUS_ENUM_
};

/* A human-readable error. `code` repeats the returned status; `msg` is a
 * NUL-terminated sentence, truncated to fit. Zero-initialise before use. */
struct tm_err {
    int code;
    char msg[512];
};

/* Returns the static description of a status code ("unknown status" for
 * codes outside the table). Never NULL. */
const char *tm_strerror(int code);

/* Fills `err` (when not NULL) with `code` and a printf-style message, and
 * returns `code`, so callers can write `return tm_err_set(err, TM_EIO, ...)`. */
int tm_err_set(struct tm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
