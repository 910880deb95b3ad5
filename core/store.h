/*
 * core/store.h: the portfolio store: consumers, debts, events, contacts,
 * decisions, the outbox and the audit log, behind one interface.
 *
 * SQLite (WAL, one file, zero set-up) is the first implementation
 * (core/store_sqlite.c); PostgreSQL will implement the same operations.
 * Every write that changes consumer or debt state appends its audit records
 * in the same transaction, so a record and its proof commit or vanish
 * together. Personal data reaches the store only as AES-256-GCM ciphertext
 * (core/keys.h); lookups use keyed hashes.
 *
 * A store is used by one thread at a time. Writes are grouped in explicit
 * transactions (tm_store_begin / tm_store_commit) so an import commits in
 * batches; a crash loses at most the batch in progress, never half a record.
 */
#ifndef TM_STORE_H
#define TM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

typedef struct tm_store tm_store;

/* The schema version this build migrates to. */
#define TM_STORE_SCHEMA_VERSION 10

/* Opens (creating if needed) the store at `path` and applies every pending
 * migration in one transaction each. `path` is a file name; a
 * "postgresql://" URL is refused with TM_EINVAL until that backend exists.
 * The caller frees the store with tm_store_close(). */
int tm_store_open(const char *path, tm_store **out, struct tm_err *err);
void tm_store_close(tm_store *s);

/* The schema version the store is at. */
int tm_store_schema_version(tm_store *s);

/* Transactions. begin/commit/rollback nest: only the outermost pair touches
 * the database. The outermost begin takes the store's write lock at once,
 * waiting up to TM_STORE_BUSY_MS for another process's write to end (then
 * TM_ESTORE, "database is locked"), so whatever a transaction reads before
 * it writes is still true when it commits. A commit that fails ends the
 * transaction with nothing of it written. */
#define TM_STORE_BUSY_MS 60000
int tm_store_begin(tm_store *s, struct tm_err *err);
int tm_store_commit(tm_store *s, struct tm_err *err);
void tm_store_rollback(tm_store *s);

/* The id of the outermost transaction in progress, 0 when none: every
 * outermost tm_store_begin gets a new one, so a value read from the store
 * and kept in memory (the audit chain's head) can be known to be from the
 * transaction in progress or from an earlier one. */
uint64_t tm_store_tx_id(tm_store *s);

/* ------------------------------------------------------------------------
 * The store's statuses. Each is an enum whose values come from one list,
 * each value with its text: tm_store_<what>_name() gives the text, which is
 * what the store writes in its tables and what tallyman shows in its output
 * (so stored data and messages are the same as when statuses were passed as
 * strings), and tm_store_<what>_parse() reads it back. A text that no
 * tallyman writes (a row changed by hand) reads as the ..._OTHER value, whose
 * name is "other"; a write given ..._OTHER or a value outside the enum is
 * refused with TM_EINVAL.
 */
#define TM_DEBT_STATUS_MAP(X) X(OPEN, "open") X(PAID, "paid")
enum tm_debt_status {
#define TM_DEBT_STATUS_ENUM_(name, text) TM_DEBT_##name,
    TM_DEBT_STATUS_MAP(TM_DEBT_STATUS_ENUM_)
#undef TM_DEBT_STATUS_ENUM_
    TM_DEBT_OTHER
};

/* A debt's dispute: none, disputed and pending validation, or verified. */
#define TM_DEBT_DISPUTE_MAP(X) X(NONE, "none") X(PENDING, "pending") X(VERIFIED, "verified")
enum tm_debt_dispute {
#define TM_DEBT_DISPUTE_ENUM_(name, text) TM_DEBT_DISPUTE_##name,
    TM_DEBT_DISPUTE_MAP(TM_DEBT_DISPUTE_ENUM_)
#undef TM_DEBT_DISPUTE_ENUM_
    TM_DEBT_DISPUTE_OTHER
};

/* An event as kept: applied, or kept unapplied (older than its debt's last
 * event; for a debt the store does not know). */
#define TM_EVENT_STATUS_MAP(X)                                                   \
    X(APPLIED, "applied") X(OUT_OF_ORDER, "out_of_order") X(UNKNOWN_DEBT, "unknown_debt")
enum tm_event_status {
#define TM_EVENT_STATUS_ENUM_(name, text) TM_EVENT_##name,
    TM_EVENT_STATUS_MAP(TM_EVENT_STATUS_ENUM_)
#undef TM_EVENT_STATUS_ENUM_
    TM_EVENT_OTHER
};

/* A promise to pay: open until the daily cycle judges it after its due date
 * and grace (or a payment covers it: kept). */
#define TM_PROMISE_STATUS_MAP(X)                                                 \
    X(OPEN, "open") X(KEPT, "kept") X(PARTIALLY_KEPT, "partially_kept") X(BROKEN, "broken")
enum tm_promise_status {
#define TM_PROMISE_STATUS_ENUM_(name, text) TM_PROMISE_##name,
    TM_PROMISE_STATUS_MAP(TM_PROMISE_STATUS_ENUM_)
#undef TM_PROMISE_STATUS_ENUM_
    TM_PROMISE_OTHER
};

/* An outbox row: planned by a journey, ready (rendered, allowed by the gate),
 * then sent, failed (for good) or skipped (blocked, or its debt closed). */
#define TM_OUTBOX_STATUS_MAP(X)                                                  \
    X(PLANNED, "planned") X(READY, "ready") X(SENT, "sent") X(FAILED, "failed")  \
    X(SKIPPED, "skipped")
enum tm_outbox_status {
#define TM_OUTBOX_STATUS_ENUM_(name, text) TM_OUTBOX_##name,
    TM_OUTBOX_STATUS_MAP(TM_OUTBOX_STATUS_ENUM_)
#undef TM_OUTBOX_STATUS_ENUM_
    TM_OUTBOX_OTHER
};

/* An agent queue item: open until someone closes it. */
#define TM_QUEUE_STATUS_MAP(X) X(OPEN, "open") X(CLOSED, "closed")
enum tm_queue_status {
#define TM_QUEUE_STATUS_ENUM_(name, text) TM_QUEUE_##name,
    TM_QUEUE_STATUS_MAP(TM_QUEUE_STATUS_ENUM_)
#undef TM_QUEUE_STATUS_ENUM_
    TM_QUEUE_OTHER
};

/* What the gateway answered to a card payment attempt (a time-out is retried). */
#define TM_ATTEMPT_OUTCOME_MAP(X)                                                \
    X(APPROVED, "approved") X(DECLINED, "declined") X(TIMEOUT, "timeout")
enum tm_attempt_outcome {
#define TM_ATTEMPT_OUTCOME_ENUM_(name, text) TM_ATTEMPT_##name,
    TM_ATTEMPT_OUTCOME_MAP(TM_ATTEMPT_OUTCOME_ENUM_)
#undef TM_ATTEMPT_OUTCOME_ENUM_
    TM_ATTEMPT_OTHER
};

/* Each name is static text, never NULL ("other" for ..._OTHER and for a
 * value outside the enum). Each parse takes a stored text (NULL allowed) and
 * gives its value, ..._OTHER when it is none of the list. */
const char *tm_store_debt_status_name(enum tm_debt_status v);
enum tm_debt_status tm_store_debt_status_parse(const char *text);
const char *tm_store_debt_dispute_name(enum tm_debt_dispute v);
enum tm_debt_dispute tm_store_debt_dispute_parse(const char *text);
const char *tm_store_event_status_name(enum tm_event_status v);
enum tm_event_status tm_store_event_status_parse(const char *text);
const char *tm_store_promise_status_name(enum tm_promise_status v);
enum tm_promise_status tm_store_promise_status_parse(const char *text);
const char *tm_store_outbox_status_name(enum tm_outbox_status v);
enum tm_outbox_status tm_store_outbox_status_parse(const char *text);
const char *tm_store_queue_status_name(enum tm_queue_status v);
enum tm_queue_status tm_store_queue_status_parse(const char *text);
const char *tm_store_attempt_outcome_name(enum tm_attempt_outcome v);
enum tm_attempt_outcome tm_store_attempt_outcome_parse(const char *text);

/* The comma-separated sets kept on a consumer (tm_store_consumer_get_set),
 * and the lookup hashes (tm_store_consumer_set_lookup). */
enum tm_consumer_set { TM_CONSUMER_FLAGS, TM_CONSUMER_CONSENT, TM_CONSUMER_OPTOUT };
enum tm_consumer_lookup { TM_LOOKUP_PHONE, TM_LOOKUP_EMAIL };

/* ------------------------------------------------------------------------
 * Records. Strings in records read from the store are copies held in the
 * record; blobs passed in are borrowed for the call. Hashes are the first
 * TM_STORE_HASH_LEN bytes of a keyed lookup hash. Every function below
 * returns TM_OK, or TM_ESTORE with `err` naming what failed.
 */
#define TM_STORE_HASH_LEN 16

typedef struct tm_hash16 {
    uint8_t b[TM_STORE_HASH_LEN];
    int set; /* 0: no value (NULL) */
} tm_hash16;

typedef struct tm_consumer_rec {
    int64_t id;
    char external_id[129];
    char state[8];
    char timezone[64];   /* "" when unknown */
    char language[40];
    tm_hash16 pii_hash;  /* of the personal data, to see whether it changed */
    tm_hash16 phone_hash, email_hash;
    const uint8_t *pii;  /* ciphertext (in); not filled by reads */
    size_t pii_len;
    int key_version;
} tm_consumer_rec;

typedef struct tm_debt_rec {
    int64_t id;
    char debt_id[129];
    int64_t consumer_id;
    char creditor[129];  /* "" when none */
    char debt_type[24];
    int64_t placed_balance;  /* minor units, as the creditor's file says */
    int64_t balance;         /* minor units, now (read only: payments move it) */
    char currency[4];
    int64_t days_past_due;   /* -1 when unknown */
    char charge_off_date[11], last_payment_date[11]; /* "" when unknown */
    tm_hash16 attributes_hash;
    const uint8_t *attributes; /* ciphertext (in) */
    size_t attributes_len;
    int64_t last_event_at;     /* 0 when none */
    int has_last_event;
} tm_debt_rec;

/* One debt as model training sees it: the debt as placed, and what happened
 * in a window. Strings are "" when unknown; days_past_due is -1. */
typedef struct tm_training_row {
    char debt_id[129];
    char debt_type[24];
    char currency[4];
    char state[3];
    int64_t placed_balance; /* minor units */
    int64_t days_past_due;
    char charge_off_date[11], last_payment_date[11];
    int paid;                /* any payment with from < at <= to */
    int64_t payments_before; /* payments, contacts and promises at or before from */
    int64_t payments_90d;    /* payments in the 90 days up to from */
    int64_t contacts_before;
    int64_t promises_before;
    /* The contact history up to from: contacts that reached the consumer
     * (outcome "conversation"), broken promises, replies the consumer
     * sent, and the outcome of the last contact that had one ("" none). */
    int64_t right_party_before, broken_promises_before, replies_before;
    char last_outcome[32];
} tm_training_row;

/* Called once per row; a return other than TM_OK stops the scan and is
 * returned. The row is borrowed for the call only. */
typedef int (*tm_store_training_fn)(void *ud, const tm_training_row *row);

/* Every debt in id order with its outcome in (from, to] (Unix seconds).
 * Returns TM_OK, the callback's code, or TM_ESTORE. Reads only. */
int tm_store_scan_training(tm_store *s, int64_t from, int64_t to, tm_store_training_fn fn, void *ud,
                           struct tm_err *err);

/* Consumers and debts, by the creditor's ids. *found says whether one exists. */
int tm_store_consumer_find(tm_store *s, const char *external_id, tm_consumer_rec *out, int *found,
                           struct tm_err *err);
/* Inserts (when rec->id is 0; sets it) or updates the consumer with rec's
 * fields, personal data included. */
int tm_store_consumer_put(tm_store *s, tm_consumer_rec *rec, int64_t now, struct tm_err *err);
int tm_store_debt_find(tm_store *s, const char *debt_id, tm_debt_rec *out, int *found,
                       struct tm_err *err);
/* Inserts (rec->id 0) or updates a debt from the creditor's data. On update a
 * new placed balance moves the current balance by the same amount, so
 * payments applied meanwhile are kept. */
int tm_store_debt_put(tm_store *s, tm_debt_rec *rec, int64_t now, struct tm_err *err);

/* A consumer's personal data: the ciphertext (caller frees) and the
 * external id it is bound to. */
int tm_store_consumer_pii(tm_store *s, int64_t consumer, char external_id[129], uint8_t **blob,
                          size_t *len, struct tm_err *err);
int tm_store_consumer_set_pii(tm_store *s, int64_t consumer, const uint8_t *blob, size_t len,
                              const tm_hash16 *pii_hash, int key_version, int64_t now,
                              struct tm_err *err);
int tm_store_consumer_set_lookup(tm_store *s, int64_t consumer, enum tm_consumer_lookup which,
                                 const tm_hash16 *hash, struct tm_err *err);
/* The comma-separated sets on a consumer. */
int tm_store_consumer_get_set(tm_store *s, int64_t consumer, enum tm_consumer_set which, char *out,
                              size_t cap, struct tm_err *err);
int tm_store_consumer_put_set(tm_store *s, int64_t consumer, enum tm_consumer_set which,
                              const char *value, struct tm_err *err);

/* Events. */
int tm_store_event_exists(tm_store *s, const char *key, int *exists, struct tm_err *err);
/* debt: the debt's row id, or 0 when the event names no known debt. `content` (NULL or unset:
 * none) is a keyed hash of what the event says and `origin` ("FILE:LINE", NULL: none) where it
 * came from, so a key used again for another event can be told from a duplicate. */
int tm_store_event_add(tm_store *s, const char *key, const char *type, int64_t debt, int64_t at,
                       const char *payload, enum tm_event_status status, const tm_hash16 *content,
                       const char *origin, int64_t now, struct tm_err *err);
/* An event as stored under its key. */
typedef struct tm_event_ref {
    enum tm_event_status status;
    tm_hash16 content;  /* unset for events stored before schema version 9 */
    char origin[300];   /* "FILE:LINE", "" when unknown */
    int64_t at;
} tm_event_ref;
/* Fills *out with the event stored under `key`; *found 0 (and *out zeroed) when there is none.
 * TM_ESTORE on a store failure. */
int tm_store_event_find(tm_store *s, const char *key, tm_event_ref *out, int *found,
                        struct tm_err *err);
/* Marks the event `key`, kept unapplied before, as applied now with `payload`, and unworked so
 * the cycle sees it. */
int tm_store_event_set_applied(tm_store *s, const char *key, const char *payload, int64_t now,
                               struct tm_err *err);
/* Applies a payment: the balance goes down (not below zero; a debt at zero
 * is paid), a payment row is added, and open promises the payments since
 * they were made now cover are marked kept. *balance gets the new balance. `instrument_token`
 * (NULL or "" when none) is the tokenised instrument, never a card number. */
int tm_store_payment_apply(tm_store *s, int64_t debt, int64_t amount, const char *currency,
                           int64_t at, const char *instrument_token, int64_t *balance,
                           struct tm_err *err);
int tm_store_promise_add(tm_store *s, int64_t debt, int64_t amount, const char *currency,
                         const char *due, int64_t at, struct tm_err *err);
/* Open promises whose due date plus grace ended before `today`
 * ("YYYY-MM-DD"), each with `paid`: the payments on its debt from when it was
 * made to the end of its grace (by UTC date). *out is malloc'd (caller
 * frees), *n records, in the order the promises were made. */
typedef struct tm_promise_due {
    int64_t id, debt, amount, paid, created_at;
    char currency[4], due[11];
    int grace_days;
} tm_promise_due;
int tm_store_promises_lapsed(tm_store *s, const char *today, tm_promise_due **out, size_t *n,
                             struct tm_err *err);
int tm_store_promise_set(tm_store *s, int64_t id, enum tm_promise_status status,
                         struct tm_err *err);
int tm_store_debt_set_dispute(tm_store *s, int64_t debt, enum tm_debt_dispute state,
                              struct tm_err *err);
int tm_store_contact_add(tm_store *s, int64_t debt, const char *channel, int64_t at,
                         const char *outcome, struct tm_err *err);
/* Records an event at `last_event_at` on the debt: its last event time becomes the later of
 * the two (an event applied late never moves it back). */
int tm_store_debt_touch(tm_store *s, int64_t debt, int64_t last_event_at, int64_t now,
                        struct tm_err *err);

/* Key rotation: calls fn(ud, id, bound_to, blob, len) for up to `limit`
 * consumers whose personal data is not under `key_version`, or for up to
 * `limit` debts with attributes after row id *after (updated as it goes). */
typedef int (*tm_store_blob_fn)(void *ud, int64_t id, const char *bound_to, const uint8_t *blob,
                                size_t len);
int tm_store_scan_stale_pii(tm_store *s, int key_version, int limit, tm_store_blob_fn fn, void *ud,
                            int *seen, struct tm_err *err);
int tm_store_scan_attributes(tm_store *s, int64_t *after, int limit, tm_store_blob_fn fn, void *ud,
                             int *seen, struct tm_err *err);
int tm_store_debt_set_attributes(tm_store *s, int64_t debt, const uint8_t *blob, size_t len,
                                 struct tm_err *err);
/* Up to `limit` outbox rows whose payload is ciphertext under a key version
 * other than `key_version` (bound_to "outbox:<idempotency key>"), and the
 * write that moves one to another version. */
int tm_store_scan_stale_outbox(tm_store *s, int key_version, int limit, tm_store_blob_fn fn,
                               void *ud, int *seen, struct tm_err *err);
int tm_store_outbox_set_payload(tm_store *s, int64_t id, const uint8_t *blob, size_t len,
                                int key_version, struct tm_err *err);

/* Decisions of the compliance gate, with the script set that made them. */
int tm_store_decision_add(tm_store *s, const char *debt_id, int64_t at, const char *channel,
                          int allow, const char *blocked_by, int64_t next_allowed,
                          const char *scripts_hash, struct tm_err *err);

/* A script set deployed: *is_new is 0 when this set was deployed before. */
int tm_store_scripts_deployed(tm_store *s, const char *set_hash, int64_t at, const char *by,
                              const char *manifest, int *is_new, struct tm_err *err);

/* The audit log (core/audit.c builds the chain on these). */
typedef struct tm_audit_rec {
    int64_t seq, at;
    const char *actor, *action, *subject, *details, *prev_hash, *hash;
    /* Set by tm_store_audit_scan, ignored on write. Each text field's stored
     * length in bytes (more than strlen() when the stored value holds a NUL:
     * the bytes after it are there all the same), and what is wrong with the
     * record as stored, or NULL when every field has exactly the type and form
     * the writer gives it (integers for seq and at, text without NUL bytes for
     * the rest). A record that is malformed so was not written by tallyman. */
    size_t actor_len, action_len, subject_len, details_len, prev_hash_len, hash_len;
    const char *malformed;
} tm_audit_rec;

int tm_store_audit_tail(tm_store *s, int64_t *seq, char hash[65], struct tm_err *err);
int tm_store_audit_add(tm_store *s, const tm_audit_rec *r, struct tm_err *err);
/* The chain's head: *present 0 when there is none. TM_ECRYPTO (err naming
 * the field) when the head is stored in a form tallyman never writes: seq
 * not an integer, hash or mac not exactly 64 characters of text; the values
 * are then not given, since a truncated copy could pass for the original. */
int tm_store_audit_head(tm_store *s, int *present, int64_t *seq, char hash[65], char mac[65],
                        struct tm_err *err);
int tm_store_audit_set_head(tm_store *s, int64_t seq, const char *hash, const char *mac,
                            struct tm_err *err);
/* Calls fn for every record in seq order (subject NULL: all; from/to 0: open);
 * fn returns nonzero to stop. The record is borrowed for the call. */
int tm_store_audit_scan(tm_store *s, int64_t from, int64_t to, const char *subject,
                        int (*fn)(void *ud, const tm_audit_rec *r), void *ud, struct tm_err *err);

/* ---- The daily cycle (app/cycle.c) ---------------------------------------
 * Named integer marks (the last day run). */
int tm_store_cycle_set(tm_store *s, const char *name, int64_t value, struct tm_err *err);
/* The mark `name`: *found is 0 (and *value untouched) when it was never set.
 * TM_ESTORE on a store failure. */
int tm_store_cycle_get(tm_store *s, const char *name, int64_t *value, int *found,
                       struct tm_err *err);

/* Work lists, as malloc'd arrays of row ids (*ids, caller frees): open debts
 * without a journey; open debts whose timer falls before `until`; outbox rows
 * planned before `until` (by consumer, then time: the gate works a
 * consumer's rows in order); outbox rows ready to dispatch. */
int tm_store_work_unassigned(tm_store *s, int64_t **ids, size_t *n, struct tm_err *err);
int tm_store_work_timers(tm_store *s, int64_t until, int64_t **ids, size_t *n, struct tm_err *err);
int tm_store_work_outbox(tm_store *s, int64_t until, int64_t **ids, size_t *n, struct tm_err *err);
int tm_store_work_ready(tm_store *s, int64_t **ids, size_t *n, struct tm_err *err);

/* Applied events not yet worked by the cycle with at < until, in time
 * order (then id); read in full before the first callback, so the callback
 * may write. A non-OK return from fn stops the scan and is returned.
 * Mark each with tm_store_event_worked. */
typedef int (*tm_store_event_fn)(void *ud, int64_t id, const char *type, int64_t debt, int64_t at,
                                 const char *payload);
int tm_store_scan_events(tm_store *s, int64_t until, tm_store_event_fn fn, void *ud,
                         struct tm_err *err);

int tm_store_event_worked(tm_store *s, int64_t id, struct tm_err *err);

/* Debts by journey and state, for the run's summary. */
typedef int (*tm_store_count_fn)(void *ud, const char *journey, const char *state, int64_t n);
int tm_store_journey_counts(tm_store *s, tm_store_count_fn fn, void *ud, struct tm_err *err);

/* A debt with what its journey and the gate need (no personal data). */
typedef struct tm_work_debt {
    int64_t id, consumer_id;
    char debt_id[129], creditor[129], debt_type[24], currency[4];
    int64_t balance, placed_balance, days_past_due; /* -1 when unknown */
    char charge_off_date[11], last_payment_date[11];
    enum tm_debt_dispute dispute;
    enum tm_debt_status status;
    char journey[64], journey_state[64], variant[64], timer_go[64], closed_reason[64];
    int journey_version;
    int64_t timer_at, journey_step;
    char state[8], timezone[64], language[40];
    char flags[256], consent[256], optout[256]; /* comma-separated */
    char offer[300];   /* the standing offer, as JSON members (",\"offer\":{...}"), "" when none */
    int64_t promise_amount; /* the latest open promise to pay; 0 when none */
    char promise_due[11];
    int hardship;      /* a hardship event was applied to the debt */
    char journey_hash[65]; /* hex SHA-256 of the journey text the debt runs; "" before it was kept */
} tm_work_debt;

int tm_store_work_debt(tm_store *s, int64_t id, tm_work_debt *w, int *found, struct tm_err *err);
/* Writes the journey fields of `w` (journey, state, version, hash, variant,
 * timer, step, closed_reason, status, offer) to debt `id`. */
int tm_store_debt_set_journey(tm_store *s, int64_t id, const tm_work_debt *w, struct tm_err *err);

/* ---- The journey archive -------------------------------------------------
 * Every journey text that starts or steps a debt is kept by the SHA-256 of its
 * text, so a debt stays on the text it started on after the tree changes
 * (strategies.md, "Changing a live journey"). */
typedef struct tm_journey_text {
    const char *hash;     /* hex SHA-256 of text (64 characters) */
    const char *journey;  /* the journey's id */
    int version;
    const char *path;     /* relative to the script tree, e.g. "strategies/early.lua" */
    const char *text;     /* the script's bytes, NUL-terminated */
    size_t len;
} tm_journey_text;

/* Keeps text `t` (all strings borrowed for the call) unless its hash is kept
 * already; *is_new (may be NULL) says whether it was added. A kept text is
 * never replaced: the hash names it. TM_EINVAL when the hash is not 64
 * characters or the id or text is missing; TM_ESTORE. */
int tm_store_journey_archive(tm_store *s, const tm_journey_text *t, int64_t now, int *is_new,
                             struct tm_err *err);

/* Reads the text kept under `hash` into *out: on *found, out->text, ->journey
 * and ->path point into one malloc'd block owned by the caller, released with
 * free((void *)out->text); out->hash is NULL. Not found is TM_OK with *found 0.
 * TM_ENOMEM, TM_ESTORE. */
/* The hash of every kept journey text: *out (caller frees) holds *n
 * NUL-terminated 64-hex-digit strings, 65 bytes apart. */
int tm_store_journey_hashes(tm_store *s, char **out, size_t *n, struct tm_err *err);
int tm_store_journey_text(tm_store *s, const char *hash, tm_journey_text *out, int *found,
                          struct tm_err *err);

/* An outbox row. Strings are borrowed on write; on read they point into the
 * record's buffers and payload_owned (free it). */
typedef struct tm_outbox_rec {
    int64_t id, debt, send_at, created_at;
    const char *key, *channel, *template_id, *payload, *purpose, *journey_state;
    enum tm_outbox_status status;
    int attempts;
    char key_buf[256], channel_buf[16], template_buf[96], purpose_buf[32], state_buf[64];
    char debt_ref[129];    /* on read: the debt's own id (debts.debt_id) */
    char *payload_owned;   /* NUL-terminated copy of the payload bytes */
    size_t payload_len;
} tm_outbox_rec;

/* Adds a planned row unless its key exists (*added says which). */
int tm_store_outbox_plan(tm_store *s, const tm_outbox_rec *o, int *added, struct tm_err *err);
int tm_store_outbox_get(tm_store *s, int64_t id, tm_outbox_rec *o, int *found, struct tm_err *err);
/* Sets a row's status and time; blocked_by and payload are kept when NULL;
 * sent_at 0 leaves it null. */
int tm_store_outbox_set(tm_store *s, int64_t id, enum tm_outbox_status status, int64_t send_at,
                        const char *blocked_by, const char *payload, int64_t sent_at,
                        struct tm_err *err);

/* Marks a row ready with its rendered message: `blob` is ciphertext (it
 * holds personal data), under key version `key_version`. */
int tm_store_outbox_ready(tm_store *s, int64_t id, const uint8_t *blob, size_t len, int key_version,
                          struct tm_err *err);

/* The consumer's contacts (all their debts) at or after `since`, oldest
 * first. Strings are borrowed for the call. */
typedef int (*tm_store_history_fn)(void *ud, const char *channel, int64_t at, const char *outcome,
                                   const char *place, const char *direction, const char *debt_id);
int tm_store_history(tm_store *s, int64_t consumer, int64_t since, tm_store_history_fn fn, void *ud,
                     struct tm_err *err);

/* ---- Simulation (core/sim.c, `tallyman simulate`) -------------------------
 * Copies the SQLite store at `src` to the new file `dst` (which must not
 * exist) with VACUUM INTO, opening `src` read-only, so the source is never
 * written or migrated (a -shm file may appear beside it, as for any reader).
 * TM_EINVAL for NULL paths or a postgresql:// URL, TM_ESTORE with `err`
 * naming the file otherwise. */
int tm_store_snapshot(const char *src, const char *dst, struct tm_err *err);

/* Makes every open debt start afresh: no journey, state, variant, timer,
 * step, offer or closed reason; the outbox, the gate decisions and the
 * cycle marks are emptied and every event is marked worked (events already
 * on file are history, not news for the new journeys). Contacts, payments
 * and promises are kept: they are the debts' history (caps, scores).
 * For a simulation's copy only: nothing is audited. One transaction. */
int tm_store_reset_journeys(tm_store *s, struct tm_err *err);

/* Agent queues: debts a journey handed to people (j:queue). On write, key
 * (debt:journey:step:action, like the outbox), debt, queue, reason,
 * journey, journey_state and at are read and strings borrowed; a key
 * already present adds nothing (*added 0). On read (tm_store_queue_list),
 * every field is set and strings are borrowed for the callback only. */
typedef struct tm_queue_item {
    int64_t id, debt, at, closed_at;
    const char *key, *debt_ref, *queue, *reason, *journey, *journey_state;
    enum tm_queue_status status;
    const char *closed_by, *outcome;
} tm_queue_item;
int tm_store_queue_add(tm_store *s, const tm_queue_item *q, int *added, struct tm_err *err);
typedef int (*tm_store_queue_fn)(void *ud, const tm_queue_item *q);
/* Open items (all items when `all`) of `queue`, or of every queue when it
 * is NULL, by queue then age. A callback return other than TM_OK stops the
 * scan and is returned. */
int tm_store_queue_list(tm_store *s, const char *queue, int all, tm_store_queue_fn fn, void *ud,
                        struct tm_err *err);
/* Closes open item `id` (*closed 0 when there is no such open item). */
int tm_store_queue_close(tm_store *s, int64_t id, const char *by, const char *outcome, int64_t at,
                         int *closed, struct tm_err *err);

/* The latest score of `model` for a debt (a later one replaces it).
 * `reasons` is a JSON array of reason texts, or NULL. */
int tm_store_score_set(tm_store *s, int64_t debt, const char *model, double probability,
                       const char *reasons, int64_t at, struct tm_err *err);

/* Card payment attempts (tallyman pay), one per idempotency key. On write,
 * key, debt, token, amount, currency, at, outcome ("approved", "declined",
 * "timeout"), reference, reason, content (a keyed hash of the request; may be
 * unset) and origin ("FILE:LINE", may be NULL) are read (strings borrowed);
 * writing a key again updates its outcome, reference and reason only. On read
 * every field is set, strings pointing into the record's buffers (content is
 * unset and origin "" for attempts stored before schema version 9). */
typedef struct tm_pay_attempt {
    int64_t id, debt, amount, at;
    const char *key, *token, *reference, *reason, *debt_ref, *origin;
    enum tm_attempt_outcome outcome;
    char currency[4];
    tm_hash16 content;
    char key_buf[256], token_buf[64], reference_buf[40], reason_buf[80], debt_buf[129],
        origin_buf[300];
} tm_pay_attempt;
int tm_store_pay_attempt_get(tm_store *s, const char *key, tm_pay_attempt *out, int *found,
                             struct tm_err *err);
int tm_store_pay_attempt_put(tm_store *s, const tm_pay_attempt *a, struct tm_err *err);
typedef int (*tm_store_pay_attempt_fn)(void *ud, const tm_pay_attempt *a);
/* Attempts dated in (after, until], oldest first (the velocity limits' window before a
 * request). A callback return other than TM_OK stops the scan and is returned. */
int tm_store_pay_attempts_between(tm_store *s, int64_t after, int64_t until,
                                  tm_store_pay_attempt_fn fn, void *ud, struct tm_err *err);

/* The time of the latest applied event (0 when none). */
int tm_store_last_event_at(tm_store *s, int64_t *at, struct tm_err *err);

/* ---- The keys the store knows (core/keycheck.c) ---------------------------
 * Per key version (0: the lookup key) a check value: 64 hex digits of
 * HMAC-SHA256 under the key of a fixed label, never the key itself.
 * tm_store_key_check_get: *found 0 when the version has none; a stored value
 * not of exactly that form is found but given as "" (it matches nothing).
 * tm_store_key_check_put adds one (TM_ESTORE if the version has one).
 * tm_store_key_check_max: the highest version with one (0 when none) and
 * how many there are. TM_OK or TM_ESTORE. */
int tm_store_key_check_get(tm_store *s, int version, char value[65], int *found, struct tm_err *err);
int tm_store_key_check_put(tm_store *s, int version, const char *value, int64_t at,
                           struct tm_err *err);
int tm_store_key_check_max(tm_store *s, int *max, int *count, struct tm_err *err);

/* The highest key version any stored ciphertext names (consumers' personal
 * data, debts' attributes, outbox payloads); 0 when there is none. */
int tm_store_key_version_used_max(tm_store *s, int *max, struct tm_err *err);

/* Calls fn for at most one stored ciphertext of each kind (consumer, debt
 * attributes, outbox payload) under key version `version`; *seen counts the
 * calls. A non-OK return from fn stops and is returned. */
int tm_store_key_samples(tm_store *s, int version, tm_store_blob_fn fn, void *ud, int *seen,
                         struct tm_err *err);

/* Rows in the tables that say a store is in use. `audit` counts records and
 * the head; `key_checks` the keys recorded. */
typedef struct tm_store_counts {
    int64_t consumers, debts, events, decisions, outbox, script_sets, audit, key_checks;
} tm_store_counts;
int tm_store_count_data(tm_store *s, tm_store_counts *c, struct tm_err *err);

/* ---- Leases (core/lease.c) -------------------------------------------------
 * A named lease on the whole store, held by one process at a time. The
 * store only keeps the rows; core/lease.c decides who may take one. */
typedef struct tm_lease {
    char name[32];
    char holder[96];   /* a token unique to the holder */
    int64_t pid;
    char host[256];
    int64_t pid_start; /* the holder process's start time (clock ticks since boot); 0 unknown */
    int64_t since;     /* Unix seconds: when it was taken */
    int64_t renewed;   /* Unix seconds: when its holder last renewed it */
} tm_lease;

/* Reads lease `name` into *out; *found 0 when nobody holds it. */
int tm_store_lease_get(tm_store *s, const char *name, tm_lease *out, int *found, struct tm_err *err);
/* Writes lease l->name with every field of `l`, replacing any holder: call
 * inside a transaction that read the lease first (tm_store_begin takes the
 * write lock, so nobody else can take it in between). */
int tm_store_lease_put(tm_store *s, const tm_lease *l, struct tm_err *err);
/* Sets the lease's renewal time to `now` when `holder` still holds it;
 * *held 0 when it does not (taken over, or released). */
int tm_store_lease_renew(tm_store *s, const char *name, const char *holder, int64_t now, int *held,
                         struct tm_err *err);
/* Deletes the lease when `holder` holds it; nothing otherwise. */
int tm_store_lease_release(tm_store *s, const char *name, const char *holder, struct tm_err *err);

#endif
