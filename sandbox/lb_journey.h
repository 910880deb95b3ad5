/*
 * sandbox/lb_journey.h: the engine's side of the journey language. Loads the
 * journeys of a script set (scripts/strategies/, written with
 * scripts/lib/journey.lua) into a sandbox, and calls them for one debt at a
 * time: segmentation, start, events, timers, blocked sends. Everything
 * crosses the boundary as the C structs below, so core/ never touches Lua.
 *
 * One tm_journeys per sandbox, used from the sandbox's thread only. Every
 * call runs under the sandbox's limits; a script error or a limit is a
 * TM_ESCRIPT / TM_ELIMIT_* for that debt only, with `err` naming the script
 * line, and the sandbox stays usable.
 */
#ifndef TM_LB_JOURNEY_H
#define TM_LB_JOURNEY_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"
#include "tm_status.h"

typedef struct tm_journeys tm_journeys;

/* What a journey sees of a debt (no personal data). Strings are borrowed. */
typedef struct tm_jdebt {
    const char *debt_id, *state, *debt_type, *currency, *creditor, *dispute, *status;
    const char *zone;       /* the consumer's zone ("" when unknown) */
    const char *language;
    const char *flags;      /* comma-separated consumer flags ("cease,attorney") */
    const char *charge_off_date, *last_payment_date; /* "" when unknown */
    int64_t balance, placed_balance; /* minor units */
    int64_t days_past_due;  /* -1 when unknown */
    int64_t promise_amount; /* the open promise to pay, minor units; 0 when none */
    const char *promise_due; /* its due date "YYYY-MM-DD" (NULL when none) */
    int hardship;           /* the consumer told of a hardship */
} tm_jdebt;

/* A debt's place in its journey. */
typedef struct tm_jstate {
    char journey[64];       /* "" when none yet */
    char state[64];
    char variant[64];
    int version;
    char timer_go[64];      /* "" when no timer */
    int64_t timer_at;
} tm_jstate;

/* An event as a journey sees it. */
typedef struct tm_jevent {
    const char *type;       /* journey event name (payment, partial_payment, ...) */
    int64_t at;
    int has_amount;
    int64_t amount, balance; /* minor units, for payments and promises */
    const char *channel, *outcome; /* contact and consent events; may be NULL */
} tm_jevent;

enum tm_jaction_type {
    TM_JA_SEND = 1, TM_JA_OFFER_PLAN, TM_JA_OFFER_SETTLEMENT, TM_JA_SCORE, TM_JA_QUEUE,
    TM_JA_CLOSE, TM_JA_NOTE
};

#define TM_JOURNEY_MAX_ACTIONS 16

typedef struct tm_jaction {
    int type;               /* TM_JA_* */
    char channel[16];       /* sends */
    char template_id[96];
    char purpose[24];
    int64_t at;             /* planned time of a send (UTC seconds) */
    int rescheduled;
    char json[512];         /* the whole action as JSON, for the audit and outbox */
} tm_jaction;

typedef struct tm_jresult {
    tm_jstate st;           /* the state after the step */
    int closed;
    char closed_reason[64];
    int ignored;            /* the event or timer changed nothing */
    tm_jaction actions[TM_JOURNEY_MAX_ACTIONS];
    int nactions;
    char moves[256];        /* "a>b,b>c" */
} tm_jresult;

/* Loads every journey under strategies/ of the sandbox's script set (files
 * that are not *_spec.lua and return a journey object), ordered by priority
 * then id. Scripts that fail to load are reported through `report` (may be
 * NULL) as "path: message" and left out. *out is owned by the caller (free
 * with tm_journeys_free before the sandbox). TM_ENOMEM only. */
int tm_journeys_load(tm_sandbox *sb, tm_journeys **out,
                     void (*report)(void *ud, const char *message), void *ud, struct tm_err *err);
void tm_journeys_free(tm_journeys *js);

size_t tm_journeys_count(const tm_journeys *js);
/* The i-th journey's id and version (borrowed); NULL when out of range. */
const char *tm_journeys_id(const tm_journeys *js, size_t i, int *version);

/* Segmentation: the first journey (by priority) whose segment takes the
 * debt. On TM_OK, st->journey/variant/version are set, or st->journey is ""
 * when no journey takes it. */
int tm_journeys_assign(tm_journeys *js, const tm_jdebt *d, tm_jstate *st, struct tm_err *err);

/* The four steps. `st` is the debt's state before; `res->st` the state after.
 * TM_ENOENT when st->journey is not loaded. */
int tm_journeys_start(tm_journeys *js, const tm_jdebt *d, const tm_jstate *st, int64_t now,
                      tm_jresult *res, struct tm_err *err);
int tm_journeys_event(tm_journeys *js, const tm_jdebt *d, const tm_jstate *st,
                      const tm_jevent *ev, int64_t now, tm_jresult *res, struct tm_err *err);
int tm_journeys_timer(tm_journeys *js, const tm_jdebt *d, const tm_jstate *st, int64_t now,
                      tm_jresult *res, struct tm_err *err);
/* The gate refused `send`; next_allowed is TM_GATE_NEVER-like INT64_MAX when
 * no time will do. */
int tm_journeys_blocked(tm_journeys *js, const tm_jdebt *d, const tm_jstate *st,
                        const tm_jaction *send, int64_t next_allowed, const char *blocked_by,
                        int64_t now, tm_jresult *res, struct tm_err *err);

/* The journey `id` as Graphviz DOT (dot = 1) or Mermaid (dot = 0) text in a
 * malloc'd string (*out, caller frees). TM_ENOENT for an unknown id. */
int tm_journeys_graph(tm_journeys *js, const char *id, int dot, char **out, struct tm_err *err);

#endif
