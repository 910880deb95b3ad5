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
#include "store_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepared statements, made on first use and kept for the store's life. */
enum stmt {
    ST_CONSUMER_FIND, ST_CONSUMER_INS, ST_CONSUMER_UPD, ST_DEBT_FIND, ST_DEBT_INS, ST_DEBT_UPD,
    ST_EVENT_EXISTS, ST_EVENT_ADD, ST_DEBT_TOUCH, ST_AUDIT_TAIL, ST_AUDIT_ADD, ST_AUDIT_HEAD,
    ST_AUDIT_SET_HEAD, ST_PAY_BALANCE, ST_PAY_ADD, ST_PAY_PROMISE, ST_DEBT_BALANCE, ST_PROMISE_ADD,
    ST_DISPUTE, ST_CONTACT_ADD, ST__COUNT
};

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

#define STORE_CACHE 32

struct tm_store {
    sqlite3 *db;
    int depth;     /* nesting of tm_store_begin */
    uint64_t tx;   /* the id of the outermost transaction in progress; 0 when none */
    uint64_t txs;  /* transactions begun so far (the next id less one) */
    int fault_rc;  /* the code of a fault injected into the last call (tests), else 0 */
    sqlite3_stmt *st[ST__COUNT];
    /* Statements of the cycle's functions, prepared once, keyed by the
     * address of their SQL text (a static array per function). */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STORE_CACHE];
    int ncache;
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

/* 2: indexes for per-debt history (training outcomes, promise watch). */
static const char migration_2[] =
    "CREATE INDEX payments_debt ON payments(debt_id, at);\n"
    "CREATE INDEX promises_debt ON promises(debt_id);\n";

/* 3: the daily cycle: each debt's journey timer and step counter, outbox
 * rows planned for a time and their gate outcome, and the cycle's cursors. */
static const char migration_3[] =
    "ALTER TABLE debts ADD COLUMN timer_at INTEGER;\n"
    "ALTER TABLE debts ADD COLUMN timer_go TEXT;\n"
    "ALTER TABLE debts ADD COLUMN journey_step INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE debts ADD COLUMN closed_reason TEXT;\n"
    "CREATE INDEX debts_timer ON debts(timer_at) WHERE timer_at IS NOT NULL;\n"
    "CREATE INDEX debts_unassigned ON debts(id) WHERE journey IS NULL;\n"
    "ALTER TABLE outbox ADD COLUMN send_at INTEGER;\n"
    "ALTER TABLE outbox ADD COLUMN purpose TEXT;\n"
    "ALTER TABLE outbox ADD COLUMN journey_state TEXT;\n"
    "ALTER TABLE outbox ADD COLUMN blocked_by TEXT;\n"
    "CREATE INDEX outbox_due ON outbox(status, send_at);\n"
    "CREATE TABLE cycle (name TEXT PRIMARY KEY, value INTEGER NOT NULL);\n";

/* 4: events worked by the cycle (in time order, not by a cursor) and a
 * debt's standing offer. Early builds of version 3 had one or both of these
 * columns already, so they are added only where missing (add_missing). */
static const char migration_4[] =
    "CREATE INDEX IF NOT EXISTS events_unworked ON events(at, id) WHERE worked = 0;\n";

/* 5: journey versions. Every journey text that starts or steps a debt is
 * kept by the SHA-256 of its text, so a debt can go on running the text it
 * started on after the tree changes; debts record that hash
 * (debts.journey_hash, added where missing like 4's columns). */
static const char migration_5[] =
    "CREATE TABLE IF NOT EXISTS journey_texts (\n"
    "  hash TEXT PRIMARY KEY,\n"          /* hex SHA-256 of the script text */
    "  journey TEXT NOT NULL,\n"
    "  version INTEGER NOT NULL,\n"
    "  path TEXT NOT NULL,\n"             /* relative to the script tree, as first seen */
    "  text TEXT NOT NULL,\n"
    "  first_seen INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS journey_texts_id ON journey_texts(journey, version);\n";

/* 6: what journeys hand on. A debt handed to an agent queue waits there
 * until an agent closes it (one row per hand-off, keyed like the outbox);
 * the latest score of each model is kept on the debt. */
static const char migration_6[] =
    "CREATE TABLE IF NOT EXISTS agent_queue (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  idempotency_key TEXT NOT NULL UNIQUE,\n"
    "  debt_id INTEGER NOT NULL REFERENCES debts(id),\n"
    "  queue TEXT NOT NULL,\n"
    "  reason TEXT,\n"
    "  journey TEXT,\n"
    "  journey_state TEXT,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'open',\n"
    "  closed_at INTEGER,\n"
    "  closed_by TEXT,\n"
    "  outcome TEXT\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS agent_queue_open ON agent_queue(status, queue, created_at);\n"
    "CREATE TABLE IF NOT EXISTS scores (\n"
    "  debt_id INTEGER NOT NULL REFERENCES debts(id),\n"
    "  model TEXT NOT NULL,\n"
    "  probability REAL NOT NULL,\n"
    "  reasons TEXT,\n"
    "  at INTEGER NOT NULL,\n"
    "  PRIMARY KEY (debt_id, model)\n"
    ");\n";

/* 7: card payments the engine takes (tallyman pay): one row per idempotency
 * key, with the instrument's token (never a card number) and the gateway's
 * answer; the velocity limits count them. */
static const char migration_7[] =
    "CREATE TABLE IF NOT EXISTS payment_attempts (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  idempotency_key TEXT NOT NULL UNIQUE,\n"
    "  debt_id INTEGER NOT NULL REFERENCES debts(id),\n"
    "  instrument_token TEXT NOT NULL,\n"
    "  amount_minor INTEGER NOT NULL,\n"
    "  currency TEXT NOT NULL,\n"
    "  at INTEGER NOT NULL,\n"
    "  outcome TEXT NOT NULL,\n"
    "  reference TEXT,\n"
    "  reason TEXT\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS payment_attempts_at ON payment_attempts(at);\n";

/* 8: the keys the store knows. Per key version (0: the lookup key, "hmac" in
 * the key file) a check value, HMAC-SHA256 under that key of a fixed label:
 * it tells whether a key file is this store's without holding any key, so a
 * foreign or newly made key file is refused before it writes anything. */
static const char migration_8[] =
    "CREATE TABLE IF NOT EXISTS key_checks (\n"
    "  version INTEGER PRIMARY KEY,\n"
    "  check_value TEXT NOT NULL,\n"
    "  recorded_at INTEGER NOT NULL\n"
    ");\n";

/* 9: what each event and card payment attempt was, so a key used again for something else is
 * refused instead of being counted as a duplicate: a keyed hash of its content
 * (events.content_hash, payment_attempts.content_hash) and where it came from ("FILE:LINE":
 * events.origin, payment_attempts.origin). Rows stored before have neither. The columns are
 * added where missing (add_missing), so the migration can run again. */
static const char migration_9[] = "";

/* 10: leases. A run holds the store's "cycle" lease while it works, so two
 * runs never dispatch the same messages: who holds it (a token unique to the
 * holder, its pid, host and the start time of that process, to tell a live
 * holder from a pid used again), since when, and when it last renewed it. */
static const char migration_10[] =
    "CREATE TABLE IF NOT EXISTS leases (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  holder TEXT NOT NULL,\n"
    "  pid INTEGER NOT NULL,\n"
    "  host TEXT NOT NULL,\n"
    "  pid_start INTEGER NOT NULL DEFAULT 0,\n"
    "  since INTEGER NOT NULL,\n"
    "  renewed INTEGER NOT NULL\n"
    ");\n";

static const struct {
    int version; /* the migration that needs it */
    const char *table, *column, *decl;
} migration_columns[] = {
    {4, "events", "worked", "INTEGER NOT NULL DEFAULT 0"},
    {4, "debts", "offer", "TEXT"},
    {5, "debts", "journey_hash", "TEXT"},
    {9, "events", "content_hash", "BLOB"},
    {9, "events", "origin", "TEXT"},
    {9, "payment_attempts", "content_hash", "BLOB"},
    {9, "payment_attempts", "origin", "TEXT"},
};

static const char *const migrations[] = {migration_1, migration_2, migration_3, migration_4,
                                         migration_5, migration_6, migration_7, migration_8,
                                         migration_9, migration_10};


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
static int db_step(tm_store *s, sqlite3_stmt *st)
{
    int rc = fault(s, "step");
    return rc ? rc : sqlite3_step(st);
}

static int db_prep(tm_store *s, const char *sql, sqlite3_stmt **st)
{
    *st = NULL;
    int rc = fault(s, "prepare");
    return rc ? rc : sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
}

static int sql_error(tm_store *s, struct tm_err *err, const char *what)
{
    return tm_err_set(err, TM_ESTORE, "%s: %s", what,
                      s->fault_rc ? sqlite3_errstr(s->fault_rc) : sqlite3_errmsg(s->db));
}

static int exec(tm_store *s, const char *sql, struct tm_err *err)
{
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

int tm_store_schema_version(tm_store *s)
{
    sqlite3_stmt *st;
    int v = -1;
    if (db_prep(s, "PRAGMA user_version", &st) == SQLITE_OK) {
        if (db_step(s, st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/* Adds the columns migration `version` needs that the table lacks. */
static int add_missing(tm_store *s, int version, struct tm_err *err)
{
    for (size_t i = 0; i < sizeof migration_columns / sizeof *migration_columns; i++) {
        if (migration_columns[i].version != version)
            continue;
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name = '%s'",
                 migration_columns[i].table, migration_columns[i].column);
        sqlite3_stmt *st;
        if (db_prep(s, sql, &st) != SQLITE_OK)
            return sql_error(s, err, "migrating");
        int step = db_step(s, st);
        sqlite3_finalize(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return sql_error(s, err, "migrating");
        if (step == SQLITE_ROW)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", migration_columns[i].table,
                 migration_columns[i].column, migration_columns[i].decl);
        int rc = exec(s, sql, err);
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
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
            rc = add_missing(s, v + 1, err);
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
    /* Every command that writes waits its turn behind another's write
     * (a run's batch, an import's) instead of failing at once. */
    sqlite3_busy_timeout(s->db, TM_STORE_BUSY_MS);
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
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    for (int i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].st);
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
    int rc = exec(s, "BEGIN IMMEDIATE", err);
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
    int rc = exec(s, "COMMIT", err);
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
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

uint64_t tm_store_tx_id(tm_store *s) { return s->tx; }

sqlite3 *tm_store_sqlite(tm_store *s) { return s->db; }

/* ---------------------------------------------------------------------------
 * Operations.
 */
static sqlite3_stmt *stmt(tm_store *s, enum stmt which, struct tm_err *err)
{
    if (!s->st[which] &&
        db_prep(s, stmt_sql[which], &s->st[which]) != SQLITE_OK) {
        sql_error(s, err, "preparing a statement");
        return NULL;
    }
    sqlite3_reset(s->st[which]);
    sqlite3_clear_bindings(s->st[which]);
    return s->st[which];
}

/* The statement for `sql` (a static array), prepared on first use and
 * reset for reuse; NULL with err set when it cannot be prepared. */
static sqlite3_stmt *cached(tm_store *s, const char *sql, struct tm_err *err)
{
    for (int i = 0; i < s->ncache; i++)
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK) {
        sql_error(s, err, "preparing a statement");
        return NULL;
    }
    if (s->ncache < STORE_CACHE) {
        s->cache[s->ncache].sql = sql;
        s->cache[s->ncache++].st = st;
    }
    return st;
}

/* Runs a one-off statement with text and integer parameters: "t" binds the
 * next text, "i" the next integer, "n" a NULL. */
static int run(tm_store *s, const char *sql, const char *types, struct tm_err *err, ...)
{
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    va_list ap;
    va_start(ap, err);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
        } else if (types[i] == 'i') {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
    }
    va_end(ap);
    int rc = db_step(s, st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? TM_OK : sql_error(s, err, "store");
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? t : "");
}

static void read_hash(sqlite3_stmt *st, int col, tm_hash16 *h)
{
    const void *b = sqlite3_column_blob(st, col);
    h->set = b && sqlite3_column_bytes(st, col) == TM_STORE_HASH_LEN;
    if (h->set)
        memcpy(h->b, b, TM_STORE_HASH_LEN);
}

static void bind_hash(sqlite3_stmt *st, int i, const tm_hash16 *h)
{
    if (h && h->set)
        sqlite3_bind_blob(st, i, h->b, TM_STORE_HASH_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int done(tm_store *s, sqlite3_stmt *st, struct tm_err *err)
{
    int rc = db_step(s, st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_consumer_find(tm_store *s, const char *external_id, tm_consumer_rec *out, int *found,
                           struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_CONSUMER_FIND, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, external_id, -1, SQLITE_STATIC);
    int step = db_step(s, st);
    *found = step == SQLITE_ROW;
    if (*found) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(st, 0);
        snprintf(out->external_id, sizeof out->external_id, "%s", external_id);
        copy_col(st, 1, out->state, sizeof out->state);
        copy_col(st, 2, out->timezone, sizeof out->timezone);
        copy_col(st, 3, out->language, sizeof out->language);
        read_hash(st, 4, &out->pii_hash);
        read_hash(st, 5, &out->phone_hash);
        read_hash(st, 6, &out->email_hash);
        out->key_version = sqlite3_column_int(st, 7);
    }
    sqlite3_reset(st);
    /* A busy or failing database is an error, never "no such consumer":
     * the import would create a second one. */
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "finding a consumer");
}

int tm_store_consumer_put(tm_store *s, tm_consumer_rec *rec, int64_t now, struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, rec->id ? ST_CONSUMER_UPD : ST_CONSUMER_INS, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, rec->state, -1, SQLITE_STATIC);
    bind_opt_text(st, 2, rec->timezone);
    sqlite3_bind_text(st, 3, rec->language[0] ? rec->language : "en", -1, SQLITE_STATIC);
    if (rec->pii)
        sqlite3_bind_blob(st, 4, rec->pii, (int)rec->pii_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    bind_hash(st, 5, &rec->pii_hash);
    sqlite3_bind_int(st, 6, rec->key_version);
    bind_hash(st, 7, &rec->phone_hash);
    bind_hash(st, 8, &rec->email_hash);
    sqlite3_bind_int64(st, 9, now);
    sqlite3_bind_text(st, 10, rec->external_id, -1, SQLITE_STATIC);
    int rc = done(s, st, err);
    if (rc == TM_OK && !rec->id)
        rec->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int tm_store_debt_find(tm_store *s, const char *debt_id, tm_debt_rec *out, int *found,
                       struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_DEBT_FIND, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, debt_id, -1, SQLITE_STATIC);
    int step = db_step(s, st);
    *found = step == SQLITE_ROW;
    if (*found) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(st, 0);
        snprintf(out->debt_id, sizeof out->debt_id, "%s", debt_id);
        out->consumer_id = sqlite3_column_int64(st, 1);
        copy_col(st, 2, out->creditor, sizeof out->creditor);
        copy_col(st, 3, out->debt_type, sizeof out->debt_type);
        out->placed_balance = sqlite3_column_int64(st, 4);
        copy_col(st, 5, out->currency, sizeof out->currency);
        out->days_past_due = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6);
        copy_col(st, 7, out->charge_off_date, sizeof out->charge_off_date);
        copy_col(st, 8, out->last_payment_date, sizeof out->last_payment_date);
        read_hash(st, 9, &out->attributes_hash);
        out->balance = sqlite3_column_int64(st, 10);
        out->has_last_event = sqlite3_column_type(st, 11) != SQLITE_NULL;
        out->last_event_at = sqlite3_column_int64(st, 11);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "finding a debt");
}

int tm_store_debt_put(tm_store *s, tm_debt_rec *rec, int64_t now, struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, rec->id ? ST_DEBT_UPD : ST_DEBT_INS, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, rec->consumer_id);
    bind_opt_text(st, 2, rec->creditor);
    sqlite3_bind_text(st, 3, rec->debt_type[0] ? rec->debt_type : "other", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, rec->placed_balance);
    sqlite3_bind_text(st, 5, rec->currency, -1, SQLITE_STATIC);
    if (rec->days_past_due >= 0)
        sqlite3_bind_int64(st, 6, rec->days_past_due);
    else
        sqlite3_bind_null(st, 6);
    bind_opt_text(st, 7, rec->charge_off_date);
    bind_opt_text(st, 8, rec->last_payment_date);
    if (rec->attributes)
        sqlite3_bind_blob(st, 9, rec->attributes, (int)rec->attributes_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 9);
    bind_hash(st, 10, &rec->attributes_hash);
    sqlite3_bind_int64(st, 11, now);
    sqlite3_bind_text(st, 12, rec->debt_id, -1, SQLITE_STATIC);
    int rc = done(s, st, err);
    if (rc == TM_OK && !rec->id)
        rec->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int tm_store_consumer_pii(tm_store *s, int64_t consumer, char external_id[129], uint8_t **blob,
                          size_t *len, struct tm_err *err)
{
    sqlite3_stmt *st;
    *blob = NULL;
    *len = 0;
    if (db_prep(s, "SELECT external_id, pii FROM consumers WHERE id = ?", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int64(st, 1, consumer);
    int rc = TM_OK;
    int step = db_step(s, st);
    if (step == SQLITE_ROW) {
        copy_col(st, 0, external_id, 129);
        int n = sqlite3_column_bytes(st, 1);
        if (n > 0) {
            *blob = malloc((size_t)n);
            if (*blob) {
                memcpy(*blob, sqlite3_column_blob(st, 1), (size_t)n);
                *len = (size_t)n;
            } else {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
            }
        }
    } else if (step == SQLITE_DONE) {
        rc = tm_err_set(err, TM_ESTORE, "consumer %lld is missing", (long long)consumer);
    } else {
        rc = sql_error(s, err, "reading personal data");
    }
    sqlite3_finalize(st);
    return rc;
}

int tm_store_consumer_set_pii(tm_store *s, int64_t consumer, const uint8_t *blob, size_t len,
                              const tm_hash16 *pii_hash, int key_version, int64_t now,
                              struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, pii_hash ? "UPDATE consumers SET pii = ?1, key_version = ?2, updated_at = ?3, "
                   "pii_hash = ?5 WHERE id = ?4"
                   : "UPDATE consumers SET pii = ?1, key_version = ?2, updated_at = "
                   "?3 WHERE id = ?4", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, key_version);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, consumer);
    if (pii_hash)
        bind_hash(st, 5, pii_hash);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_finalize(st);
    return rc;
}

int tm_store_consumer_set_lookup(tm_store *s, int64_t consumer, const char *which,
                                 const tm_hash16 *hash, struct tm_err *err)
{
    sqlite3_stmt *st;
    int email = strcmp(which, "email") == 0;
    if (db_prep(s, email ? "UPDATE consumers SET email_hash = ? WHERE id = ?"
                   : "UPDATE consumers SET phone_hash = ? WHERE id = ?", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    bind_hash(st, 1, hash);
    sqlite3_bind_int64(st, 2, consumer);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_finalize(st);
    return rc;
}

static const char *set_column(const char *which)
{
    return strcmp(which, "flags") == 0     ? "flags"
           : strcmp(which, "consent") == 0 ? "consent"
           : strcmp(which, "optout") == 0  ? "optout"
                                           : NULL;
}

int tm_store_consumer_get_set(tm_store *s, int64_t consumer, const char *which, char *out, size_t cap,
                              struct tm_err *err)
{
    const char *col = set_column(which);
    if (!col)
        return tm_err_set(err, TM_EINVAL, "no consumer set '%s'", which);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT %s FROM consumers WHERE id = ?", col);
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int64(st, 1, consumer);
    out[0] = '\0';
    int step = db_step(s, st);
    if (step == SQLITE_ROW)
        copy_col(st, 0, out, cap);
    sqlite3_finalize(st);
    /* An empty set read from a failing database would be written back
     * without the flags it had. */
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "reading a consumer");
}

int tm_store_consumer_put_set(tm_store *s, int64_t consumer, const char *which, const char *value,
                              struct tm_err *err)
{
    const char *col = set_column(which);
    if (!col)
        return tm_err_set(err, TM_EINVAL, "no consumer set '%s'", which);
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE consumers SET %s = ? WHERE id = ?", col);
    return run(s, sql, "ti", err, value, consumer);
}

int tm_store_event_exists(tm_store *s, const char *key, int *exists, struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_EVENT_EXISTS, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int step = db_step(s, st);
    *exists = step == SQLITE_ROW;
    sqlite3_reset(st);
    /* Not "new" on an error: the event would be applied twice. */
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "finding an event");
}

int tm_store_event_add(tm_store *s, const char *key, const char *type, int64_t debt, int64_t at,
                       const char *payload, const char *status, const tm_hash16 *content,
                       const char *origin, int64_t now, struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_EVENT_ADD, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    if (debt)
        sqlite3_bind_int64(st, 3, debt);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, at);
    sqlite3_bind_text(st, 5, payload, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now);
    if (content)
        bind_hash(st, 8, content);
    bind_opt_text(st, 9, origin);
    return done(s, st, err);
}

int tm_store_event_find(tm_store *s, const char *key, tm_event_ref *out, int *found,
                        struct tm_err *err)
{
    static const char sql[] = "SELECT status, content_hash, origin, at FROM events WHERE key = ?1";
    memset(out, 0, sizeof *out);
    *found = 0;
    sqlite3_stmt *st = cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int step = db_step(s, st);
    if (step == SQLITE_ROW) {
        *found = 1;
        copy_col(st, 0, out->status, sizeof out->status);
        read_hash(st, 1, &out->content);
        copy_col(st, 2, out->origin, sizeof out->origin);
        out->at = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_event_set_applied(tm_store *s, const char *key, const char *payload, int64_t now,
                               struct tm_err *err)
{
    static const char sql[] =
        "UPDATE events SET status = 'applied', payload = ?2, applied_at = ?3, worked = 0 "
        "WHERE key = ?1";
    sqlite3_stmt *st = cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    return done(s, st, err);
}

int tm_store_payment_apply(tm_store *s, int64_t debt, int64_t amount, const char *currency,
                           int64_t at, const char *instrument_token, int64_t *balance,
                           struct tm_err *err)
{
    /* Each statement that cannot be had (stmt() NULL, err set) stops it all:
     * the caller rolls back, no balance moves without its payment row. */
    sqlite3_stmt *st = stmt(s, ST_PAY_BALANCE, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, amount);
    sqlite3_bind_int64(st, 2, debt);
    int rc = done(s, st, err);
    if (rc != TM_OK)
        return rc;
    if (!(st = stmt(s, ST_PAY_ADD, err)))
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, debt);
    sqlite3_bind_int64(st, 2, amount);
    sqlite3_bind_text(st, 3, currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    if (instrument_token && *instrument_token)
        sqlite3_bind_text(st, 5, instrument_token, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    if ((rc = done(s, st, err)) != TM_OK)
        return rc;
    if (!(st = stmt(s, ST_PAY_PROMISE, err)))
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, debt);
    if ((rc = done(s, st, err)) != TM_OK || !balance)
        return rc;
    if (!(st = stmt(s, ST_DEBT_BALANCE, err)))
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, debt);
    int step = db_step(s, st);
    if (step == SQLITE_ROW)
        *balance = sqlite3_column_int64(st, 0);
    else if (step == SQLITE_DONE)
        rc = tm_err_set(err, TM_ESTORE, "debt %lld is missing", (long long)debt);
    else
        rc = sql_error(s, err, "reading a balance");
    sqlite3_reset(st);
    return rc;
}

int tm_store_promise_add(tm_store *s, int64_t debt, int64_t amount, const char *currency,
                         const char *due, int64_t at, struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_PROMISE_ADD, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, debt);
    sqlite3_bind_int64(st, 2, amount);
    sqlite3_bind_text(st, 3, currency, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, due, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, at);
    return done(s, st, err);
}

int tm_store_promises_lapsed(tm_store *s, const char *today, tm_promise_due **out, size_t *n,
                             struct tm_err *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT p.id, p.debt_id, p.amount_minor, p.currency, p.due_date, p.grace_days, "
                   "p.created_at, (SELECT COALESCE(SUM(y.amount_minor), 0) FROM payments y "
                   "WHERE y.debt_id = p.debt_id AND y.at >= p.created_at AND "
                   "date(y.at, 'unixepoch') <= date(p.due_date, '+' || p.grace_days || ' days')) "
                   "FROM promises p WHERE p.status = 'open' AND "
                   "date(p.due_date, '+' || p.grace_days || ' days') < ?1 ORDER BY p.id", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
    size_t cap = 0;
    int step;
    while ((step = db_step(s, st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            tm_promise_due *q = realloc(*out, cap * sizeof *q);
            if (!q) {
                sqlite3_finalize(st);
                free(*out);
                *out = NULL;
                *n = 0;
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            }
            *out = q;
        }
        tm_promise_due *p = &(*out)[(*n)++];
        memset(p, 0, sizeof *p);
        p->id = sqlite3_column_int64(st, 0);
        p->debt = sqlite3_column_int64(st, 1);
        p->amount = sqlite3_column_int64(st, 2);
        const unsigned char *c = sqlite3_column_text(st, 3), *d = sqlite3_column_text(st, 4);
        snprintf(p->currency, sizeof p->currency, "%s", c ? (const char *)c : "");
        snprintf(p->due, sizeof p->due, "%s", d ? (const char *)d : "");
        p->grace_days = sqlite3_column_int(st, 5);
        p->created_at = sqlite3_column_int64(st, 6);
        p->paid = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return sql_error(s, err, "store");
    }
    return TM_OK;
}

int tm_store_promise_set(tm_store *s, int64_t id, const char *status, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "UPDATE promises SET status = ?1 WHERE id = ?2", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    int step = db_step(s, st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_debt_set_dispute(tm_store *s, int64_t debt, const char *state, struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_DISPUTE, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, debt);
    return done(s, st, err);
}

int tm_store_contact_add(tm_store *s, int64_t debt, const char *channel, int64_t at,
                         const char *outcome, struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_CONTACT_ADD, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, debt);
    sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, outcome, -1, SQLITE_STATIC);
    return done(s, st, err);
}

int tm_store_debt_touch(tm_store *s, int64_t debt, int64_t last_event_at, int64_t now,
                        struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_DEBT_TOUCH, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, last_event_at);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, debt);
    return done(s, st, err);
}

static int scan_blobs(tm_store *s, sqlite3_stmt *st, tm_store_blob_fn fn, void *ud, int *seen,
                      int64_t *last_id, struct tm_err *err)
{
    int rc = TM_OK, step;
    *seen = 0;
    while (rc == TM_OK && (step = db_step(s, st)) == SQLITE_ROW) {
        (*seen)++;
        int64_t id = sqlite3_column_int64(st, 0);
        if (last_id)
            *last_id = id;
        rc = fn(ud, id, (const char *)sqlite3_column_text(st, 1), sqlite3_column_blob(st, 2),
                (size_t)sqlite3_column_bytes(st, 2));
    }
    /* A scan cut short by an error is not a scan that saw everything. */
    if (rc == TM_OK && step != SQLITE_DONE)
        rc = sql_error(s, err, "scanning encrypted records");
    sqlite3_finalize(st);
    return rc;
}

int tm_store_scan_stale_pii(tm_store *s, int key_version, int limit, tm_store_blob_fn fn, void *ud,
                            int *seen, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT id, 'consumer:' || external_id, pii FROM consumers WHERE key_version "
                   "IS NOT NULL AND key_version <> ? AND pii IS NOT NULL LIMIT ?", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int(st, 1, key_version);
    sqlite3_bind_int(st, 2, limit);
    return scan_blobs(s, st, fn, ud, seen, NULL, err);
}

int tm_store_scan_attributes(tm_store *s, int64_t *after, int limit, tm_store_blob_fn fn, void *ud,
                             int *seen, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT id, 'debt:' || debt_id, attributes FROM debts WHERE id > ? AND "
                   "attributes IS NOT NULL ORDER BY id LIMIT ?", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int64(st, 1, *after);
    sqlite3_bind_int(st, 2, limit);
    return scan_blobs(s, st, fn, ud, seen, after, err);
}

int tm_store_debt_set_attributes(tm_store *s, int64_t debt, const uint8_t *blob, size_t len,
                                 struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "UPDATE debts SET attributes = ? WHERE id = ?", &st) !=
        SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, debt);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_finalize(st);
    return rc;
}

int tm_store_audit_tail(tm_store *s, int64_t *seq, char hash[65], struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_AUDIT_TAIL, err);
    if (!st)
        return TM_ESTORE;
    *seq = 0;
    hash[0] = '\0';
    int step = db_step(s, st);
    if (step == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        copy_col(st, 1, hash, 65);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "reading the audit chain");
}

int tm_store_audit_add(tm_store *s, const tm_audit_rec *r, struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_AUDIT_ADD, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, r->seq);
    sqlite3_bind_int64(st, 2, r->at);
    sqlite3_bind_text(st, 3, r->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->details, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->prev_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->hash, -1, SQLITE_STATIC);
    return done(s, st, err);
}

static const char *type_name(int type)
{
    switch (type) {
    case SQLITE_INTEGER:
        return "an integer";
    case SQLITE_FLOAT:
        return "a real number";
    case SQLITE_TEXT:
        return "text";
    case SQLITE_BLOB:
        return "a blob";
    default:
        return "NULL";
    }
}

/* Column `col` of an audit row as the bytes stored, however many there are:
 * *out (never NULL) and *len. When the value is not text, or text holding a
 * NUL byte (which a C string would silently end at), and `why` is still
 * empty, says so in `why`. */
static void audit_text(sqlite3_stmt *st, int col, const char *name, const char **out, size_t *len,
                       char *why, size_t cap)
{
    int type = sqlite3_column_type(st, col); /* before any conversion */
    const char *t = (const char *)sqlite3_column_text(st, col);
    *len = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
    *out = t ? t : "";
    if (why[0])
        return;
    if (type != SQLITE_TEXT)
        snprintf(why, cap, "its %s is stored as %s, not text", name, type_name(type));
    else if (strlen(*out) != *len)
        snprintf(why, cap, "its %s holds a NUL byte after %zu of its %zu bytes", name, strlen(*out),
                 *len);
}

/* An integer column read exactly: 0 when the stored value is of another type
 * (a real 130.7 or a text '130abc' would otherwise read as 130). */
static int audit_int(sqlite3_stmt *st, int col, const char *name, int64_t *out, char *why,
                     size_t cap)
{
    int type = sqlite3_column_type(st, col);
    *out = sqlite3_column_int64(st, col);
    if (type == SQLITE_INTEGER)
        return 1;
    if (!why[0])
        snprintf(why, cap, "its %s is stored as %s, not an integer", name, type_name(type));
    return 0;
}

int tm_store_audit_head(tm_store *s, int *present, int64_t *seq, char hash[65], char mac[65],
                        struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_AUDIT_HEAD, err);
    if (!st)
        return TM_ESTORE;
    int step = db_step(s, st);
    *present = step == SQLITE_ROW;
    *seq = 0;
    hash[0] = mac[0] = '\0';
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "reading the audit head");
    if (*present) {
        char why[160] = "";
        const char *h, *m;
        size_t hl, ml;
        audit_int(st, 0, "seq", seq, why, sizeof why);
        audit_text(st, 1, "hash", &h, &hl, why, sizeof why);
        audit_text(st, 2, "mac", &m, &ml, why, sizeof why);
        if (!why[0] && hl != 64)
            snprintf(why, sizeof why, "its hash is %zu characters, not 64", hl);
        if (!why[0] && ml != 64)
            snprintf(why, sizeof why, "its mac is %zu characters, not 64", ml);
        if (why[0]) {
            rc = tm_err_set(err, TM_ECRYPTO, "the chain's head record was changed: %s", why);
            *seq = 0;
        } else {
            memcpy(hash, h, 65);
            memcpy(mac, m, 65);
        }
    }
    sqlite3_reset(st);
    return rc;
}

int tm_store_audit_set_head(tm_store *s, int64_t seq, const char *hash, const char *mac,
                            struct tm_err *err)
{
    sqlite3_stmt *st = stmt(s, ST_AUDIT_SET_HEAD, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, mac, -1, SQLITE_STATIC);
    return done(s, st, err);
}

int tm_store_audit_scan(tm_store *s, int64_t from, int64_t to, const char *subject,
                        int (*fn)(void *ud, const tm_audit_rec *r), void *ud, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit "
                   "WHERE at >= ?1 AND (?2 = 0 OR at < ?2) AND (?3 IS NULL OR subject = ?3) "
                   "ORDER BY seq", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    if (subject)
        sqlite3_bind_text(st, 3, subject, -1, SQLITE_STATIC);
    int rc;
    while ((rc = db_step(s, st)) == SQLITE_ROW) {
        tm_audit_rec r;
        char why[160] = "";
        audit_int(st, 0, "seq", &r.seq, why, sizeof why);
        audit_int(st, 1, "at", &r.at, why, sizeof why);
        audit_text(st, 2, "actor", &r.actor, &r.actor_len, why, sizeof why);
        audit_text(st, 3, "action", &r.action, &r.action_len, why, sizeof why);
        audit_text(st, 4, "subject", &r.subject, &r.subject_len, why, sizeof why);
        audit_text(st, 5, "details", &r.details, &r.details_len, why, sizeof why);
        audit_text(st, 6, "prev_hash", &r.prev_hash, &r.prev_hash_len, why, sizeof why);
        audit_text(st, 7, "hash", &r.hash, &r.hash_len, why, sizeof why);
        r.malformed = why[0] ? why : NULL;
        if (fn(ud, &r)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_decision_add(tm_store *s, const char *debt_id, int64_t at, const char *channel,
                          int allow, const char *blocked_by, int64_t next_allowed,
                          const char *scripts_hash, struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "INSERT INTO decisions (debt_id, at, channel, allow, blocked_by, "
                           "next_allowed_at, scripts_hash) VALUES ((SELECT id FROM debts WHERE debt_id "
                           "= ?1), ?2, ?3, ?4, ?5, ?6, ?7)";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    bind_opt_text(st, 1, debt_id);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, allow);
    bind_opt_text(st, 5, blocked_by);
    if (next_allowed)
        sqlite3_bind_int64(st, 6, next_allowed);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_text(st, 7, scripts_hash, -1, SQLITE_STATIC);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_reset(st);
    return rc;
}

int tm_store_scripts_deployed(tm_store *s, const char *set_hash, int64_t at, const char *by,
                              const char *manifest, int *is_new, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "INSERT OR IGNORE INTO script_versions (set_hash, deployed_at, deployed_by, "
                   "manifest) VALUES (?, ?, ?, ?)", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_text(st, 1, set_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    bind_opt_text(st, 3, by);
    bind_opt_text(st, 4, manifest);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    if (rc == TM_OK)
        *is_new = sqlite3_changes(s->db) > 0;
    sqlite3_finalize(st);
    return rc;
}

int tm_store_scan_training(tm_store *s, int64_t from, int64_t to, tm_store_training_fn fn, void *ud,
                           struct tm_err *err)
{
    /* One pass over the debts in id order; the outcome and the history
     * counts are correlated subqueries on the (debt_id, at) indexes. */
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT d.debt_id, d.debt_type, d.placed_balance_minor, d.currency, "
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
                   "FROM debts d JOIN consumers c ON c.id = d.consumer_id ORDER BY d.id", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    int rc = TM_OK, step;
    while ((step = db_step(s, st)) == SQLITE_ROW) {
        tm_training_row r;
        memset(&r, 0, sizeof r);
        copy_col(st, 0, r.debt_id, sizeof r.debt_id);
        copy_col(st, 1, r.debt_type, sizeof r.debt_type);
        r.placed_balance = sqlite3_column_int64(st, 2);
        copy_col(st, 3, r.currency, sizeof r.currency);
        r.days_past_due =
            sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
        copy_col(st, 5, r.charge_off_date, sizeof r.charge_off_date);
        copy_col(st, 6, r.last_payment_date, sizeof r.last_payment_date);
        copy_col(st, 7, r.state, sizeof r.state);
        r.paid = sqlite3_column_int(st, 8);
        r.payments_before = sqlite3_column_int64(st, 9);
        r.payments_90d = sqlite3_column_int64(st, 10);
        r.contacts_before = sqlite3_column_int64(st, 11);
        r.promises_before = sqlite3_column_int64(st, 12);
        r.right_party_before = sqlite3_column_int64(st, 13);
        r.broken_promises_before = sqlite3_column_int64(st, 14);
        r.replies_before = sqlite3_column_int64(st, 15);
        copy_col(st, 16, r.last_outcome, sizeof r.last_outcome);
        if ((rc = fn(ud, &r)) != TM_OK)
            break;
    }
    if (rc == TM_OK && step != SQLITE_DONE)
        rc = sql_error(s, err, "store");
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The daily cycle.
 */
int tm_store_cycle_set(tm_store *s, const char *name, int64_t value, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "INSERT OR REPLACE INTO cycle (name, value) VALUES (?, ?)", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_finalize(st);
    return rc;
}

int tm_store_cycle_get(tm_store *s, const char *name, int64_t *value, int *found,
                       struct tm_err *err)
{
    *found = 0;
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT value FROM cycle WHERE name = ?", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = db_step(s, st);
    int rc = TM_OK;
    if (step == SQLITE_ROW) {
        *value = sqlite3_column_int64(st, 0);
        *found = 1;
    } else if (step != SQLITE_DONE) {
        rc = sql_error(s, err, "store");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Collects the first column (an integer) of every row of `sql` with its
 * bound integers, so the caller can write while it walks the list. */
static int collect_ids(tm_store *s, const char *sql, const int64_t *args, int nargs, int64_t **ids,
                       size_t *n, struct tm_err *err)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    for (int i = 0; i < nargs; i++)
        sqlite3_bind_int64(st, i + 1, args[i]);
    size_t cap = 0;
    int step;
    while ((step = db_step(s, st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *q = realloc(*ids, cap * sizeof *q);
            if (!q) {
                sqlite3_finalize(st);
                free(*ids);
                *ids = NULL;
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            }
            *ids = q;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        return sql_error(s, err, "store");
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
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT id, type, debt_id, at, payload FROM events WHERE worked = 0 "
                   "AND at < ?1 AND status = 'applied' AND debt_id IS NOT NULL "
                   "ORDER BY at, id", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int64(st, 1, until);
    /* Read them all first: the callback writes. */
    typedef struct {
        int64_t id, debt, at;
        char type[32];
        char *payload;
    } row;
    row *rows = NULL;
    size_t n = 0, cap = 0;
    int step, rc = TM_OK;
    while ((step = db_step(s, st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            row *q = realloc(rows, cap * sizeof *q);
            if (!q) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            rows = q;
        }
        rows[n].id = sqlite3_column_int64(st, 0);
        copy_col(st, 1, rows[n].type, sizeof rows[n].type);
        rows[n].debt = sqlite3_column_int64(st, 2);
        rows[n].at = sqlite3_column_int64(st, 3);
        const unsigned char *p = sqlite3_column_text(st, 4);
        /* An event worked without its payload would be worked wrong. */
        if (!(rows[n].payload = strdup(p ? (const char *)p : "{}"))) {
            rc = tm_err_set(err, TM_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    if (rc == TM_OK && step != SQLITE_DONE)
        rc = sql_error(s, err, "store");
    sqlite3_finalize(st);
    for (size_t i = 0; i < n && rc == TM_OK; i++)
        rc = fn(ud, rows[i].id, rows[i].type, rows[i].debt, rows[i].at, rows[i].payload);
    for (size_t i = 0; i < n; i++)
        free(rows[i].payload);
    free(rows);
    return rc;
}

int tm_store_work_debt(tm_store *s, int64_t id, tm_work_debt *w, int *found, struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "SELECT d.debt_id, d.creditor, d.debt_type, d.balance_minor, d.placed_balance_minor, "
            "d.currency, d.days_past_due, d.charge_off_date, d.last_payment_date, d.dispute, "
            "d.status, d.journey, d.journey_state, d.journey_version, d.variant, d.timer_at, "
            "d.timer_go, d.journey_step, c.state, c.timezone, c.language, c.flags, c.consent, "
            "c.optout, d.consumer_id, d.offer, "
            "(SELECT p.amount_minor || ',' || p.due_date FROM promises p WHERE p.debt_id = d.id AND "
            "p.status = 'open' ORDER BY p.id DESC LIMIT 1), "
            "EXISTS (SELECT 1 FROM events e WHERE e.debt_id = d.id AND e.type = 'hardship' AND "
            "e.status = 'applied'), d.journey_hash, d.closed_reason "
            "FROM debts d JOIN consumers c ON c.id = d.consumer_id WHERE d.id = ?";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int step = db_step(s, st);
    *found = step == SQLITE_ROW;
    if (*found) {
        memset(w, 0, sizeof *w);
        w->id = id;
        copy_col(st, 0, w->debt_id, sizeof w->debt_id);
        copy_col(st, 1, w->creditor, sizeof w->creditor);
        copy_col(st, 2, w->debt_type, sizeof w->debt_type);
        w->balance = sqlite3_column_int64(st, 3);
        w->placed_balance = sqlite3_column_int64(st, 4);
        copy_col(st, 5, w->currency, sizeof w->currency);
        w->days_past_due = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6);
        copy_col(st, 7, w->charge_off_date, sizeof w->charge_off_date);
        copy_col(st, 8, w->last_payment_date, sizeof w->last_payment_date);
        copy_col(st, 9, w->dispute, sizeof w->dispute);
        copy_col(st, 10, w->status, sizeof w->status);
        copy_col(st, 11, w->journey, sizeof w->journey);
        copy_col(st, 12, w->journey_state, sizeof w->journey_state);
        const unsigned char *v = sqlite3_column_text(st, 13);
        w->journey_version = v ? atoi((const char *)v) : 0;
        copy_col(st, 14, w->variant, sizeof w->variant);
        w->timer_at = sqlite3_column_type(st, 15) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 15);
        copy_col(st, 16, w->timer_go, sizeof w->timer_go);
        w->journey_step = sqlite3_column_int64(st, 17);
        copy_col(st, 18, w->state, sizeof w->state);
        copy_col(st, 19, w->timezone, sizeof w->timezone);
        copy_col(st, 20, w->language, sizeof w->language);
        copy_col(st, 21, w->flags, sizeof w->flags);
        copy_col(st, 22, w->consent, sizeof w->consent);
        copy_col(st, 23, w->optout, sizeof w->optout);
        w->consumer_id = sqlite3_column_int64(st, 24);
        copy_col(st, 25, w->offer, sizeof w->offer);
        const unsigned char *pr = sqlite3_column_text(st, 26);
        if (pr) {
            const char *comma = strchr((const char *)pr, ',');
            w->promise_amount = strtoll((const char *)pr, NULL, 10);
            if (comma)
                snprintf(w->promise_due, sizeof w->promise_due, "%s", comma + 1);
        }
        w->hardship = sqlite3_column_int(st, 27);
        copy_col(st, 28, w->journey_hash, sizeof w->journey_hash);
        copy_col(st, 29, w->closed_reason, sizeof w->closed_reason);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_debt_set_journey(tm_store *s, int64_t id, const tm_work_debt *w, struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "UPDATE debts SET journey = ?1, journey_state = ?2, journey_version = ?3, "
                           "variant = ?4, timer_at = ?5, timer_go = ?6, journey_step = ?7, "
                           "closed_reason = ?8, status = ?9, offer = ?11, journey_hash = ?12 "
                           "WHERE id = ?10";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    bind_opt_text(st, 1, w->journey);
    bind_opt_text(st, 2, w->journey_state);
    char v[16];
    snprintf(v, sizeof v, "%d", w->journey_version);
    sqlite3_bind_text(st, 3, v, -1, SQLITE_TRANSIENT);
    bind_opt_text(st, 4, w->variant);
    if (w->timer_go[0]) {
        sqlite3_bind_int64(st, 5, w->timer_at);
        sqlite3_bind_text(st, 6, w->timer_go, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 5);
        sqlite3_bind_null(st, 6);
    }
    sqlite3_bind_int64(st, 7, w->journey_step);
    bind_opt_text(st, 8, w->closed_reason);
    sqlite3_bind_text(st, 9, w->status[0] ? w->status : "open", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, id);
    bind_opt_text(st, 11, w->offer);
    bind_opt_text(st, 12, w->journey_hash);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_reset(st);
    return rc;
}

int tm_store_journey_archive(tm_store *s, const tm_journey_text *t, int64_t now, int *is_new,
                             struct tm_err *err)
{
    if (is_new)
        *is_new = 0;
    if (!t || !t->hash || strlen(t->hash) != 64 || !t->journey || !*t->journey || !t->text)
        return tm_err_set(err, TM_EINVAL, "journey archive: a text needs its SHA-256, journey id and text");
    sqlite3_stmt *st;
    /* The hash names the text, so a text already kept is left as it was
     * first seen (its path and first_seen stay those of its first run). */
    static const char sql[] =
        "INSERT OR IGNORE INTO journey_texts (hash, journey, version, path, text, first_seen) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, t->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->journey, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, t->version);
    sqlite3_bind_text(st, 4, t->path ? t->path : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, t->text, (int)t->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "journey archive");
    if (rc == TM_OK && is_new)
        *is_new = sqlite3_changes(s->db) > 0;
    sqlite3_reset(st);
    return rc;
}

int tm_store_journey_text(tm_store *s, const char *hash, tm_journey_text *out, int *found,
                          struct tm_err *err)
{
    *found = 0;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    static const char sql[] =
        "SELECT journey, version, path, text FROM journey_texts WHERE hash = ?";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, hash ? hash : "", -1, SQLITE_STATIC);
    int step = db_step(s, st);
    int rc = TM_OK;
    if (step == SQLITE_ROW) {
        const char *j = (const char *)sqlite3_column_text(st, 0);
        const char *p = (const char *)sqlite3_column_text(st, 2);
        const char *x = (const char *)sqlite3_column_blob(st, 3);
        size_t n = (size_t)sqlite3_column_bytes(st, 3);
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
            out->version = sqlite3_column_int(st, 1);
            out->hash = NULL;
            *found = 1;
        }
    } else if (step != SQLITE_DONE) {
        rc = sql_error(s, err, "journey archive");
    }
    sqlite3_reset(st);
    return rc;
}

int tm_store_journey_hashes(tm_store *s, char **out, size_t *n, struct tm_err *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT hash FROM journey_texts ORDER BY hash", &st) != SQLITE_OK)
        return sql_error(s, err, "journey archive");
    size_t cap = 0;
    int step;
    while ((step = db_step(s, st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char *q = realloc(*out, cap * 65);
            if (!q) {
                sqlite3_finalize(st);
                free(*out);
                *out = NULL;
                *n = 0;
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            }
            *out = q;
        }
        const unsigned char *h = sqlite3_column_text(st, 0);
        snprintf(*out + *n * 65, 65, "%s", h ? (const char *)h : "");
        ++*n;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return sql_error(s, err, "journey archive");
    }
    return TM_OK;
}

int tm_store_outbox_plan(tm_store *s, const tm_outbox_rec *o, int *added, struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "INSERT OR IGNORE INTO outbox (idempotency_key, debt_id, channel, template, "
                           "payload, status, send_at, purpose, journey_state, created_at) VALUES "
                           "(?1, ?2, ?3, ?4, ?5, 'planned', ?6, ?7, ?8, ?9)";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, o->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, o->debt);
    sqlite3_bind_text(st, 3, o->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, o->template_id, -1, SQLITE_STATIC);
    bind_opt_text(st, 5, o->payload);
    sqlite3_bind_int64(st, 6, o->send_at);
    bind_opt_text(st, 7, o->purpose);
    bind_opt_text(st, 8, o->journey_state);
    sqlite3_bind_int64(st, 9, o->created_at);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    if (added)
        *added = rc == TM_OK && sqlite3_changes(s->db) > 0;
    sqlite3_reset(st);
    return rc;
}

int tm_store_outbox_get(tm_store *s, int64_t id, tm_outbox_rec *o, int *found, struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "SELECT o.idempotency_key, o.debt_id, o.channel, o.template, o.payload, o.status, "
                           "o.send_at, o.purpose, o.journey_state, o.attempts, d.debt_id FROM outbox o "
                           "LEFT JOIN debts d ON d.id = o.debt_id WHERE o.id = ?";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int step = db_step(s, st);
    *found = step == SQLITE_ROW;
    if (*found) {
        memset(o, 0, sizeof *o);
        o->id = id;
        copy_col(st, 0, o->key_buf, sizeof o->key_buf);
        o->key = o->key_buf;
        o->debt = sqlite3_column_int64(st, 1);
        copy_col(st, 2, o->channel_buf, sizeof o->channel_buf);
        o->channel = o->channel_buf;
        copy_col(st, 3, o->template_buf, sizeof o->template_buf);
        o->template_id = o->template_buf;
        const void *p = sqlite3_column_blob(st, 4);
        int pn = sqlite3_column_bytes(st, 4);
        if (p) {
            /* Without its payload the row would be judged unreadable and
             * marked failed: out of memory stops the work instead. */
            if (!(o->payload_owned = malloc((size_t)pn + 1))) {
                sqlite3_reset(st);
                *found = 0;
                return tm_err_set(err, TM_ENOMEM, "out of memory reading outbox row %lld", (long long)id);
            }
            memcpy(o->payload_owned, p, (size_t)pn);
            o->payload_owned[pn] = '\0';
            o->payload_len = (size_t)pn;
        }
        o->payload = o->payload_owned;
        copy_col(st, 5, o->status, sizeof o->status);
        o->send_at = sqlite3_column_int64(st, 6);
        copy_col(st, 7, o->purpose_buf, sizeof o->purpose_buf);
        o->purpose = o->purpose_buf;
        copy_col(st, 8, o->state_buf, sizeof o->state_buf);
        o->journey_state = o->state_buf;
        o->attempts = sqlite3_column_int(st, 9);
        copy_col(st, 10, o->debt_ref, sizeof o->debt_ref);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_outbox_set(tm_store *s, int64_t id, const char *status, int64_t send_at,
                        const char *blocked_by, const char *payload, int64_t sent_at,
                        struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "UPDATE outbox SET status = ?1, send_at = ?2, blocked_by = COALESCE(?3, blocked_by), "
                           "payload = COALESCE(?4, payload), sent_at = ?5, attempts = attempts + "
                           "(?1 IN ('sent', 'failed')) WHERE id = ?6";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, send_at);
    bind_opt_text(st, 3, blocked_by);
    bind_opt_text(st, 4, payload);
    if (sent_at)
        sqlite3_bind_int64(st, 5, sent_at);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, id);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_reset(st);
    return rc;
}

int tm_store_history(tm_store *s, int64_t consumer, int64_t since, tm_store_history_fn fn, void *ud,
                     struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "SELECT k.channel, k.at, k.outcome, k.place, k.direction, d.debt_id FROM "
                           "contacts k JOIN debts d ON d.id = k.debt_id WHERE d.consumer_id = ?1 AND "
                           "k.at >= ?2 ORDER BY k.at";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, consumer);
    sqlite3_bind_int64(st, 2, since);
    int step, rc = TM_OK;
    while (rc == TM_OK && (step = db_step(s, st)) == SQLITE_ROW)
        rc = fn(ud, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
                (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
                (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5));
    /* A history cut short by an error would let the gate allow a contact
     * the caps forbid. */
    if (rc == TM_OK && step != SQLITE_DONE)
        rc = sql_error(s, err, "reading the contact history");
    sqlite3_reset(st);
    return rc;
}

int tm_store_event_worked(tm_store *s, int64_t id, struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "UPDATE events SET worked = 1 WHERE id = ?";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_reset(st);
    return rc;
}

int tm_store_journey_counts(tm_store *s, tm_store_count_fn fn, void *ud, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT coalesce(journey, '(none)'), coalesce(journey_state, ''), "
                   "count(*) FROM debts GROUP BY 1, 2 ORDER BY 1, 2", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    int step, rc = TM_OK;
    while (rc == TM_OK && (step = db_step(s, st)) == SQLITE_ROW)
        rc = fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                sqlite3_column_int64(st, 2));
    if (rc == TM_OK && step != SQLITE_DONE)
        rc = sql_error(s, err, "counting debts by journey");
    sqlite3_finalize(st);
    return rc;
}

int tm_store_outbox_ready(tm_store *s, int64_t id, const uint8_t *blob, size_t len, int key_version,
                          struct tm_err *err)
{
    static const char sql[] =
        "UPDATE outbox SET status = 'ready', payload = ?1, key_version = ?2 WHERE id = ?3";
    sqlite3_stmt *st;
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, key_version);
    sqlite3_bind_int64(st, 3, id);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_reset(st);
    return rc;
}

/* ---- Simulation --------------------------------------------------------- */

int tm_store_snapshot(const char *src, const char *dst, struct tm_err *err)
{
    if (src == NULL || dst == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_store_snapshot: NULL path");
    if (strstr(src, "://") != NULL)
        return tm_err_set(err, TM_EINVAL, "%s: only a SQLite store can be copied", src);
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

int tm_store_queue_add(tm_store *s, const tm_queue_item *q, int *added, struct tm_err *err)
{
    *added = 0;
    sqlite3_stmt *st;
    static const char sql[] =
        "INSERT OR IGNORE INTO agent_queue (idempotency_key, debt_id, queue, reason, journey, "
        "journey_state, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_text(st, 1, q->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, q->debt);
    sqlite3_bind_text(st, 3, q->queue, -1, SQLITE_STATIC);
    bind_opt_text(st, 4, q->reason);
    bind_opt_text(st, 5, q->journey);
    bind_opt_text(st, 6, q->journey_state);
    sqlite3_bind_int64(st, 7, q->at);
    int rc = done(s, st, err);
    if (rc == TM_OK)
        *added = sqlite3_changes(s->db) > 0;
    return rc;
}

int tm_store_queue_list(tm_store *s, const char *queue, int all, tm_store_queue_fn fn, void *ud,
                        struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT q.id, d.debt_id, q.queue, q.reason, q.journey, q.journey_state, "
                   "q.created_at, q.status, q.closed_at, q.closed_by, q.outcome FROM agent_queue q "
                   "JOIN debts d ON d.id = q.debt_id WHERE (?1 IS NULL OR q.queue = ?1) AND "
                   "(?2 OR q.status = 'open') ORDER BY q.queue, q.created_at, q.id", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    bind_opt_text(st, 1, queue);
    sqlite3_bind_int(st, 2, all != 0);
    int rc = TM_OK, step;
    while ((step = db_step(s, st)) == SQLITE_ROW) {
        tm_queue_item q;
        memset(&q, 0, sizeof q);
        char debt[129], name[64], reason[256], journey[64], state[64], status[16], by[64], outcome[64];
        q.id = sqlite3_column_int64(st, 0);
        copy_col(st, 1, debt, sizeof debt);
        copy_col(st, 2, name, sizeof name);
        copy_col(st, 3, reason, sizeof reason);
        copy_col(st, 4, journey, sizeof journey);
        copy_col(st, 5, state, sizeof state);
        q.at = sqlite3_column_int64(st, 6);
        copy_col(st, 7, status, sizeof status);
        q.closed_at = sqlite3_column_int64(st, 8);
        copy_col(st, 9, by, sizeof by);
        copy_col(st, 10, outcome, sizeof outcome);
        q.debt_ref = debt;
        q.queue = name;
        q.reason = reason;
        q.journey = journey;
        q.journey_state = state;
        q.status = status;
        q.closed_by = by;
        q.outcome = outcome;
        if ((rc = fn(ud, &q)) != TM_OK)
            break;
    }
    sqlite3_finalize(st);
    if (rc == TM_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = sql_error(s, err, "store");
    return rc;
}

int tm_store_queue_close(tm_store *s, int64_t id, const char *by, const char *outcome, int64_t at,
                         int *closed, struct tm_err *err)
{
    *closed = 0;
    sqlite3_stmt *st;
    if (db_prep(s, "UPDATE agent_queue SET status = 'closed', closed_at = ?1, closed_by = ?2, "
                   "outcome = ?3 WHERE id = ?4 AND status = 'open'", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int64(st, 1, at);
    bind_opt_text(st, 2, by);
    bind_opt_text(st, 3, outcome);
    sqlite3_bind_int64(st, 4, id);
    int step = db_step(s, st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return sql_error(s, err, "store");
    *closed = sqlite3_changes(s->db) > 0;
    return TM_OK;
}

int tm_store_score_set(tm_store *s, int64_t debt, const char *model, double probability,
                       const char *reasons, int64_t at, struct tm_err *err)
{
    sqlite3_stmt *st;
    static const char sql[] =
        "INSERT OR REPLACE INTO scores (debt_id, model, probability, reasons, at) VALUES (?1, ?2, ?3, ?4, ?5)";
    if ((st = cached(s, sql, err)) == NULL)
        return TM_ESTORE;
    sqlite3_bind_int64(st, 1, debt);
    sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, probability);
    bind_opt_text(st, 4, reasons);
    sqlite3_bind_int64(st, 5, at);
    return done(s, st, err);
}

static void read_attempt(sqlite3_stmt *st, tm_pay_attempt *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    copy_col(st, 1, a->key_buf, sizeof a->key_buf);
    a->debt = sqlite3_column_int64(st, 2);
    copy_col(st, 3, a->token_buf, sizeof a->token_buf);
    a->amount = sqlite3_column_int64(st, 4);
    copy_col(st, 5, a->currency, sizeof a->currency);
    a->at = sqlite3_column_int64(st, 6);
    copy_col(st, 7, a->outcome_buf, sizeof a->outcome_buf);
    copy_col(st, 8, a->reference_buf, sizeof a->reference_buf);
    copy_col(st, 9, a->reason_buf, sizeof a->reason_buf);
    copy_col(st, 10, a->debt_buf, sizeof a->debt_buf);
    read_hash(st, 11, &a->content);
    copy_col(st, 12, a->origin_buf, sizeof a->origin_buf);
    a->origin = a->origin_buf;
    a->key = a->key_buf;
    a->token = a->token_buf;
    a->outcome = a->outcome_buf;
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
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT " ATTEMPT_COLS "WHERE a.idempotency_key = ?1", &st) !=
        SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int step = db_step(s, st);
    if (step == SQLITE_ROW) {
        read_attempt(st, out);
        *found = 1;
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_pay_attempt_put(tm_store *s, const tm_pay_attempt *a, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "INSERT INTO payment_attempts (idempotency_key, debt_id, instrument_token, "
                           "amount_minor, currency, at, outcome, reference, reason, content_hash, "
                           "origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                           "ON CONFLICT(idempotency_key) DO UPDATE "
                           "SET outcome = excluded.outcome, reference = excluded.reference, "
                           "reason = excluded.reason", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_text(st, 1, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->debt);
    sqlite3_bind_text(st, 3, a->token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->amount);
    sqlite3_bind_text(st, 5, a->currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, a->at);
    sqlite3_bind_text(st, 7, a->outcome, -1, SQLITE_STATIC);
    bind_opt_text(st, 8, a->reference);
    bind_opt_text(st, 9, a->reason);
    bind_hash(st, 10, &a->content);
    bind_opt_text(st, 11, a->origin);
    int step = db_step(s, st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_pay_attempts_between(tm_store *s, int64_t after, int64_t until,
                                  tm_store_pay_attempt_fn fn, void *ud, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT " ATTEMPT_COLS "WHERE a.at > ?1 AND a.at <= ?2 ORDER BY a.at, a.id", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, until);
    int rc = TM_OK, step;
    while ((step = db_step(s, st)) == SQLITE_ROW) {
        tm_pay_attempt a;
        read_attempt(st, &a);
        if ((rc = fn(ud, &a)) != TM_OK)
            break;
    }
    sqlite3_finalize(st);
    if (rc == TM_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = sql_error(s, err, "store");
    return rc;
}

int tm_store_last_event_at(tm_store *s, int64_t *at, struct tm_err *err)
{
    *at = 0;
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT max(at) FROM events WHERE status = 'applied'", &st) !=
        SQLITE_OK)
        return sql_error(s, err, "store");
    int step = db_step(s, st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *at = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
}

int tm_store_reset_journeys(tm_store *s, struct tm_err *err)
{
    static const char sql[] =
        "UPDATE debts SET journey = NULL, journey_state = NULL, journey_version = NULL, "
        "variant = NULL, timer_at = NULL, timer_go = NULL, journey_step = 0, "
        "closed_reason = NULL, offer = NULL, journey_hash = NULL WHERE status = 'open';\n"
        "DELETE FROM outbox;\n"
        "DELETE FROM decisions;\n"
        "DELETE FROM cycle;\n"
        "UPDATE events SET worked = 1 WHERE worked = 0;\n";
    int rc = tm_store_begin(s, err);
    if (rc != TM_OK)
        return rc;
    rc = exec(s, sql, err);
    if (rc != TM_OK) {
        tm_store_rollback(s);
        return rc;
    }
    return tm_store_commit(s, err);
}

/* ---------------------------------------------------------------------------
 * The keys the store knows (core/keycheck.c), and what their ciphertext is.
 */
int tm_store_key_check_get(tm_store *s, int version, char value[65], int *found, struct tm_err *err)
{
    *found = 0;
    value[0] = '\0';
    static const char sql[] = "SELECT check_value FROM key_checks WHERE version = ?";
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int(st, 1, version);
    int step = db_step(s, st);
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    if (step == SQLITE_ROW) {
        /* Compared whole: a value of another length or type never matches. */
        const char *t = (const char *)sqlite3_column_text(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        *found = 1;
        if (sqlite3_column_type(st, 0) == SQLITE_TEXT && t && n == 64 && strlen(t) == 64)
            memcpy(value, t, 65);
    }
    sqlite3_finalize(st);
    return rc;
}

int tm_store_key_check_put(tm_store *s, int version, const char *value, int64_t at,
                           struct tm_err *err)
{
    static const char sql[] =
        "INSERT INTO key_checks (version, check_value, recorded_at) VALUES (?1, ?2, ?3)";
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int(st, 1, version);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "recording a key check");
    sqlite3_finalize(st);
    return rc;
}

int tm_store_key_check_max(tm_store *s, int *max, int *count, struct tm_err *err)
{
    *max = 0;
    *count = 0;
    static const char sql[] = "SELECT COALESCE(MAX(version), 0), COUNT(*) FROM key_checks";
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    int rc = TM_OK;
    if (db_step(s, st) == SQLITE_ROW) {
        *max = sqlite3_column_int(st, 0);
        *count = sqlite3_column_int(st, 1);
    } else {
        rc = sql_error(s, err, "store");
    }
    sqlite3_finalize(st);
    return rc;
}

int tm_store_count_data(tm_store *s, tm_store_counts *c, struct tm_err *err)
{
    memset(c, 0, sizeof *c);
    static const char sql[] =
        "SELECT (SELECT COUNT(*) FROM consumers), (SELECT COUNT(*) FROM debts), "
        "(SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM decisions), "
        "(SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM script_versions), "
        "(SELECT COUNT(*) FROM audit) + (SELECT COUNT(*) FROM audit_head), "
        "(SELECT COUNT(*) FROM key_checks)";
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    int rc = TM_OK;
    if (db_step(s, st) == SQLITE_ROW) {
        int64_t *f[] = {&c->consumers, &c->debts,       &c->events, &c->decisions,
                        &c->outbox,    &c->script_sets, &c->audit,  &c->key_checks};
        for (int i = 0; i < 8; i++)
            *f[i] = sqlite3_column_int64(st, i);
    } else {
        rc = sql_error(s, err, "store");
    }
    sqlite3_finalize(st);
    return rc;
}

/* A blob's key version as SQL sees it: keys.h puts it big-endian after the
 * format byte, so hex() of those 4 bytes is 8 upper-case digits, which
 * compare as text in the order of the numbers. Debts' attributes have no
 * version column; this reads theirs. */
#define BLOB_VERSION_HEX(col) "hex(substr(" col ", 2, 4))"

int tm_store_key_version_used_max(tm_store *s, int *max, struct tm_err *err)
{
    *max = 0;
    static const char sql[] =
        "SELECT (SELECT MAX(key_version) FROM consumers WHERE pii IS NOT NULL), "
        "(SELECT MAX(key_version) FROM outbox WHERE payload IS NOT NULL), "
        "(SELECT MAX(" BLOB_VERSION_HEX("attributes") ") FROM debts WHERE attributes IS NOT NULL)";
    sqlite3_stmt *st;
    if (db_prep(s, sql, &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    int rc = TM_OK;
    if (db_step(s, st) == SQLITE_ROW) {
        for (int i = 0; i < 2; i++)
            if (sqlite3_column_int(st, i) > *max)
                *max = sqlite3_column_int(st, i);
        const char *h = (const char *)sqlite3_column_text(st, 2);
        if (h && strlen(h) == 8) {
            unsigned long v = strtoul(h, NULL, 16);
            if (v <= INT32_MAX && (int)v > *max)
                *max = (int)v;
        }
    } else {
        rc = sql_error(s, err, "store");
    }
    sqlite3_finalize(st);
    return rc;
}

int tm_store_key_samples(tm_store *s, int version, tm_store_blob_fn fn, void *ud, int *seen,
                         struct tm_err *err)
{
    static const char *const sql[] = {
        "SELECT id, 'consumer:' || external_id, pii FROM consumers WHERE key_version = ?1 AND "
        "pii IS NOT NULL LIMIT 1",
        "SELECT id, 'debt:' || debt_id, attributes FROM debts WHERE attributes IS NOT NULL AND "
        BLOB_VERSION_HEX("attributes") " = printf('%08X', ?1) LIMIT 1",
        "SELECT id, 'outbox:' || idempotency_key, payload FROM outbox WHERE key_version = ?1 AND "
        "payload IS NOT NULL LIMIT 1",
    };
    *seen = 0;
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        sqlite3_stmt *st;
        if (db_prep(s, sql[i], &st) != SQLITE_OK)
            return sql_error(s, err, "store");
        sqlite3_bind_int(st, 1, version);
        int n = 0;
        int rc = scan_blobs(s, st, fn, ud, &n, NULL, err);
        *seen += n;
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

int tm_store_scan_stale_outbox(tm_store *s, int key_version, int limit, tm_store_blob_fn fn,
                               void *ud, int *seen, struct tm_err *err)
{
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT id, 'outbox:' || idempotency_key, payload FROM outbox WHERE "
                           "key_version IS NOT NULL AND key_version <> ? AND payload IS NOT NULL "
                           "LIMIT ?", &st) != SQLITE_OK)
        return sql_error(s, err, "store");
    sqlite3_bind_int(st, 1, key_version);
    sqlite3_bind_int(st, 2, limit);
    return scan_blobs(s, st, fn, ud, seen, NULL, err);
}

int tm_store_outbox_set_payload(tm_store *s, int64_t id, const uint8_t *blob, size_t len,
                                int key_version, struct tm_err *err)
{
    static const char sql[] = "UPDATE outbox SET payload = ?1, key_version = ?2 WHERE id = ?3";
    sqlite3_stmt *st = cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, key_version);
    sqlite3_bind_int64(st, 3, id);
    int rc = db_step(s, st) == SQLITE_DONE ? TM_OK : sql_error(s, err, "store");
    sqlite3_reset(st);
    return rc;
}

/* ---- Leases --------------------------------------------------------------- */

static void read_lease(sqlite3_stmt *st, tm_lease *l)
{
    memset(l, 0, sizeof *l);
    copy_col(st, 0, l->name, sizeof l->name);
    copy_col(st, 1, l->holder, sizeof l->holder);
    l->pid = sqlite3_column_int64(st, 2);
    copy_col(st, 3, l->host, sizeof l->host);
    l->pid_start = sqlite3_column_int64(st, 4);
    l->since = sqlite3_column_int64(st, 5);
    l->renewed = sqlite3_column_int64(st, 6);
}

int tm_store_lease_get(tm_store *s, const char *name, tm_lease *out, int *found, struct tm_err *err)
{
    *found = 0;
    sqlite3_stmt *st;
    if (db_prep(s, "SELECT name, holder, pid, host, pid_start, since, renewed FROM leases "
                   "WHERE name = ?1", &st) != SQLITE_OK)
        return sql_error(s, err, "reading the lease");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = db_step(s, st);
    if (step == SQLITE_ROW) {
        read_lease(st, out);
        *found = 1;
    }
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? TM_OK : sql_error(s, err, "reading the lease");
    sqlite3_finalize(st);
    return rc;
}

int tm_store_lease_put(tm_store *s, const tm_lease *l, struct tm_err *err)
{
    return run(s,
               "INSERT OR REPLACE INTO leases (name, holder, pid, host, pid_start, since, renewed) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
               "ttitiii", err, l->name, l->holder, l->pid, l->host, l->pid_start, l->since, l->renewed);
}

int tm_store_lease_renew(tm_store *s, const char *name, const char *holder, int64_t now, int *held,
                         struct tm_err *err)
{
    *held = 0;
    int rc = run(s, "UPDATE leases SET renewed = ?3 WHERE name = ?1 AND holder = ?2", "tti", err, name,
                 holder, now);
    if (rc == TM_OK)
        *held = sqlite3_changes(s->db) > 0;
    return rc;
}

int tm_store_lease_release(tm_store *s, const char *name, const char *holder, struct tm_err *err)
{
    return run(s, "DELETE FROM leases WHERE name = ?1 AND holder = ?2", "tt", err, name, holder);
}
