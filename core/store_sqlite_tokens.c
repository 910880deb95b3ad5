/*
 * core/store_sqlite_tokens.c: the service's tokens in the SQLite store
 * (store.h, "Service tokens"): one row per token, found by the SHA-256 of
 * its text, which the service looks up on every request (so the lookup is
 * a cached statement on a unique index, and revoking takes effect at once).
 */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <string.h>

#define TOKEN_COLS                                                                                 \
    "id, name, roles, created_at, expires_at, last_used_at, revoked_at, coalesce(rate_limit, 0), "     \
    "coalesce(person, '')"

static void read_token(tm_db_stmt *st, tm_token_rec *t)
{
    memset(t, 0, sizeof *t);
    t->id = tm__db_column_int64(st, 0);
    tm__sq_copy_col(st, 1, t->name, sizeof t->name);
    tm__sq_copy_col(st, 2, t->roles, sizeof t->roles);
    t->created = tm__db_column_int64(st, 3);
    t->expires = tm__db_column_int64(st, 4);
    t->last_used = tm__db_column_int64(st, 5);
    t->revoked = tm__db_column_int64(st, 6);
    t->rate_limit = tm__db_column_double(st, 7);
    tm__sq_copy_col(st, 8, t->person, sizeof t->person);
}

int tm_store_token_set_rate(tm_store *s, const char *name, double rate, int *found,
                            struct tm_err *err)
{
    *found = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "UPDATE api_tokens SET rate_limit = nullif(?, 0) WHERE name = ?", &st) !=
        TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_double(st, 1, rate);
    tm__db_bind_text(st, 2, name, -1, TM_DB_STATIC);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "setting a rate limit");
    if (rc == TM_OK)
        *found = tm__db_changes(s) > 0;
    tm__db_finalize(st);
    return rc;
}

static int token_add(tm_store *s, const char *name, const char *hash, const char *roles,
                     const char *person, int64_t created, int64_t expires, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT 1 FROM api_tokens WHERE name = ?", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    tm__db_finalize(st);
    if (step == TM_DB_ROW)
        return tm_err_set(err, TM_EEXIST, "a token named '%s' exists already (names are not reused)",
                          name);
    if (step != TM_DB_DONE)
        return tm__sq_error(s, err, "store");
    if (tm__sq_prepare(s, "INSERT INTO api_tokens (name, hash, roles, created_at, expires_at, "
                          "person) VALUES (?, ?, ?, ?, ?, ?)", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 2, hash, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 3, roles, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 4, created);
    if (expires)
        tm__db_bind_int64(st, 5, expires);
    else
        tm__db_bind_null(st, 5);
    if (person)
        tm__db_bind_text(st, 6, person, -1, TM_DB_STATIC);
    else
        tm__db_bind_null(st, 6);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "adding a token");
    tm__db_finalize(st);
    return rc;
}

int tm_store_token_add(tm_store *s, const char *name, const char *hash, const char *roles,
                       int64_t created, int64_t expires, struct tm_err *err)
{
    return token_add(s, name, hash, roles, NULL, created, expires, err);
}

int tm_store_token_add_person(tm_store *s, const char *name, const char *hash, const char *person,
                              int64_t created, int64_t expires, struct tm_err *err)
{
    return token_add(s, name, hash, "", person, created, expires, err);
}

int tm_store_token_by_hash(tm_store *s, const char *hash, tm_token_rec *out, int *found,
                           struct tm_err *err)
{
    static const char sql[] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = ?";
    *found = 0;
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    tm__db_bind_text(st, 1, hash, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    int rc = TM_OK;
    if (step == TM_DB_ROW) {
        read_token(st, out);
        *found = 1;
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "reading a token");
    }
    tm__db_reset(st);
    tm__db_clear_bindings(st);
    return rc;
}

int tm_store_token_revoke(tm_store *s, const char *name, int64_t at, int *found, struct tm_err *err)
{
    *found = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE name = ?",
                       &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    tm__db_bind_int64(st, 1, at);
    tm__db_bind_text(st, 2, name, -1, TM_DB_STATIC);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "revoking a token");
    if (rc == TM_OK)
        *found = tm__db_changes(s) > 0;
    tm__db_finalize(st);
    return rc;
}

int tm_store_token_touch(tm_store *s, int64_t id, int64_t at, struct tm_err *err)
{
    return tm__sq_run(s, "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND "
                         "coalesce(last_used_at, 0) < ?", "iii", err, at, id, at);
}

int tm_store_token_list(tm_store *s, tm_store_token_fn fn, void *ud, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY name", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "store");
    int rc = TM_OK, step;
    tm_token_rec t;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        read_token(st, &t);
        rc = fn(ud, &t);
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "listing tokens");
    tm__db_finalize(st);
    return rc;
}
