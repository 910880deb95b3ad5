/*
 * core/store_sqlite.c: the SQLite implementation of the store (store.h).
 *
 * The database runs in WAL mode with synchronous=NORMAL (a commit survives a
 * process crash; WAL keeps readers and the writer apart) and foreign keys on.
 * Migrations are numbered SQL scripts applied in order, each in its own
 * transaction, with the version recorded in PRAGMA user_version, so opening
 * an older store upgrades it and a crash mid-migration leaves it at the last
 * complete version.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tm_store {
    sqlite3 *db;
    int depth; /* nesting of tm_store_begin */
};

/* Version 1: every table the engine writes. Personal data lives only in
 * `consumers.pii` (ciphertext of a JSON object) and `outbox.payload`
 * (ciphertext); phone and email are looked up through keyed hashes. Money is
 * always an integer number of minor units with its ISO 4217 currency. */
static const char migration_1[] =
    "CREATE TABLE consumers (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  external_id TEXT NOT NULL UNIQUE,\n"
    "  state TEXT NOT NULL,\n"
    "  timezone TEXT,\n"
    "  language TEXT NOT NULL DEFAULT 'en',\n"
    "  pii BLOB,\n"
    "  pii_hash BLOB,\n"
    "  key_version INTEGER,\n"
    "  phone_hash BLOB,\n"
    "  email_hash BLOB,\n"
    "  flags TEXT NOT NULL DEFAULT '',\n"
    "  consent TEXT NOT NULL DEFAULT '',\n"
    "  optout TEXT NOT NULL DEFAULT '',\n"
    "  created_at INTEGER NOT NULL,\n"
    "  updated_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX consumers_phone ON consumers(phone_hash);\n"
    "CREATE INDEX consumers_email ON consumers(email_hash);\n"
    "CREATE TABLE debts (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  debt_id TEXT NOT NULL UNIQUE,\n"
    "  consumer_id INTEGER NOT NULL REFERENCES consumers(id),\n"
    "  creditor TEXT,\n"
    "  debt_type TEXT NOT NULL DEFAULT 'other',\n"
    "  balance_minor INTEGER NOT NULL,\n"          /* now: placed balance less payments */
    "  placed_balance_minor INTEGER NOT NULL,\n"   /* as the creditor's file says */
    "  currency TEXT NOT NULL,\n"
    "  days_past_due INTEGER,\n"
    "  charge_off_date TEXT,\n"
    "  last_payment_date TEXT,\n"
    "  dispute TEXT NOT NULL DEFAULT 'none',\n"
    "  status TEXT NOT NULL DEFAULT 'open',\n"
    "  journey TEXT,\n"
    "  journey_state TEXT,\n"
    "  journey_version TEXT,\n"
    "  variant TEXT,\n"
    "  attributes BLOB,\n"
    "  attributes_hash BLOB,\n"
    "  last_event_at INTEGER,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  updated_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX debts_consumer ON debts(consumer_id);\n"
    "CREATE TABLE events (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  key TEXT NOT NULL UNIQUE,\n"
    "  type TEXT NOT NULL,\n"
    "  debt_id INTEGER REFERENCES debts(id),\n"
    "  at INTEGER NOT NULL,\n"
    "  payload TEXT,\n"
    "  status TEXT NOT NULL,\n"
    "  applied_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX events_debt ON events(debt_id, at);\n"
    "CREATE TABLE contacts (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  debt_id INTEGER NOT NULL REFERENCES debts(id),\n"
    "  channel TEXT NOT NULL,\n"
    "  at INTEGER NOT NULL,\n"
    "  outcome TEXT NOT NULL,\n"
    "  place TEXT NOT NULL DEFAULT 'personal',\n"
    "  direction TEXT NOT NULL DEFAULT 'outbound'\n"
    ");\n"
    "CREATE INDEX contacts_debt ON contacts(debt_id, at);\n"
    "CREATE TABLE promises (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  debt_id INTEGER NOT NULL REFERENCES debts(id),\n"
    "  amount_minor INTEGER NOT NULL,\n"
    "  currency TEXT NOT NULL,\n"
    "  due_date TEXT NOT NULL,\n"
    "  grace_days INTEGER NOT NULL DEFAULT 0,\n"
    "  status TEXT NOT NULL DEFAULT 'open',\n"
    "  created_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE plans (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  debt_id INTEGER NOT NULL REFERENCES debts(id),\n"
    "  total_minor INTEGER NOT NULL,\n"
    "  currency TEXT NOT NULL,\n"
    "  schedule TEXT NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'active',\n"
    "  created_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE payments (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  debt_id INTEGER NOT NULL REFERENCES debts(id),\n"
    "  amount_minor INTEGER NOT NULL,\n"
    "  currency TEXT NOT NULL,\n"
    "  at INTEGER NOT NULL,\n"
    "  instrument_token TEXT,\n"
    "  event_id INTEGER REFERENCES events(id)\n"
    ");\n"
    "CREATE TABLE decisions (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  debt_id INTEGER REFERENCES debts(id),\n"
    "  at INTEGER NOT NULL,\n"
    "  channel TEXT NOT NULL,\n"
    "  allow INTEGER NOT NULL,\n"
    "  blocked_by TEXT,\n"
    "  next_allowed_at INTEGER,\n"
    "  scripts_hash TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE outbox (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  idempotency_key TEXT NOT NULL UNIQUE,\n"
    "  debt_id INTEGER REFERENCES debts(id),\n"
    "  channel TEXT NOT NULL,\n"
    "  template TEXT NOT NULL,\n"
    "  payload BLOB,\n"
    "  key_version INTEGER,\n"
    "  status TEXT NOT NULL DEFAULT 'pending',\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  next_attempt_at INTEGER,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  sent_at INTEGER\n"
    ");\n"
    "CREATE INDEX outbox_pending ON outbox(status, next_attempt_at);\n"
    "CREATE TABLE users (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  role TEXT NOT NULL,\n"
    "  token_hash TEXT,\n"
    "  totp_secret BLOB,\n"
    "  created_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE script_versions (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  set_hash TEXT NOT NULL UNIQUE,\n"
    "  deployed_at INTEGER NOT NULL,\n"
    "  deployed_by TEXT,\n"
    "  approved_by TEXT,\n"
    "  manifest TEXT\n"
    ");\n"
    "CREATE TABLE audit_head (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  seq INTEGER NOT NULL,\n"
    "  hash TEXT NOT NULL,\n"
    "  mac TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE audit (\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  at INTEGER NOT NULL,\n"
    "  actor TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  subject TEXT NOT NULL,\n"
    "  details TEXT NOT NULL,\n"
    "  prev_hash TEXT NOT NULL,\n"
    "  hash TEXT NOT NULL\n"
    ");\n";

static const char *const migrations[] = {migration_1};

static int sql_error(tm_store *s, struct tm_err *err, const char *what)
{
    return tm_err_set(err, TM_ESTORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(tm_store *s, const char *sql, struct tm_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = tm_err_set(err, TM_ESTORE, "store: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return TM_OK;
}

int tm_store_schema_version(tm_store *s)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

static int migrate(tm_store *s, struct tm_err *err)
{
    int have = tm_store_schema_version(s);
    int want = (int)(sizeof migrations / sizeof *migrations);
    if (have < 0)
        return sql_error(s, err, "reading the schema version");
    if (have > want)
        return tm_err_set(err, TM_ESTORE,
                          "the store is at schema version %d, newer than this tallyman (%d)", have,
                          want);
    for (int v = have; v < want; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", v + 1);
        int rc = exec(s, "BEGIN IMMEDIATE", err);
        if (rc == TM_OK)
            rc = exec(s, migrations[v], err);
        if (rc == TM_OK)
            rc = exec(s, bump, err);
        if (rc == TM_OK)
            rc = exec(s, "COMMIT", err);
        if (rc != TM_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return TM_OK;
}

int tm_store_open(const char *path, tm_store **out, struct tm_err *err)
{
    *out = NULL;
    if (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0)
        return tm_err_set(err, TM_EINVAL, "%s: the PostgreSQL store is not available in this build yet",
                          path);
    tm_store *s = calloc(1, sizeof *s);
    if (!s)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = tm_err_set(err, TM_ESTORE, "%s: cannot open the store: %s", path,
                            s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        free(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* A large page cache keeps index pages of big imports in memory. */
    int rc = exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                     "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; "
                     "PRAGMA temp_store = MEMORY;",
                  err);
    if (rc == TM_OK)
        rc = migrate(s, err);
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
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close_v2(s->db);
    free(s);
}

int tm_store_begin(tm_store *s, struct tm_err *err)
{
    if (s->depth++ > 0)
        return TM_OK;
    int rc = exec(s, "BEGIN IMMEDIATE", err);
    if (rc != TM_OK)
        s->depth = 0;
    return rc;
}

int tm_store_commit(tm_store *s, struct tm_err *err)
{
    if (s->depth == 0)
        return tm_err_set(err, TM_EINVAL, "commit without a transaction");
    if (--s->depth > 0)
        return TM_OK;
    return exec(s, "COMMIT", err);
}

void tm_store_rollback(tm_store *s)
{
    if (s->depth == 0)
        return;
    s->depth = 0;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3 *tm_store_sqlite(tm_store *s) { return s->db; }
