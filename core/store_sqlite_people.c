/*
 * core/store_sqlite_people.c: people's credentials and sessions in the
 * SQLite store (store.h, "People's credentials and sessions"). The service
 * reads a session on every request that carries the cookie, so that lookup
 * is a cached statement on a unique index: ending a session, or disabling
 * its person, takes effect from the next request on.
 */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <string.h>

int tm_store_user_auth_get(tm_store *s, const char *name, tm_user_auth *out, int *found,
                           struct tm_err *err)
{
    static const char sql[] =
        "SELECT u.id, u.name, (SELECT group_concat(role) FROM user_roles r WHERE r.user_id = u.id), "
        "coalesce(u.password_hash, ''), coalesce(u.disabled_at, 0), u.totp_secret, "
        "u.totp_last_step, u.failed_logins, coalesce(u.last_failed_at, 0), "
        "coalesce(u.locked_until, 0), coalesce(u.password_ok_until, 0) FROM users u "
        "WHERE u.name = ?";
    *found = 0;
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    int rc = TM_OK;
    if (step == TM_DB_ROW) {
        memset(out, 0, sizeof *out);
        out->id = tm__db_column_int64(st, 0);
        tm__sq_copy_col(st, 1, out->name, sizeof out->name);
        out->roles = tm__sq_roles_parse((const char *)tm__db_column_text(st, 2));
        tm__sq_copy_col(st, 3, out->password_hash, sizeof out->password_hash);
        out->disabled_at = tm__db_column_int64(st, 4);
        const void *b = tm__db_column_blob(st, 5);
        size_t n = (size_t)tm__db_column_bytes(st, 5);
        if (b && n <= sizeof out->totp) {
            memcpy(out->totp, b, n);
            out->totp_len = n;
        }
        out->totp_last_step = tm__db_column_int64(st, 6);
        out->failed = tm__db_column_int(st, 7);
        out->last_failed_at = tm__db_column_int64(st, 8);
        out->locked_until = tm__db_column_int64(st, 9);
        out->password_ok_until = tm__db_column_int64(st, 10);
        *found = 1;
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "reading a person's credentials");
    }
    tm__db_reset(st);
    tm__db_clear_bindings(st);
    return rc;
}

int tm_store_user_set_password(tm_store *s, int64_t id, const char *hash, int64_t at,
                               struct tm_err *err)
{
    return tm__sq_run(s,
                      "UPDATE users SET password_hash = ?, password_set_at = ?, failed_logins = 0, "
                      "last_failed_at = NULL, locked_until = NULL, password_ok_until = NULL "
                      "WHERE id = ?",
                      "tii", err, hash, at, id);
}

int tm_store_user_set_disabled(tm_store *s, int64_t id, int64_t at, struct tm_err *err)
{
    int rc;
    if (at > 0) {
        rc = tm__sq_run(s, "UPDATE users SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?",
                        "ii", err, at, id);
        if (rc == TM_OK)
            rc = tm__sq_run(s, "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND "
                               "ended_at IS NULL", "ii", err, at, id);
    } else {
        rc = tm__sq_run(s, "UPDATE users SET disabled_at = NULL WHERE id = ?", "i", err, id);
    }
    return rc;
}

int tm_store_user_set_totp(tm_store *s, int64_t id, const uint8_t *blob, size_t len,
                           struct tm_err *err)
{
    if (len > sizeof ((tm_user_auth *)0)->totp)
        return tm_err_set(err, TM_EINVAL, "a TOTP secret of %zu bytes is too long", len);
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "UPDATE users SET totp_secret = ?, totp_last_step = 0 WHERE id = ?", &st) !=
        TM_DB_OK)
        return tm__sq_error(s, err, "storing a TOTP secret");
    tm__db_bind_blob(st, 1, blob, (int)len, TM_DB_TRANSIENT);
    tm__db_bind_int64(st, 2, id);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "storing a TOTP secret");
    tm__db_finalize(st);
    return rc;
}

int tm_store_user_totp_use(tm_store *s, int64_t id, int64_t step, int *taken, struct tm_err *err)
{
    *taken = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
                       &st) != TM_DB_OK)
        return tm__sq_error(s, err, "recording a TOTP code");
    tm__db_bind_int64(st, 1, step);
    tm__db_bind_int64(st, 2, id);
    tm__db_bind_int64(st, 3, step);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "recording a TOTP code");
    if (rc == TM_OK)
        *taken = tm__db_changes(s) > 0;
    tm__db_finalize(st);
    return rc;
}

int tm_store_user_login_state(tm_store *s, int64_t id, int failed, int64_t last_failed_at,
                              int64_t locked_until, int64_t password_ok_until, struct tm_err *err)
{
    return tm__sq_run(s,
                      "UPDATE users SET failed_logins = ?, last_failed_at = nullif(?, 0), "
                      "locked_until = nullif(?, 0), password_ok_until = nullif(?, 0) WHERE id = ?",
                      "iiiii", err, (int64_t)failed, last_failed_at, locked_until,
                      password_ok_until, id);
}

int tm_store_session_add(tm_store *s, const char *hash, int64_t user_id, const char *csrf_hash,
                         int64_t now, int64_t expires, struct tm_err *err)
{
    return tm__sq_run(s,
                      "INSERT INTO sessions (hash, user_id, csrf_hash, created_at, last_seen_at, "
                      "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                      "titiii", err, hash, user_id, csrf_hash, now, now, expires);
}

int tm_store_session_by_hash(tm_store *s, const char *hash, tm_session_rec *out, int *found,
                             struct tm_err *err)
{
    static const char sql[] =
        "SELECT x.id, x.user_id, u.name, (SELECT group_concat(role) FROM user_roles r "
        "WHERE r.user_id = u.id), coalesce(u.disabled_at, 0), x.csrf_hash, x.created_at, "
        "x.last_seen_at, x.expires_at, coalesce(x.ended_at, 0) FROM sessions x "
        "JOIN users u ON u.id = x.user_id WHERE x.hash = ?";
    *found = 0;
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, hash, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    int rc = TM_OK;
    if (step == TM_DB_ROW) {
        memset(out, 0, sizeof *out);
        out->id = tm__db_column_int64(st, 0);
        out->user_id = tm__db_column_int64(st, 1);
        tm__sq_copy_col(st, 2, out->user, sizeof out->user);
        out->roles = tm__sq_roles_parse((const char *)tm__db_column_text(st, 3));
        out->user_disabled = tm__db_column_int64(st, 4);
        tm__sq_copy_col(st, 5, out->csrf_hash, sizeof out->csrf_hash);
        out->created = tm__db_column_int64(st, 6);
        out->last_seen = tm__db_column_int64(st, 7);
        out->expires = tm__db_column_int64(st, 8);
        out->ended = tm__db_column_int64(st, 9);
        *found = 1;
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "reading a session");
    }
    tm__db_reset(st);
    tm__db_clear_bindings(st);
    return rc;
}

int tm_store_session_touch(tm_store *s, int64_t id, int64_t at, struct tm_err *err)
{
    return tm__sq_run(s, "UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?",
                      "iii", err, at, id, at);
}

int tm_store_session_end(tm_store *s, int64_t id, int64_t at, struct tm_err *err)
{
    return tm__sq_run(s, "UPDATE sessions SET ended_at = coalesce(ended_at, ?) WHERE id = ?", "ii",
                      err, at, id);
}
