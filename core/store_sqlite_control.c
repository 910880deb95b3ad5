/*
 * core/store_sqlite_control.c: what guards the records in the SQLite store:
 * the audit chain and its head (read back exactly as stored, so a changed
 * record is seen as changed), the key checks and the ciphertexts under each
 * key version (re-encryption scans), the counts that say a store is in
 * use, and the leases that keep runs apart.
 */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Ciphertexts by key version, for re-encryption (core/portfolio_rekey.c) and
 * the key checks below: fn is called with each row's id, the associated data
 * its ciphertext is bound to, and the ciphertext.
 */
static int scan_blobs(tm_store *s, tm_db_stmt *st, tm_store_blob_fn fn, void *ud, int *seen,
                      int64_t *last_id, struct tm_err *err)
{
    int rc = TM_OK, step;
    *seen = 0;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        (*seen)++;
        int64_t id = tm__db_column_int64(st, 0);
        if (last_id)
            *last_id = id;
        rc = fn(ud, id, (const char *)tm__db_column_text(st, 1), tm__db_column_blob(st, 2),
                (size_t)tm__db_column_bytes(st, 2));
    }
    /* A scan cut short by an error is not a scan that saw everything. */
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "scanning encrypted records");
    tm__db_finalize(st);
    return rc;
}

int tm_store_scan_stale_pii(tm_store *s, int key_version, int limit, tm_store_blob_fn fn, void *ud,
                            int *seen, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT id, 'consumer:' || external_id, pii FROM consumers WHERE key_version "
                   "IS NOT NULL AND key_version <> ? AND pii IS NOT NULL LIMIT ?", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int(st, 1, key_version);
    tm__db_bind_int(st, 2, limit);
    return scan_blobs(s, st, fn, ud, seen, NULL, err);
}

int tm_store_scan_attributes(tm_store *s, int64_t *after, int limit, tm_store_blob_fn fn, void *ud,
                             int *seen, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT id, 'debt:' || debt_id, attributes FROM debts WHERE id > ? AND "
                   "attributes IS NOT NULL ORDER BY id LIMIT ?", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, *after);
    tm__db_bind_int(st, 2, limit);
    return scan_blobs(s, st, fn, ud, seen, after, err);
}

int tm_store_debt_set_attributes(tm_store *s, int64_t debt, const uint8_t *blob, size_t len,
                                 struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "UPDATE debts SET attributes = ? WHERE id = ?", &st) !=
        TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_blob(st, 1, blob, (int)len, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, debt);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    tm__db_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The audit log (core/audit.c builds the chain on these).
 */
int tm_store_audit_tail(tm_store *s, int64_t *seq, char hash[65], struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_AUDIT_TAIL, err);
    if (!st)
        return TM_ESTORE;
    *seq = 0;
    hash[0] = '\0';
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        *seq = tm__db_column_int64(st, 0);
        tm__sq_copy_col(st, 1, hash, 65);
    }
    tm__db_reset(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "reading the audit chain");
}

int tm_store_audit_add(tm_store *s, const tm_audit_rec *r, struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_AUDIT_ADD, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, r->seq);
    tm__db_bind_int64(st, 2, r->at);
    tm__db_bind_text(st, 3, r->actor, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 4, r->action, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 5, r->subject, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 6, r->details, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 7, r->prev_hash, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 8, r->hash, -1, TM_DB_STATIC);
    return tm__sq_done(s, st, err);
}

static const char *type_name(int type)
{
    switch (type) {
    case TM_DB_INTEGER:
        return "an integer";
    case TM_DB_FLOAT:
        return "a real number";
    case TM_DB_TEXT:
        return "text";
    case TM_DB_BLOB:
        return "a blob";
    default:
        return "NULL";
    }
}

/* Column `col` of an audit row as the bytes stored, however many there are:
 * *out (never NULL) and *len. When the value is not text, or text holding a
 * NUL byte (which a C string would silently end at), and `why` is still
 * empty, says so in `why`. */
static void audit_text(tm_db_stmt *st, int col, const char *name, const char **out, size_t *len,
                       char *why, size_t cap)
{
    int type = tm__db_column_type(st, col); /* before any conversion */
    const char *t = (const char *)tm__db_column_text(st, col);
    *len = t ? (size_t)tm__db_column_bytes(st, col) : 0;
    *out = t ? t : "";
    if (why[0])
        return;
    if (type != TM_DB_TEXT)
        snprintf(why, cap, "its %s is stored as %s, not text", name, type_name(type));
    else if (strlen(*out) != *len)
        snprintf(why, cap, "its %s holds a NUL byte after %zu of its %zu bytes", name, strlen(*out),
                 *len);
}

/* An integer column read exactly: 0 when the stored value is of another type
 * (a real 130.7 or a text '130abc' would otherwise read as 130). */
static int audit_int(tm_db_stmt *st, int col, const char *name, int64_t *out, char *why,
                     size_t cap)
{
    int type = tm__db_column_type(st, col);
    *out = tm__db_column_int64(st, col);
    if (type == TM_DB_INTEGER)
        return 1;
    if (!why[0])
        snprintf(why, cap, "its %s is stored as %s, not an integer", name, type_name(type));
    return 0;
}

int tm_store_audit_head(tm_store *s, int *present, int64_t *seq, char hash[65], char mac[65],
                        struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_AUDIT_HEAD, err);
    if (!st)
        return TM_ESTORE;
    int step = tm__sq_step(s, st);
    *present = step == TM_DB_ROW;
    *seq = 0;
    hash[0] = mac[0] = '\0';
    int rc = step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "reading the audit head");
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
    tm__db_reset(st);
    return rc;
}

int tm_store_audit_set_head(tm_store *s, int64_t seq, const char *hash, const char *mac,
                            struct tm_err *err)
{
    tm_db_stmt *st = tm__sq_stmt(s, ST_AUDIT_SET_HEAD, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_int64(st, 1, seq);
    tm__db_bind_text(st, 2, hash, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 3, mac, -1, TM_DB_STATIC);
    return tm__sq_done(s, st, err);
}

int tm_store_audit_scan(tm_store *s, int64_t from, int64_t to, const char *subject,
                        int (*fn)(void *ud, const tm_audit_rec *r), void *ud, struct tm_err *err)
{
    return tm_store_audit_scan_actor(s, from, to, subject, NULL, fn, ud, err);
}

int tm_store_audit_scan_actor(tm_store *s, int64_t from, int64_t to, const char *subject,
                              const char *actor, int (*fn)(void *ud, const tm_audit_rec *r),
                              void *ud, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit "
                   "WHERE at >= ?1 AND (?2 = 0 OR at < ?2) AND (?3 IS NULL OR subject = ?3) "
                   "AND (?4 IS NULL OR actor = ?4) ORDER BY seq", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, from);
    tm__db_bind_int64(st, 2, to);
    if (subject)
        tm__db_bind_text(st, 3, subject, -1, TM_DB_STATIC);
    if (actor)
        tm__db_bind_text(st, 4, actor, -1, TM_DB_STATIC);
    int rc;
    while ((rc = tm__sq_step(s, st)) == TM_DB_ROW) {
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
            rc = TM_DB_DONE;
            break;
        }
    }
    tm__db_finalize(st);
    return rc == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

/* ---------------------------------------------------------------------------
 * Script generations' texts, kept so a past decision can be judged again:
 * the texts are the ones the lifecycle keeps (script_texts, once each);
 * a generation run as a draft, never proposed, names its files in
 * gate_gen_files, a proposed one in script_files.
 */
static int is_hash(const char *h) { return h && strlen(h) == 64; }

int tm_store_script_text_put(tm_store *s, const char *set_hash, const char *path,
                             const char *sha256, const char *text, size_t len,
                             struct tm_err *err)
{
    if (!is_hash(set_hash) || !is_hash(sha256) || !path)
        return tm_err_set(err, TM_EINVAL, "script text: a hash of 64 characters and a path are needed");
    int rc = TM_OK;
    tm_db_stmt *st = tm__sq_cached(s, "INSERT OR IGNORE INTO script_texts (sha256, text) VALUES (?1, ?2)", err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, sha256, -1, TM_DB_STATIC);
    tm__db_bind_blob(st, 2, len ? text : "", (int)len, TM_DB_STATIC);
    if ((rc = tm__sq_done(s, st, err)) != TM_OK)
        return rc;
    st = tm__sq_cached(s, "INSERT OR IGNORE INTO gate_gen_files (set_hash, path, sha256) VALUES (?1, ?2, ?3)", err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, set_hash, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 2, path, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 3, sha256, -1, TM_DB_STATIC);
    return tm__sq_done(s, st, err);
}

int tm_store_script_set_kept(tm_store *s, const char *set_hash, int *kept, struct tm_err *err)
{
    *kept = 0;
    if (!is_hash(set_hash))
        return tm_err_set(err, TM_EINVAL, "script set: not a hash of 64 characters");
    tm_db_stmt *st = tm__sq_cached(s, "SELECT 1 FROM gate_gen_files WHERE set_hash = ?1 UNION ALL SELECT 1 FROM script_generations "
                                     "WHERE hash = ?1 LIMIT 1", err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, set_hash, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    *kept = step == TM_DB_ROW;
    tm__db_reset(st);
    return step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
}

int tm_store_script_texts(tm_store *s, const char *set_hash, tm_store_script_text_fn fn, void *ud,
                          struct tm_err *err)
{
    if (!is_hash(set_hash))
        return tm_err_set(err, TM_EINVAL, "script set: not a hash of 64 characters");
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT f.path, f.sha256, b.text FROM (SELECT path, sha256 FROM gate_gen_files "
                   "WHERE set_hash = ?1 UNION SELECT sf.path, sf.sha256 FROM script_files sf JOIN "
                   "script_generations g ON g.id = sf.generation WHERE g.hash = ?1) f JOIN script_texts b "
                   "ON b.sha256 = f.sha256 ORDER BY f.path", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_text(st, 1, set_hash, -1, TM_DB_STATIC);
    int step, rc = TM_OK;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        const char *text = tm__db_column_blob(st, 2);
        size_t len = (size_t)tm__db_column_bytes(st, 2);
        rc = fn(ud, (const char *)tm__db_column_text(st, 0), (const char *)tm__db_column_text(st, 1),
                text ? text : "", len);
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "reading a script set's texts");
    tm__db_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The keys the store knows (core/keycheck.c), and what their ciphertext is.
 */
int tm_store_key_check_get(tm_store *s, int version, char value[65], int *found, struct tm_err *err)
{
    *found = 0;
    value[0] = '\0';
    static const char sql[] = "SELECT check_value FROM key_checks WHERE version = ?";
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int(st, 1, version);
    int step = tm__sq_step(s, st);
    int rc = step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    if (step == TM_DB_ROW) {
        /* Compared whole: a value of another length or type never matches. */
        const char *t = (const char *)tm__db_column_text(st, 0);
        int n = tm__db_column_bytes(st, 0);
        *found = 1;
        if (tm__db_column_type(st, 0) == TM_DB_TEXT && t && n == 64 && strlen(t) == 64)
            memcpy(value, t, 65);
    }
    tm__db_finalize(st);
    return rc;
}

int tm_store_key_check_put(tm_store *s, int version, const char *value, int64_t at,
                           struct tm_err *err)
{
    static const char sql[] =
        "INSERT INTO key_checks (version, check_value, recorded_at) VALUES (?1, ?2, ?3)";
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int(st, 1, version);
    tm__db_bind_text(st, 2, value, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 3, at);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "recording a key check");
    tm__db_finalize(st);
    return rc;
}

int tm_store_key_check_max(tm_store *s, int *max, int *count, struct tm_err *err)
{
    *max = 0;
    *count = 0;
    static const char sql[] = "SELECT COALESCE(MAX(version), 0), COUNT(*) FROM key_checks";
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    int rc = TM_OK;
    if (tm__sq_step(s, st) == TM_DB_ROW) {
        *max = tm__db_column_int(st, 0);
        *count = tm__db_column_int(st, 1);
    } else {
        rc = tm__sq_error(s, err, "store");
    }
    tm__db_finalize(st);
    return rc;
}

int tm_store_count_data(tm_store *s, tm_store_counts *c, struct tm_err *err)
{
    memset(c, 0, sizeof *c);
    static const char sql[] =
        "SELECT (SELECT COUNT(*) FROM consumers), (SELECT COUNT(*) FROM debts), "
        "(SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM decisions) + (SELECT COUNT(*) FROM gate_log), "
        "(SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM script_versions) + "
        "(SELECT COUNT(*) FROM script_generations) + (SELECT COUNT(*) FROM users), "
        "(SELECT COUNT(*) FROM audit) + (SELECT COUNT(*) FROM audit_head), "
        "(SELECT COUNT(*) FROM key_checks)";
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    int rc = TM_OK;
    if (tm__sq_step(s, st) == TM_DB_ROW) {
        int64_t *f[] = {&c->consumers, &c->debts,       &c->events, &c->decisions,
                        &c->outbox,    &c->script_sets, &c->audit,  &c->key_checks};
        for (int i = 0; i < 8; i++)
            *f[i] = tm__db_column_int64(st, i);
    } else {
        rc = tm__sq_error(s, err, "store");
    }
    tm__db_finalize(st);
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
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    int rc = TM_OK;
    if (tm__sq_step(s, st) == TM_DB_ROW) {
        for (int i = 0; i < 2; i++)
            if (tm__db_column_int(st, i) > *max)
                *max = tm__db_column_int(st, i);
        const char *h = (const char *)tm__db_column_text(st, 2);
        if (h && strlen(h) == 8) {
            unsigned long v = strtoul(h, NULL, 16);
            if (v <= INT32_MAX && (int)v > *max)
                *max = (int)v;
        }
    } else {
        rc = tm__sq_error(s, err, "store");
    }
    tm__db_finalize(st);
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
        tm_db_stmt *st;
        if (tm__sq_prepare(s, sql[i], &st) != TM_DB_OK)
            return tm__sq_error(s, err, "store");
        tm__db_bind_int(st, 1, version);
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
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT id, 'outbox:' || idempotency_key, payload FROM outbox WHERE "
                           "key_version IS NOT NULL AND key_version <> ? AND payload IS NOT NULL "
                           "LIMIT ?", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int(st, 1, key_version);
    tm__db_bind_int(st, 2, limit);
    return scan_blobs(s, st, fn, ud, seen, NULL, err);
}

int tm_store_outbox_set_payload(tm_store *s, int64_t id, const uint8_t *blob, size_t len,
                                int key_version, struct tm_err *err)
{
    static const char sql[] = "UPDATE outbox SET payload = ?1, key_version = ?2 WHERE id = ?3";
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_blob(st, 1, blob, (int)len, TM_DB_STATIC);
    tm__db_bind_int(st, 2, key_version);
    tm__db_bind_int64(st, 3, id);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "store");
    tm__db_reset(st);
    return rc;
}

/* ---- Leases --------------------------------------------------------------- */

static void read_lease(tm_db_stmt *st, tm_lease *l)
{
    memset(l, 0, sizeof *l);
    tm__sq_copy_col(st, 0, l->name, sizeof l->name);
    tm__sq_copy_col(st, 1, l->holder, sizeof l->holder);
    l->pid = tm__db_column_int64(st, 2);
    tm__sq_copy_col(st, 3, l->host, sizeof l->host);
    l->pid_start = tm__db_column_int64(st, 4);
    l->since = tm__db_column_int64(st, 5);
    l->renewed = tm__db_column_int64(st, 6);
}

int tm_store_lease_get(tm_store *s, const char *name, tm_lease *out, int *found, struct tm_err *err)
{
    *found = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT name, holder, pid, host, pid_start, since, renewed FROM leases "
                   "WHERE name = ?1", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "reading the lease");
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        read_lease(st, out);
        *found = 1;
    }
    int rc = step == TM_DB_ROW || step == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "reading the lease");
    tm__db_finalize(st);
    return rc;
}

int tm_store_lease_put(tm_store *s, const tm_lease *l, struct tm_err *err)
{
    return tm__sq_run(s,
               "INSERT OR REPLACE INTO leases (name, holder, pid, host, pid_start, since, renewed) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
               "ttitiii", err, l->name, l->holder, l->pid, l->host, l->pid_start, l->since, l->renewed);
}

int tm_store_lease_renew(tm_store *s, const char *name, const char *holder, int64_t now, int *held,
                         struct tm_err *err)
{
    *held = 0;
    int rc = tm__sq_run(s, "UPDATE leases SET renewed = ?3 WHERE name = ?1 AND holder = ?2", "tti", err, name,
                 holder, now);
    if (rc == TM_OK)
        *held = tm__db_changes(s) > 0;
    return rc;
}

int tm_store_lease_release(tm_store *s, const char *name, const char *holder, struct tm_err *err)
{
    return tm__sq_run(s, "DELETE FROM leases WHERE name = ?1 AND holder = ?2", "tt", err, name, holder);
}
