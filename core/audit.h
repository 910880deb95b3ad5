/*
 * core/audit.h: the audit log: append-only, each record chained to the one
 * before it by HMAC-SHA256, verifiable end to end.
 *
 * Record n holds (seq, at, actor, action, subject, details, prev_hash, hash)
 * with hash = HMAC(key, seq | at | actor | action | subject | details |
 * prev_hash), every field length-prefixed so no two records can be made to
 * read alike. The head (last seq and hash) is kept under its own HMAC in the
 * store's meta table, so removing records from the end is detected too.
 * Records are appended inside the caller's transaction: an action and its
 * audit record commit together or not at all.
 */
#ifndef TM_AUDIT_H
#define TM_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "store.h"
#include "tm_status.h"

#define TM_AUDIT_KEY_LEN 32

/* Appends one record. `details` is a JSON object text with personal data
 * already masked by the caller. Call inside tm_store_begin/commit: outside a
 * transaction it writes nothing and returns TM_EINVAL. */
int tm_audit_append(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], int64_t at, const char *actor,
                    const char *action, const char *subject, const char *details,
                    struct tm_err *err);

/* A writer for many records, in one or many transactions: the chain's tail
 * is read inside each transaction at its first record (never carried over
 * from an earlier transaction: another process may have appended since),
 * kept in memory while the transaction lasts, and stored as the head by
 * tm_audit_writer_flush(), which the caller runs before each commit. Use
 * one writer per transaction. tm_audit_write returns TM_EINVAL outside a
 * transaction, TM_ENOMEM, or the store's error. */
typedef struct tm_audit_writer tm_audit_writer;

int tm_audit_writer_open(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], tm_audit_writer **out,
                         struct tm_err *err);
int tm_audit_write(tm_audit_writer *w, int64_t at, const char *actor, const char *action,
                   const char *subject, const char *details, struct tm_err *err);
/* Stores the head; call inside the transaction, before commit. Does
 * nothing when the writer wrote nothing in the transaction in progress. */
int tm_audit_writer_flush(tm_audit_writer *w, struct tm_err *err);
/* Forgets the in-memory head (after a rollback; a new transaction forgets
 * it anyway). */
void tm_audit_writer_reset(tm_audit_writer *w);
void tm_audit_writer_close(tm_audit_writer *w);

typedef struct tm_audit_report {
    int64_t records;      /* records checked */
    int64_t bad_seq;      /* the first record found wrong (0 when intact) */
    char problem[256];    /* what is wrong with it */
} tm_audit_report;

/* Checks the whole chain. TM_OK when intact; TM_ECRYPTO when not, with the
 * first record that was changed, removed, inserted or reordered in *rep;
 * another code when the store cannot be read. Stored values are compared
 * exactly (type, length, no bytes hidden after a NUL). A chain that is whole
 * but shorter than the store's data implies is broken too: an empty log in
 * a store holding consumers, debts, events, decisions, messages or script
 * sets, or fewer account.created records than the store has debts. */
int tm_audit_verify(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], tm_audit_report *rep,
                    struct tm_err *err);

/* Whether `key` is the key the store's audit chain was written with, judged
 * by the head's MAC and by the first record's hash (it cannot be told from
 * the rest of the chain: that is what tm_audit_verify is for). *verdict is 1
 * when either verifies, 0 when there is a head or a record and neither
 * verifies, -1 when there is neither. Reads the head and one record. TM_OK,
 * or another code when the store cannot be read. */
int tm_audit_key_confirm(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], int *verdict,
                         struct tm_err *err);

/* Writes the records with from <= at < to (0 for open ends) and, when
 * `subject` is not NULL, only those about it, as JSON lines to `out`. Every
 * stored byte is written: a record stored in a form tallyman never writes
 * (a NUL inside a field, a time that is not an integer) is exported with its
 * details as a JSON string and a "malformed" member saying what is wrong,
 * and the export returns TM_ECRYPTO naming the first such record after
 * writing them all. A record goes out whole or not at all: TM_ENOMEM, naming
 * it, when one cannot be written for want of memory (those before it are
 * written, it and those after are not). Other codes when the store cannot
 * be read. */
int tm_audit_export(tm_store *s, FILE *out, int64_t from, int64_t to, const char *subject,
                    struct tm_err *err);
/* tm_audit_export of the records whose actor is `actor` (NULL: any), for
 * "what did this person look at" (`audit export --actor NAME`). */
int tm_audit_export_actor(tm_store *s, FILE *out, int64_t from, int64_t to, const char *subject,
                          const char *actor, struct tm_err *err);

/* Which records tm_audit_select gives: from <= at < to (0 for open ends),
 * about `subject` ("debt:ID"), by `actor`, of `action` (each NULL: any),
 * with seq > after (0: from the first), at most `limit` (>= 1). */
typedef struct tm_audit_filter {
    int64_t from, to;
    const char *subject, *actor, *action;
    int64_t after;
    long limit;
} tm_audit_filter;

typedef struct tm_audit_page {
    long records;     /* written */
    int64_t last_seq; /* the last one's seq: the next page's `after` */
    int more;         /* 1 when a record after it matches too */
} tm_audit_page;

/* Appends the records `f` selects to `out`, each an object as the export
 * writes it, separated by commas (the elements of a JSON array), in seq
 * order, and says in *page how many and whether more follow. TM_OK;
 * TM_ENOMEM (out failed); another code when the store cannot be read. */
int tm_audit_select(tm_store *s, const tm_audit_filter *f, tm_buf *out, tm_audit_page *page,
                    struct tm_err *err);

#endif
