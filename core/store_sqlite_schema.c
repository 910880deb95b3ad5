/*
 * core/store_sqlite_schema.c: the SQLite store's schema. Migrations are
 * numbered SQL scripts applied in order, each in its own transaction, with the
 * version recorded in PRAGMA user_version, so opening an older store upgrades
 * it and a crash mid-migration leaves it at the last complete version. A
 * column a later migration adds is added only when the table lacks it, so a
 * store made by a build that had it already migrates too.
 */
#include "store_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* 11: delivery. Which of a consumer's contact points bounced or failed
 * (consumers.phone_bad, email_bad: the lookup hash of the point marked bad,
 * so a changed point is good again without anyone clearing the mark),
 * whether a postal address is on file (has_address), the consent's date and
 * source and the preferred channel from the placement, and the message a
 * contact was (contacts.message: the outbox key, so receipts and replies
 * find it). The columns are added where missing (add_missing). */
static const char migration_11[] =
    "CREATE INDEX IF NOT EXISTS contacts_message ON contacts(message) WHERE message IS NOT NULL;\n";

/* 12: the service's machine credentials (`tallyman tokens`). A token is
 * kept only as the hex SHA-256 of its text: the text is shown once, when it
 * is made, and cannot be read back. Its roles (comma-separated, app/access.c
 * names them), when it was made, when it expires (NULL: never), when it was
 * last used (written at most once a minute per token, so a busy token does
 * not turn every read into a write) and when it was revoked (NULL: live). A
 * revoked token keeps its row, and its name, for the record. */
static const char migration_12[] =
    "CREATE TABLE IF NOT EXISTS api_tokens (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  hash TEXT NOT NULL UNIQUE,\n"
    "  roles TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  expires_at INTEGER,\n"
    "  last_used_at INTEGER,\n"
    "  revoked_at INTEGER\n"
    ");\n";

/* 13: who may change what runs. A person's roles, one row each (users.role,
 * from version 1, is no longer read: a person may hold several roles); the
 * texts of every script generation, once per text by its SHA-256; each
 * generation with its lifecycle (proposed, approved, active, retired), the
 * roles whose approval it needs, its files, approvals and activations (each
 * naming the activation before it, for rollback). At most one generation is
 * active. */
static const char migration_13[] =
    "CREATE TABLE IF NOT EXISTS user_roles (\n"
    "  user_id INTEGER NOT NULL REFERENCES users(id),\n"
    "  role TEXT NOT NULL,\n"
    "  granted_by TEXT NOT NULL,\n"
    "  granted_at INTEGER NOT NULL,\n"
    "  PRIMARY KEY (user_id, role)\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS script_texts (\n"
    "  sha256 TEXT PRIMARY KEY,\n"
    "  text BLOB NOT NULL\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS script_generations (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  hash TEXT NOT NULL UNIQUE,\n"
    "  status TEXT NOT NULL,\n"
    "  needs TEXT NOT NULL,\n"             /* comma-separated roles */
    "  base TEXT,\n"
    "  source TEXT,\n"
    "  diff TEXT,\n"
    "  proposed_by TEXT NOT NULL,\n"
    "  proposed_at INTEGER NOT NULL,\n"
    "  approved_at INTEGER,\n"
    "  retired_at INTEGER\n"
    ");\n"
    "CREATE UNIQUE INDEX IF NOT EXISTS script_generations_one_active\n"
    "  ON script_generations(status) WHERE status = 'active';\n"
    "CREATE TABLE IF NOT EXISTS script_files (\n"
    "  generation INTEGER NOT NULL REFERENCES script_generations(id),\n"
    "  path TEXT NOT NULL,\n"
    "  sha256 TEXT NOT NULL REFERENCES script_texts(sha256),\n"
    "  PRIMARY KEY (generation, path)\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS script_approvals (\n"
    "  generation INTEGER NOT NULL REFERENCES script_generations(id),\n"
    "  role TEXT NOT NULL,\n"
    "  approved_by TEXT NOT NULL,\n"
    "  at INTEGER NOT NULL,\n"
    "  PRIMARY KEY (generation, role)\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS script_activations (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  generation INTEGER NOT NULL REFERENCES script_generations(id),\n"
    "  previous INTEGER REFERENCES script_activations(id),\n"
    "  at INTEGER NOT NULL,\n"
    "  activated_by TEXT NOT NULL,\n"
    "  how TEXT NOT NULL\n"                /* 'activate' or 'rollback' */
    ");\n";

/* 14: every decision of the gate, compactly, and the script texts that made
 * them. A decision row (gate_log) holds the debt, the instant judged, the
 * generation and the blocking rules by number (names in gate_names, each
 * text once), and the request fields it was judged on as a compact binary
 * encoding (core/gate_log.c), so it can be judged again. The generation's
 * texts are kept by content (in script_texts, once each, as migration 13
 * keeps them; gate_gen_files: a generation run as a draft, as its paths and
 * file hashes), so a past generation can be loaded again whatever the working
 * tree holds now. gate_decisions is the log as a person reads it in SQL. */
static const char migration_14[] =
    "CREATE TABLE IF NOT EXISTS gate_names (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE\n"      /* a rule id, generation hash, zone, city, ... */
    ");\n"
    "CREATE TABLE IF NOT EXISTS gate_log (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  debt INTEGER REFERENCES debts(id),\n" /* NULL: the request named no debt the store knows */
    "  at INTEGER NOT NULL,\n"           /* the instant judged: the contact's planned time */
    "  gen INTEGER NOT NULL,\n"          /* gate_names.id of the generation's hash */
    "  channel INTEGER NOT NULL,\n"      /* core/gate.h's enum tm_channel */
    "  allow INTEGER NOT NULL,\n"
    "  next INTEGER,\n"                  /* blocked: next allowed, seconds after `at`; NULL never */
    "  rules TEXT,\n"                    /* blocked: gate_names ids of the rules, comma-separated */
    "  request BLOB NOT NULL\n"          /* the fields judged on (core/gate_log.c) */
    ");\n"
    "CREATE INDEX IF NOT EXISTS gate_log_debt ON gate_log(debt);\n"
    "CREATE VIEW IF NOT EXISTS gate_decisions AS SELECT l.id, d.debt_id, l.at, "
    "CASE l.channel WHEN 0 THEN 'call' WHEN 1 THEN 'sms' WHEN 2 THEN 'email' WHEN 3 THEN 'letter' "
    "WHEN 4 THEN 'push' WHEN 5 THEN 'whatsapp' WHEN 6 THEN 'visit' END AS channel, l.allow, "
    "(SELECT group_concat(n.name, ',') FROM gate_names n WHERE instr(',' || l.rules || ',', "
    "',' || n.id || ',') > 0) AS blocked_by, CASE WHEN l.allow THEN l.at WHEN l.next IS NULL "
    "THEN NULL ELSE l.at + l.next END AS next_allowed_at, g.name AS scripts_hash "
    "FROM gate_log l LEFT JOIN debts d ON d.id = l.debt LEFT JOIN gate_names g ON g.id = l.gen;\n"
    "CREATE TABLE IF NOT EXISTS gate_gen_files (\n"
    "  set_hash TEXT NOT NULL,\n"        /* the generation (sandbox/scriptset.h) */
    "  path TEXT NOT NULL,\n"            /* relative to the script tree */
    "  sha256 TEXT NOT NULL REFERENCES script_texts(sha256),\n"
    "  PRIMARY KEY (set_hash, path)\n"
    ") WITHOUT ROWID;\n";

/* 15: people log in to the service. Their users row gains a password hash
 * (Argon2id, core/password.h), when it was set, when the person was
 * disabled, the TOTP secret's last accepted time step (the secret itself is
 * users.totp_secret, from version 1, now encrypted with the field key), and
 * the failed-login state: failures in a row, the last one, the lock, and
 * until when a code is awaited after a right password (columns added by
 * migration_columns). A session is kept by the SHA-256 of its id and of its
 * CSRF token, with its idle and absolute ends. A token may have a rate
 * limit of its own (api_tokens.rate_limit, requests a second; NULL: the
 * service's). */
static const char migration_15[] =
    "CREATE TABLE IF NOT EXISTS sessions (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  hash TEXT NOT NULL UNIQUE,\n"
    "  user_id INTEGER NOT NULL REFERENCES users(id),\n"
    "  csrf_hash TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  last_seen_at INTEGER NOT NULL,\n"
    "  expires_at INTEGER NOT NULL,\n"
    "  ended_at INTEGER\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);\n";


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
    {11, "consumers", "phone_bad", "BLOB"},
    {11, "consumers", "email_bad", "BLOB"},
    {11, "consumers", "has_address", "INTEGER NOT NULL DEFAULT 0"},
    {11, "consumers", "consent_date", "TEXT"},
    {11, "consumers", "consent_source", "TEXT"},
    {11, "consumers", "preferred_channel", "TEXT"},
    {11, "contacts", "message", "TEXT"},
    {15, "users", "password_hash", "TEXT"},
    {15, "users", "password_set_at", "INTEGER"},
    {15, "users", "disabled_at", "INTEGER"},
    {15, "users", "totp_secret", "BLOB"},
    {15, "users", "totp_last_step", "INTEGER NOT NULL DEFAULT 0"},
    {15, "users", "failed_logins", "INTEGER NOT NULL DEFAULT 0"},
    {15, "users", "last_failed_at", "INTEGER"},
    {15, "users", "locked_until", "INTEGER"},
    {15, "users", "password_ok_until", "INTEGER"},
    {15, "api_tokens", "rate_limit", "REAL"},
    {16, "api_tokens", "person", "TEXT"},
};

/* 16: personal tokens. A token may act for a person (users.name): it then
 * carries no roles of its own (roles ''), the person's are read on each
 * use. NULL: a machine's token, with its roles. The column is added by
 * migration_columns (so a store that has it already is upgraded too); the
 * index finds a person's tokens. */
static const char migration_16[] =
    "CREATE INDEX IF NOT EXISTS api_tokens_person ON api_tokens(person) WHERE person IS NOT NULL;\n";

/* 17: claims on agent queue items: an item an agent took to work (through
 * the service) is given to no one else until it is closed or the claim
 * expires. One row per item; a new claim replaces an expired one. */
static const char migration_17[] =
    "CREATE TABLE IF NOT EXISTS queue_claims (\n"
    "  item INTEGER PRIMARY KEY REFERENCES agent_queue(id),\n"
    "  claimed_by TEXT NOT NULL,\n"
    "  claimed_at INTEGER NOT NULL,\n"
    "  expires_at INTEGER NOT NULL\n"
    ");\n";

static const char *const migrations[] = {migration_1, migration_2, migration_3, migration_4,
                                         migration_5, migration_6, migration_7, migration_8,
                                         migration_9, migration_10, migration_11,
                                         migration_12, migration_13, migration_14,
                                         migration_15, migration_16, migration_17};


int tm_store_schema_version(tm_store *s)
{
    if (s->pg)
        return tm__pq_schema_version(s);
    tm_db_stmt *st;
    int v = -1;
    if (tm__sq_prepare(s, "PRAGMA user_version", &st) == TM_DB_OK) {
        if (tm__sq_step(s, st) == TM_DB_ROW)
            v = tm__db_column_int(st, 0);
        tm__db_finalize(st);
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
        if (s->pg) {
            snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s",
                     migration_columns[i].table, migration_columns[i].column,
                     migration_columns[i].decl);
            int rc = tm__sq_exec(s, sql, err);
            if (rc != TM_OK)
                return rc;
            continue;
        }
        snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name = '%s'",
                 migration_columns[i].table, migration_columns[i].column);
        tm_db_stmt *st;
        if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
            return tm__sq_error(s, err, "migrating");
        int step = tm__sq_step(s, st);
        tm__db_finalize(st);
        if (step != TM_DB_ROW && step != TM_DB_DONE)
            return tm__sq_error(s, err, "migrating");
        if (step == TM_DB_ROW)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", migration_columns[i].table,
                 migration_columns[i].column, migration_columns[i].decl);
        int rc = tm__sq_exec(s, sql, err);
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* PostgreSQL: the same migrations (translated, store_pg_sql.c), each in its
 * own transaction with its row in schema_migrations. The store's write lock
 * is taken before the version is read, so two processes opening a new store
 * at once migrate it once. */
static int pg_migrate(tm_store *s, int want, struct tm_err *err)
{
    int rc = tm__sq_exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                            "KEY, applied_at INTEGER NOT NULL)",
                         err);
    if (rc != TM_OK)
        return rc;
    for (;;) {
        if ((rc = tm_store_begin(s, err)) != TM_OK)
            return rc;
        int have = tm_store_schema_version(s);
        if (have < 0) {
            tm_store_rollback(s);
            return tm__sq_error(s, err, "reading the schema version");
        }
        if (have > want) {
            tm_store_rollback(s);
            return tm_err_set(err, TM_ESTORE,
                              "the store is at schema version %d, newer than this tallyman (%d)",
                              have, want);
        }
        if (have == want) {
            tm_store_rollback(s);
            return TM_OK;
        }
        char bump[160];
        snprintf(bump, sizeof bump,
                 "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, "
                 "CAST(extract(epoch FROM now()) AS bigint))",
                 have + 1);
        rc = add_missing(s, have + 1, err);
        if (rc == TM_OK)
            rc = tm__sq_exec(s, migrations[have], err);
        if (rc == TM_OK)
            rc = tm__sq_exec(s, bump, err);
        if (rc == TM_OK)
            rc = tm_store_commit(s, err);
        else
            tm_store_rollback(s);
        if (rc != TM_OK) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err ? err->msg : "failed");
            return tm_err_set(err, rc, "migrating the store to schema version %d: %s", have + 1, why);
        }
    }
}

int tm__sq_migrate(tm_store *s, struct tm_err *err)
{
    if (s->pg)
        return pg_migrate(s, (int)(sizeof migrations / sizeof *migrations), err);
    int have = tm_store_schema_version(s);
    int want = (int)(sizeof migrations / sizeof *migrations);
    if (have < 0)
        return tm__sq_error(s, err, "reading the schema version");
    if (have > want)
        return tm_err_set(err, TM_ESTORE,
                          "the store is at schema version %d, newer than this tallyman (%d)", have,
                          want);
    for (int v = have; v < want; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", v + 1);
        int rc = tm__sq_exec(s, "BEGIN IMMEDIATE", err);
        if (rc == TM_OK)
            rc = add_missing(s, v + 1, err);
        if (rc == TM_OK)
            rc = tm__sq_exec(s, migrations[v], err);
        if (rc == TM_OK)
            rc = tm__sq_exec(s, bump, err);
        if (rc == TM_OK)
            rc = tm__sq_exec(s, "COMMIT", err);
        if (rc != TM_OK) {
            tm__sq_abort(s);
            return rc;
        }
    }
    return TM_OK;
}
