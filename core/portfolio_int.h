/*
 * core/portfolio_int.h: what the files of the portfolio module share; no
 * other file includes it. The module brings a portfolio into the store and
 * keeps it current, in four files behind one public header, portfolio.h:
 *
 *   portfolio.c         what imports and events share: batches committed with
 *                       their audit records, rejects named FILE:LINE, lookup
 *                       hashes and the audit chain's key
 *   portfolio_import.c  account imports (CSV or JSON lines)
 *   portfolio_events.c  events, card payments taken by tallyman pay included
 *   portfolio_rekey.c   key rotation: re-encrypting what the store holds
 */
#ifndef TM_PORTFOLIO_INT_H
#define TM_PORTFOLIO_INT_H

#include <stdarg.h>
#include <stdio.h>

#include "audit.h"
#include "jw.h"
#include "portfolio.h"

/* What an import or an event run writes with: the store, the keys, the
 * caller's options and the audit writer whose records commit with each
 * batch. */
typedef struct tm__pf_run {
    tm_store *s;
    const tm_keys *keys;
    const tm_import_opts *o;
    tm_audit_writer *audit;
    uint64_t rows_read; /* rows or events read so far, for opts->progress */
} tm__pf_run;

/* Batches. Rows are written inside a transaction that tm__pf_row_done
 * commits, with the audit head, every opts->batch rows (50000 when 0) and at
 * the end (tm__pf_finish_batches: commits the last batch when rc is TM_OK,
 * else rolls it back and returns rc). A commit that fails rolls its batch
 * back, audit records included, and is returned. */
int tm__pf_begin_batch(tm__pf_run *r, struct tm_err *err);
int tm__pf_end_batch(tm__pf_run *r, struct tm_err *err);
/* After each row; `in` is the input, whose position and the rows read are
 * reported to opts->progress every few thousand rows and after each commit. */
int tm__pf_row_done(tm__pf_run *r, FILE *in, long *in_batch, struct tm_err *err);
int tm__pf_finish_batches(tm__pf_run *r, int rc, struct tm_err *err);

/* Writes an audit record for the run (actor opts->actor, "import" when NULL;
 * time opts->now). */
int tm__pf_audit(tm__pf_run *r, const char *action, const char *subject, const char *details,
                 struct tm_err *err);

/* Names the rejected record ("NAME:LINE: field: why", field NULL: "NAME:LINE:
 * why") to opts->reject and counts it in *rejected. */
void tm__pf_vreject(const tm_import_opts *o, long *rejected, long line, const char *field,
                    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* A lookup hash as stored: the first TM_STORE_HASH_LEN bytes of the keyed
 * hash of `value` (unset when value is NULL or the hash fails). */
void tm__pf_hash16(const tm_keys *k, const char *value, tm_hash16 *out);
/* Whether two stored hashes are the same (two unset ones are). */
int tm__pf_same_hash(const tm_hash16 *a, const tm_hash16 *b);

/* Adds (add 1) or removes (0) `item` in the comma-separated set `cur` (NULL:
 * empty) into `out` (cap bytes; items that do not fit are left out). */
void tm__pf_set_edit(const char *cur, const char *item, int add, char *out, size_t cap);

/* The personal data fields, in the order they are kept in the encrypted
 * object (NULL-terminated). */
extern const char *const tm__pf_pii_cols[];

#endif
