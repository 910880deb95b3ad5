/*
 * core/portfolio.c: what account imports and events share (portfolio.h,
 * portfolio_int.h): rows are written in batches, each committed with the
 * audit records of its rows and the audit head, so a crash loses at most the
 * batch in progress; a rejected row is named FILE:LINE: field: why and the
 * rest goes on; lookup hashes are keyed, so the store never holds a phone
 * number or an email in clear; records are built as JSON text with the one
 * JSON writer (jw.h), whose buffer's failure to grow is never silent.
 */
#include "portfolio_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stopat.h"

#define DEFAULT_BATCH 50000
/* Rows between two calls of the progress function. */
#define PROGRESS_EVERY 4096

const char *const tm__pf_pii_cols[] = {"first_name", "last_name", "address1", "city", "zip",
                                       "date_of_birth", "phone", "email",
                                       /* later, so the text of older data is the same */
                                       "address2", "work_phone", "work_email", "device_token",
                                       "address_state", "phone_prev", "phone_since", "email_prev",
                                       "email_since", "address_prev", "address_since", NULL};

void tm__pf_vreject(const tm_import_opts *o, long *rejected, long line, const char *field,
                    const char *fmt, va_list ap)
{
    char why[400], msg[1000];
    vsnprintf(why, sizeof why, fmt, ap);
    if (field)
        snprintf(msg, sizeof msg, "%s:%ld: %s: %s", o->name, line, field, why);
    else
        snprintf(msg, sizeof msg, "%s:%ld: %s", o->name, line, why);
    (*rejected)++;
    if (o->reject)
        o->reject(o->ud, msg);
}

/* 128 bits of the keyed hash: collisions are out of reach for any portfolio,
 * and rows and indexes stay small. */
void tm__pf_hash16(const tm_keys *k, const char *value, tm_hash16 *out)
{
    uint8_t md[32];
    out->set = 0;
    if (!value || tm_keys_lookup_raw(k, value, strlen(value), md) != TM_OK)
        return;
    memcpy(out->b, md, TM_STORE_HASH_LEN);
    out->set = 1;
}

int tm__pf_same_hash(const tm_hash16 *a, const tm_hash16 *b)
{
    if (a->set != b->set)
        return 0;
    return !a->set || memcmp(a->b, b->b, TM_STORE_HASH_LEN) == 0;
}

int tm__pf_audit(tm__pf_run *r, const char *action, const char *subject, const char *details,
                 struct tm_err *err)
{
    return tm_audit_write(r->audit, r->o->now, r->o->actor ? r->o->actor : "import", action,
                          subject, details, err);
}

int tm__pf_begin_batch(tm__pf_run *r, struct tm_err *err)
{
    return tm_store_begin(r->s, err);
}

int tm__pf_end_batch(tm__pf_run *r, struct tm_err *err)
{
    int rc = tm_audit_writer_flush(r->audit, err);
    if (rc == TM_OK)
        rc = tm_store_commit(r->s, err);
    if (rc != TM_OK) {
        tm_store_rollback(r->s);
        tm_audit_writer_reset(r->audit);
        return rc;
    }
    tm_stopat("batch.committed"); /* import, event: after each committed batch */
    return rc;
}

/* After each row: commit the batch once it is full (with the audit head),
 * start the next, and report progress. */
int tm__pf_row_done(tm__pf_run *r, FILE *in, long *in_batch, struct tm_err *err)
{
    r->rows_read++;
    /* Often enough for a bar that moves every fraction of a second. */
    if (r->o->progress && r->rows_read % PROGRESS_EVERY == 0)
        r->o->progress(r->o->ud, (uint64_t)ftell(in), r->o->size, r->rows_read);
    if (++*in_batch < (r->o->batch > 0 ? r->o->batch : DEFAULT_BATCH))
        return TM_OK;
    int rc = tm__pf_end_batch(r, err);
    if (rc == TM_OK)
        rc = tm__pf_begin_batch(r, err);
    *in_batch = 0;
    if (r->o->progress)
        r->o->progress(r->o->ud, (uint64_t)ftell(in), r->o->size, r->rows_read);
    return rc;
}

/* At the end of the input: commit the last batch, or roll it back after a
 * failure of the store. */
int tm__pf_finish_batches(tm__pf_run *r, int rc, struct tm_err *err)
{
    if (rc == TM_OK)
        return tm__pf_end_batch(r, err);
    tm_store_rollback(r->s);
    return rc;
}

void tm_portfolio_audit_key(const tm_keys *keys, uint8_t out[32])
{
    char hex[TM_KEYS_HASH_HEX_LEN + 1];
    tm_keys_lookup_hash(keys, "tallyman audit chain key v1", hex);
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* Adds or removes `item` in a comma-separated set held in `cur`. */
void tm__pf_set_edit(const char *cur, const char *item, int add, char *out, size_t cap)
{
    out[0] = '\0';
    size_t n = 0;
    int present = 0;
    const char *p = cur ? cur : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int same = len == strlen(item) && strncmp(p, item, len) == 0;
        present |= same;
        if (len && !(same && !add) && n + len + 2 < cap) {
            if (n)
                out[n++] = ',';
            memcpy(out + n, p, len);
            n += len;
            out[n] = '\0';
        }
        p += len + (comma ? 1 : 0);
    }
    if (add && !present && n + strlen(item) + 2 < cap) {
        if (n)
            out[n++] = ',';
        memcpy(out + n, item, strlen(item) + 1);
    }
}
