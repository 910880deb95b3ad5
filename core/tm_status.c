/*
 * core/tm_status.c: status code names and the tm_err helper.
 */
#include "tm_status.h"

#include <stdarg.h>
#include <stdio.h>

const char *tm_strerror(int code)
{
    switch (code) {
#define TM_STATUS_CASE_(name, c, msg)                                           \
    case c:                                                                     \
        return msg;
        TM_STATUS_MAP(TM_STATUS_CASE_)
#undef TM_STATUS_CASE_
    default:
        return "unknown status";
    }
}

int tm_err_set(struct tm_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
