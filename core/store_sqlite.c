/*
 * core/store_sqlite.c: the SQLite implementation of the store (store.h): the
 * connection and its transactions, the calls into SQLite that fault injection
 * can fail, the prepared statements, and the snapshot copy of a whole store.
 * The schema is in store_sqlite_schema.c and the operations in
 * store_sqlite_records.c, store_sqlite_control.c and store_sqlite_cycle.c
 * (store_sqlite_int.h says which holds what).
 *
 * The database runs in WAL mode with synchronous=NORMAL (a commit survives a
 * process crash; WAL keeps readers and the writer apart) and foreign keys on.
 */
#include <sqlite3.h>

#include "store_int.h"
#include "store_pg_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SQL of the prepared statements (store_sqlite_int.h). */
static const char *const stmt_sql[ST__COUNT] = {
    [ST_CONSUMER_FIND] = "SELECT id, state, timezone, language, pii_hash, phone_hash, email_hash, "
                         "key_version FROM consumers WHERE external_id = ?",
    [ST_CONSUMER_INS] = "INSERT INTO consumers (state, timezone, language, pii, pii_hash, "
                        "key_version, phone_hash, email_hash, created_at, updated_at, external_id) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
    [ST_CONSUMER_UPD] = "UPDATE consumers SET state = ?1, timezone = ?2, language = ?3, pii = ?4, "
                        "pii_hash = ?5, key_version = ?6, phone_hash = ?7, email_hash = ?8, "
                        "updated_at = ?9 WHERE external_id = ?10",
    [ST_DEBT_FIND] = "SELECT id, consumer_id, creditor, debt_type, placed_balance_minor, currency, "
                     "days_past_due, charge_off_date, last_payment_date, attributes_hash, "
                     "balance_minor, last_event_at FROM debts WHERE debt_id = ?",
    [ST_DEBT_INS] = "INSERT INTO debts (consumer_id, creditor, debt_type, balance_minor, "
                    "placed_balance_minor, currency, days_past_due, charge_off_date, "
                    "last_payment_date, attributes, attributes_hash, created_at, updated_at, debt_id) "
                    "VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
    [ST_DEBT_UPD] = "UPDATE debts SET consumer_id = ?1, creditor = ?2, debt_type = ?3, "
                    "balance_minor = MAX(0, balance_minor + ?4 - placed_balance_minor), "
                    "placed_balance_minor = ?4, currency = ?5, days_past_due = ?6, "
                    "charge_off_date = ?7, last_payment_date = ?8, attributes = ?9, "
                    "attributes_hash = ?10, updated_at = ?11 WHERE debt_id = ?12",
    [ST_EVENT_EXISTS] = "SELECT 1 FROM events WHERE key = ?",
    [ST_EVENT_ADD] = "INSERT INTO events (key, type, debt_id, at, payload, status, applied_at, "
                     "content_hash, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    /* An event applied late (a card payment taken before the debt's last event) never moves
     * the debt's last event back. */
    [ST_DEBT_TOUCH] = "UPDATE debts SET last_event_at = MAX(COALESCE(last_event_at, ?1), ?1), "
                      "updated_at = ?2 WHERE id = ?3",
    [ST_AUDIT_TAIL] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [ST_AUDIT_ADD] = "INSERT INTO audit (seq, at, actor, action, subject, details, prev_hash, hash) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_AUDIT_HEAD] = "SELECT seq, hash, mac FROM audit_head WHERE id = 1",
    [ST_AUDIT_SET_HEAD] = "INSERT OR REPLACE INTO audit_head (id, seq, hash, mac) VALUES (1, ?, ?, ?)",
    [ST_PAY_BALANCE] = "UPDATE debts SET balance_minor = MAX(0, balance_minor - ?1), status = CASE WHEN "
                       "balance_minor - ?1 <= 0 THEN 'paid' ELSE status END WHERE id = ?2",
    [ST_PAY_ADD] = "INSERT INTO payments (debt_id, amount_minor, currency, at, instrument_token) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)",
    /* A promise is kept once the payments since it was made reach its amount;
     * one still short stays open until its due date and grace have passed,
     * when the daily cycle finds it broken or partly kept. */
    [ST_PAY_PROMISE] = "UPDATE promises SET status = 'kept' WHERE debt_id = ?1 AND status = 'open' AND "
                       "amount_minor <= (SELECT COALESCE(SUM(y.amount_minor), 0) FROM payments y "
                       "WHERE y.debt_id = promises.debt_id AND y.at >= promises.created_at)",
    [ST_DEBT_BALANCE] = "SELECT balance_minor FROM debts WHERE id = ?",
    [ST_PROMISE_ADD] = "INSERT INTO promises (debt_id, amount_minor, currency, due_date, created_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_DISPUTE] = "UPDATE debts SET dispute = ?1 WHERE id = ?2",
    [ST_CONTACT_ADD] = "INSERT INTO contacts (debt_id, channel, at, outcome) VALUES (?1, ?2, ?3, ?4)",
};

/* ---------------------------------------------------------------------------
 * Every call into SQLite that can fail goes through fault(), so a test can
 * make the Nth one fail as a busy database, an I/O error or a full disk
 * would (store_int.h). Nothing in the product installs the hook.
 */
static tm__store_fault_fn fault_fn;
static void *fault_ud;

void tm__store_fault_install(tm__store_fault_fn fn, void *ud)
{
    fault_fn = fn;
    fault_ud = ud;
}

/* 0, or the SQLite code the hook makes this call fail with. */
static int fault(tm_store *s, const char *what)
{
    s->fault_rc = 0;
    if (!fault_fn)
        return 0;
    int rc = fault_fn(fault_ud, what);
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE)
        return 0;
    s->fault_rc = rc;
    /* After an I/O error or a full disk SQLite may have rolled the whole
     * transaction back; the injected fault does the same, so code that
     * went on writing would write outside any transaction and be seen. */
    if (((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL) && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* sqlite3_step: SQLITE_ROW is a row, SQLITE_DONE is done, anything else is
 * an error the caller reports with sql_error (never "not found"). */
int tm__sq_step(tm_store *s, tm_db_stmt *st)
{
    if (s->pg)
        return tm__pq_step(s, st);
    int rc = fault(s, "step");
    return rc ? rc : sqlite3_step(st->sq);
}

int tm__sq_prepare(tm_store *s, const char *sql, tm_db_stmt **st)
{
    *st = NULL;
    if (s->pg)
        return tm__pq_prepare(s, sql, st);
    int rc = fault(s, "prepare");
    if (rc)
        return rc;
    tm_db_stmt *w = calloc(1, sizeof *w);
    if (!w)
        return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(s->db, sql, -1, &w->sq, NULL);
    if (rc != SQLITE_OK || !w->sq) {
        sqlite3_finalize(w->sq);
        free(w);
        return rc != SQLITE_OK ? rc : SQLITE_MISUSE;
    }
    w->s = s;
    *st = w;
    return SQLITE_OK;
}

int tm__sq_error(tm_store *s, struct tm_err *err, const char *what)
{
    if (s->pg)
        return tm_err_set(err, TM_ESTORE, "%s: %s", what, s->pg->msg);
    return tm_err_set(err, TM_ESTORE, "%s: %s", what,
                      s->fault_rc ? sqlite3_errstr(s->fault_rc) : sqlite3_errmsg(s->db));
}

int tm__sq_exec(tm_store *s, const char *sql, struct tm_err *err)
{
    if (s->pg)
        return tm__pq_exec(s, sql, err);
    char *msg = NULL;
    int frc = fault(s, "exec");
    if (frc)
        return tm_err_set(err, TM_ESTORE, "store: %s", sqlite3_errstr(frc));
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = tm_err_set(err, TM_ESTORE, "store: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return TM_OK;
}

/* ---------------------------------------------------------------------------
 * The connection and its transactions.
 */
int tm_store_open(const char *path, tm_store **out, struct tm_err *err)
{
    *out = NULL;
    tm_store *s = calloc(1, sizeof *s);
    if (!s)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    if (tm_store_is_url(path)) {
        int rc = tm__pq_open(s, path, err);
        if (rc == TM_OK)
            rc = tm__sq_migrate(s, err);
        if (rc != TM_OK) {
            tm__pq_close(s);
            free(s);
            return rc;
        }
        *out = s;
        return TM_OK;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = tm_err_set(err, TM_ESTORE, "%s: cannot open the store: %s", path,
                            s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        free(s);
        return rc;
    }
    /* Every command that writes waits its turn behind another's write
     * (a run's batch, an import's) instead of failing at once. */
    sqlite3_busy_timeout(s->db, TM_STORE_BUSY_MS);
    /* A large page cache keeps index pages of big imports in memory. */
    int rc = tm__sq_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                     "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; "
                     "PRAGMA temp_store = MEMORY;",
                  err);
    if (rc == TM_OK)
        rc = tm__sq_migrate(s, err);
    if (rc != TM_OK) {
        sqlite3_close(s->db);
        free(s);
        return rc;
    }
    *out = s;
    return TM_OK;
}

void tm_store_close(tm_store *s)
{
    if (!s)
        return;
    if (s->depth > 0)
        tm_store_rollback(s);
    for (int i = 0; i < ST__COUNT; i++)
        tm__db_finalize(s->st[i]);
    for (int i = 0; i < s->ncache; i++)
        tm__db_finalize(s->cache[i].st);
    if (s->pg)
        tm__pq_close(s);
    else
        sqlite3_close_v2(s->db);
    free(s);
}

int tm_store_begin(tm_store *s, struct tm_err *err)
{
    if (s->depth++ > 0)
        return TM_OK;
    /* IMMEDIATE takes the write lock now (waiting for it up to the busy
     * timeout), so what the transaction reads first, such as the audit
     * chain's tail, cannot change under it before it writes. */
    int rc = s->pg ? tm__pq_begin(s, err) : tm__sq_exec(s, "BEGIN IMMEDIATE", err);
    if (rc != TM_OK) {
        s->depth = 0;
        return rc;
    }
    s->tx = ++s->txs;
    return TM_OK;
}

int tm_store_commit(tm_store *s, struct tm_err *err)
{
    if (s->depth == 0)
        return tm_err_set(err, TM_EINVAL, "commit without a transaction");
    if (--s->depth > 0)
        return TM_OK;
    s->tx = 0;
    if (s->pg)
        return tm__pq_commit(s, err);
    int rc = tm__sq_exec(s, "COMMIT", err);
    /* A COMMIT that fails (SQLITE_BUSY, a full disk) may leave the
     * transaction open: end it, so nothing of it commits later by surprise. */
    if (rc != TM_OK && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

void tm_store_rollback(tm_store *s)
{
    if (s->depth == 0)
        return;
    s->depth = 0;
    s->tx = 0;
    if (s->pg)
        tm__pq_rollback(s);
    else
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

uint64_t tm_store_tx_id(tm_store *s) { return s->tx; }

void tm__sq_abort(tm_store *s)
{
    if (s->pg)
        tm__pq_rollback(s);
    else
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3 *tm_store_sqlite(tm_store *s) { return s->db; }

int tm_store_is_url(const char *path)
{
    return path && (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

/* ---------------------------------------------------------------------------
 * Statements.
 */
tm_db_stmt *tm__sq_stmt(tm_store *s, enum tm__sq_st which, struct tm_err *err)
{
    if (!s->st[which] &&
        tm__sq_prepare(s, stmt_sql[which], &s->st[which]) != SQLITE_OK) {
        tm__sq_error(s, err, "preparing a statement");
        return NULL;
    }
    tm__db_reset(s->st[which]);
    tm__db_clear_bindings(s->st[which]);
    return s->st[which];
}

/* The statement for `sql` (a static array), prepared on first use and
 * reset for reuse; NULL with err set when it cannot be prepared. */
tm_db_stmt *tm__sq_cached(tm_store *s, const char *sql, struct tm_err *err)
{
    for (int i = 0; i < s->ncache; i++)
        if (s->cache[i].sql == sql) {
            tm__db_reset(s->cache[i].st);
            tm__db_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != SQLITE_OK) {
        tm__sq_error(s, err, "preparing a statement");
        return NULL;
    }
    if (s->ncache < STORE_CACHE) {
        s->cache[s->ncache].sql = sql;
        s->cache[s->ncache++].st = st;
    }
    return st;
}

/* Runs a statement with text and integer parameters: "t" binds the
 * next text, "i" the next integer, "n" a NULL. */
int tm__sq_run(tm_store *s, const char *sql, const char *types, struct tm_err *err, ...)
{
    /* Prepared once and kept (`sql` is always a string literal): the
     * daily cycle renews its lease with each transaction. */
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    va_list ap;
    va_start(ap, err);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') {
            const char *v = va_arg(ap, const char *);
            if (v)
                tm__db_bind_text(st, i + 1, v, -1, TM_DB_TRANSIENT);
        } else if (types[i] == 'i') {
            tm__db_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
    }
    va_end(ap);
    int rc = tm__sq_step(s, st);
    rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? TM_OK : tm__sq_error(s, err, "store");
    tm__db_reset(st);
    return rc;
}

int tm__sq_done(tm_store *s, tm_db_stmt *st, struct tm_err *err)
{
    int rc = tm__sq_step(s, st);
    tm__db_reset(st);
    return rc == SQLITE_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

/* ---- Simulation --------------------------------------------------------- */

int tm_store_snapshot(const char *src, const char *dst, struct tm_err *err)
{
    if (src == NULL || dst == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_store_snapshot: NULL path");
    if (strstr(dst, "://") != NULL)
        return tm_err_set(err, TM_EINVAL, "%s: a snapshot is a SQLite file", dst);
    /* A PostgreSQL store is read in one transaction and written to the new
     * file row by row. */
    if (tm_store_is_url(src))
        return tm_store_copy(src, dst, NULL, NULL, err);
    if (strstr(src, "://") != NULL)
        return tm_err_set(err, TM_EINVAL, "%s: not a store this build can read", src);
    sqlite3 *db = NULL;
    int rc = TM_OK;
    if (sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = tm_err_set(err, TM_ESTORE, "%s: %s", src, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, TM_STORE_BUSY_MS);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "VACUUM INTO ?", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, dst, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = tm_err_set(err, TM_ESTORE, "copying %s to %s: %s", src, dst, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* ---- For tests (store_int.h) --------------------------------------------- */

int tm__store_exec(tm_store *s, const char *sql, struct tm_err *err)
{
    int rc = tm__sq_exec(s, sql, err);
    if (rc == TM_OK && s->pg)
        rc = tm__pq_sync_ids(s, err);
    return rc;
}

long long tm__store_query_int(tm_store *s, const char *sql)
{
    tm_db_stmt *st;
    long long n = -1;
    if (tm__sq_prepare(s, sql, &st) != SQLITE_OK)
        return -1;
    if (tm__sq_step(s, st) == SQLITE_ROW)
        n = tm__db_column_int64(st, 0);
    tm__db_finalize(st);
    return n;
}
