/*
 * app/cycle_int.h: what the files of the daily cycle share, and nothing else
 * includes. cycle.h is the public interface; behind it the run is one file per
 * phase, all working on one `run`:
 *
 *   cycle.c           the run: its phases in order, transactions, reports, workers
 *   cycle_promises.c  0. promises past their due date and grace judged
 *   cycle_journeys.c  1-3. events, new debts and timers through the journeys
 *   cycle_gate.c      4. every planned contact through the compliance gate
 *   cycle_render.c    4. the message of each allowed contact rendered and sealed
 *   cycle_dispatch.c  5. ready messages sent through the channel adapter
 *   cycle_stats.c     the day's figures: counted, added up, printed
 *
 * The store, the audit writer and the figures are touched from the caller's
 * thread only; the functions that run on a worker say so.
 */
#ifndef TM_CYCLE_INT_H
#define TM_CYCLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "contact.h"
#include "cycle.h"
#include "gate_log.h"
#include "lb_render.h"
#include "pool.h"

#define DAY 86400
#define CHUNK 256       /* debts (or planned rows) handed to the workers at a time */

/* A template's claims (lib/claims.lua), kept per worker for the run: the
 * scripts do not change during a run, and a Lua call per contact would cost
 * as much as the gate itself. */
typedef struct claim_entry {
    char channel[16], template_id[96];
    int n;
    char names[8][TM_RENDER_CLAIM_LEN];
} claim_entry;

typedef struct claim_cache {
    claim_entry *e;
    size_t n, cap;
} claim_cache;

/* One run of the cycle (one day). */
typedef struct run {
    tm_store *s;
    const tm_keys *keys;  /* the caller's, or own_keys once the key file was read again */
    tm_keys *own_keys;
    tm_sandbox *sb;
    tm_gate *gate;
    tm_journeys *js;
    tm_adapter *out;
    const tm_cycle_opts *o;
    tm_cycle_stats *st;
    tm_audit_writer *audit;
    tm_gate_log *glog;    /* every gate decision, sealed into the audit chain at each commit */
    int64_t day_start, day_end;
    int in_tx;
    long in_batch;
    const char *scripts;
    const tm_cycle_engine *eng; /* one per worker */
    claim_cache *claims;        /* one per worker: templates' claims, looked up once a run */
    tm_cycle_engine own;        /* the caller's, when it gives no workers */
    tm_pool *pool;
} run;

/* --- cycle.c: what every phase uses ------------------------------------- */

/* A per-debt problem to the caller's report callback (opts->report). */
void tm__cycle_report(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Progress of a phase to opts->progress. */
void tm__cycle_progress(run *r, const char *phase, long done, long total);

/* Reads the key file again when `newest`, the highest key version a chunk's
 * records name, is newer than the run's keys (rotated during the run). Call
 * while no worker runs. TM_OK, or the key file's load error. */
int tm__cycle_keys_for(run *r, int newest, struct tm_err *err);

/* Transactions: batches of debts, the audit head stored before each commit.
 * tx_begin opens one unless one is open; tx_commit renews the lease, flushes
 * the audit writer and commits (rolling back on failure); tx_step, after each
 * debt, commits and opens the next when the batch is full. Store and lease
 * errors come back as they are. */
int tm__cycle_tx_begin(run *r, struct tm_err *err);
int tm__cycle_tx_commit(run *r, struct tm_err *err);
int tm__cycle_tx_step(run *r, struct tm_err *err);

/* --- cycle_stats.c -------------------------------------------------------- */

/* One more contact blocked by `rule`; one more message sent on channel `ch`
 * (each kept up to the table's size). */
void tm__cycle_count_rule(tm_cycle_stats *st, const char *rule);
void tm__cycle_count_channel(tm_cycle_stats *st, const char *ch);
/* One more send moved from channel `from` to `to` after `from` was refused. */
void tm__cycle_count_moved(tm_cycle_stats *st, const char *from, const char *to);

/* --- cycle_promises.c: phase 0 ------------------------------------------- */

/* Judges the promises whose due date and grace have passed; each one not
 * kept becomes a broken_promise event for phase 1. Commits its work. */
int tm__cycle_promises(run *r, struct tm_err *err);

/* --- cycle_journeys.c: phases 1 to 3 ------------------------------------- */

/* A debt as its journey sees it, and its journey's state, from the store's
 * record. The debt's usable channels are worked out into w->channels, which
 * the result points into (valid while *w is). */
tm_jdebt tm__cycle_jdebt(tm_work_debt *w);
tm_jstate tm__cycle_jstate(const tm_work_debt *w);

/* Sets the zone a debt's sends are planned in when it has none: the first
 * in use in its state. */
void tm__cycle_plan_zone(tm_work_debt *w);

/* Parks debt `w` after a step that failed: counted, reported and audited as
 * journey.parked with `what` (the trigger) and `msg`. Audit errors only. */
int tm__cycle_park(run *r, const tm_work_debt *w, const char *what, const char *msg, int64_t now,
                   struct tm_err *err);

/* Phase 1: every event up to the end of the day not yet worked, in time
 * order, to its debt's journey; each marked worked with its step. Commits. */
int tm__cycle_events(run *r, struct tm_err *err);

/* Phases 2 and 3: starts the debts `ids` (timers 0) or fires their timers due
 * today (timers 1), the steps on the workers. Commits. */
int tm__cycle_work_debts(run *r, const int64_t *ids, size_t n, int timers, struct tm_err *err);

/* --- cycle_gate.c: phase 4 ------------------------------------------------ */

/* Every contact planned for the day through the gate at its planned time:
 * allowed ones rendered and made ready, blocked ones handed back to the
 * journey. Commits. */
int tm__cycle_gate(run *r, struct tm_err *err);

/* j:best_slot's question to the gate (tm_sandbox_set_slot_check) for one
 * debt during a journey step: `w` and its consumer's contact history `hist`
 * (tm__cycle_slot_history) as the gate phase would judge a send planned at
 * `at` on `channel` (collection, to the personal contact point, without the
 * template's message fields, which are not chosen yet). */
typedef struct cycle_slot {
    tm_gate *gate;
    const tm_work_debt *w;
    const void *hist;
} cycle_slot;
int tm__cycle_slot_check(void *ud, const char *channel, int64_t at, int64_t *next_allowed,
                         char *why, size_t whycap);
/* Whether the run's script set holds a contact model (then steps read each
 * debt's history for the gate's question). */
int tm__cycle_wants_slots(run *r);
/* Reads the contact history of `w`'s consumer up to 40 days before `at`
 * into *hist (free with tm__cycle_slot_history_free; NULL is a no-op).
 * TM_ENOMEM or the store's error. */
int tm__cycle_slot_history(run *r, const tm_work_debt *w, int64_t at, void **hist,
                           struct tm_err *err);
void tm__cycle_slot_history_free(void *hist);

/* --- cycle_render.c: phase 4, on a worker --------------------------------- */

/* The message of one allowed contact. */
typedef struct cycle_message {
    uint8_t *blob; /* the rendered message, encrypted; freed by the caller */
    size_t blen;
    int failed;    /* it could not be rendered or sealed: `why` says why */
    int oom;       /* out of memory: the run stops, the row stays planned */
    int too_long;  /* an SMS past its segment limit (with `failed`): the journey may move it */
    char why[600];
} cycle_message;

/* A consumer's contact points and name (core/contact.h) from their personal
 * data `blob` (the consumer's external id `ext`, residence `state`), all ""
 * when there is none. TM_OK; TM_ECRYPTO or TM_EINVAL (err says why) when the
 * data does not decrypt (a wrong key) or read: no message may then go out.
 * The plaintext is wiped before returning; the caller wipes *p. */
int tm__cycle_consumer_points(const tm_keys *keys, const char *ext, const char *state,
                              const uint8_t *blob, size_t len, tm_contact_points *p,
                              struct tm_err *err);

/* The claims of the template (channel, template_id) from `c`, asked of `sb`
 * the first time. *out is borrowed from the cache. TM_ENOMEM, or the claims
 * library's error. */
int tm__cycle_claims(claim_cache *c, tm_sandbox *sb, const char *channel, const char *template_id,
                     const claim_entry **out, struct tm_err *err);

/* Frees what the cache holds and empties it. */
void tm__cycle_claims_clear(claim_cache *c);

/* Renders outbox row `o` of debt `w`, allowed by decision `d`, in `sb`, for
 * recipient `to` (sealed with the message: the outbox never holds it in
 * plain text), and encrypts it with `keys` into *m (zeroed by the caller). */
void tm__cycle_render(const tm_keys *keys, tm_sandbox *sb, const tm_work_debt *w,
                      const tm_outbox_rec *o, const tm_decision *d, const char *first,
                      const char *last, const char *to, cycle_message *m);

/* --- cycle_dispatch.c: phase 5 -------------------------------------------- */

/* Sends the ready messages through r->out (nothing when it is NULL), each
 * chunk made durable before it is marked sent. Commits. */
int tm__cycle_dispatch(run *r, struct tm_err *err);

#endif
