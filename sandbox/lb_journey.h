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
 *
 * Versions. A debt stays on the journey text it started on (tm_jstate.hash,
 * the SHA-256 of the script) unless the loaded journey declares a migration
 * from the debt's version. For each step other than start:
 *   - the recorded hash is the loaded script's (or no hash is recorded and
 *     the version is the loaded one's, or 0): the loaded journey runs;
 *   - else, the loaded journey declares migrate[version]: the debt's state
 *     (and timer target) is mapped into the loaded version, the step runs on
 *     it, and the result says so (migrated_from);
 *   - else the step runs on the old text, fetched once through the archive
 *     callback (tm_journeys_set_archive) and loaded into this sandbox as a
 *     separate journey object, cached by hash. Its `require`s resolve in the
 *     current tree: only the journey's own file is pinned, not lib/ modules;
 *   - when no old text can be had (no callback, not archived, or no hash
 *     recorded), the step fails with TM_ENOENT and a message naming the
 *     journey, version and hash: the debt is parked where it is.
 * Start always runs the loaded journey. res->st.hash is the text the debt is
 * on after the step.
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
    /* The channels a message may go on (core/contact.h, tm_contact_usable),
     * comma-separated; NULL when unknown (a spec, a simulation): the journey
     * then sees no debt.channels and may use any. */
    const char *channels;
    const char *preferred_channel; /* from the placement; NULL or "" when none */
} tm_jdebt;

/* A debt's place in its journey. */
typedef struct tm_jstate {
    char journey[64];       /* "" when none yet */
    char state[64];
    char variant[64];
    int version;
    char timer_go[64];      /* "" when no timer */
    int64_t timer_at;
    char hash[65];          /* hex SHA-256 of the journey text the debt runs; "" when unknown */
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
    int migrated_from;      /* the old version the debt moved from in this step; 0 when none */
    char migrated_state[64]; /* the state the migration mapped it to (before the step ran) */
} tm_jresult;

/* Where old journey texts are kept: fetches the text whose SHA-256 is
 * `sha256`. On TM_OK, *text is NULL when the text is not kept, else a
 * malloc'd NUL-terminated copy of *len bytes that the caller frees with
 * free(), and `path` ("strategies/early.lua", may be left "") has the path it
 * was kept under. Other returns are errors (a store failure), reported
 * with the step's error. */
typedef int (*tm_jarchive_fn)(void *ud, const char *sha256, char **text, size_t *len, char *path,
                              size_t path_cap, struct tm_err *err);

/* One loaded journey's script, for archiving. Strings are borrowed from the
 * sandbox's script set and stay valid while the sandbox lives. */
typedef struct tm_jsource {
    const char *id;
    int version;
    const char *path;   /* relative to the tree: "strategies/early.lua" */
    const char *sha256; /* hex */
    const char *text;
    size_t len;
} tm_jsource;

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

/* The i-th journey's script (*out borrowed as tm_jsource says). TM_ENOENT
 * when i is out of range. */
int tm_journeys_source(const tm_journeys *js, size_t i, tm_jsource *out);

/* A note for authors about the i-th journey (a version past 1 with no
 * migration from an older one), or NULL. Borrowed, valid until
 * tm_journeys_free. Not an error: `tallyman lint` prints it as a note. */
const char *tm_journeys_note(const tm_journeys *js, size_t i);

/* Sets (fn NULL: clears) where steps fetch old journey texts. `ud` is passed
 * to fn and must outlive its use; clear it before ud goes away. Texts already
 * loaded stay cached in the sandbox either way. */
void tm_journeys_set_archive(tm_journeys *js, tm_jarchive_fn fn, void *ud);

/* Segmentation: the first journey (by priority) whose segment takes the
 * debt. On TM_OK, st->journey/variant/version are set, or st->journey is ""
 * when no journey takes it. A segment that fails (a script error or a limit)
 * fails the assignment: the debt is not handed to a later journey, which
 * would place it by accident of the failure. The error names the script and
 * line and says it was the journey's segment. */
int tm_journeys_assign(tm_journeys *js, const tm_jdebt *d, tm_jstate *st, struct tm_err *err);

/* Journeys stopped for the rest of a run. A journey whose script hits a
 * limit (memory, instructions, time) in any step is stopped: every later
 * step that would run it (its segment, when segmentation reaches it, or a
 * step of a debt already on it) fails at once with the same code and
 * message, instead of running each debt into the limit. Script errors do not
 * stop a journey (they depend on the debt). One bench is shared by the
 * journeys of every worker (it has its own lock); journeys ahead in
 * priority still take their debts. Two workers may each hit the limit
 * before either has stopped the journey, so a journey is run into the limit
 * at most once per worker. */
typedef struct tm_jbench tm_jbench;

/* A new, empty bench (NULL when out of memory); free with tm_jbench_free. */
tm_jbench *tm_jbench_new(void);
void tm_jbench_free(tm_jbench *b);

/* Sets (NULL: clears) the bench `js` consults and fills. `b` must outlive
 * its use. */
void tm_journeys_set_bench(tm_journeys *js, tm_jbench *b);

/* The i-th journey stopped (0-based, in the order they were stopped): its
 * id, the message its steps fail with, how many steps hit the limit, and
 * how many failed at once without running. TM_ENOENT past the last. The
 * strings are copied into the caller's buffers. */
int tm_jbench_get(tm_jbench *b, int i, char *journey, size_t jcap, char *msg, size_t mcap,
                  long *hits, long *skipped);

/* The four steps. `st` is the debt's state before; `res->st` the state after,
 * with the version and hash of the text that ran (see "Versions" above).
 * TM_ENOENT when the text to run cannot be had (st->journey is not loaded
 * and its hash is not archived, or an old version's text is missing): the
 * message names the journey, version and hash, and the debt should stay
 * where it is (parked). TM_ESCRIPT also when a migration cannot place the
 * debt's state, naming it. */
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
