/*
 * core/store_sqlite_cycle.c: the daily cycle's work in the SQLite store
 * (app/cycle.c): named marks, the work lists (debts to start, timers due,
 * outbox rows to gate and to send), the events not yet worked, a debt as its
 * journey and the gate see it, the outbox, the consumer's contact history,
 * the gate's decisions, agent queues, the journey archive, and the reset of
 * a simulation's copy. Statements used on every debt are prepared once
 * (tm__sq_cached).
 */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tm_store_cycle_set(tm_store *s, const char *name, int64_t value, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "INSERT OR REPLACE INTO cycle (name, value) VALUES (?, ?)", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, value);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    tm__db_finalize(st);
    return rc;
}

int tm_store_cycle_get(tm_store *s, const char *name, int64_t *value, int *found,
                       struct tm_err *err)
{
    *found = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT value FROM cycle WHERE name = ?", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    int rc = TM_OK;
    if (step == TM_DB_ROW) {
        *value = tm__db_column_int64(st, 0);
        *found = 1;
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "store");
    }
    tm__db_finalize(st);
    return rc;
}

int tm_store_outbox_depth(tm_store *s, int64_t *planned, int64_t *ready, struct tm_err *err)
{
    static const char sql[] = "SELECT (SELECT count(*) FROM outbox WHERE status = 'planned'), "
                              "(SELECT count(*) FROM outbox WHERE status = 'ready')";
    *planned = *ready = 0;
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    int rc = TM_OK;
    if (tm__sq_step(s, st) == TM_DB_ROW) {
        *planned = tm__db_column_int64(st, 0);
        *ready = tm__db_column_int64(st, 1);
    } else {
        rc = tm__sq_error(s, err, "counting the outbox");
    }
    tm__db_reset(st);
    return rc;
}

/* Collects the first column (an integer) of every row of `sql` with its
 * bound integers, so the caller can write while it walks the list. */
static int collect_ids(tm_store *s, const char *sql, const int64_t *args, int nargs, int64_t **ids,
                       size_t *n, struct tm_err *err)
{
    *ids = NULL;
    *n = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    for (int i = 0; i < nargs; i++)
        tm__db_bind_int64(st, i + 1, args[i]);
    size_t cap = 0;
    int step;
    while ((step = tm__sq_step(s, st)) == TM_DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *q = realloc(*ids, cap * sizeof *q);
            if (!q) {
                tm__db_finalize(st);
                free(*ids);
                *ids = NULL;
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            }
            *ids = q;
        }
        (*ids)[(*n)++] = tm__db_column_int64(st, 0);
    }
    tm__db_finalize(st);
    if (step != TM_DB_DONE) {
        free(*ids);
        *ids = NULL;
        return tm__sq_error(s, err, "store");
    }
    return TM_OK;
}

int tm_store_work_unassigned(tm_store *s, int64_t **ids, size_t *n, struct tm_err *err)
{
    return collect_ids(s, "SELECT id FROM debts WHERE journey IS NULL AND status = 'open' ORDER BY id",
                       NULL, 0, ids, n, err);
}

int tm_store_work_timers(tm_store *s, int64_t until, int64_t **ids, size_t *n, struct tm_err *err)
{
    return collect_ids(s,
                       "SELECT id FROM debts WHERE timer_at IS NOT NULL AND timer_at < ?1 AND "
                       "status = 'open' ORDER BY timer_at, id",
                       &until, 1, ids, n, err);
}

int tm_store_work_outbox(tm_store *s, int64_t until, int64_t **ids, size_t *n, struct tm_err *err)
{
    return collect_ids(s, "SELECT o.id FROM outbox o JOIN debts d ON d.id = o.debt_id WHERE o.status = 'planned' "
                       "AND o.send_at < ?1 ORDER BY d.consumer_id, o.send_at, o.id",
                       &until, 1, ids, n, err);
}

int tm_store_work_ready(tm_store *s, int64_t **ids, size_t *n, struct tm_err *err)
{
    return collect_ids(s, "SELECT id FROM outbox WHERE status = 'ready' ORDER BY id", NULL, 0, ids, n,
                       err);
}

int tm_store_scan_events(tm_store *s, int64_t until, tm_store_event_fn fn, void *ud,
                         struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT id, type, debt_id, at, payload FROM events WHERE worked = 0 "
                   "AND at < ?1 AND status = 'applied' AND debt_id IS NOT NULL "
                   "ORDER BY at, id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, until);
    /* Read them all first: the callback writes. */
    typedef struct {
        int64_t id, debt, at;
        char type[32];
        char *payload;
    } row;
    row *rows = NULL;
    size_t n = 0, cap = 0;
    int step, rc = TM_OK;
    while ((step = tm__sq_step(s, st)) == TM_DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            row *q = realloc(rows, cap * sizeof *q);
            if (!q) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            rows = q;
        }
        rows[n].id = tm__db_column_int64(st, 0);
        tm__sq_copy_col(st, 1, rows[n].type, sizeof rows[n].type);
        rows[n].debt = tm__db_column_int64(st, 2);
        rows[n].at = tm__db_column_int64(st, 3);
        const unsigned char *p = tm__db_column_text(st, 4);
        /* An event worked without its payload would be worked wrong. */
        if (!(rows[n].payload = strdup(p ? (const char *)p : "{}"))) {
            rc = tm_err_set(err, TM_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "store");
    tm__db_finalize(st);
    for (size_t i = 0; i < n && rc == TM_OK; i++)
        rc = fn(ud, rows[i].id, rows[i].type, rows[i].debt, rows[i].at, rows[i].payload);
    for (size_t i = 0; i < n; i++)
        free(rows[i].payload);
    free(rows);
    return rc;
}

int tm_store_work_debt(tm_store *s, int64_t id, tm_work_debt *w, int *found, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "SELECT d.debt_id, d.creditor, d.debt_type, d.balance_minor, d.placed_balance_minor, "
            "d.currency, d.days_past_due, d.charge_off_date, d.last_payment_date, d.dispute, "
            "d.status, d.journey, d.journey_state, d.journey_version, d.variant, d.timer_at, "
            "d.timer_go, d.journey_step, c.state, c.timezone, c.language, c.flags, c.consent, "
            "c.optout, d.consumer_id, d.offer, "
            "(SELECT p.amount_minor || ',' || p.due_date FROM promises p WHERE p.debt_id = d.id AND "
            "p.status = 'open' ORDER BY p.id DESC LIMIT 1), "
            "EXISTS (SELECT 1 FROM events e WHERE e.debt_id = d.id AND e.type = 'hardship' AND "
            "e.status = 'applied'), d.journey_hash, d.closed_reason, "
            "c.phone_hash IS NOT NULL, c.email_hash IS NOT NULL, c.has_address, "
            "c.phone_bad IS NOT NULL AND c.phone_bad = c.phone_hash, "
            "c.email_bad IS NOT NULL AND c.email_bad = c.email_hash, c.preferred_channel "
            "FROM debts d JOIN consumers c ON c.id = d.consumer_id WHERE d.id = ?";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, id);
    int step = tm__sq_step(s, st);
    *found = step == TM_DB_ROW;
    if (*found) {
        memset(w, 0, sizeof *w);
        w->id = id;
        tm__sq_copy_col(st, 0, w->debt_id, sizeof w->debt_id);
        tm__sq_copy_col(st, 1, w->creditor, sizeof w->creditor);
        tm__sq_copy_col(st, 2, w->debt_type, sizeof w->debt_type);
        w->balance = tm__db_column_int64(st, 3);
        w->placed_balance = tm__db_column_int64(st, 4);
        tm__sq_copy_col(st, 5, w->currency, sizeof w->currency);
        w->days_past_due = tm__db_column_type(st, 6) == TM_DB_NULL ? -1 : tm__db_column_int64(st, 6);
        tm__sq_copy_col(st, 7, w->charge_off_date, sizeof w->charge_off_date);
        tm__sq_copy_col(st, 8, w->last_payment_date, sizeof w->last_payment_date);
        w->dispute = tm_store_debt_dispute_parse((const char *)tm__db_column_text(st, 9));
        w->status = tm_store_debt_status_parse((const char *)tm__db_column_text(st, 10));
        tm__sq_copy_col(st, 11, w->journey, sizeof w->journey);
        tm__sq_copy_col(st, 12, w->journey_state, sizeof w->journey_state);
        const unsigned char *v = tm__db_column_text(st, 13);
        w->journey_version = v ? atoi((const char *)v) : 0;
        tm__sq_copy_col(st, 14, w->variant, sizeof w->variant);
        w->timer_at = tm__db_column_type(st, 15) == TM_DB_NULL ? 0 : tm__db_column_int64(st, 15);
        tm__sq_copy_col(st, 16, w->timer_go, sizeof w->timer_go);
        w->journey_step = tm__db_column_int64(st, 17);
        tm__sq_copy_col(st, 18, w->state, sizeof w->state);
        tm__sq_copy_col(st, 19, w->timezone, sizeof w->timezone);
        tm__sq_copy_col(st, 20, w->language, sizeof w->language);
        tm__sq_copy_col(st, 21, w->flags, sizeof w->flags);
        tm__sq_copy_col(st, 22, w->consent, sizeof w->consent);
        tm__sq_copy_col(st, 23, w->optout, sizeof w->optout);
        w->consumer_id = tm__db_column_int64(st, 24);
        tm__sq_copy_col(st, 25, w->offer, sizeof w->offer);
        const unsigned char *pr = tm__db_column_text(st, 26);
        if (pr) {
            const char *comma = strchr((const char *)pr, ',');
            w->promise_amount = strtoll((const char *)pr, NULL, 10);
            if (comma)
                snprintf(w->promise_due, sizeof w->promise_due, "%s", comma + 1);
        }
        w->hardship = tm__db_column_int(st, 27);
        tm__sq_copy_col(st, 28, w->journey_hash, sizeof w->journey_hash);
        tm__sq_copy_col(st, 29, w->closed_reason, sizeof w->closed_reason);
        w->has_phone = tm__db_column_int(st, 30);
        w->has_email = tm__db_column_int(st, 31);
        w->has_address = tm__db_column_int(st, 32);
        w->phone_bad = tm__db_column_int(st, 33);
        w->email_bad = tm__db_column_int(st, 34);
        tm__sq_copy_col(st, 35, w->preferred_channel, sizeof w->preferred_channel);
    }
    tm__db_reset(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

int tm_store_debt_set_journey(tm_store *s, int64_t id, const tm_work_debt *w, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "UPDATE debts SET journey = ?1, journey_state = ?2, journey_version = ?3, "
                           "variant = ?4, timer_at = ?5, timer_go = ?6, journey_step = ?7, "
                           "closed_reason = ?8, status = COALESCE(?9, status), offer = ?11, "
                           "journey_hash = ?12 "
                           "WHERE id = ?10";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__sq_bind_opt_text(st, 1, w->journey);
    tm__sq_bind_opt_text(st, 2, w->journey_state);
    char v[16];
    snprintf(v, sizeof v, "%d", w->journey_version);
    tm__db_bind_text(st, 3, v, -1, TM_DB_TRANSIENT);
    tm__sq_bind_opt_text(st, 4, w->variant);
    if (w->timer_go[0]) {
        tm__db_bind_int64(st, 5, w->timer_at);
        tm__db_bind_text(st, 6, w->timer_go, -1, TM_DB_STATIC);
    } else {
        tm__db_bind_null(st, 5);
        tm__db_bind_null(st, 6);
    }
    tm__db_bind_int64(st, 7, w->journey_step);
    tm__sq_bind_opt_text(st, 8, w->closed_reason);
    /* A status this build does not know (..._OTHER) is left as stored. */
    if ((unsigned)w->status < TM_DEBT_OTHER)
        tm__db_bind_text(st, 9, tm_store_debt_status_name(w->status), -1, TM_DB_STATIC);
    else
        tm__db_bind_null(st, 9);
    tm__db_bind_int64(st, 10, id);
    tm__sq_bind_opt_text(st, 11, w->offer);
    tm__sq_bind_opt_text(st, 12, w->journey_hash);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    tm__db_reset(st);
    return rc;
}

int tm_store_journey_archive(tm_store *s, const tm_journey_text *t, int64_t now, int *is_new,
                             struct tm_err *err)
{
    if (is_new)
        *is_new = 0;
    if (!t || !t->hash || strlen(t->hash) != 64 || !t->journey || !*t->journey || !t->text)
        return tm_err_set(err, TM_EINVAL, "journey archive: a text needs its SHA-256, journey id and text");
    tm_db_stmt *st;
    /* The hash names the text, so a text already kept is left as it was
     * first seen (its path and first_seen stay those of its first run). */
    static const char sql[] =
        "INSERT OR IGNORE INTO journey_texts (hash, journey, version, path, text, first_seen) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, t->hash, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 2, t->journey, -1, TM_DB_STATIC);
    tm__db_bind_int(st, 3, t->version);
    tm__db_bind_text(st, 4, t->path ? t->path : "", -1, TM_DB_STATIC);
    tm__db_bind_text(st, 5, t->text, (int)t->len, TM_DB_STATIC);
    tm__db_bind_int64(st, 6, now);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "journey archive");
    if (rc == TM_OK && is_new)
        *is_new = tm__db_changes(s) > 0;
    tm__db_reset(st);
    return rc;
}

int tm_store_journey_text(tm_store *s, const char *hash, tm_journey_text *out, int *found,
                          struct tm_err *err)
{
    *found = 0;
    memset(out, 0, sizeof *out);
    tm_db_stmt *st;
    static const char sql[] =
        "SELECT journey, version, path, text FROM journey_texts WHERE hash = ?";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, hash ? hash : "", -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    int rc = TM_OK;
    if (step == TM_DB_ROW) {
        const char *j = (const char *)tm__db_column_text(st, 0);
        const char *p = (const char *)tm__db_column_text(st, 2);
        const char *x = (const char *)tm__db_column_blob(st, 3);
        size_t n = (size_t)tm__db_column_bytes(st, 3);
        /* One allocation holds the three strings, so one free releases them. */
        size_t jl = j ? strlen(j) : 0, pl = p ? strlen(p) : 0;
        char *buf = malloc(jl + pl + n + 3);
        if (!buf) {
            rc = tm_err_set(err, TM_ENOMEM, "out of memory reading journey text %.12s", hash);
        } else {
            memcpy(buf, x ? x : "", n);
            buf[n] = '\0';
            memcpy(buf + n + 1, j ? j : "", jl + 1);
            memcpy(buf + n + 1 + jl + 1, p ? p : "", pl + 1);
            out->text = buf;
            out->len = n;
            out->journey = buf + n + 1;
            out->path = buf + n + 1 + jl + 1;
            out->version = tm__db_column_int(st, 1);
            out->hash = NULL;
            *found = 1;
        }
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "journey archive");
    }
    tm__db_reset(st);
    return rc;
}

int tm_store_journey_hashes(tm_store *s, char **out, size_t *n, struct tm_err *err)
{
    *out = NULL;
    *n = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT hash FROM journey_texts ORDER BY hash", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "journey archive");
    size_t cap = 0;
    int step;
    while ((step = tm__sq_step(s, st)) == TM_DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char *q = realloc(*out, cap * 65);
            if (!q) {
                tm__db_finalize(st);
                free(*out);
                *out = NULL;
                *n = 0;
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            }
            *out = q;
        }
        const unsigned char *h = tm__db_column_text(st, 0);
        snprintf(*out + *n * 65, 65, "%s", h ? (const char *)h : "");
        ++*n;
    }
    tm__db_finalize(st);
    if (step != TM_DB_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return tm__sq_error(s, err, "journey archive");
    }
    return TM_OK;
}

int tm_store_outbox_plan(tm_store *s, const tm_outbox_rec *o, int *added, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "INSERT OR IGNORE INTO outbox (idempotency_key, debt_id, channel, template, "
                           "payload, status, send_at, purpose, journey_state, created_at) VALUES "
                           "(?1, ?2, ?3, ?4, ?5, 'planned', ?6, ?7, ?8, ?9)";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, o->key, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, o->debt);
    tm__db_bind_text(st, 3, o->channel, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 4, o->template_id, -1, TM_DB_STATIC);
    tm__sq_bind_opt_text(st, 5, o->payload);
    tm__db_bind_int64(st, 6, o->send_at);
    tm__sq_bind_opt_text(st, 7, o->purpose);
    tm__sq_bind_opt_text(st, 8, o->journey_state);
    tm__db_bind_int64(st, 9, o->created_at);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    if (added)
        *added = rc == TM_OK && tm__db_changes(s) > 0;
    tm__db_reset(st);
    return rc;
}

/* Reads the outbox row `st` selects (by id or by key) into *o. */
static int outbox_read(tm_store *s, tm_db_stmt *st, tm_outbox_rec *o, int *found, struct tm_err *err)
{
    int step = tm__sq_step(s, st);
    *found = step == TM_DB_ROW;
    if (*found) {
        memset(o, 0, sizeof *o);
        o->id = tm__db_column_int64(st, 11);
        int64_t id = o->id;
        tm__sq_copy_col(st, 0, o->key_buf, sizeof o->key_buf);
        o->key = o->key_buf;
        o->debt = tm__db_column_int64(st, 1);
        tm__sq_copy_col(st, 2, o->channel_buf, sizeof o->channel_buf);
        o->channel = o->channel_buf;
        tm__sq_copy_col(st, 3, o->template_buf, sizeof o->template_buf);
        o->template_id = o->template_buf;
        const void *p = tm__db_column_blob(st, 4);
        int pn = tm__db_column_bytes(st, 4);
        if (p) {
            /* Without its payload the row would be judged unreadable and
             * marked failed: out of memory stops the work instead. */
            if (!(o->payload_owned = malloc((size_t)pn + 1))) {
                tm__db_reset(st);
                *found = 0;
                return tm_err_set(err, TM_ENOMEM, "out of memory reading outbox row %lld", (long long)id);
            }
            memcpy(o->payload_owned, p, (size_t)pn);
            o->payload_owned[pn] = '\0';
            o->payload_len = (size_t)pn;
        }
        o->payload = o->payload_owned;
        o->status = tm_store_outbox_status_parse((const char *)tm__db_column_text(st, 5));
        o->send_at = tm__db_column_int64(st, 6);
        tm__sq_copy_col(st, 7, o->purpose_buf, sizeof o->purpose_buf);
        o->purpose = o->purpose_buf;
        tm__sq_copy_col(st, 8, o->state_buf, sizeof o->state_buf);
        o->journey_state = o->state_buf;
        o->attempts = tm__db_column_int(st, 9);
        tm__sq_copy_col(st, 10, o->debt_ref, sizeof o->debt_ref);
    }
    tm__db_reset(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

int tm_store_outbox_get(tm_store *s, int64_t id, tm_outbox_rec *o, int *found, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "SELECT o.idempotency_key, o.debt_id, o.channel, o.template, o.payload, o.status, "
                           "o.send_at, o.purpose, o.journey_state, o.attempts, d.debt_id, o.id FROM outbox o "
                           "LEFT JOIN debts d ON d.id = o.debt_id WHERE o.id = ?";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, id);
    return outbox_read(s, st, o, found, err);
}

int tm_store_outbox_find(tm_store *s, const char *key, tm_outbox_rec *o, int *found,
                         struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "SELECT o.idempotency_key, o.debt_id, o.channel, o.template, o.payload, o.status, "
                           "o.send_at, o.purpose, o.journey_state, o.attempts, d.debt_id, o.id FROM outbox o "
                           "LEFT JOIN debts d ON d.id = o.debt_id WHERE o.idempotency_key = ?";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, key, -1, TM_DB_TRANSIENT);
    return outbox_read(s, st, o, found, err);
}

int tm_store_outbox_set(tm_store *s, int64_t id, enum tm_outbox_status status, int64_t send_at,
                        const char *blocked_by, const char *payload, int64_t sent_at,
                        struct tm_err *err)
{
    if ((unsigned)status >= TM_OUTBOX_OTHER)
        return tm_err_set(err, TM_EINVAL, "outbox row %lld: no status %d", (long long)id,
                          (int)status);
    tm_db_stmt *st;
    static const char sql[] =
        "UPDATE outbox SET status = ?1, send_at = ?2, blocked_by = COALESCE(?3, blocked_by), "
                           "payload = COALESCE(?4, payload), sent_at = ?5, attempts = attempts + "
                           "CASE WHEN ?1 IN ('sent', 'failed') THEN 1 ELSE 0 END WHERE id = ?6";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, tm_store_outbox_status_name(status), -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, send_at);
    tm__sq_bind_opt_text(st, 3, blocked_by);
    tm__sq_bind_opt_text(st, 4, payload);
    if (sent_at)
        tm__db_bind_int64(st, 5, sent_at);
    else
        tm__db_bind_null(st, 5);
    tm__db_bind_int64(st, 6, id);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    tm__db_reset(st);
    return rc;
}

int tm_store_history(tm_store *s, int64_t consumer, int64_t since, tm_store_history_fn fn, void *ud,
                     struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "SELECT k.channel, k.at, k.outcome, k.place, k.direction, d.debt_id FROM "
                           "contacts k JOIN debts d ON d.id = k.debt_id WHERE d.consumer_id = ?1 AND "
                           "k.at >= ?2 ORDER BY k.at";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, consumer);
    tm__db_bind_int64(st, 2, since);
    int step, rc = TM_OK;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW)
        rc = fn(ud, (const char *)tm__db_column_text(st, 0), tm__db_column_int64(st, 1),
                (const char *)tm__db_column_text(st, 2), (const char *)tm__db_column_text(st, 3),
                (const char *)tm__db_column_text(st, 4), (const char *)tm__db_column_text(st, 5));
    /* A history cut short by an error would let the gate allow a contact
     * the caps forbid. */
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "reading the contact history");
    tm__db_reset(st);
    return rc;
}

int tm_store_event_worked(tm_store *s, int64_t id, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "UPDATE events SET worked = 1 WHERE id = ?";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, id);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    tm__db_reset(st);
    return rc;
}

int tm_store_journey_counts(tm_store *s, tm_store_count_fn fn, void *ud, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT coalesce(journey, '(none)'), coalesce(journey_state, ''), "
                   "count(*) FROM debts GROUP BY 1, 2 ORDER BY 1, 2", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    int step, rc = TM_OK;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW)
        rc = fn(ud, (const char *)tm__db_column_text(st, 0), (const char *)tm__db_column_text(st, 1),
                tm__db_column_int64(st, 2));
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "counting debts by journey");
    tm__db_finalize(st);
    return rc;
}

int tm_store_outbox_ready(tm_store *s, int64_t id, const uint8_t *blob, size_t len, int key_version,
                          struct tm_err *err)
{
    static const char sql[] =
        "UPDATE outbox SET status = 'ready', payload = ?1, key_version = ?2 WHERE id = ?3";
    tm_db_stmt *st;
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_blob(st, 1, blob, (int)len, TM_DB_STATIC);
    tm__db_bind_int(st, 2, key_version);
    tm__db_bind_int64(st, 3, id);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    tm__db_reset(st);
    return rc;
}

int tm_store_gate_name_id(tm_store *s, const char *name, int create, int64_t *id, int *found,
                          struct tm_err *err)
{
    *found = 0;
    tm_db_stmt *st;
    if (create) {
        if ((st = tm__sq_cached(s, "INSERT OR IGNORE INTO gate_names (name) VALUES (?1)", err)) == NULL)
            return TM_ESTORE;
        tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
        int rc = tm__sq_done(s, st, err);
        if (rc != TM_OK)
            return rc;
    }
    if ((st = tm__sq_cached(s, "SELECT id FROM gate_names WHERE name = ?1", err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        *id = tm__db_column_int64(st, 0);
        *found = 1;
    }
    tm__db_reset(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

int tm_store_gate_names(tm_store *s, tm_store_gate_name_fn fn, void *ud, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT id, name FROM gate_names ORDER BY id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    int step, rc = TM_OK;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW)
        rc = fn(ud, tm__db_column_int64(st, 0), (const char *)tm__db_column_text(st, 1));
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "reading the gate's names");
    tm__db_finalize(st);
    return rc;
}

int tm_store_gate_log_add(tm_store *s, tm_gate_log_row *row, struct tm_err *err)
{
    tm_db_stmt *st;
    static const char sql[] =
        "INSERT INTO gate_log (debt, at, gen, channel, allow, next, rules, request) VALUES "
        "(coalesce(?1, (SELECT id FROM debts WHERE debt_id = ?2)), ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "RETURNING id, coalesce(debt, 0)";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    if (row->debt)
        tm__db_bind_int64(st, 1, row->debt);
    else
        tm__db_bind_null(st, 1);
    tm__sq_bind_opt_text(st, 2, row->debt ? NULL : row->debt_ref);
    tm__db_bind_int64(st, 3, row->at);
    tm__db_bind_int64(st, 4, row->gen);
    tm__db_bind_int(st, 5, row->channel);
    tm__db_bind_int(st, 6, row->allow != 0);
    if (row->has_next)
        tm__db_bind_int64(st, 7, row->next);
    else
        tm__db_bind_null(st, 7);
    tm__sq_bind_opt_text(st, 8, row->rules && *row->rules ? row->rules : NULL);
    tm__db_bind_blob(st, 9, row->request, (int)row->request_len, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        row->id = tm__db_column_int64(st, 0);
        row->debt = tm__db_column_int64(st, 1);
        step = tm__sq_step(s, st);
    }
    tm__db_reset(st);
    return step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "keeping a gate decision");
}

int tm_store_gate_log_scan(tm_store *s, int64_t debt, int64_t from_id, int64_t to_id,
                           tm_store_gate_log_fn fn, void *ud, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT l.id, l.debt, coalesce(d.debt_id, ''), l.at, l.gen, l.channel, "
                   "l.allow, l.next, coalesce(l.rules, ''), l.request FROM gate_log l LEFT JOIN "
                   "debts d ON d.id = l.debt WHERE (?1 = 0 OR l.debt = ?1) AND l.id >= ?2 AND "
                   "(?3 = 0 OR l.id <= ?3) ORDER BY l.id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, debt);
    tm__db_bind_int64(st, 2, from_id);
    tm__db_bind_int64(st, 3, to_id);
    int step, rc = TM_OK;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        tm_gate_log_row row = {0};
        row.id = tm__db_column_int64(st, 0);
        row.debt = tm__db_column_int64(st, 1);
        row.debt_ref = (const char *)tm__db_column_text(st, 2);
        row.at = tm__db_column_int64(st, 3);
        row.gen = tm__db_column_int64(st, 4);
        row.channel = tm__db_column_int(st, 5);
        row.allow = tm__db_column_int(st, 6);
        row.has_next = tm__db_column_type(st, 7) != TM_DB_NULL;
        row.next = tm__db_column_int64(st, 7);
        row.rules = (const char *)tm__db_column_text(st, 8);
        row.request = tm__db_column_blob(st, 9);
        row.request_len = (size_t)tm__db_column_bytes(st, 9);
        rc = fn(ud, &row);
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "reading the gate's decisions");
    tm__db_finalize(st);
    return rc;
}

int tm_store_queue_add(tm_store *s, const tm_queue_item *q, int *added, struct tm_err *err)
{
    *added = 0;
    tm_db_stmt *st;
    static const char sql[] =
        "INSERT OR IGNORE INTO agent_queue (idempotency_key, debt_id, queue, reason, journey, "
        "journey_state, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    if ((st = tm__sq_cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, q->key, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, q->debt);
    tm__db_bind_text(st, 3, q->queue, -1, TM_DB_STATIC);
    tm__sq_bind_opt_text(st, 4, q->reason);
    tm__sq_bind_opt_text(st, 5, q->journey);
    tm__sq_bind_opt_text(st, 6, q->journey_state);
    tm__db_bind_int64(st, 7, q->at);
    int rc = tm__sq_done(s, st, err);
    if (rc == TM_OK)
        *added = tm__db_changes(s) > 0;
    return rc;
}

/* The queue items of `queue` (NULL: every queue), open ones only unless
 * `all`, or item `id` alone (0: every item); *n counts them. */
static int queue_rows(tm_store *s, const char *queue, int all, int64_t id, tm_store_queue_fn fn,
                      void *ud, long *n, struct tm_err *err)
{
    tm_db_stmt *st;
    *n = 0;
    if (tm__sq_prepare(s, "SELECT q.id, d.debt_id, q.queue, q.reason, q.journey, q.journey_state, "
                   "q.created_at, q.status, q.closed_at, q.closed_by, q.outcome, d.balance_minor, d.currency, "
                   "q.debt_id, d.consumer_id FROM agent_queue q "
                   "JOIN debts d ON d.id = q.debt_id WHERE (?1 IS NULL OR q.queue = ?1) AND "
                   "(?2 <> 0 OR q.status = 'open') AND (?3 = 0 OR q.id = ?3) "
                   "ORDER BY q.queue, q.created_at, q.id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__sq_bind_opt_text(st, 1, queue);
    tm__db_bind_int(st, 2, all != 0);
    tm__db_bind_int64(st, 3, id);
    int rc = TM_OK, step;
    while ((step = tm__sq_step(s, st)) == TM_DB_ROW) {
        tm_queue_item q;
        memset(&q, 0, sizeof q);
        char debt[129], name[64], reason[256], journey[64], state[64], by[64], outcome[64];
        q.id = tm__db_column_int64(st, 0);
        tm__sq_copy_col(st, 1, debt, sizeof debt);
        tm__sq_copy_col(st, 2, name, sizeof name);
        tm__sq_copy_col(st, 3, reason, sizeof reason);
        tm__sq_copy_col(st, 4, journey, sizeof journey);
        tm__sq_copy_col(st, 5, state, sizeof state);
        q.at = tm__db_column_int64(st, 6);
        q.status = tm_store_queue_status_parse((const char *)tm__db_column_text(st, 7));
        q.closed_at = tm__db_column_int64(st, 8);
        tm__sq_copy_col(st, 9, by, sizeof by);
        tm__sq_copy_col(st, 10, outcome, sizeof outcome);
        char currency[4];
        q.balance = tm__db_column_int64(st, 11);
        tm__sq_copy_col(st, 12, currency, sizeof currency);
        q.debt = tm__db_column_int64(st, 13);
        q.consumer = tm__db_column_int64(st, 14);
        q.currency = currency;
        q.debt_ref = debt;
        q.queue = name;
        q.reason = reason;
        q.journey = journey;
        q.journey_state = state;
        q.closed_by = by;
        q.outcome = outcome;
        ++*n;
        if ((rc = fn(ud, &q)) != TM_OK)
            break;
    }
    tm__db_finalize(st);
    if (rc == TM_OK && step != TM_DB_DONE && step != TM_DB_ROW)
        rc = tm__sq_error(s, err, "store");
    return rc;
}

int tm_store_queue_list(tm_store *s, const char *queue, int all, tm_store_queue_fn fn, void *ud,
                        struct tm_err *err)
{
    long n;
    return queue_rows(s, queue, all, 0, fn, ud, &n, err);
}

int tm_store_queue_item(tm_store *s, int64_t id, tm_store_queue_fn fn, void *ud, int *found,
                        struct tm_err *err)
{
    long n = 0;
    int rc = id > 0 ? queue_rows(s, NULL, 1, id, fn, ud, &n, err) : TM_OK;
    *found = n > 0;
    return rc;
}

int tm_store_queue_claim_get(tm_store *s, const char *queue, int64_t id, int64_t now, int *found,
                             char *holder, size_t cap, int64_t *held_until, struct tm_err *err)
{
    tm_db_stmt *st;
    *found = 0;
    holder[0] = '\0';
    *held_until = 0;
    /* q.queue = ?2 comes first so PostgreSQL types ?2 from the column: a
     * statement it cannot type fails, and inside the claim's transaction. */
    if (tm__sq_prepare(s, "SELECT c.claimed_by, c.expires_at FROM agent_queue q LEFT JOIN queue_claims c "
                   "ON c.item = q.id AND c.expires_at > ?3 WHERE q.id = ?1 AND q.status = 'open' AND "
                   "(q.queue = ?2 OR ?2 IS NULL)", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, id);
    tm__sq_bind_opt_text(st, 2, queue);
    tm__db_bind_int64(st, 3, now);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        *found = 1;
        if (tm__db_column_type(st, 0) != TM_DB_NULL) {
            tm__sq_copy_col(st, 0, holder, cap);
            *held_until = tm__db_column_int64(st, 1);
        }
    }
    tm__db_finalize(st);
    if (step != TM_DB_ROW && step != TM_DB_DONE)
        return tm__sq_error(s, err, "store");
    return TM_OK;
}

int tm_store_queue_claim(tm_store *s, const char *queue, int64_t id, const char *by, int64_t now,
                         int64_t until, int64_t *got, char *holder, size_t cap,
                         int64_t *held_until, struct tm_err *err)
{
    *got = 0;
    holder[0] = '\0';
    *held_until = 0;
    int rc;
    if (id > 0) {
        int found = 0;
        rc = tm_store_queue_claim_get(s, queue, id, now, &found, holder, cap, held_until, err);
        if (rc != TM_OK || !found)
            return rc;
        if (holder[0] && strcmp(holder, by) != 0)
            return TM_OK; /* held by someone else */
        holder[0] = '\0';
        *held_until = 0;
    } else {
        /* The oldest open item of the queue that no one holds. */
        tm_db_stmt *st;
        if (tm__sq_prepare(s, "SELECT q.id FROM agent_queue q LEFT JOIN queue_claims c ON c.item = q.id "
                       "AND c.expires_at > ?2 WHERE q.queue = ?1 AND q.status = 'open' AND c.item IS NULL "
                       "ORDER BY q.created_at, q.id LIMIT 1", &st) != TM_DB_OK)
            return tm__sq_error(s, err, "store");
        tm__db_bind_text(st, 1, queue, -1, TM_DB_TRANSIENT);
        tm__db_bind_int64(st, 2, now);
        int step = tm__sq_step(s, st);
        if (step == TM_DB_ROW)
            id = tm__db_column_int64(st, 0);
        tm__db_finalize(st);
        if (step != TM_DB_ROW && step != TM_DB_DONE)
            return tm__sq_error(s, err, "store");
        if (step == TM_DB_DONE)
            return TM_OK;
    }
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "INSERT OR REPLACE INTO queue_claims (item, claimed_by, claimed_at, expires_at) "
                   "VALUES (?1, ?2, ?3, ?4)", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, id);
    tm__db_bind_text(st, 2, by, -1, TM_DB_TRANSIENT);
    tm__db_bind_int64(st, 3, now);
    tm__db_bind_int64(st, 4, until);
    rc = tm__sq_done(s, st, err);
    tm__db_finalize(st);
    if (rc == TM_OK)
        *got = id;
    return rc;
}

int tm_store_queue_close(tm_store *s, int64_t id, const char *by, const char *outcome, int64_t at,
                         int *closed, struct tm_err *err)
{
    *closed = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "UPDATE agent_queue SET status = 'closed', closed_at = ?1, closed_by = ?2, "
                   "outcome = ?3 WHERE id = ?4 AND status = 'open'", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, at);
    tm__sq_bind_opt_text(st, 2, by);
    tm__sq_bind_opt_text(st, 3, outcome);
    tm__db_bind_int64(st, 4, id);
    int step = tm__sq_step(s, st);
    tm__db_finalize(st);
    if (step != TM_DB_DONE)
        return tm__sq_error(s, err, "store");
    *closed = tm__db_changes(s) > 0;
    return TM_OK;
}

int tm_store_reset_journeys(tm_store *s, struct tm_err *err)
{
    static const char sql[] =
        "UPDATE debts SET journey = NULL, journey_state = NULL, journey_version = NULL, "
        "variant = NULL, timer_at = NULL, timer_go = NULL, journey_step = 0, "
        "closed_reason = NULL, offer = NULL, journey_hash = NULL WHERE status = 'open';\n"
        "DELETE FROM outbox;\n"
        "DELETE FROM decisions;\n"
        "DELETE FROM gate_log;\n"
        "DELETE FROM cycle;\n"
        "UPDATE events SET worked = 1 WHERE worked = 0;\n";
    int rc = tm_store_begin(s, err);
    if (rc != TM_OK)
        return rc;
    rc = tm__sq_exec(s, sql, err);
    if (rc != TM_OK) {
        tm_store_rollback(s);
        return rc;
    }
    return tm_store_commit(s, err);
}

int tm_store_timers_next(tm_store *s, int64_t from, int64_t *at, int64_t *count, struct tm_err *err)
{
    *at = 0;
    *count = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT min(timer_at) FROM debts WHERE timer_at IS NOT NULL AND timer_at >= ?1 "
                          "AND status = 'open'", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, from);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW && tm__db_column_type(st, 0) != TM_DB_NULL)
        *at = tm__db_column_int64(st, 0);
    tm__db_finalize(st);
    if (step != TM_DB_ROW)
        return tm__sq_error(s, err, "reading the next timers");
    if (*at == 0)
        return TM_OK;
    /* how many fall due on that UTC day */
    int64_t day = *at - ((*at % 86400) + 86400) % 86400;
    if (tm__sq_prepare(s, "SELECT count(*) FROM debts WHERE timer_at >= ?1 AND timer_at < ?2 AND "
                          "status = 'open'", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, day);
    tm__db_bind_int64(st, 2, day + 86400);
    step = tm__sq_step(s, st);
    if (step == TM_DB_ROW)
        *count = tm__db_column_int64(st, 0);
    tm__db_finalize(st);
    return step == TM_DB_ROW ? TM_OK : tm__sq_error(s, err, "reading the next timers");
}
