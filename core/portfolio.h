/*
 * core/portfolio.h: bringing a portfolio into the store and keeping it
 * current: account imports (CSV or JSON lines) and events (payments,
 * promises, disputes, cease requests, ...). Every row is validated field by
 * field; a bad row is reported with its line and field and the rest goes on;
 * accepted rows are committed in batches with their audit records; personal
 * data is encrypted before it reaches the store. And key rotation: what the
 * store holds encrypted, moved to the current key.
 *
 * One header for the module's four files: the import in portfolio_import.c,
 * events in portfolio_events.c, key rotation in portfolio_rekey.c, and what
 * they share in portfolio.c (portfolio_int.h).
 */
#ifndef TM_PORTFOLIO_H
#define TM_PORTFOLIO_H

#include <stdint.h>
#include <stdio.h>

#include "keys.h"
#include "store.h"
#include "tm_status.h"

/* Called for every rejected row or event: "FILE:LINE: field: reason". */
typedef void (*tm_reject_fn)(void *ud, const char *message);
/* Called now and then (every few thousand rows and after each commit) with
 * the bytes read so far, the input's size (0 when unknown) and the rows or
 * events read so far, for a progress bar. */
typedef void (*tm_progress_fn)(void *ud, uint64_t done, uint64_t total, uint64_t rows);

typedef struct tm_import_stats {
    long rows, accepted, rejected;
    long consumers_created, consumers_updated;
    long debts_created, debts_updated, unchanged;
} tm_import_stats;

typedef struct tm_import_opts {
    const char *name;          /* the file name shown in messages */
    const char *actor;         /* who, for the audit log ("import" when NULL) */
    int64_t now;               /* time stamp for records and audit (seconds) */
    int batch;                 /* rows per transaction (default 50000) */
    tm_reject_fn reject;
    tm_progress_fn progress;
    void *ud;
    uint64_t size;             /* bytes in the input, when known (for progress) */
    /* Events only. The events are card payments already charged (tallyman pay): each is
     * applied whatever its order against the debt's other events (the money was taken), a
     * payment kept unapplied before is applied now, and its instrument_token is taken as the
     * charge's own. */
    int payments_taken;
    const char *origin;        /* recorded as each event's origin instead of "NAME:LINE" */
} tm_import_opts;

/* Imports accounts from `in`: CSV with a header row, or JSON lines (chosen
 * by the first non-blank byte: '{' means JSON lines). One row is one debt of
 * one consumer; rows sharing external_id are the same consumer; extra
 * columns are kept (encrypted) as the debt's attributes. Re-importing the
 * same data changes nothing. Returns TM_OK when the input could be read
 * (rows may still have been rejected: see stats), or an error for the file
 * as a whole (unreadable, a header without the required columns). */
int tm_import_accounts(tm_store *s, const tm_keys *keys, FILE *in, const tm_import_opts *opts,
                       tm_import_stats *stats, struct tm_err *err);

typedef struct tm_event_stats {
    long events, applied, duplicates, rejected;
} tm_event_stats;

/* Applies events given as JSON lines (CONTRACT.md `tallyman event`). An
 * event whose key was applied before with the same content is skipped and
 * counted as a duplicate; the key used before (in this input or an earlier
 * one) for other content (another debt, amount, time, ...) is rejected as a
 * conflicting reuse, naming where the key was first used. An event for an
 * unknown debt, or older than the last one applied to its debt, is rejected
 * with a message and kept, never dropped silently. A line with a card number
 * anywhere but in a payment's card_number, duplicate member names, or a bad
 * field is rejected, naming the line and field, and the rest goes on.
 * Returns TM_OK when the input could be read to its end (events may still
 * have been rejected: see stats); TM_EIO when it could not be read (a
 * directory, a read error), after committing the batches before. */
int tm_apply_events(tm_store *s, const tm_keys *keys, FILE *in, const tm_import_opts *opts,
                    tm_event_stats *stats, struct tm_err *err);

/* The key that chains the audit log, derived from the key file's lookup key
 * (so it never lives in the database). */
void tm_portfolio_audit_key(const tm_keys *keys, uint8_t out[32]);

/* Records re-encrypted by tm_portfolio_reencrypt, by kind. */
typedef struct tm_reencrypt_stats {
    long consumers; /* consumers' personal data */
    long debts;     /* debts' attributes */
    long outbox;    /* outbox payloads (rendered messages) */
} tm_reencrypt_stats;

/* Re-encrypts every encrypted value in the store that is not under the
 * current key version (consumers' personal data, debts' attributes, outbox
 * payloads) with the current one, `batch` records per transaction, so the
 * store stays usable meanwhile. *st counts the records rewritten and
 * committed, also when one fails (a value that does not decrypt under its
 * aad: the message names it, and the batch it was in is rolled back). */
int tm_portfolio_reencrypt(tm_store *s, const tm_keys *keys, int batch, tm_reencrypt_stats *st,
                           struct tm_err *err);

#endif
