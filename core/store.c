/*
 * core/store.c: what every implementation of store.h shares: the names of
 * the store's statuses, as written in its tables and shown in output, and
 * reading them back. The lists themselves are the X-macro maps in store.h,
 * so an enum and its names cannot drift apart.
 */
#include "store.h"

#include <string.h>

/* The index of `text` in names[0..n), or n (the ..._OTHER value). */
static int parse(const char *const *names, int n, const char *text)
{
    if (text)
        for (int i = 0; i < n; i++)
            if (strcmp(names[i], text) == 0)
                return i;
    return n;
}

static const char *name(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : "other";
}

#define TEXT_(name_, text) text,
#define STORE_NAMES_(what, type, MAP)                                                           \
    static const char *const what##_names[] = {MAP(TEXT_)};                                     \
    enum { what##_count = (int)(sizeof what##_names / sizeof *what##_names) };                  \
    const char *tm_store_##what##_name(enum type v)                                             \
    {                                                                                           \
        return name(what##_names, what##_count, (int)v);                                        \
    }                                                                                           \
    enum type tm_store_##what##_parse(const char *text)                                         \
    {                                                                                           \
        return (enum type)parse(what##_names, what##_count, text);                              \
    }

STORE_NAMES_(debt_status, tm_debt_status, TM_DEBT_STATUS_MAP)
STORE_NAMES_(debt_dispute, tm_debt_dispute, TM_DEBT_DISPUTE_MAP)
STORE_NAMES_(event_status, tm_event_status, TM_EVENT_STATUS_MAP)
STORE_NAMES_(promise_status, tm_promise_status, TM_PROMISE_STATUS_MAP)
STORE_NAMES_(outbox_status, tm_outbox_status, TM_OUTBOX_STATUS_MAP)
STORE_NAMES_(queue_status, tm_queue_status, TM_QUEUE_STATUS_MAP)
STORE_NAMES_(attempt_outcome, tm_attempt_outcome, TM_ATTEMPT_OUTCOME_MAP)
STORE_NAMES_(role, tm_role, TM_ROLE_MAP)
STORE_NAMES_(gen_status, tm_gen_status, TM_GEN_STATUS_MAP)
