/*
 * core/store.h: the portfolio store: consumers, debts, events, contacts,
 * decisions, the outbox and the audit log, behind one interface that names
 * no database: SQLite (WAL, one file, zero set-up; core/store_sqlite*.c) is
 * the first implementation, PostgreSQL will implement the same contracts.
 * What only the SQLite store has for tests (its handle, fault injection) is
 * in core/store_int.h.
 *
 * Every write that changes consumer or debt state appends its audit records
 * in the same transaction, so a record and its proof commit or vanish
 * together. Personal data reaches the store only as AES-256-GCM ciphertext
 * (core/keys.h); lookups use keyed hashes.
 *
 * A store is used by one thread at a time. Writes are grouped in explicit
 * transactions (tm_store_begin / tm_store_commit) so an import commits in
 * batches; a crash loses at most the batch in progress, never half a record.
 *
 * The contracts below share these rules, and each function says where it
 * differs:
 *   - Every function returns TM_OK or a negative TM_E* code with `err`
 *     (which may be NULL) naming what failed. TM_ESTORE is the database
 *     failing (busy beyond TM_STORE_BUSY_MS, I/O, a full disk, a constraint
 *     such as a key or id used twice, or a row it refers to missing); the
 *     transaction in progress must then be rolled back. A read that fails is
 *     always TM_ESTORE, never "not found" (an import would create a second
 *     consumer, an event be applied twice).
 *   - A lookup by a natural key sets *found (or *exists, *present) to 0 and
 *     returns TM_OK when there is no such row; the record is then not filled
 *     unless the function says otherwise.
 *   - A write to a row by its id that names no row writes nothing and
 *     returns TM_OK (the row was deleted, or never was): callers that must
 *     know read first.
 *   - Strings and blobs passed in are borrowed for the call. Strings in
 *     records read back are copies held in the record; strings handed to a
 *     callback are borrowed for that call only.
 *   - A scan with a callback stops at the first callback return other than
 *     TM_OK (for tm_store_audit_scan: other than 0) and returns it.
 *   - A write given a status outside its enum (..._OTHER) returns TM_EINVAL
 *     and writes nothing.
 */
#ifndef TM_STORE_H
#define TM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

typedef struct tm_store tm_store;

/* The schema version this build migrates to. */
#define TM_STORE_SCHEMA_VERSION 17

/* Opens (creating if needed) the store at `path` and applies every pending
 * migration in one transaction each, so *out is at TM_STORE_SCHEMA_VERSION.
 * `path` is a file name (SQLite) or a "postgresql://" URL (PostgreSQL: the
 * database must exist; the store makes its tables). TM_EINVAL for a URL that
 * does not parse; TM_ESTORE (err naming the path or URL, never a password,
 * or the migration) when the file cannot be opened or created, is not a
 * store, the server cannot be reached or refuses the login, or the store is
 * at a schema version newer than this build; TM_ENOMEM. On failure *out is
 * NULL and nothing is left open. The caller frees the store with
 * tm_store_close(). */
int tm_store_open(const char *path, tm_store **out, struct tm_err *err);
/* 1 when `path` names a PostgreSQL store ("postgresql://" or "postgres://"),
 * 0 for a file (or NULL). */
int tm_store_is_url(const char *path);
/* Rolls back a transaction still in progress and frees the store and all it
 * holds. NULL is allowed (nothing happens). */
void tm_store_close(tm_store *s);

/* The schema version the store is at, or -1 when it cannot be read. */
int tm_store_schema_version(tm_store *s);

/* Transactions. begin/commit/rollback nest: only the outermost pair touches
 * the database. The outermost begin takes the store's write lock at once,
 * waiting up to TM_STORE_BUSY_MS for another process's write to end (then
 * TM_ESTORE, "database is locked"), so whatever a transaction reads before
 * it writes is still true when it commits. A commit that fails ends the
 * transaction with nothing of it written. */
#define TM_STORE_BUSY_MS 60000
/* TM_OK, or TM_ESTORE when the outermost begin cannot take the write lock
 * (then no transaction is open). */
int tm_store_begin(tm_store *s, struct tm_err *err);
/* TM_OK; TM_EINVAL when no transaction is open; TM_ESTORE when the outermost
 * commit fails (then the transaction is ended and nothing of it written). */
int tm_store_commit(tm_store *s, struct tm_err *err);
/* Ends the transaction in progress, however deeply nested, writing nothing
 * of it; nothing happens when none is open. */
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

/* A person's role (users and roles, below). */
#define TM_ROLE_MAP(X)                                                           \
    X(COMPLIANCE, "compliance") X(STRATEGY, "strategy") X(AGENT, "agent")        \
    X(ENGINEER, "engineer") X(AUDITOR, "auditor") X(ADMIN, "admin")
enum tm_role {
#define TM_ROLE_ENUM_(name, text) TM_ROLE_##name,
    TM_ROLE_MAP(TM_ROLE_ENUM_)
#undef TM_ROLE_ENUM_
    TM_ROLE_OTHER
};
/* A set of roles as bits. */
#define TM_ROLE_BIT(r) (1u << (unsigned)(r))

/* A script generation's place in its lifecycle: proposed, approved (by
 * every role the change needs), active (what runs; one at a time), retired
 * (was active, replaced or rolled back). */
#define TM_GEN_STATUS_MAP(X)                                                     \
    X(PROPOSED, "proposed") X(APPROVED, "approved") X(ACTIVE, "active") X(RETIRED, "retired")
enum tm_gen_status {
#define TM_GEN_STATUS_ENUM_(name, text) TM_GEN_##name,
    TM_GEN_STATUS_MAP(TM_GEN_STATUS_ENUM_)
#undef TM_GEN_STATUS_ENUM_
    TM_GEN_OTHER
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
const char *tm_store_role_name(enum tm_role v);
enum tm_role tm_store_role_parse(const char *text);
const char *tm_store_gen_status_name(enum tm_gen_status v);
enum tm_gen_status tm_store_gen_status_parse(const char *text);

/* The comma-separated sets kept on a consumer (tm_store_consumer_get_set),
 * and the lookup hashes (tm_store_consumer_set_lookup). */
enum tm_consumer_set { TM_CONSUMER_FLAGS, TM_CONSUMER_CONSENT, TM_CONSUMER_OPTOUT };
enum tm_consumer_lookup { TM_LOOKUP_PHONE, TM_LOOKUP_EMAIL };

/* ------------------------------------------------------------------------
 * Records. Hashes are the first TM_STORE_HASH_LEN bytes of a keyed lookup
 * hash.
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

/* Calls fn for every debt in id order with its outcome in (from, to] (Unix
 * seconds). Returns TM_OK, the callback's code, or TM_ESTORE. Reads only. */
int tm_store_scan_training(tm_store *s, int64_t from, int64_t to, tm_store_training_fn fn, void *ud,
                           struct tm_err *err);

/* One outbound contact and what followed it, for the contact-time model
 * (core/contact_model.h, `tallyman score train-contact`). Strings are
 * borrowed for the call. */
typedef struct tm_contact_outcome_row {
    const char *debt_id, *debt_type, *channel;
    const char *zone;  /* the consumer's IANA zone; "" when not on file */
    const char *state; /* the consumer's USPS state (its zone when `zone` is "") */
    int64_t consumer;  /* the consumer's row id */
    int64_t at;        /* when it was sent, UTC seconds */
    int rpc;  /* the consumer answered: the contact was a conversation, or within a day after
               * it, and before the next contact on the debt, came an inbound contact, a
               * conversation, a payment, a promise or a dispute */
    int paid; /* a payment on the debt in (at, at + pay_days days] */
} tm_contact_outcome_row;
typedef int (*tm_store_contact_outcome_fn)(void *ud, const tm_contact_outcome_row *row);

/* Calls fn for every outbound contact sent at or before `until` whose
 * outcome window (`pay_days` days) has ended by then, ordered by debt and
 * time. Contacts are those of the contacts table (the daily cycle's sends
 * and `tallyman event` contacts); a contact that failed is left out (it
 * reached nobody, and the model is of who answers), and so is a
 * conversation logged within a day after a call attempt on the debt (it is
 * that attempt's outcome, not another contact). Returns TM_OK, fn's
 * first other code, or TM_ESTORE. Reads only. */
int tm_store_scan_contact_outcomes(tm_store *s, int64_t until, int pay_days,
                                   tm_store_contact_outcome_fn fn, void *ud, struct tm_err *err);

/* The consumer with the creditor's `external_id`: on *found, *out holds its
 * row (pii and pii_len are not filled: see tm_store_consumer_pii). */
int tm_store_consumer_find(tm_store *s, const char *external_id, tm_consumer_rec *out, int *found,
                           struct tm_err *err);
/* Inserts (when rec->id is 0, then sets rec->id) or updates (by
 * rec->external_id) the consumer with rec's fields, personal data included;
 * an empty language is stored as "en". TM_ESTORE when inserting an
 * external_id that exists. */
int tm_store_consumer_put(tm_store *s, tm_consumer_rec *rec, int64_t now, struct tm_err *err);
/* The debt with the creditor's `debt_id`: on *found, *out holds its row
 * (attributes and attributes_len are not filled). */
int tm_store_debt_find(tm_store *s, const char *debt_id, tm_debt_rec *out, int *found,
                       struct tm_err *err);
/* Inserts (rec->id 0, then sets rec->id) or updates (by rec->debt_id) a debt
 * from the creditor's data; an empty debt_type is stored as "other". On
 * update a new placed balance moves the current balance by the same amount
 * (never below zero), so payments applied meanwhile are kept. TM_ESTORE when
 * the consumer does not exist or an inserted debt_id does. */
int tm_store_debt_put(tm_store *s, tm_debt_rec *rec, int64_t now, struct tm_err *err);

/* A consumer's personal data by row id: the ciphertext in *blob (malloc'd,
 * caller frees; NULL and *len 0 when it has none) and the external id it is
 * bound to. A consumer that does not exist is TM_ESTORE ("consumer N is
 * missing"), not "not found": its debts name it. TM_ENOMEM. */
int tm_store_consumer_pii(tm_store *s, int64_t consumer, char external_id[129], uint8_t **blob,
                          size_t *len, struct tm_err *err);
/* Replaces a consumer's personal data with `blob` under `key_version`, and
 * its hash when pii_hash is not NULL (key rotation keeps it: the text is the
 * same). `now` is the update time. */
int tm_store_consumer_set_pii(tm_store *s, int64_t consumer, const uint8_t *blob, size_t len,
                              const tm_hash16 *pii_hash, int key_version, int64_t now,
                              struct tm_err *err);
/* Sets a consumer's phone or email lookup hash (unset: none). TM_EINVAL for
 * a `which` outside the enum. */
int tm_store_consumer_set_lookup(tm_store *s, int64_t consumer, enum tm_consumer_lookup which,
                                 const tm_hash16 *hash, struct tm_err *err);
/* A consumer's comma-separated set `which` into out (cap bytes, cut to fit):
 * "" when the set is empty or the consumer does not exist. TM_EINVAL for a
 * `which` outside the enum. */
int tm_store_consumer_get_set(tm_store *s, int64_t consumer, enum tm_consumer_set which, char *out,
                              size_t cap, struct tm_err *err);
/* Replaces a consumer's set `which` with `value` (NULL: none). TM_EINVAL for
 * a `which` outside the enum. */
int tm_store_consumer_put_set(tm_store *s, int64_t consumer, enum tm_consumer_set which,
                              const char *value, struct tm_err *err);

/* What the placement says about reaching a consumer (import accounts'
 * consent columns): each string NULL or "" leaves the stored value as it is. */
typedef struct tm_consumer_contact {
    int has_address;             /* a postal address is on file: 1, 0, or -1 to leave it */
    const char *consent_date;    /* "YYYY-MM-DD" */
    const char *consent_source;  /* free text: where the consent was given */
    const char *preferred_channel;
} tm_consumer_contact;
/* Sets what `c` gives on consumer `consumer` (none: nothing written). */
int tm_store_consumer_set_contact(tm_store *s, int64_t consumer, const tm_consumer_contact *c,
                                  struct tm_err *err);
/* Marks the consumer's current phone or email (its lookup hash) bad: it is
 * not used again until it changes (a new hash no longer matches the mark).
 * TM_EINVAL for a `which` outside the enum. */
int tm_store_consumer_mark_bad(tm_store *s, int64_t consumer, enum tm_consumer_lookup which,
                               struct tm_err *err);

/* Events. *exists says whether an event is kept under `key` (applied or
 * not). */
int tm_store_event_exists(tm_store *s, const char *key, int *exists, struct tm_err *err);
/* Keeps an event under `key` with `status` (TM_EINVAL for ..._OTHER); `now`
 * is when it was applied. debt: the debt's row id, or 0 when the event names
 * no known debt. `content` (NULL or unset: none) is a keyed hash of what the
 * event says and `origin` ("FILE:LINE", NULL: none) where it came from, so a
 * key used again for another event can be told from a duplicate. TM_ESTORE
 * when the key is kept already. */
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
/* Fills *out with the event stored under `key`; *found 0 (and *out zeroed)
 * when there is none. A status no build writes reads as TM_EVENT_OTHER. */
int tm_store_event_find(tm_store *s, const char *key, tm_event_ref *out, int *found,
                        struct tm_err *err);
/* Marks the event `key`, kept unapplied before, as applied now with
 * `payload`, and unworked so the cycle sees it. No such key: nothing
 * written. */
int tm_store_event_set_applied(tm_store *s, const char *key, const char *payload, int64_t now,
                               struct tm_err *err);
/* Applies a payment to debt row `debt`: the balance goes down (not below
 * zero; a debt at zero is paid), a payment row is added, and open promises
 * the payments since they were made now cover are marked kept. *balance
 * (may be NULL) gets the new balance. `instrument_token` (NULL or "" when
 * none) is the tokenised instrument, never a card number. TM_ESTORE when the
 * debt does not exist (nothing is then written that the caller's rollback
 * does not undo). */
int tm_store_payment_apply(tm_store *s, int64_t debt, int64_t amount, const char *currency,
                           int64_t at, const char *instrument_token, int64_t *balance,
                           struct tm_err *err);
/* Adds an open promise of `amount` (minor units of `currency`) due on `due`
 * ("YYYY-MM-DD"), made at `at`. TM_ESTORE when the debt does not exist. */
int tm_store_promise_add(tm_store *s, int64_t debt, int64_t amount, const char *currency,
                         const char *due, int64_t at, struct tm_err *err);
/* Open promises whose due date plus grace ended before `today`
 * ("YYYY-MM-DD"), each with `paid`: the payments on its debt from when it was
 * made to the end of its grace (by UTC date). *out is malloc'd (caller
 * frees; NULL when none), *n records, in the order the promises were made.
 * TM_ENOMEM, TM_ESTORE (then *out is NULL and *n 0). */
typedef struct tm_promise_due {
    int64_t id, debt, amount, paid, created_at;
    char currency[4], due[11];
    int grace_days;
} tm_promise_due;
int tm_store_promises_lapsed(tm_store *s, const char *today, tm_promise_due **out, size_t *n,
                             struct tm_err *err);
/* Sets promise `id`'s status (TM_EINVAL for TM_PROMISE_OTHER). */
int tm_store_promise_set(tm_store *s, int64_t id, enum tm_promise_status status,
                         struct tm_err *err);
/* Sets debt row `debt`'s dispute state (TM_EINVAL for ..._OTHER). */
int tm_store_debt_set_dispute(tm_store *s, int64_t debt, enum tm_debt_dispute state,
                              struct tm_err *err);
/* Adds a contact on debt row `debt`: `channel` and `outcome` are the gate's
 * names (core/gate.h: "sms", "conversation", ...), stored as given.
 * TM_ESTORE when the debt does not exist. */
int tm_store_contact_add(tm_store *s, int64_t debt, const char *channel, int64_t at,
                         const char *outcome, struct tm_err *err);
/* Adds a contact on debt row `debt` with where it went and who started it:
 * `place` "personal" or "work" (NULL: personal), `direction` "outbound" or
 * "inbound" (NULL: outbound) and `message` the outbox key it was (NULL:
 * none), so a receipt or reply can find it. TM_ESTORE when the debt does
 * not exist. */
int tm_store_contact_add_message(tm_store *s, int64_t debt, const char *channel, int64_t at,
                                 const char *outcome, const char *place, const char *direction,
                                 const char *message, struct tm_err *err);
/* Sets the outcome of the outbound contacts that were message `message` (a
 * receipt: delivered, failed, voicemail); *updated (may be NULL) gets how
 * many rows changed (0: none was recorded for it). */
int tm_store_contact_set_outcome(tm_store *s, const char *message, const char *outcome,
                                 int *updated, struct tm_err *err);
/* Records an event at `last_event_at` on the debt: its last event time
 * becomes the later of the two (an event applied late never moves it back),
 * its update time `now`. */
int tm_store_debt_touch(tm_store *s, int64_t debt, int64_t last_event_at, int64_t now,
                        struct tm_err *err);

/* Key rotation. Each scan calls fn(ud, id, bound_to, blob, len) for every
 * ciphertext it finds (bound_to is the associated data it is encrypted
 * under: "consumer:<external id>", "debt:<debt id>", "outbox:<key>"; all
 * borrowed for the call), sets *seen to the number of calls, and returns
 * TM_OK, fn's first other return, or TM_ESTORE (a scan cut short by the
 * database is an error, not a scan that saw everything). fn may write the
 * row it is given.
 *
 * tm_store_scan_stale_pii: up to `limit` consumers whose personal data is not
 * under `key_version`. tm_store_scan_attributes: up to `limit` debts with
 * attributes after row id *after, in id order (*after is set to the last one
 * seen; the version is inside the blob only). tm_store_scan_stale_outbox: up
 * to `limit` outbox rows whose payload is under a version other than
 * `key_version`. */
typedef int (*tm_store_blob_fn)(void *ud, int64_t id, const char *bound_to, const uint8_t *blob,
                                size_t len);
int tm_store_scan_stale_pii(tm_store *s, int key_version, int limit, tm_store_blob_fn fn, void *ud,
                            int *seen, struct tm_err *err);
int tm_store_scan_attributes(tm_store *s, int64_t *after, int limit, tm_store_blob_fn fn, void *ud,
                             int *seen, struct tm_err *err);
int tm_store_scan_stale_outbox(tm_store *s, int key_version, int limit, tm_store_blob_fn fn,
                               void *ud, int *seen, struct tm_err *err);
/* The writes that move one ciphertext to another key version: a debt's
 * attributes (the version is in the blob), an outbox row's payload. */
int tm_store_debt_set_attributes(tm_store *s, int64_t debt, const uint8_t *blob, size_t len,
                                 struct tm_err *err);
int tm_store_outbox_set_payload(tm_store *s, int64_t id, const uint8_t *blob, size_t len,
                                int key_version, struct tm_err *err);

/* When the next journey timer of an open debt falls due at or after `from`
 * (*at; 0 when none is set) and how many fall due on that UTC day
 * (*count). Reads only. TM_OK or TM_ESTORE. */
int tm_store_timers_next(tm_store *s, int64_t from, int64_t *at, int64_t *count, struct tm_err *err);

/* The journey and variant debt `debt_id` is on ("" for none), cut to the
 * buffers; *found 0 when the store has no such debt. TM_OK or TM_ESTORE. */
int tm_store_debt_journey(tm_store *s, const char *debt_id, char *journey, size_t jcap, char *variant,
                          size_t vcap, int *found, struct tm_err *err);

/* ---- A debt's story (`tallyman why`) ---------------------------------------
 * Calls fn for what the store holds about debt row `debt`, in time order
 * (at, then kind, then row id): each row borrowed for the call, strings ""
 * when absent. Kinds and their fields:
 *   "planned": a contact planned at `at`: a channel, b template, c the
 *              outbox status, d the rules that blocked it, n1 the time it
 *              was planned for, n2 when it was sent (0: not sent);
 *   "event":   an event that happened at `at`: a type, b its status, n1
 *              when it was applied;
 *   "payment": a currency, n1 the amount in minor units;
 *   "promise": made at `at`: a currency, b due date, c status, n1 amount
 *              in minor units, n2 grace days;
 *   "queue":   handed to an agent: a queue, b status, c reason, d outcome,
 *              n1 when closed (0: open).
 * Gate decisions and journey steps are the decision log's and the audit
 * log's (tm_store_gate_log_scan, tm_store_audit_scan). TM_OK, the
 * callback's code, or TM_ESTORE. */
typedef struct tm_story_row {
    int64_t at;
    const char *kind, *a, *b, *c, *d;
    int64_t n1, n2;
} tm_story_row;
typedef int (*tm_store_story_fn)(void *ud, const tm_story_row *row);
int tm_store_debt_story(tm_store *s, int64_t debt, tm_store_story_fn fn, void *ud, struct tm_err *err);

/* ---- The gate's decision log (core/gate_log.c builds on these) ------------
 * Names the log refers to by number (rule ids, generation hashes, zones,
 * cities, creditors, message fields), each text kept once.
 * tm_store_gate_name_id: the id of `name`; with `create` it is added when
 * missing (*found is then 1), else *found 0 says it is not kept.
 * tm_store_gate_names: fn(ud, id, name) for every name, in id order. */
int tm_store_gate_name_id(tm_store *s, const char *name, int create, int64_t *id, int *found,
                          struct tm_err *err);
typedef int (*tm_store_gate_name_fn)(void *ud, int64_t id, const char *name);
int tm_store_gate_names(tm_store *s, tm_store_gate_name_fn fn, void *ud, struct tm_err *err);

/* One decision as the log keeps it. On write every field but id is read
 * (strings and the request borrowed) and id is set; debt 0 looks the debt
 * up by debt_ref (NULL, or an id the store does not know: kept without a
 * debt; row->debt is then set to the debt found, or 0). On read every field is set, strings and the request borrowed for
 * the callback: debt_ref is the debt's own id ("" without a debt), rules
 * "" when none. */
typedef struct tm_gate_log_row {
    int64_t id;
    int64_t debt;          /* debts.id; 0: none */
    const char *debt_ref;
    int64_t at;            /* the instant judged */
    int64_t gen;           /* gate_names.id of the generation's hash */
    int channel;           /* enum tm_channel (core/gate.h) */
    int allow;
    int has_next;          /* blocked with a next allowed time (none: never) */
    int64_t next;          /* seconds after `at` */
    const char *rules;     /* the blocking rules' gate_names ids, comma-separated */
    const uint8_t *request;
    size_t request_len;
} tm_gate_log_row;
int tm_store_gate_log_add(tm_store *s, tm_gate_log_row *row, struct tm_err *err);
/* Calls fn for the rows of debt row `debt` (0: every row) with
 * from_id <= id and, when to_id is not 0, id <= to_id, in id order. */
typedef int (*tm_store_gate_log_fn)(void *ud, const tm_gate_log_row *row);
int tm_store_gate_log_scan(tm_store *s, int64_t debt, int64_t from_id, int64_t to_id,
                           tm_store_gate_log_fn fn, void *ud, struct tm_err *err);

/* ---- Script generations' texts -------------------------------------------
 * Each file's bytes are kept once under their SHA-256, and a generation (the
 * set hash of sandbox/scriptset.h) as its paths and file hashes, so a
 * generation can be loaded again from the store. tm_store_script_text_put
 * adds file `path` (hex `sha256` of the `len` bytes at `text`) to
 * generation `set_hash` (kept already: nothing changes). *kept says whether
 * the store holds generation `set_hash`. tm_store_script_texts calls
 * fn(ud, path, sha256, text, len) for each file of the generation in path
 * order, all borrowed for the call; none when it is not kept. TM_EINVAL
 * for a hash that is not 64 characters. */
int tm_store_script_text_put(tm_store *s, const char *set_hash, const char *path,
                             const char *sha256, const char *text, size_t len,
                             struct tm_err *err);
int tm_store_script_set_kept(tm_store *s, const char *set_hash, int *kept, struct tm_err *err);
typedef int (*tm_store_script_text_fn)(void *ud, const char *path, const char *sha256,
                                       const char *text, size_t len);
int tm_store_script_texts(tm_store *s, const char *set_hash, tm_store_script_text_fn fn, void *ud,
                          struct tm_err *err);

/* ---- Who may change what runs (core/store_sqlite_govern.c) ----------------
 * People are users, one row each, named by the operating system's user name
 * on the command line (the service adds passwords, TOTP and tokens to the
 * same row), with roles, one row per role saying who granted it and when.
 * Script sets are generations kept whole: every file's text, shared between
 * generations by its SHA-256, with the lifecycle of enum tm_gen_status. Each
 * activation is a row naming the activation before it, so a rollback steps
 * back along them. Writes here are meant to run inside the caller's
 * transaction, with the audit record that says who did it.
 */
typedef struct tm_user {
    int64_t id;
    char name[65];
    unsigned roles;     /* TM_ROLE_BIT of each role held (a role no build knows is left out) */
    int64_t created_at;
    int64_t disabled_at; /* 0: may act; else when an admin disabled the person */
    int has_password, has_totp;
} tm_user;

/* The user `name`: *found 0 when there is none. */
int tm_store_user_get(tm_store *s, const char *name, tm_user *out, int *found, struct tm_err *err);
/* Adds user `name` (1 to 64 bytes) with no roles, created at `now`; a name
 * already there adds nothing (*added 0, not an error). *id (may be NULL) is
 * the user's row id either way. TM_EINVAL for an empty or too long name. */
int tm_store_user_add(tm_store *s, const char *name, int64_t now, int64_t *id, int *added,
                      struct tm_err *err);
/* Gives user row `user` the role (granted by `by` at `now`); a role held
 * already adds nothing (*added 0). TM_EINVAL for TM_ROLE_OTHER. */
int tm_store_user_grant(tm_store *s, int64_t user, enum tm_role role, const char *by, int64_t now,
                        int *added, struct tm_err *err);
/* Takes the role from user row `user`; *removed 0 when it was not held. */
int tm_store_user_revoke(tm_store *s, int64_t user, enum tm_role role, int *removed,
                         struct tm_err *err);
/* How many users there are. */
int tm_store_user_count(tm_store *s, int64_t *n, struct tm_err *err);
/* Calls fn for every user by name (the record is borrowed for the call). */
typedef int (*tm_store_user_fn)(void *ud, const tm_user *u);
int tm_store_users_list(tm_store *s, tm_store_user_fn fn, void *ud, struct tm_err *err);

/* A file of a script generation: path relative to the tree, hex SHA-256 of
 * its text, and the text. Borrowed on write; on read (tm_store_gen_files)
 * owned by the array, freed with tm_store_files_free. */
typedef struct tm_store_file {
    const char *path, *sha256, *text;
    size_t len;
} tm_store_file;

/* A generation. A status no build writes reads as TM_GEN_OTHER. */
typedef struct tm_generation {
    int64_t id;
    char hash[65];            /* hex SHA-256 of the set (the script set's hash) */
    enum tm_gen_status status;
    unsigned needs;           /* TM_ROLE_BIT of each role whose approval it needs */
    unsigned approved;        /* of those, the roles that have approved it */
    char base[65];            /* the active set's hash when it was proposed; "" when none */
    char source[512];         /* where it was proposed from (a directory) */
    char proposed_by[65];
    int64_t proposed_at;
    int64_t approved_at;      /* 0 until every role needed approved it */
    char activated_by[65];    /* its latest activation; "" and 0 when never active */
    int64_t activated_at;
    int64_t retired_at;       /* 0 unless retired */
    int64_t files;            /* how many files it holds */
} tm_generation;

/* Keeps a proposed generation: g->hash, needs, base, source, proposed_by
 * and proposed_at are read (the rest is ignored), the n files are stored
 * (each text once across generations, by its SHA-256), and `diff` (NULL: none)
 * is kept as the difference shown to reviewers. *id (may be NULL) gets its
 * row id. TM_ESTORE when the hash is kept already (tm_store_gen_get first),
 * or a file's sha256 is missing. */
int tm_store_gen_propose(tm_store *s, const tm_generation *g, const tm_store_file *files, size_t n,
                         const char *diff, int64_t *id, struct tm_err *err);
/* The generation whose hash is `hash` or starts with it (at least 4 hex
 * digits): *found 0 when none. TM_EINVAL when the prefix is shorter, is not
 * hex, or names more than one (err says so). */
int tm_store_gen_get(tm_store *s, const char *hash, tm_generation *out, int *found,
                     struct tm_err *err);
/* The active generation: *found 0 when none is. */
int tm_store_gen_active(tm_store *s, tm_generation *out, int *found, struct tm_err *err);
/* The active generation's hash alone (hash: 65 bytes; "" and *found 0 when
 * none is): one read of the unique index on the active row, cheap enough for
 * a service to ask several times a second whether what runs has changed.
 * TM_ESTORE. */
int tm_store_gen_active_hash(tm_store *s, char hash[65], int *found, struct tm_err *err);
/* Every file of generation row `id`, in path order: *out (caller frees with
 * tm_store_files_free) holds *n files. TM_ENOMEM, TM_ESTORE (then *out is NULL
 * and *n 0; a file whose text is missing is TM_ESTORE naming it). */
int tm_store_gen_files(tm_store *s, int64_t id, tm_store_file **out, size_t *n,
                       struct tm_err *err);
void tm_store_files_free(tm_store_file *files, size_t n);
/* The difference kept with generation row `id` (malloc'd, caller frees;
 * NULL when none). TM_ENOMEM, TM_ESTORE. */
int tm_store_gen_diff(tm_store *s, int64_t id, char **out, struct tm_err *err);
/* Records `by`'s approval of generation row `id` for each role in `roles`
 * (TM_ROLE_BIT set) at `now`; once every role it needs has approved, it
 * becomes approved (approved_at `now`). *out (may be NULL) is the generation
 * after. TM_EINVAL when it is not proposed, or a role is given that it does
 * not need or has already. */
int tm_store_gen_approve(tm_store *s, int64_t id, const char *by, unsigned roles, int64_t now,
                         tm_generation *out, struct tm_err *err);
/* Makes generation row `id` the active one (by `by` at `now`): the one
 * active before is retired and the activation recorded after the current
 * one. TM_EINVAL when it is not approved or retired (only what was approved
 * runs) or is active already. */
int tm_store_gen_activate(tm_store *s, int64_t id, const char *by, int64_t now,
                          struct tm_err *err);
/* Steps back to the generation that was active before the current
 * activation: that one becomes active again, the current one retired, and
 * the rollback is recorded as an activation that takes the place of the
 * one undone (so a second rollback steps back further). *done 0 (nothing
 * changed) when there is nothing to go back to; otherwise *to (may be NULL)
 * is the generation now active. */
int tm_store_gen_rollback(tm_store *s, const char *by, int64_t now, tm_generation *to, int *done,
                          struct tm_err *err);
/* Calls fn for every generation, oldest first (the record is borrowed). */
typedef int (*tm_store_gen_fn)(void *ud, const tm_generation *g);
int tm_store_gen_list(tm_store *s, tm_store_gen_fn fn, void *ud, struct tm_err *err);
/* A generation's history, oldest first: approvals (what = the role
 * approved) and activations (what = "activated" or "rolled back to").
 * Strings are borrowed for the call. */
typedef int (*tm_store_gen_event_fn)(void *ud, int64_t at, const char *by, const char *what);
int tm_store_gen_history(tm_store *s, int64_t id, tm_store_gen_event_fn fn, void *ud,
                         struct tm_err *err);

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

/* The last record of the log: its seq and hash; *seq 0 and hash "" when the
 * log is empty. */
int tm_store_audit_tail(tm_store *s, int64_t *seq, char hash[65], struct tm_err *err);
/* Appends record `r` as given (the chain is core/audit.c's to build).
 * TM_ESTORE when its seq is taken. */
int tm_store_audit_add(tm_store *s, const tm_audit_rec *r, struct tm_err *err);
/* The chain's head: *present 0 when there is none. TM_ECRYPTO (err naming
 * the field) when the head is stored in a form tallyman never writes: seq
 * not an integer, hash or mac not exactly 64 characters of text; the values
 * are then not given, since a truncated copy could pass for the original. */
int tm_store_audit_head(tm_store *s, int *present, int64_t *seq, char hash[65], char mac[65],
                        struct tm_err *err);
/* Writes the chain's head, replacing the one stored. */
int tm_store_audit_set_head(tm_store *s, int64_t seq, const char *hash, const char *mac,
                            struct tm_err *err);
/* Calls fn for every record with from <= at < to in seq order (subject NULL:
 * every subject; to 0: no end); fn returns nonzero to stop, which is not an
 * error (TM_OK). The record is borrowed for the call; a record stored in a
 * form tallyman never writes is given with r->malformed saying how, never
 * skipped. TM_ESTORE. */
int tm_store_audit_scan(tm_store *s, int64_t from, int64_t to, const char *subject,
                        int (*fn)(void *ud, const tm_audit_rec *r), void *ud, struct tm_err *err);
/* tm_store_audit_scan of the records whose actor is `actor` (NULL: any):
 * what one person or token did and looked at. */
int tm_store_audit_scan_actor(tm_store *s, int64_t from, int64_t to, const char *subject,
                              const char *actor, int (*fn)(void *ud, const tm_audit_rec *r),
                              void *ud, struct tm_err *err);

/* ---- The daily cycle (app/cycle.c) ---------------------------------------
 * Named integer marks (the last day run): set replaces the mark's value. */
int tm_store_cycle_set(tm_store *s, const char *name, int64_t value, struct tm_err *err);
/* The mark `name`: *found is 0 (and *value untouched) when it was never set. */
int tm_store_cycle_get(tm_store *s, const char *name, int64_t *value, int *found,
                       struct tm_err *err);
/* The messages waiting in the outbox: *planned (planned by a journey, not
 * yet through the gate) and *ready (allowed, rendered, not yet sent). Reads
 * the outbox's status index only, never the sent rows. TM_ESTORE. */
int tm_store_outbox_depth(tm_store *s, int64_t *planned, int64_t *ready, struct tm_err *err);

/* Work lists, as malloc'd arrays of row ids (*ids, caller frees; NULL with
 * *n 0 when there is no work): open debts without a journey; open debts whose
 * timer falls before `until`; outbox rows planned before `until` (by
 * consumer, then time: the gate works a consumer's rows in order); outbox
 * rows ready to dispatch. Read in full before returning, so the caller may
 * write as it walks the list. TM_ENOMEM, TM_ESTORE (then *ids is NULL). */
int tm_store_work_unassigned(tm_store *s, int64_t **ids, size_t *n, struct tm_err *err);
int tm_store_work_timers(tm_store *s, int64_t until, int64_t **ids, size_t *n, struct tm_err *err);
int tm_store_work_outbox(tm_store *s, int64_t until, int64_t **ids, size_t *n, struct tm_err *err);
int tm_store_work_ready(tm_store *s, int64_t **ids, size_t *n, struct tm_err *err);

/* Calls fn for each applied event on a known debt not yet worked by the
 * cycle with at < until, in time order (then id); read in full before the
 * first callback, so the callback may write (a payload stored as NULL is
 * given as "{}"). Returns TM_OK, fn's first other return, TM_ENOMEM or
 * TM_ESTORE. Mark each with tm_store_event_worked. */
typedef int (*tm_store_event_fn)(void *ud, int64_t id, const char *type, int64_t debt, int64_t at,
                                 const char *payload);
int tm_store_scan_events(tm_store *s, int64_t until, tm_store_event_fn fn, void *ud,
                         struct tm_err *err);

/* Marks event row `id` worked by the cycle. */
int tm_store_event_worked(tm_store *s, int64_t id, struct tm_err *err);

/* Calls fn with the number of debts in each journey and state, for the run's
 * summary, ordered by journey then state; a debt with no journey is counted
 * under "(none)" and state "". */
typedef int (*tm_store_count_fn)(void *ud, const char *journey, const char *state, int64_t n);
int tm_store_journey_counts(tm_store *s, tm_store_count_fn fn, void *ud, struct tm_err *err);

/* A debt with what its journey and the gate need (no personal data). A
 * status or dispute state no build writes reads as ..._OTHER. */
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
    /* The consumer's contact points on file (the points themselves are in
     * the encrypted personal data): a phone, an email, a postal address;
     * the phone or email marked bad (bounced, failed) and not changed since;
     * the preferred channel from the placement ("" none). */
    int has_phone, has_email, has_address, phone_bad, email_bad;
    char preferred_channel[16];
    char channels[64]; /* not read: the caller fills it (the channels usable, for journeys) */
} tm_work_debt;

/* Debt row `id` with its consumer's state, zone, language and sets, its
 * latest open promise and whether a hardship event was applied: *found 0
 * when there is no such debt. */
int tm_store_work_debt(tm_store *s, int64_t id, tm_work_debt *w, int *found, struct tm_err *err);
/* Writes the journey fields of `w` (journey, state, version, hash, variant,
 * timer, step, closed_reason, status, offer) to debt `id`; empty strings are
 * stored as none, and a status of TM_DEBT_OTHER leaves the stored one as it
 * is. */
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

/* The hash of every kept journey text, in order: *out (caller frees; NULL
 * when none) holds *n NUL-terminated 64-hex-digit strings, 65 bytes apart.
 * TM_ENOMEM, TM_ESTORE (then *out is NULL and *n 0). */
int tm_store_journey_hashes(tm_store *s, char **out, size_t *n, struct tm_err *err);
/* Reads the text kept under `hash` into *out: on *found, out->text, ->journey
 * and ->path point into one malloc'd block owned by the caller, released with
 * free((void *)out->text); out->hash is NULL. Not found is TM_OK with *found 0
 * and *out zeroed. TM_ENOMEM, TM_ESTORE. */
int tm_store_journey_text(tm_store *s, const char *hash, tm_journey_text *out, int *found,
                          struct tm_err *err);

/* An outbox row. Strings are borrowed on write; on read they point into the
 * record's buffers and payload_owned (the caller frees it; NULL when the row
 * has no payload). */
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

/* Adds a planned row unless its key exists (*added, which may be NULL, says
 * which: a key kept already is not an error). TM_ESTORE when the debt does
 * not exist. */
int tm_store_outbox_plan(tm_store *s, const tm_outbox_rec *o, int *added, struct tm_err *err);
/* Outbox row `id` into *o, with its debt's own id: *found 0 when there is no
 * such row. A status no build writes reads as TM_OUTBOX_OTHER. TM_ENOMEM
 * when its payload cannot be copied (then *found is 0), TM_ESTORE. */
int tm_store_outbox_get(tm_store *s, int64_t id, tm_outbox_rec *o, int *found, struct tm_err *err);
/* The outbox row with idempotency key `key` into *o, as tm_store_outbox_get
 * reads it: *found 0 when there is none. */
int tm_store_outbox_find(tm_store *s, const char *key, tm_outbox_rec *o, int *found,
                         struct tm_err *err);
/* Sets a row's status (TM_EINVAL for TM_OUTBOX_OTHER) and time; blocked_by
 * and payload are kept when NULL; sent_at 0 leaves it null. A status of sent
 * or failed counts an attempt. */
int tm_store_outbox_set(tm_store *s, int64_t id, enum tm_outbox_status status, int64_t send_at,
                        const char *blocked_by, const char *payload, int64_t sent_at,
                        struct tm_err *err);

/* Marks a row ready with its rendered message: `blob` is ciphertext (it
 * holds personal data), under key version `key_version`. */
int tm_store_outbox_ready(tm_store *s, int64_t id, const uint8_t *blob, size_t len, int key_version,
                          struct tm_err *err);

/* Calls fn for the consumer's contacts (all their debts) at or after
 * `since`, oldest first. Strings are borrowed for the call. Returns TM_OK,
 * fn's first other return, or TM_ESTORE (a history cut short would let the
 * gate allow a contact its caps forbid). */
typedef int (*tm_store_history_fn)(void *ud, const char *channel, int64_t at, const char *outcome,
                                   const char *place, const char *direction, const char *debt_id);
int tm_store_history(tm_store *s, int64_t consumer, int64_t since, tm_store_history_fn fn, void *ud,
                     struct tm_err *err);

/* ---- Simulation (core/sim.c, `tallyman simulate`) -------------------------
 * Copies the whole store at `src` to a new store `dst` (which must not
 * exist) in one consistent read, never writing or migrating the source (for
 * SQLite a -shm file may appear beside it, as for any reader; a PostgreSQL
 * source, a URL, is opened as any command opens it and copied with
 * tm_store_copy). `dst` is a file. TM_EINVAL for NULL paths or a URL as
 * `dst`; TM_ESTORE with `err` naming the files when the source cannot be
 * read or the copy written. */
int tm_store_snapshot(const char *src, const char *dst, struct tm_err *err);

/* Copies the whole store `from` to the store `to` (each a file or a
 * postgresql:// URL, either way round; `to` is made or migrated first and
 * must hold no data): every table, row by row, each value as stored, so ids,
 * ciphertexts (under the same key file) and the audit chain with its head
 * are the same and `audit verify` holds on the copy. The source is read in
 * one transaction holding its write lock; the destination is written in one
 * transaction, all or nothing. Leases held on the source are not copied.
 * fn (may be NULL) is told each table and its row count as it is done.
 * TM_EEXIST when `to` holds data; TM_ESTORE, TM_EINVAL, TM_ENOMEM as
 * tm_store_open says, err naming the table. */
typedef void (*tm_store_copy_fn)(void *ud, const char *table, int64_t rows);
int tm_store_copy(const char *from, const char *to, tm_store_copy_fn fn, void *ud,
                  struct tm_err *err);

/* Makes every open debt start afresh: no journey, state, variant, timer,
 * step, offer or closed reason; the outbox, the gate decisions and the
 * cycle marks are emptied and every event is marked worked (events already
 * on file are history, not news for the new journeys). Contacts, payments
 * and promises are kept: they are the debts' history (caps, scores).
 * For a simulation's copy only: nothing is audited. One transaction
 * (inside the caller's when one is open): TM_ESTORE writes nothing of it. */
int tm_store_reset_journeys(tm_store *s, struct tm_err *err);

/* Agent queues: debts a journey handed to people (j:queue). On write, key
 * (debt:journey:step:action, like the outbox), debt, queue, reason,
 * journey, journey_state and at are read and strings borrowed; a key
 * already present adds nothing (*added 0; not an error). TM_ESTORE when the
 * debt does not exist. On read (tm_store_queue_list), every field is set,
 * strings are borrowed for the callback only, and a status no build writes
 * reads as TM_QUEUE_OTHER. */
typedef struct tm_queue_item {
    int64_t id, debt, at, closed_at;
    const char *key, *debt_ref, *queue, *reason, *journey, *journey_state;
    enum tm_queue_status status;
    const char *closed_by, *outcome;
    int64_t balance;        /* read only: the debt's balance now, minor units */
    const char *currency;   /* read only: its currency */
    int64_t consumer;       /* read only: the debt's consumer (row id) */
} tm_queue_item;
int tm_store_queue_add(tm_store *s, const tm_queue_item *q, int *added, struct tm_err *err);
typedef int (*tm_store_queue_fn)(void *ud, const tm_queue_item *q);
/* Open items (all items when `all`) of `queue`, or of every queue when it
 * is NULL, by queue then age. A callback return other than TM_OK stops the
 * scan and is returned. */
int tm_store_queue_list(tm_store *s, const char *queue, int all, tm_store_queue_fn fn, void *ud,
                        struct tm_err *err);
/* Closes open item `id` (*closed 0 when there is no such open item: not an
 * error). `by` and `outcome` may be NULL or "". */
int tm_store_queue_close(tm_store *s, int64_t id, const char *by, const char *outcome, int64_t at,
                         int *closed, struct tm_err *err);

/* Claims on open queue items (an agent working one through the service).
 * tm_store_queue_claim: claims item `id` of `queue` for `by` until `until`
 * (id 0: the oldest open item of the queue that no one holds an unexpired
 * claim on). *got is the item claimed (0: none); when a named item is open
 * but held by someone else until after `now`, *got is 0 and *holder (cap
 * bytes) and *held_until say by whom and till when; a named item that is
 * not an open item of `queue` gives *got 0 and *holder "". Claiming an item
 * one holds already renews the claim. Call inside a transaction. */
int tm_store_queue_claim(tm_store *s, const char *queue, int64_t id, const char *by, int64_t now,
                         int64_t until, int64_t *got, char *holder, size_t cap,
                         int64_t *held_until, struct tm_err *err);
/* The open item `id` of `queue` (NULL: any queue) and its claim: *found 0
 * when there is no such open item; else *holder (cap bytes) names who holds
 * an unexpired claim at `now` ("" when no one) until *held_until. */
int tm_store_queue_claim_get(tm_store *s, const char *queue, int64_t id, int64_t now, int *found,
                             char *holder, size_t cap, int64_t *held_until, struct tm_err *err);
/* One item as tm_store_queue_list gives them (any status): TM_OK with
 * *found 0 when there is none. */
int tm_store_queue_item(tm_store *s, int64_t id, tm_store_queue_fn fn, void *ud, int *found,
                        struct tm_err *err);

/* The latest score of `model` for a debt (a later one replaces it).
 * `reasons` is a JSON array of reason texts, or NULL. TM_ESTORE when the debt
 * does not exist. */
int tm_store_score_set(tm_store *s, int64_t debt, const char *model, double probability,
                       const char *reasons, int64_t at, struct tm_err *err);

/* Card payment attempts (tallyman pay), one per idempotency key. On write,
 * key, debt, token, amount, currency, at, outcome (TM_EINVAL for
 * TM_ATTEMPT_OTHER), reference, reason, content (a keyed hash of the request;
 * may be unset) and origin ("FILE:LINE", may be NULL) are read (strings
 * borrowed); writing a key again updates its outcome, reference and reason
 * only; TM_ESTORE when the debt does not exist. On read every field is set,
 * strings pointing into the record's buffers (content is unset and origin ""
 * for attempts stored before schema version 9; an outcome no build writes
 * reads as TM_ATTEMPT_OTHER). tm_store_pay_attempt_get: *found 0 when the key
 * has no attempt. */
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

/* The time of the latest applied event (*at 0 when none). */
int tm_store_last_event_at(tm_store *s, int64_t *at, struct tm_err *err);

/* ---- The keys the store knows (core/keycheck.c) ---------------------------
 * Per key version (0: the lookup key) a check value: 64 hex digits of
 * HMAC-SHA256 under the key of a fixed label, never the key itself.
 * tm_store_key_check_get: *found 0 when the version has none; a stored value
 * not of exactly that form is found but given as "" (it matches nothing).
 * tm_store_key_check_put adds one (TM_ESTORE if the version has one).
 * tm_store_key_check_max: the highest version with one (0 when none) and
 * how many there are. */
int tm_store_key_check_get(tm_store *s, int version, char value[65], int *found, struct tm_err *err);
int tm_store_key_check_put(tm_store *s, int version, const char *value, int64_t at,
                           struct tm_err *err);
int tm_store_key_check_max(tm_store *s, int *max, int *count, struct tm_err *err);

/* The highest key version any stored ciphertext names (consumers' personal
 * data, debts' attributes, outbox payloads); *max 0 when there is none. */
int tm_store_key_version_used_max(tm_store *s, int *max, struct tm_err *err);

/* Calls fn for at most one stored ciphertext of each kind (consumer, debt
 * attributes, outbox payload) under key version `version`, as the key
 * rotation scans do; *seen counts the calls (0: the version encrypts
 * nothing). */
int tm_store_key_samples(tm_store *s, int version, tm_store_blob_fn fn, void *ud, int *seen,
                         struct tm_err *err);

/* Rows in the tables that say a store is in use. `script_sets` counts the
 * script sets and the people (users) the store keeps; `audit` counts
 * records and the head; `key_checks` the keys recorded. *c is zeroed first. */
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

/* Reads lease `name` into *out; *found 0 (*out untouched) when nobody holds
 * it. */
int tm_store_lease_get(tm_store *s, const char *name, tm_lease *out, int *found, struct tm_err *err);
/* Writes lease l->name with every field of `l`, replacing any holder: call
 * inside a transaction that read the lease first (tm_store_begin takes the
 * write lock, so nobody else can take it in between). */
int tm_store_lease_put(tm_store *s, const tm_lease *l, struct tm_err *err);
/* Sets the lease's renewal time to `now` when `holder` still holds it;
 * *held 0 when it does not (taken over, or released: not an error). */
int tm_store_lease_renew(tm_store *s, const char *name, const char *holder, int64_t now, int *held,
                         struct tm_err *err);
/* Deletes the lease when `holder` holds it; nothing otherwise (TM_OK). */
int tm_store_lease_release(tm_store *s, const char *name, const char *holder, struct tm_err *err);

/* ---- Service tokens (core/store_sqlite_tokens.c) ---------------------------
 * The machine credentials of `tallyman serve`: only each token's hex SHA-256
 * is kept, never its text. Times are Unix seconds; 0 means not set (never
 * expires, never used, not revoked). */
typedef struct tm_token_rec {
    int64_t id;
    char name[129];
    char roles[129];   /* comma-separated role names (app/access.c); "" for a person's */
    char person[65];   /* the person it acts for (users.name), "" for a machine's token */
    int64_t created;
    int64_t expires;   /* 0: never */
    int64_t last_used; /* 0: never used */
    int64_t revoked;   /* 0: live */
    double rate_limit; /* requests a second (0: the service's limit) */
} tm_token_rec;

/* Adds a token: `name` (at most 128 bytes), `hash` the hex SHA-256 of its
 * text (64 hex digits), `roles` as above. TM_EEXIST (nothing written, err
 * naming the name) when a token of that name exists, revoked or not: a name
 * stays with the token it was first given to, so the log and the audit
 * records never mean two tokens. */
int tm_store_token_add(tm_store *s, const char *name, const char *hash, const char *roles,
                       int64_t created, int64_t expires, struct tm_err *err);
/* Adds a personal token: like tm_store_token_add, but acting for `person`
 * (a users.name): it has no roles of its own, the person's roles are read
 * from user_roles on each use, so a role taken from them is taken from the
 * token at once. TM_EEXIST as tm_store_token_add. */
int tm_store_token_add_person(tm_store *s, const char *name, const char *hash, const char *person,
                              int64_t created, int64_t expires, struct tm_err *err);
/* Reads the token whose hash is `hash` into *out (revoked and expired ones
 * too: the caller judges). */
int tm_store_token_by_hash(tm_store *s, const char *hash, tm_token_rec *out, int *found,
                           struct tm_err *err);
/* Marks the token `name` revoked at `at`; *found 0 when there is no such
 * token. A token revoked before keeps its first revocation time (*found 1). */
int tm_store_token_revoke(tm_store *s, const char *name, int64_t at, int *found,
                          struct tm_err *err);
/* Sets the token `name`'s own rate limit (requests a second; 0: the
 * service's). *found 0 when there is no such token. */
int tm_store_token_set_rate(tm_store *s, const char *name, double rate, int *found,
                            struct tm_err *err);
/* Sets token `id`'s last use to `at` (never moves it back). */
int tm_store_token_touch(tm_store *s, int64_t id, int64_t at, struct tm_err *err);
/* Calls fn for every token, by name. */
typedef int (*tm_store_token_fn)(void *ud, const tm_token_rec *t);
int tm_store_token_list(tm_store *s, tm_store_token_fn fn, void *ud, struct tm_err *err);

/* ---- People's credentials and sessions (core/store_sqlite_people.c) -------
 * What a person logs in to the service with, on their users row: the
 * Argon2id hash of the password (core/password.h), the TOTP secret
 * encrypted with the store's field key (the caller encrypts), the time step
 * of the last code accepted (a code is good once), and the state of failed
 * logins (how many in a row, the last, the lock). A session is a row found
 * by the SHA-256 of its id (the id itself is only in the cookie), with the
 * SHA-256 of its CSRF token. Times are Unix seconds, 0 for none. */
typedef struct tm_user_auth {
    int64_t id;
    char name[65];
    unsigned roles;           /* TM_ROLE_BIT of each role held */
    char password_hash[160];  /* "" when none is set */
    int64_t disabled_at;
    uint8_t totp[256];        /* the encrypted secret, totp_len bytes (0: not enrolled) */
    size_t totp_len;
    int64_t totp_last_step;   /* the step of the last code accepted (0: none) */
    int failed;               /* failed logins since the last success */
    int64_t last_failed_at, locked_until;
    int64_t password_ok_until; /* the password was right: a code is awaited until then */
} tm_user_auth;

/* Reads person `name`'s credentials; *found 0 when there is no such person. */
int tm_store_user_auth_get(tm_store *s, const char *name, tm_user_auth *out, int *found,
                           struct tm_err *err);
/* Sets user row `id`'s password hash (NUL-terminated text from
 * tm_password_hash), and clears the failures and any lock: a reset is also
 * how an admin releases a lock early. */
int tm_store_user_set_password(tm_store *s, int64_t id, const char *hash, int64_t at,
                               struct tm_err *err);
/* Disables (at > 0) or enables (at 0) user row `id`; disabling ends every
 * session of the person at `at`. */
int tm_store_user_set_disabled(tm_store *s, int64_t id, int64_t at, struct tm_err *err);
/* Replaces user row `id`'s TOTP secret with `blob` (len bytes, at most 256,
 * already encrypted), forgetting the last step used. TM_EINVAL when too long. */
int tm_store_user_set_totp(tm_store *s, int64_t id, const uint8_t *blob, size_t len,
                           struct tm_err *err);
/* Records that the code of time step `step` was accepted for user row `id`,
 * only when `step` is later than the last one recorded: *taken 1 then, 0
 * when it is not (the code was used already, perhaps by a request running
 * at the same time). */
int tm_store_user_totp_use(tm_store *s, int64_t id, int64_t step, int *taken, struct tm_err *err);
/* Writes the failed-login state of user row `id` (see tm_user_auth). */
int tm_store_user_login_state(tm_store *s, int64_t id, int failed, int64_t last_failed_at,
                              int64_t locked_until, int64_t password_ok_until, struct tm_err *err);

typedef struct tm_session_rec {
    int64_t id, user_id;
    char user[65];
    unsigned roles;          /* the person's roles now (TM_ROLE_BIT) */
    int64_t user_disabled;   /* the person's disabled_at */
    char csrf_hash[65];      /* hex SHA-256 of the CSRF token */
    int64_t created, last_seen, expires, ended;
} tm_session_rec;

/* Adds a session for user row `user_id`: `hash` and `csrf_hash` hex SHA-256
 * (64 digits) of the session id and of its CSRF token, made at `now`, ending
 * at `expires` however active it is. */
int tm_store_session_add(tm_store *s, const char *hash, int64_t user_id, const char *csrf_hash,
                         int64_t now, int64_t expires, struct tm_err *err);
/* Reads the session whose id hashes to `hash` (ended and expired ones too:
 * the caller judges), with its person's name, roles and state. A cached
 * statement: the service asks on every request that has a cookie. */
int tm_store_session_by_hash(tm_store *s, const char *hash, tm_session_rec *out, int *found,
                             struct tm_err *err);
/* Sets session `id`'s last activity to `at` (never moves it back). */
int tm_store_session_touch(tm_store *s, int64_t id, int64_t at, struct tm_err *err);
/* Ends session `id` at `at` (logout); an ended session stays ended. */
int tm_store_session_end(tm_store *s, int64_t id, int64_t at, struct tm_err *err);

#endif
