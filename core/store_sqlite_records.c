/*
 * core/store_sqlite_records.c: the portfolio's records in the SQLite store:
 * consumers (with their encrypted personal data, lookup hashes and flag
 * sets), debts, events, payments and promises, contacts, card payment
 * attempts, scores, and the rows model training reads. A read that fails is
 * an error, never "not found": an import would otherwise create a second
 * consumer, or an event be applied twice.
 */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tm_store_consumer_find(tm_store *s, const char *external_id, tm_consumer_rec *out, int *found,
                           struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_CONSUMER_FIND, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, external_id, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    *found = step == TM_DB_ROW;
    if (*found) {
        memset(out, 0, sizeof *out);
        out->id = tm__db_column_int64(st, 0);
        snprintf(out->external_id, sizeof out->external_id, "%s", external_id);
        tm__sq_copy_col(st, 1, out->state, sizeof out->state);
        tm__sq_copy_col(st, 2, out->timezone, sizeof out->timezone);
        tm__sq_copy_col(st, 3, out->language, sizeof out->language);
        tm__sq_read_hash(st, 4, &out->pii_hash);
        tm__sq_read_hash(st, 5, &out->phone_hash);
        tm__sq_read_hash(st, 6, &out->email_hash);
        out->key_version = tm__db_column_int(st, 7);
    }
    tm__db_reset(st);
    /* A busy or failing database is an error, never "no such consumer":
     * the import would create a second one. */
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "finding a consumer");
}

int tm_store_consumer_put(tm_store *s, tm_consumer_rec *rec, int64_t now, struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, rec->id ? ST_CONSUMER_UPD : ST_CONSUMER_INS, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, rec->state, -1, TM_DB_STATIC);
    tm__sq_bind_opt_text(st, 2, rec->timezone);
    tm__db_bind_text(st, 3, rec->language[0] ? rec->language : "en", -1, TM_DB_STATIC);
    if (rec->pii)
        tm__db_bind_blob(st, 4, rec->pii, (int)rec->pii_len, TM_DB_STATIC);
    else
        tm__db_bind_null(st, 4);
    tm__sq_bind_hash(st, 5, &rec->pii_hash);
    tm__db_bind_int(st, 6, rec->key_version);
    tm__sq_bind_hash(st, 7, &rec->phone_hash);
    tm__sq_bind_hash(st, 8, &rec->email_hash);
    tm__db_bind_int64(st, 9, now);
    tm__db_bind_text(st, 10, rec->external_id, -1, TM_DB_STATIC);
    int rc = tm__sq_done(s, st, err);
    if (rc == TM_OK && !rec->id)
        rec->id = tm__db_last_id(s);
    return rc;
}

int tm_store_debt_find(tm_store *s, const char *debt_id, tm_debt_rec *out, int *found,
                       struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_DEBT_FIND, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, debt_id, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    *found = step == TM_DB_ROW;
    if (*found) {
        memset(out, 0, sizeof *out);
        out->id = tm__db_column_int64(st, 0);
        snprintf(out->debt_id, sizeof out->debt_id, "%s", debt_id);
        out->consumer_id = tm__db_column_int64(st, 1);
        tm__sq_copy_col(st, 2, out->creditor, sizeof out->creditor);
        tm__sq_copy_col(st, 3, out->debt_type, sizeof out->debt_type);
        out->placed_balance = tm__db_column_int64(st, 4);
        tm__sq_copy_col(st, 5, out->currency, sizeof out->currency);
        out->days_past_due = tm__db_column_type(st, 6) == TM_DB_NULL ? -1 : tm__db_column_int64(st, 6);
        tm__sq_copy_col(st, 7, out->charge_off_date, sizeof out->charge_off_date);
        tm__sq_copy_col(st, 8, out->last_payment_date, sizeof out->last_payment_date);
        tm__sq_read_hash(st, 9, &out->attributes_hash);
        out->balance = tm__db_column_int64(st, 10);
        out->has_last_event = tm__db_column_type(st, 11) != TM_DB_NULL;
        out->last_event_at = tm__db_column_int64(st, 11);
    }
    tm__db_reset(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "finding a debt");
}

int tm_store_debt_put(tm_store *s, tm_debt_rec *rec, int64_t now, struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, rec->id ? ST_DEBT_UPD : ST_DEBT_INS, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, rec->consumer_id);
    tm__sq_bind_opt_text(st, 2, rec->creditor);
    tm__db_bind_text(st, 3, rec->debt_type[0] ? rec->debt_type : "other", -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 4, rec->placed_balance);
    tm__db_bind_text(st, 5, rec->currency, -1, TM_DB_STATIC);
    if (rec->days_past_due >= 0)
        tm__db_bind_int64(st, 6, rec->days_past_due);
    else
        tm__db_bind_null(st, 6);
    tm__sq_bind_opt_text(st, 7, rec->charge_off_date);
    tm__sq_bind_opt_text(st, 8, rec->last_payment_date);
    if (rec->attributes)
        tm__db_bind_blob(st, 9, rec->attributes, (int)rec->attributes_len, TM_DB_STATIC);
    else
        tm__db_bind_null(st, 9);
    tm__sq_bind_hash(st, 10, &rec->attributes_hash);
    tm__db_bind_int64(st, 11, now);
    tm__db_bind_text(st, 12, rec->debt_id, -1, TM_DB_STATIC);
    int rc = tm__sq_done(s, st, err);
    if (rc == TM_OK && !rec->id)
        rec->id = tm__db_last_id(s);
    return rc;
}

int tm_store_consumer_pii(tm_store *s, int64_t consumer, char external_id[129], uint8_t **blob,
                          size_t *len, struct tm_err *err)
{
    /* Read for every message the daily cycle renders: prepared once. */
    static const char sql[] = "SELECT external_id, pii FROM consumers WHERE id = ?";
    *blob = NULL;
    *len = 0;
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, consumer);
    int rc = TM_OK;
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        tm__sq_copy_col(st, 0, external_id, 129);
        int n = tm__db_column_bytes(st, 1);
        if (n > 0) {
            *blob = malloc((size_t)n);
            if (*blob) {
                memcpy(*blob, tm__db_column_blob(st, 1), (size_t)n);
                *len = (size_t)n;
            } else {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
            }
        }
    } else if (step == TM_DB_DONE) {
        rc = tm_err_set(err, TM_ESTORE, "consumer %lld is missing", (long long)consumer);
    } else {
        rc = tm__sq_error(s, err, "reading personal data");
    }
    tm__db_reset(st);
    return rc;
}

int tm_store_consumer_set_pii(tm_store *s, int64_t consumer, const uint8_t *blob, size_t len,
                              const tm_hash16 *pii_hash, int key_version, int64_t now,
                              struct tm_err *err)
{
    /* An address change rewrites the personal data: prepared once. */
    static const char with_hash[] = "UPDATE consumers SET pii = ?1, key_version = ?2, updated_at = ?3, "
                                    "pii_hash = ?5 WHERE id = ?4";
    static const char without[] = "UPDATE consumers SET pii = ?1, key_version = ?2, updated_at = ?3 WHERE id = ?4";
    tm_db_stmt *st = tm__sq_cached(s, pii_hash ? with_hash : without, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_blob(st, 1, blob, (int)len, TM_DB_STATIC);
    tm__db_bind_int(st, 2, key_version);
    tm__db_bind_int64(st, 3, now);
    tm__db_bind_int64(st, 4, consumer);
    if (pii_hash)
        tm__sq_bind_hash(st, 5, pii_hash);
    return tm__sq_done(s, st, err);
}

int tm_store_consumer_set_lookup(tm_store *s, int64_t consumer, enum tm_consumer_lookup which,
                                 const tm_hash16 *hash, struct tm_err *err)
{
    if (which != TM_LOOKUP_PHONE && which != TM_LOOKUP_EMAIL)
        return tm_err_set(err, TM_EINVAL, "no consumer lookup %d", (int)which);
    static const char email_sql[] = "UPDATE consumers SET email_hash = ? WHERE id = ?";
    static const char phone_sql[] = "UPDATE consumers SET phone_hash = ? WHERE id = ?";
    tm_db_stmt *st = tm__sq_cached(s, which == TM_LOOKUP_EMAIL ? email_sql : phone_sql, err);
    if (!st)
        return TM_ESTORE;
    tm__sq_bind_hash(st, 1, hash);
    tm__db_bind_int64(st, 2, consumer);
    return tm__sq_done(s, st, err);
}

int tm_store_consumer_set_contact(tm_store *s, int64_t consumer, const tm_consumer_contact *c,
                                  struct tm_err *err)
{
    const char *date = c->consent_date && *c->consent_date ? c->consent_date : NULL;
    const char *source = c->consent_source && *c->consent_source ? c->consent_source : NULL;
    const char *pref = c->preferred_channel && *c->preferred_channel ? c->preferred_channel : NULL;
    /* Runs for nearly every imported row: prepared once. */
    static const char sql[] = "UPDATE consumers SET has_address = CASE WHEN ?1 < 0 THEN has_address ELSE ?1 END, "
                              "consent_date = COALESCE(?2, consent_date), "
                              "consent_source = COALESCE(?3, consent_source), "
                              "preferred_channel = COALESCE(?4, preferred_channel) WHERE id = ?5";
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, c->has_address);
    if (date)
        tm__db_bind_text(st, 2, date, -1, TM_DB_STATIC);
    if (source)
        tm__db_bind_text(st, 3, source, -1, TM_DB_STATIC);
    if (pref)
        tm__db_bind_text(st, 4, pref, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 5, consumer);
    return tm__sq_done(s, st, err);
}

int tm_store_consumer_mark_bad(tm_store *s, int64_t consumer, enum tm_consumer_lookup which,
                               struct tm_err *err)
{
    if (which != TM_LOOKUP_PHONE && which != TM_LOOKUP_EMAIL)
        return tm_err_set(err, TM_EINVAL, "no consumer lookup %d", (int)which);
    return tm__sq_run(s, which == TM_LOOKUP_EMAIL ? "UPDATE consumers SET email_bad = email_hash WHERE id = ?"
                                                  : "UPDATE consumers SET phone_bad = phone_hash WHERE id = ?",
                      "i", err, consumer);
}

/* The statements reading and writing each of a consumer's sets, one
 * static text per set so each is prepared once (import reads and writes the
 * consent set for every row that carries consent columns). */
static const char get_flags[] = "SELECT flags FROM consumers WHERE id = ?";
static const char get_consent[] = "SELECT consent FROM consumers WHERE id = ?";
static const char get_optout[] = "SELECT optout FROM consumers WHERE id = ?";
static const char put_flags[] = "UPDATE consumers SET flags = ? WHERE id = ?";
static const char put_consent[] = "UPDATE consumers SET consent = ? WHERE id = ?";
static const char put_optout[] = "UPDATE consumers SET optout = ? WHERE id = ?";

/* The SQL that reads (put = 0) or writes (put = 1) a consumer's set
 * `which`; NULL for no such set. */
static const char *set_sql(enum tm_consumer_set which, int put)
{
    switch (which) {
    case TM_CONSUMER_FLAGS:
        return put ? put_flags : get_flags;
    case TM_CONSUMER_CONSENT:
        return put ? put_consent : get_consent;
    case TM_CONSUMER_OPTOUT:
        return put ? put_optout : get_optout;
    }
    return NULL;
}

int tm_store_consumer_get_set(tm_store *s, int64_t consumer, enum tm_consumer_set which, char *out,
                              size_t cap, struct tm_err *err)
{
    const char *sql = set_sql(which, 0);
    if (!sql)
        return tm_err_set(err, TM_EINVAL, "no consumer set %d", (int)which);
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, consumer);
    out[0] = '\0';
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW)
        tm__sq_copy_col(st, 0, out, cap);
    tm__db_reset(st);
    /* An empty set read from a failing database would be written back
     * without the flags it had. */
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "reading a consumer");
}

int tm_store_consumer_put_set(tm_store *s, int64_t consumer, enum tm_consumer_set which,
                              const char *value, struct tm_err *err)
{
    const char *sql = set_sql(which, 1);
    if (!sql)
        return tm_err_set(err, TM_EINVAL, "no consumer set %d", (int)which);
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    if (value)
        tm__db_bind_text(st, 1, value, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, consumer);
    return tm__sq_done(s, st, err);
}

int tm_store_event_exists(tm_store *s, const char *key, int *exists, struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_EVENT_EXISTS, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, key, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    *exists = step == TM_DB_ROW;
    tm__db_reset(st);
    /* Not "new" on an error: the event would be applied twice. */
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "finding an event");
}

int tm_store_event_add(tm_store *s, const char *key, const char *type, int64_t debt, int64_t at,
                       const char *payload, enum tm_event_status status, const tm_hash16 *content,
                       const char *origin, int64_t now, struct tm_err *err)
{
    if ((unsigned)status >= TM_EVENT_OTHER)
        return tm_err_set(err, TM_EINVAL, "event %s: no status %d", key, (int)status);
    tm_db_stmt *st = tm__sq_stmt(s, ST_EVENT_ADD, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, key, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 2, type, -1, TM_DB_STATIC);
    if (debt)
        tm__db_bind_int64(st, 3, debt);
    else
        tm__db_bind_null(st, 3);
    tm__db_bind_int64(st, 4, at);
    tm__db_bind_text(st, 5, payload, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 6, tm_store_event_status_name(status), -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 7, now);
    if (content)
        tm__sq_bind_hash(st, 8, content);
    tm__sq_bind_opt_text(st, 9, origin);
    return tm__sq_done(s, st, err);
}

int tm_store_event_find(tm_store *s, const char *key, tm_event_ref *out, int *found,
                        struct tm_err *err)
{
    static const char sql[] = "SELECT status, content_hash, origin, at FROM events WHERE key = ?1";
    memset(out, 0, sizeof *out);
    *found = 0;
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, key, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        *found = 1;
        out->status = tm_store_event_status_parse((const char *)tm__db_column_text(st, 0));
        tm__sq_read_hash(st, 1, &out->content);
        tm__sq_copy_col(st, 2, out->origin, sizeof out->origin);
        out->at = tm__db_column_int64(st, 3);
    }
    tm__db_reset(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

int tm_store_event_set_applied(tm_store *s, const char *key, const char *payload, int64_t now,
                               struct tm_err *err)
{
    static const char sql[] =
        "UPDATE events SET status = 'applied', payload = ?2, applied_at = ?3, worked = 0 "
        "WHERE key = ?1";
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, key, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 2, payload, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 3, now);
    return tm__sq_done(s, st, err);
}

int tm_store_payment_apply(tm_store *s, int64_t debt, int64_t amount, const char *currency,
                           int64_t at, const char *instrument_token, int64_t *balance,
                           struct tm_err *err)
{
    /* Each statement that cannot be had (tm__sq_stmt() NULL, err set) stops it all:
     * the caller rolls back, no balance moves without its payment row. */
    tm_db_stmt *st = tm__sq_stmt(s, ST_PAY_BALANCE, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, amount);
    tm__db_bind_int64(st, 2, debt);
    int rc = tm__sq_done(s, st, err);
    if (rc != TM_OK)
        return rc;
    if (!(st = tm__sq_stmt(s, ST_PAY_ADD, err)))
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, debt);
    tm__db_bind_int64(st, 2, amount);
    tm__db_bind_text(st, 3, currency, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 4, at);
    if (instrument_token && *instrument_token)
        tm__db_bind_text(st, 5, instrument_token, -1, TM_DB_STATIC);
    else
        tm__db_bind_null(st, 5);
    if ((rc = tm__sq_done(s, st, err)) != TM_OK)
        return rc;
    if (!(st = tm__sq_stmt(s, ST_PAY_PROMISE, err)))
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, debt);
    if ((rc = tm__sq_done(s, st, err)) != TM_OK || !balance)
        return rc;
    if (!(st = tm__sq_stmt(s, ST_DEBT_BALANCE, err)))
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, debt);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW)
        *balance = tm__db_column_int64(st, 0);
    else if (step == TM_DB_DONE)
        rc = tm_err_set(err, TM_ESTORE, "debt %lld is missing", (long long)debt);
    else
        rc = tm__sq_error(s, err, "reading a balance");
    tm__db_reset(st);
    return rc;
}

int tm_store_promise_add(tm_store *s, int64_t debt, int64_t amount, const char *currency,
                         const char *due, int64_t at, struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_PROMISE_ADD, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, debt);
    tm__db_bind_int64(st, 2, amount);
    tm__db_bind_text(st, 3, currency, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 4, due, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 5, at);
    return tm__sq_done(s, st, err);
}

int tm_store_promises_lapsed(tm_store *s, const char *today, tm_promise_due **out, size_t *n,
                             struct tm_err *err)
{
    *out = NULL;
    *n = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT p.id, p.debt_id, p.amount_minor, p.currency, p.due_date, p.grace_days, "
                   "p.created_at, (SELECT COALESCE(SUM(y.amount_minor), 0) FROM payments y "
                   "WHERE y.debt_id = p.debt_id AND y.at >= p.created_at AND "
                   "date(y.at, 'unixepoch') <= date(p.due_date, '+' || p.grace_days || ' days')) "
                   "FROM promises p WHERE p.status = 'open' AND "
                   "date(p.due_date, '+' || p.grace_days || ' days') < ?1 ORDER BY p.id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_text(st, 1, today, -1, TM_DB_STATIC);
    size_t cap = 0;
    int step;
    while ((step = tm__sq_step(s, st)) == TM_DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            tm_promise_due *q = realloc(*out, cap * sizeof *q);
            if (!q) {
                tm__db_finalize(st);
                free(*out);
                *out = NULL;
                *n = 0;
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            }
            *out = q;
        }
        tm_promise_due *p = &(*out)[(*n)++];
        memset(p, 0, sizeof *p);
        p->id = tm__db_column_int64(st, 0);
        p->debt = tm__db_column_int64(st, 1);
        p->amount = tm__db_column_int64(st, 2);
        const unsigned char *c = tm__db_column_text(st, 3), *d = tm__db_column_text(st, 4);
        snprintf(p->currency, sizeof p->currency, "%s", c ? (const char *)c : "");
        snprintf(p->due, sizeof p->due, "%s", d ? (const char *)d : "");
        p->grace_days = tm__db_column_int(st, 5);
        p->created_at = tm__db_column_int64(st, 6);
        p->paid = tm__db_column_int64(st, 7);
    }
    tm__db_finalize(st);
    if (step != TM_DB_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return tm__sq_error(s, err, "store");
    }
    return TM_OK;
}

int tm_store_promise_set(tm_store *s, int64_t id, enum tm_promise_status status, struct tm_err *err)
{
    if ((unsigned)status >= TM_PROMISE_OTHER)
        return tm_err_set(err, TM_EINVAL, "promise %lld: no status %d", (long long)id, (int)status);
    /* The daily cycle settles every lapsed promise: prepared once. */
    static const char sql[] = "UPDATE promises SET status = ?1 WHERE id = ?2";
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, tm_store_promise_status_name(status), -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, id);
    return tm__sq_done(s, st, err);
}

int tm_store_debt_set_dispute(tm_store *s, int64_t debt, enum tm_debt_dispute state,
                              struct tm_err *err)
{
    if ((unsigned)state >= TM_DEBT_DISPUTE_OTHER)
        return tm_err_set(err, TM_EINVAL, "debt %lld: no dispute state %d", (long long)debt,
                          (int)state);
    tm_db_stmt *st = tm__sq_stmt(s, ST_DISPUTE, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, tm_store_debt_dispute_name(state), -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, debt);
    return tm__sq_done(s, st, err);
}

int tm_store_contact_add(tm_store *s, int64_t debt, const char *channel, int64_t at,
                         const char *outcome, struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_CONTACT_ADD, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, debt);
    tm__db_bind_text(st, 2, channel, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 3, at);
    tm__db_bind_text(st, 4, outcome, -1, TM_DB_STATIC);
    return tm__sq_done(s, st, err);
}

int tm_store_contact_add_message(tm_store *s, int64_t debt, const char *channel, int64_t at,
                                 const char *outcome, const char *place, const char *direction,
                                 const char *message, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "INSERT INTO contacts (debt_id, channel, at, outcome, place, direction, message) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, debt);
    tm__db_bind_text(st, 2, channel, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 3, at);
    tm__db_bind_text(st, 4, outcome, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 5, place ? place : "personal", -1, TM_DB_STATIC);
    tm__db_bind_text(st, 6, direction ? direction : "outbound", -1, TM_DB_STATIC);
    tm__sq_bind_opt_text(st, 7, message);
    return tm__sq_done(s, st, err);
}

int tm_store_contact_set_outcome(tm_store *s, const char *message, const char *outcome,
                                 int *updated, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "UPDATE contacts SET outcome = ?1 WHERE message = ?2 AND direction = 'outbound'";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, outcome, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 2, message, -1, TM_DB_STATIC);
    int rc = tm__sq_done(s, st, err);
    if (updated)
        *updated = rc == TM_OK ? tm__db_changes(s) : 0;
    return rc;
}

int tm_store_debt_touch(tm_store *s, int64_t debt, int64_t last_event_at, int64_t now,
                        struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_DEBT_TOUCH, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, last_event_at);
    tm__db_bind_int64(st, 2, now);
    tm__db_bind_int64(st, 3, debt);
    return tm__sq_done(s, st, err);
}

int tm_store_scan_training(tm_store *s, int64_t from, int64_t to, tm_store_training_fn fn, void *ud,
                           struct tm_err *err)
{
    /* One pass over the debts in id order; the outcome and the history
     * counts are correlated subqueries on the (debt_id, at) indexes. */
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT d.debt_id, d.debt_type, d.placed_balance_minor, d.currency, "
                   "d.days_past_due, d.charge_off_date, d.last_payment_date, c.state, "
                   "EXISTS(SELECT 1 FROM payments p WHERE p.debt_id = d.id AND p.at > ?1 AND p.at <= ?2), "
                   "(SELECT count(*) FROM payments p WHERE p.debt_id = d.id AND p.at <= ?1), "
                   "(SELECT count(*) FROM payments p WHERE p.debt_id = d.id AND p.at <= ?1 AND "
                   "p.at > ?1 - 90 * 86400), "
                   "(SELECT count(*) FROM contacts k WHERE k.debt_id = d.id AND k.at <= ?1), "
                   "(SELECT count(*) FROM promises r WHERE r.debt_id = d.id AND r.created_at <= ?1), "
                   "(SELECT count(*) FROM contacts k WHERE k.debt_id = d.id AND k.at <= ?1 AND "
                   "k.outcome = 'conversation'), "
                   "(SELECT count(*) FROM events e WHERE e.debt_id = d.id AND e.at <= ?1 AND "
                   "e.type = 'broken_promise' AND e.status = 'applied'), "
                   "(SELECT count(*) FROM events e WHERE e.debt_id = d.id AND e.at <= ?1 AND "
                   "e.type = 'inbound_reply' AND e.status = 'applied'), "
                   "(SELECT k.outcome FROM contacts k WHERE k.debt_id = d.id AND k.at <= ?1 AND "
                   "k.outcome NOT IN ('attempt', 'delivered') ORDER BY k.at DESC, k.id DESC LIMIT 1) "
                   "FROM debts d JOIN consumers c ON c.id = d.consumer_id ORDER BY d.id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, from);
    tm__db_bind_int64(st, 2, to);
    int rc = TM_OK, step;
    while ((step = tm__sq_step(s, st)) == TM_DB_ROW) {
        tm_training_row r;
        memset(&r, 0, sizeof r);
        tm__sq_copy_col(st, 0, r.debt_id, sizeof r.debt_id);
        tm__sq_copy_col(st, 1, r.debt_type, sizeof r.debt_type);
        r.placed_balance = tm__db_column_int64(st, 2);
        tm__sq_copy_col(st, 3, r.currency, sizeof r.currency);
        r.days_past_due =
            tm__db_column_type(st, 4) == TM_DB_NULL ? -1 : tm__db_column_int64(st, 4);
        tm__sq_copy_col(st, 5, r.charge_off_date, sizeof r.charge_off_date);
        tm__sq_copy_col(st, 6, r.last_payment_date, sizeof r.last_payment_date);
        tm__sq_copy_col(st, 7, r.state, sizeof r.state);
        r.paid = tm__db_column_int(st, 8);
        r.payments_before = tm__db_column_int64(st, 9);
        r.payments_90d = tm__db_column_int64(st, 10);
        r.contacts_before = tm__db_column_int64(st, 11);
        r.promises_before = tm__db_column_int64(st, 12);
        r.right_party_before = tm__db_column_int64(st, 13);
        r.broken_promises_before = tm__db_column_int64(st, 14);
        r.replies_before = tm__db_column_int64(st, 15);
        tm__sq_copy_col(st, 16, r.last_outcome, sizeof r.last_outcome);
        if ((rc = fn(ud, &r)) != TM_OK)
            break;
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "store");
    tm__db_finalize(st);
    return rc;
}

int tm_store_scan_contact_outcomes(tm_store *s, int64_t until, int pay_days,
                                   tm_store_contact_outcome_fn fn, void *ud, struct tm_err *err)
{
    /* The contacts are the outbound rows, less the conversations logged as
     * the outcome of a call attempt made in the day before (the attempt is
     * the contact; its conversation is what followed). A response (an
     * inbound contact, a logged conversation, a payment, promise or dispute)
     * is the answer to the latest contact before it on the debt, within a
     * day. */
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "WITH c AS (SELECT k.id, k.debt_id, k.channel, k.at, k.outcome FROM contacts k "
                   "WHERE k.direction = 'outbound' AND k.outcome <> 'failed' AND NOT (k.outcome = "
                   "'conversation' AND EXISTS(SELECT 1 FROM contacts a WHERE a.debt_id = k.debt_id AND "
                   "a.channel = k.channel AND a.direction = 'outbound' AND a.outcome = 'attempt' AND "
                   "a.id <> k.id AND a.at <= k.at AND a.at > k.at - 86400))), "
                   "o AS (SELECT c.*, min(c.at + 86400, coalesce(lead(c.at) OVER (PARTITION BY c.debt_id "
                   "ORDER BY c.at, c.id), c.at + 86400)) AS till FROM c) "
                   "SELECT d.debt_id, d.debt_type, o.channel, coalesce(cs.timezone, ''), cs.state, "
                   "d.consumer_id, o.at, "
                   "o.outcome = 'conversation' OR "
                   "EXISTS(SELECT 1 FROM contacts k2 WHERE k2.debt_id = o.debt_id AND k2.id <> o.id "
                   "AND k2.at >= o.at AND k2.at < o.till AND "
                   "(k2.direction = 'inbound' OR k2.outcome = 'conversation')) OR "
                   "EXISTS(SELECT 1 FROM events e WHERE e.debt_id = o.debt_id AND e.at >= o.at AND "
                   "e.at < o.till AND e.type IN ('payment', 'promise', 'dispute') AND "
                   "e.status = 'applied'), "
                   "EXISTS(SELECT 1 FROM payments p WHERE p.debt_id = o.debt_id AND p.at > o.at AND "
                   "p.at <= o.at + ?2 * 86400) "
                   "FROM o JOIN debts d ON d.id = o.debt_id "
                   "JOIN consumers cs ON cs.id = d.consumer_id "
                   "WHERE o.at + ?2 * 86400 <= ?1 ORDER BY o.debt_id, o.at, o.id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, until);
    tm__db_bind_int64(st, 2, pay_days);
    int rc = TM_OK, step;
    while ((step = tm__sq_step(s, st)) == TM_DB_ROW) {
        tm_contact_outcome_row r = {
            .debt_id = (const char *)tm__db_column_text(st, 0),
            .debt_type = (const char *)tm__db_column_text(st, 1),
            .channel = (const char *)tm__db_column_text(st, 2),
            .zone = (const char *)tm__db_column_text(st, 3),
            .state = (const char *)tm__db_column_text(st, 4),
            .consumer = tm__db_column_int64(st, 5),
            .at = tm__db_column_int64(st, 6),
            .rpc = tm__db_column_int(st, 7),
            .paid = tm__db_column_int(st, 8),
        };
        if (!r.debt_id || !r.channel) {
            rc = tm__sq_error(s, err, "store");
            break;
        }
        if (!r.debt_type)
            r.debt_type = "";
        if (!r.zone)
            r.zone = "";
        if (!r.state)
            r.state = "";
        if ((rc = fn(ud, &r)) != TM_OK)
            break;
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "store");
    tm__db_finalize(st);
    return rc;
}

int tm_store_score_set(tm_store *s, int64_t debt, const char *model, double probability,
                       const char *reasons, int64_t at, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "INSERT OR REPLACE INTO scores (debt_id, model, probability, reasons, at) VALUES (?1, ?2, ?3, ?4, ?5)";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, debt);
    tm__db_bind_text(st, 2, model, -1, TM_DB_STATIC);
    tm__db_bind_double(st, 3, probability);
    tm__sq_bind_opt_text(st, 4, reasons);
    tm__db_bind_int64(st, 5, at);
    return tm__sq_done(s, st, err);
}

static void read_attempt(tm_db_stmt *st, tm_pay_attempt *a)
{
    memset(a, 0, sizeof *a);
    a->id = tm__db_column_int64(st, 0);
    tm__sq_copy_col(st, 1, a->key_buf, sizeof a->key_buf);
    a->debt = tm__db_column_int64(st, 2);
    tm__sq_copy_col(st, 3, a->token_buf, sizeof a->token_buf);
    a->amount = tm__db_column_int64(st, 4);
    tm__sq_copy_col(st, 5, a->currency, sizeof a->currency);
    a->at = tm__db_column_int64(st, 6);
    a->outcome = tm_store_attempt_outcome_parse((const char *)tm__db_column_text(st, 7));
    tm__sq_copy_col(st, 8, a->reference_buf, sizeof a->reference_buf);
    tm__sq_copy_col(st, 9, a->reason_buf, sizeof a->reason_buf);
    tm__sq_copy_col(st, 10, a->debt_buf, sizeof a->debt_buf);
    tm__sq_read_hash(st, 11, &a->content);
    tm__sq_copy_col(st, 12, a->origin_buf, sizeof a->origin_buf);
    a->origin = a->origin_buf;
    a->key = a->key_buf;
    a->token = a->token_buf;
    a->reference = a->reference_buf;
    a->reason = a->reason_buf;
    a->debt_ref = a->debt_buf;
}

#define ATTEMPT_COLS                                                                               \
    "a.id, a.idempotency_key, a.debt_id, a.instrument_token, a.amount_minor, a.currency, a.at, "   \
    "a.outcome, a.reference, a.reason, d.debt_id, a.content_hash, a.origin FROM payment_attempts " \
    "a JOIN debts d ON "                                                                           \
    "d.id = a.debt_id "

int tm_store_pay_attempt_get(tm_store *s, const char *key, tm_pay_attempt *out, int *found,
                             struct tm_err *err)
{
    *found = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT " ATTEMPT_COLS "WHERE a.idempotency_key = ?1", &st) !=
        TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_text(st, 1, key, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        read_attempt(st, out);
        *found = 1;
    }
    tm__db_finalize(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

int tm_store_pay_attempt_put(tm_store *s, const tm_pay_attempt *a, struct tm_err *err)
{
    if ((unsigned)a->outcome >= TM_ATTEMPT_OTHER)
        return tm_err_set(err, TM_EINVAL, "payment attempt %s: no outcome %d", a->key,
                          (int)a->outcome);
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "INSERT INTO payment_attempts (idempotency_key, debt_id, instrument_token, "
                           "amount_minor, currency, at, outcome, reference, reason, content_hash, "
                           "origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                           "ON CONFLICT(idempotency_key) DO UPDATE "
                           "SET outcome = excluded.outcome, reference = excluded.reference, "
                           "reason = excluded.reason", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_text(st, 1, a->key, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, a->debt);
    tm__db_bind_text(st, 3, a->token, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 4, a->amount);
    tm__db_bind_text(st, 5, a->currency, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 6, a->at);
    tm__db_bind_text(st, 7, tm_store_attempt_outcome_name(a->outcome), -1, TM_DB_STATIC);
    tm__sq_bind_opt_text(st, 8, a->reference);
    tm__sq_bind_opt_text(st, 9, a->reason);
    tm__sq_bind_hash(st, 10, &a->content);
    tm__sq_bind_opt_text(st, 11, a->origin);
    int step = tm__sq_step(s, st);
    tm__db_finalize(st);
    return step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

int tm_store_pay_attempts_between(tm_store *s, int64_t after, int64_t until,
                                  tm_store_pay_attempt_fn fn, void *ud, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT " ATTEMPT_COLS "WHERE a.at > ?1 AND a.at <= ?2 ORDER BY a.at, a.id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, after);
    tm__db_bind_int64(st, 2, until);
    int rc = TM_OK, step;
    while ((step = tm__sq_step(s, st)) == TM_DB_ROW) {
        tm_pay_attempt a;
        read_attempt(st, &a);
        if ((rc = fn(ud, &a)) != TM_OK)
            break;
    }
    tm__db_finalize(st);
    if (rc == TM_OK && step != TM_DB_DONE && step != TM_DB_ROW)
        rc = tm__sq_error(s, err, "store");
    return rc;
}

int tm_store_last_event_at(tm_store *s, int64_t *at, struct tm_err *err)
{
    *at = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT max(at) FROM events WHERE status = 'applied'", &st) !=
        TM_DB_OK)
        return tm__sq_error(s, err, "store");
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW && tm__db_column_type(st, 0) != TM_DB_NULL)
        *at = tm__db_column_int64(st, 0);
    tm__db_finalize(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

int tm_store_debt_story(tm_store *s, int64_t debt, tm_store_story_fn fn, void *ud, struct tm_err *err)
{
    static const char sql[] =
        "SELECT created_at, 'planned', channel, template, status, coalesce(blocked_by, ''), "
        "coalesce(send_at, created_at), coalesce(sent_at, 0), id FROM outbox WHERE debt_id = ?1 "
        "UNION ALL SELECT at, 'event', type, status, '', '', applied_at, 0, id FROM events WHERE debt_id = ?1 "
        "UNION ALL SELECT at, 'payment', currency, '', '', '', amount_minor, 0, id FROM payments WHERE debt_id = ?1 "
        "UNION ALL SELECT created_at, 'promise', currency, due_date, status, '', amount_minor, grace_days, id "
        "FROM promises WHERE debt_id = ?1 "
        "UNION ALL SELECT created_at, 'queue', queue, status, coalesce(reason, ''), coalesce(outcome, ''), coalesce(closed_at, 0), 0, id FROM agent_queue "
        "WHERE debt_id = ?1 ORDER BY 1, 2, 9";
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, debt);
    int step, rc = TM_OK;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        tm_story_row r = {
            .at = tm__db_column_int64(st, 0),
            .kind = (const char *)tm__db_column_text(st, 1),
            .a = (const char *)tm__db_column_text(st, 2),
            .b = (const char *)tm__db_column_text(st, 3),
            .c = (const char *)tm__db_column_text(st, 4),
            .d = (const char *)tm__db_column_text(st, 5),
            .n1 = tm__db_column_int64(st, 6),
            .n2 = tm__db_column_int64(st, 7),
        };
        r.a = r.a ? r.a : "";
        r.b = r.b ? r.b : "";
        r.c = r.c ? r.c : "";
        r.d = r.d ? r.d : "";
        rc = fn(ud, &r);
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "reading a debt's story");
    tm__db_finalize(st);
    return rc;
}

int tm_store_debt_journey(tm_store *s, const char *debt_id, char *journey, size_t jcap, char *variant,
                          size_t vcap, int *found, struct tm_err *err)
{
    *found = 0;
    journey[0] = variant[0] = '\0';
    tm_db_stmt *st = tm__sq_cached(s, "SELECT coalesce(journey, ''), coalesce(variant, '') FROM debts "
                                        "WHERE debt_id = ?1", err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, debt_id, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        *found = 1;
        tm__sq_copy_col(st, 0, journey, jcap);
        tm__sq_copy_col(st, 1, variant, vcap);
    }
    tm__db_reset(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "reading a debt's journey");
}
