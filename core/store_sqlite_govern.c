/*
 * core/store_sqlite_govern.c: who may change what runs, in the SQLite store
 * (store.h, "Who may change what runs"): users and their roles, and the
 * script generations with their files, approvals and activations.
 *
 * A generation's texts are kept once per text (script_texts, by SHA-256), so
 * a hundred generations of a tree that changes one file at a time hold each
 * unchanged file once. The active generation is the one row whose status is
 * 'active' (a unique partial index keeps it one); activations form a chain,
 * each naming the one before it, and a rollback is an activation that takes
 * the place of the one it undoes, so rolling back twice steps back twice.
 */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Users and roles.
 */

/* Roles as comma-separated text (in enum order) and back. Unknown names are
 * left out: a role no build knows grants nothing. */
static void roles_text(unsigned roles, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int r = 0; r < TM_ROLE_OTHER; r++)
        if (roles & TM_ROLE_BIT(r))
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "," : "",
                                  tm_store_role_name((enum tm_role)r));
}

unsigned tm__sq_roles_parse(const char *text)
{
    unsigned roles = 0;
    while (text && *text) {
        const char *comma = strchr(text, ',');
        size_t len = comma ? (size_t)(comma - text) : strlen(text);
        char one[32];
        if (len < sizeof one) {
            memcpy(one, text, len);
            one[len] = '\0';
            enum tm_role r = tm_store_role_parse(one);
            if (r != TM_ROLE_OTHER)
                roles |= TM_ROLE_BIT(r);
        }
        text = comma ? comma + 1 : NULL;
    }
    return roles;
}

static const char user_cols[] =
    "SELECT u.id, u.name, u.created_at, (SELECT group_concat(role) FROM user_roles r "
    "WHERE r.user_id = u.id), coalesce(u.disabled_at, 0), u.password_hash IS NOT NULL, "
    "u.totp_secret IS NOT NULL FROM users u ";

static void read_user(tm_db_stmt *st, tm_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = tm__db_column_int64(st, 0);
    tm__sq_copy_col(st, 1, u->name, sizeof u->name);
    u->created_at = tm__db_column_int64(st, 2);
    u->roles = tm__sq_roles_parse((const char *)tm__db_column_text(st, 3));
    u->disabled_at = tm__db_column_int64(st, 4);
    u->has_password = tm__db_column_int(st, 5);
    u->has_totp = tm__db_column_int(st, 6);
}

int tm_store_user_get(tm_store *s, const char *name, tm_user *out, int *found, struct tm_err *err)
{
    *found = 0;
    char sql[400];
    snprintf(sql, sizeof sql, "%sWHERE u.name = ?", user_cols);
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "reading a user");
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    int step = tm__sq_step(s, st);
    int rc = TM_OK;
    if (step == TM_DB_ROW) {
        read_user(st, out);
        *found = 1;
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "reading a user");
    }
    tm__db_finalize(st);
    return rc;
}

int tm_store_user_add(tm_store *s, const char *name, int64_t now, int64_t *id, int *added,
                      struct tm_err *err)
{
    if (added)
        *added = 0;
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return tm_err_set(err, TM_EINVAL, "a user name has 1 to 64 characters");
    /* users.role (version 1) is not read any more: roles are in user_roles. */
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "INSERT OR IGNORE INTO users (name, role, created_at) VALUES (?, '', ?)",
                       &st) != TM_DB_OK)
        return tm__sq_error(s, err, "adding a user");
    tm__db_bind_text(st, 1, name, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 2, now);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "adding a user");
    tm__db_finalize(st);
    if (rc == TM_OK && added)
        *added = tm__db_changes(s) > 0;
    if (rc == TM_OK && id) {
        tm_user u;
        int found = 0;
        rc = tm_store_user_get(s, name, &u, &found, err);
        *id = found ? u.id : 0;
    }
    return rc;
}

int tm_store_user_grant(tm_store *s, int64_t user, enum tm_role role, const char *by, int64_t now,
                        int *added, struct tm_err *err)
{
    if (added)
        *added = 0;
    if ((int)role < 0 || role >= TM_ROLE_OTHER)
        return tm_err_set(err, TM_EINVAL, "not a role");
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "INSERT OR IGNORE INTO user_roles (user_id, role, granted_by, granted_at) "
                          "VALUES (?, ?, ?, ?)", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "granting a role");
    tm__db_bind_int64(st, 1, user);
    tm__db_bind_text(st, 2, tm_store_role_name(role), -1, TM_DB_STATIC);
    tm__db_bind_text(st, 3, by ? by : "", -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 4, now);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "granting a role");
    tm__db_finalize(st);
    if (rc == TM_OK && added)
        *added = tm__db_changes(s) > 0;
    return rc;
}

int tm_store_user_revoke(tm_store *s, int64_t user, enum tm_role role, int *removed,
                         struct tm_err *err)
{
    *removed = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "DELETE FROM user_roles WHERE user_id = ? AND role = ?", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "taking a role");
    tm__db_bind_int64(st, 1, user);
    tm__db_bind_text(st, 2, tm_store_role_name(role), -1, TM_DB_STATIC);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "taking a role");
    tm__db_finalize(st);
    if (rc == TM_OK)
        *removed = tm__db_changes(s) > 0;
    return rc;
}

int tm_store_user_count(tm_store *s, int64_t *n, struct tm_err *err)
{
    *n = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT COUNT(*) FROM users", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "counting users");
    int rc = TM_OK;
    if (tm__sq_step(s, st) == TM_DB_ROW)
        *n = tm__db_column_int64(st, 0);
    else
        rc = tm__sq_error(s, err, "counting users");
    tm__db_finalize(st);
    return rc;
}

int tm_store_users_list(tm_store *s, tm_store_user_fn fn, void *ud, struct tm_err *err)
{
    char sql[300];
    snprintf(sql, sizeof sql, "%sORDER BY u.name", user_cols);
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "listing users");
    int rc = TM_OK, step;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        tm_user u;
        read_user(st, &u);
        rc = fn(ud, &u);
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "listing users");
    tm__db_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Script generations.
 */

/* The columns read_gen reads, in its order; `g` is script_generations. */
#define GEN_COLS                                                                                 \
    "SELECT g.id, g.hash, g.status, g.needs, g.base, g.source, g.proposed_by, g.proposed_at, "   \
    "g.approved_at, g.retired_at, (SELECT group_concat(role) FROM script_approvals a WHERE "     \
    "a.generation = g.id), (SELECT activated_by FROM script_activations v WHERE v.generation = " \
    "g.id ORDER BY v.id DESC LIMIT 1), (SELECT at FROM script_activations v WHERE "              \
    "v.generation = g.id ORDER BY v.id DESC LIMIT 1), (SELECT COUNT(*) FROM script_files f "      \
    "WHERE f.generation = g.id) FROM script_generations g "

static void read_gen(tm_db_stmt *st, tm_generation *g)
{
    memset(g, 0, sizeof *g);
    g->id = tm__db_column_int64(st, 0);
    tm__sq_copy_col(st, 1, g->hash, sizeof g->hash);
    g->status = tm_store_gen_status_parse((const char *)tm__db_column_text(st, 2));
    g->needs = tm__sq_roles_parse((const char *)tm__db_column_text(st, 3));
    tm__sq_copy_col(st, 4, g->base, sizeof g->base);
    tm__sq_copy_col(st, 5, g->source, sizeof g->source);
    tm__sq_copy_col(st, 6, g->proposed_by, sizeof g->proposed_by);
    g->proposed_at = tm__db_column_int64(st, 7);
    g->approved_at = tm__db_column_int64(st, 8);
    g->retired_at = tm__db_column_int64(st, 9);
    g->approved = tm__sq_roles_parse((const char *)tm__db_column_text(st, 10));
    tm__sq_copy_col(st, 11, g->activated_by, sizeof g->activated_by);
    g->activated_at = tm__db_column_int64(st, 12);
    g->files = tm__db_column_int64(st, 13);
}

/* Reads the one generation `sql` (GEN_COLS and a WHERE with at most one
 * text parameter `arg` and one integer `num`) selects. */
static int gen_one(tm_store *s, const char *where, const char *arg, int64_t num, tm_generation *out,
                   int *found, struct tm_err *err)
{
    *found = 0;
    char sql[1200];
    snprintf(sql, sizeof sql, "%s%s", GEN_COLS, where);
    tm_db_stmt *st;
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "reading a script generation");
    int p = 1;
    if (arg)
        tm__db_bind_text(st, p++, arg, -1, TM_DB_STATIC);
    if (num)
        tm__db_bind_int64(st, p, num);
    int step = tm__sq_step(s, st);
    int rc = TM_OK;
    if (step == TM_DB_ROW) {
        read_gen(st, out);
        *found = 1;
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "reading a script generation");
    }
    tm__db_finalize(st);
    return rc;
}

static int gen_by_id(tm_store *s, int64_t id, tm_generation *out, int *found, struct tm_err *err)
{
    return gen_one(s, "WHERE g.id = ?", NULL, id, out, found, err);
}

int tm_store_gen_propose(tm_store *s, const tm_generation *g, const tm_store_file *files, size_t n,
                         const char *diff, int64_t *id, struct tm_err *err)
{
    char needs[200];
    roles_text(g->needs, needs, sizeof needs);
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "INSERT INTO script_generations (hash, status, needs, base, source, diff, "
                          "proposed_by, proposed_at) VALUES (?, 'proposed', ?, ?, ?, ?, ?, ?)",
                       &st) != TM_DB_OK)
        return tm__sq_error(s, err, "keeping a script generation");
    tm__db_bind_text(st, 1, g->hash, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 2, needs, -1, TM_DB_STATIC);
    tm__sq_bind_opt_text(st, 3, g->base);
    tm__sq_bind_opt_text(st, 4, g->source);
    tm__sq_bind_opt_text(st, 5, diff);
    tm__db_bind_text(st, 6, g->proposed_by, -1, TM_DB_STATIC);
    tm__db_bind_int64(st, 7, g->proposed_at);
    int rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK
                                                : tm__sq_error(s, err, "keeping a script generation");
    tm__db_finalize(st);
    if (rc != TM_OK)
        return rc;
    int64_t gid = tm__db_last_id(s);
    tm_db_stmt *text = NULL, *file = NULL;
    if (tm__sq_prepare(s, "INSERT OR IGNORE INTO script_texts (sha256, text) VALUES (?, ?)", &text) !=
            TM_DB_OK ||
        tm__sq_prepare(s, "INSERT INTO script_files (generation, path, sha256) VALUES (?, ?, ?)",
                       &file) != TM_DB_OK)
        rc = tm__sq_error(s, err, "keeping a script generation");
    for (size_t i = 0; rc == TM_OK && i < n; i++) {
        if (!files[i].path || !files[i].sha256 || strlen(files[i].sha256) != 64) {
            rc = tm_err_set(err, TM_ESTORE, "script file %zu has no path or SHA-256", i);
            break;
        }
        tm__db_reset(text);
        tm__db_bind_text(text, 1, files[i].sha256, -1, TM_DB_STATIC);
        tm__db_bind_blob(text, 2, files[i].text ? files[i].text : "", (int)files[i].len,
                          TM_DB_STATIC);
        tm__db_reset(file);
        tm__db_bind_int64(file, 1, gid);
        tm__db_bind_text(file, 2, files[i].path, -1, TM_DB_STATIC);
        tm__db_bind_text(file, 3, files[i].sha256, -1, TM_DB_STATIC);
        if (tm__sq_step(s, text) != TM_DB_DONE || tm__sq_step(s, file) != TM_DB_DONE)
            rc = tm__sq_error(s, err, "keeping a script file");
    }
    tm__db_finalize(text);
    tm__db_finalize(file);
    if (rc == TM_OK && id)
        *id = gid;
    return rc;
}

int tm_store_gen_get(tm_store *s, const char *hash, tm_generation *out, int *found,
                     struct tm_err *err)
{
    *found = 0;
    size_t n = hash ? strlen(hash) : 0;
    if (n < 4 || n > 64 || strspn(hash, "0123456789abcdef") != n)
        return tm_err_set(err, TM_EINVAL,
                          "'%.80s' is not a generation: give its SHA-256, or the first 4 or more "
                          "of its 64 hex digits (lower case)",
                          hash ? hash : "");
    char pattern[80];
    snprintf(pattern, sizeof pattern, "%s%%", hash);
    tm_db_stmt *st;
    if (tm__sq_prepare(s, GEN_COLS "WHERE g.hash LIKE ? ORDER BY g.id LIMIT 2", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "reading a script generation");
    tm__db_bind_text(st, 1, pattern, -1, TM_DB_STATIC);
    int rc = TM_OK, step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        read_gen(st, out);
        *found = 1;
        step = tm__sq_step(s, st);
        if (step == TM_DB_ROW) {
            *found = 0;
            rc = tm_err_set(err, TM_EINVAL, "'%s' names more than one generation: give more digits",
                            hash);
        }
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "reading a script generation");
    tm__db_finalize(st);
    return rc;
}

int tm_store_gen_active(tm_store *s, tm_generation *out, int *found, struct tm_err *err)
{
    return gen_one(s, "WHERE g.status = 'active'", NULL, 0, out, found, err);
}

int tm_store_gen_active_hash(tm_store *s, char hash[65], int *found, struct tm_err *err)
{
    /* The partial unique index script_generations_one_active answers this. */
    static const char sql[] = "SELECT hash FROM script_generations WHERE status = 'active'";
    *found = 0;
    hash[0] = '\0';
    tm_db_stmt *st = tm__sq_cached(s, sql, err);
    if (!st)
        return TM_ESTORE;
    int step = tm__sq_step(s, st);
    int rc = TM_OK;
    if (step == TM_DB_ROW) {
        tm__sq_copy_col(st, 0, hash, 65);
        *found = 1;
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "reading the active script generation");
    }
    tm__db_reset(st);
    return rc;
}

void tm_store_files_free(tm_store_file *files, size_t n)
{
    for (size_t i = 0; files && i < n; i++) {
        free((char *)files[i].path);
        free((char *)files[i].sha256);
        free((char *)files[i].text);
    }
    free(files);
}

int tm_store_gen_files(tm_store *s, int64_t id, tm_store_file **out, size_t *n,
                       struct tm_err *err)
{
    *out = NULL;
    *n = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT f.path, f.sha256, t.text, length(t.text), t.sha256 IS NULL FROM "
                          "script_files f LEFT JOIN script_texts t ON t.sha256 = f.sha256 WHERE "
                          "f.generation = ? ORDER BY f.path", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "reading script files");
    tm__db_bind_int64(st, 1, id);
    tm_store_file *files = NULL;
    size_t count = 0, cap = 0;
    int rc = TM_OK, step;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        const char *path = (const char *)tm__db_column_text(st, 0);
        if (tm__db_column_int(st, 4)) {
            rc = tm_err_set(err, TM_ESTORE, "the text of script %s is missing from the store",
                            path ? path : "?");
            break;
        }
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            tm_store_file *q = realloc(files, cap * sizeof *q);
            if (!q) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            files = q;
        }
        size_t len = (size_t)tm__db_column_int64(st, 3);
        const void *blob = tm__db_column_blob(st, 2);
        char *text = malloc(len + 1);
        char *p = path ? strdup(path) : NULL;
        char *h = tm__db_column_text(st, 1) ? strdup((const char *)tm__db_column_text(st, 1)) : NULL;
        if (!text || !p || !h) {
            free(text);
            free(p);
            free(h);
            rc = tm_err_set(err, TM_ENOMEM, "out of memory");
            break;
        }
        if (len)
            memcpy(text, blob, len);
        text[len] = '\0';
        files[count++] = (tm_store_file){.path = p, .sha256 = h, .text = text, .len = len};
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "reading script files");
    tm__db_finalize(st);
    if (rc != TM_OK) {
        tm_store_files_free(files, count);
        return rc;
    }
    *out = files;
    *n = count;
    return TM_OK;
}

int tm_store_gen_diff(tm_store *s, int64_t id, char **out, struct tm_err *err)
{
    *out = NULL;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT diff FROM script_generations WHERE id = ?", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "reading a script generation");
    tm__db_bind_int64(st, 1, id);
    int rc = TM_OK, step = tm__sq_step(s, st);
    if (step == TM_DB_ROW && tm__db_column_type(st, 0) != TM_DB_NULL) {
        const char *t = (const char *)tm__db_column_text(st, 0);
        if (t && (*out = strdup(t)) == NULL)
            rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    } else if (step != TM_DB_ROW && step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "reading a script generation");
    }
    tm__db_finalize(st);
    return rc;
}

int tm_store_gen_approve(tm_store *s, int64_t id, const char *by, unsigned roles, int64_t now,
                         tm_generation *out, struct tm_err *err)
{
    tm_generation g;
    int found = 0;
    int rc = gen_by_id(s, id, &g, &found, err);
    if (rc != TM_OK)
        return rc;
    if (!found || g.status != TM_GEN_PROPOSED)
        return tm_err_set(err, TM_EINVAL, "generation %lld is not proposed", (long long)id);
    if (roles == 0 || (roles & ~g.needs) || (roles & g.approved))
        return tm_err_set(err, TM_EINVAL, "generation %lld does not need those approvals",
                          (long long)id);
    for (int r = 0; rc == TM_OK && r < TM_ROLE_OTHER; r++) {
        if (!(roles & TM_ROLE_BIT(r)))
            continue;
        rc = tm__sq_run(s, "INSERT INTO script_approvals (generation, role, approved_by, at) "
                           "VALUES (?, ?, ?, ?)", "itti", err, id,
                        tm_store_role_name((enum tm_role)r), by, now);
    }
    if (rc == TM_OK && ((g.approved | roles) & g.needs) == g.needs)
        rc = tm__sq_run(s, "UPDATE script_generations SET status = 'approved', approved_at = ? "
                           "WHERE id = ?", "ii", err, now, id);
    if (rc == TM_OK && out)
        rc = gen_by_id(s, id, out, &found, err);
    return rc;
}

/* The latest activation: its row id, generation and the activation before
 * it (0 when none). *found 0 when there has been none. */
static int last_activation(tm_store *s, int64_t *id, int64_t *gen, int64_t *previous, int *found,
                           struct tm_err *err)
{
    *found = 0;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT id, generation, previous FROM script_activations ORDER BY id "
                          "DESC LIMIT 1", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "reading activations");
    int rc = TM_OK, step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        *id = tm__db_column_int64(st, 0);
        *gen = tm__db_column_int64(st, 1);
        *previous = tm__db_column_int64(st, 2);
        *found = 1;
    } else if (step != TM_DB_DONE) {
        rc = tm__sq_error(s, err, "reading activations");
    }
    tm__db_finalize(st);
    return rc;
}

/* Retires the active generation (if any) and makes `id` active, recording
 * the activation with `previous` (0: none) and `how`. */
static int switch_active(tm_store *s, int64_t id, int64_t previous, const char *by, int64_t now,
                         const char *how, struct tm_err *err)
{
    int rc = tm__sq_run(s, "UPDATE script_generations SET status = 'retired', retired_at = ? WHERE "
                           "status = 'active'", "i", err, now);
    if (rc == TM_OK)
        rc = tm__sq_run(s, "UPDATE script_generations SET status = 'active', retired_at = NULL "
                           "WHERE id = ?", "i", err, id);
    if (rc != TM_OK)
        return rc;
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "INSERT INTO script_activations (generation, previous, at, activated_by, "
                          "how) VALUES (?, ?, ?, ?, ?)", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "recording an activation");
    tm__db_bind_int64(st, 1, id);
    if (previous)
        tm__db_bind_int64(st, 2, previous);
    else
        tm__db_bind_null(st, 2);
    tm__db_bind_int64(st, 3, now);
    tm__db_bind_text(st, 4, by, -1, TM_DB_STATIC);
    tm__db_bind_text(st, 5, how, -1, TM_DB_STATIC);
    rc = tm__sq_step(s, st) == TM_DB_DONE ? TM_OK : tm__sq_error(s, err, "recording an activation");
    tm__db_finalize(st);
    return rc;
}

int tm_store_gen_activate(tm_store *s, int64_t id, const char *by, int64_t now,
                          struct tm_err *err)
{
    tm_generation g;
    int found = 0;
    int rc = gen_by_id(s, id, &g, &found, err);
    if (rc != TM_OK)
        return rc;
    if (!found || (g.status != TM_GEN_APPROVED && g.status != TM_GEN_RETIRED))
        return tm_err_set(err, TM_EINVAL, "generation %lld is not approved", (long long)id);
    int64_t last = 0, last_gen = 0, prev = 0;
    rc = last_activation(s, &last, &last_gen, &prev, &found, err);
    if (rc != TM_OK)
        return rc;
    return switch_active(s, id, found ? last : 0, by, now, "activate", err);
}

int tm_store_gen_rollback(tm_store *s, const char *by, int64_t now, tm_generation *to, int *done,
                          struct tm_err *err)
{
    *done = 0;
    int64_t last = 0, last_gen = 0, prev = 0;
    int found = 0;
    int rc = last_activation(s, &last, &last_gen, &prev, &found, err);
    if (rc != TM_OK || !found || prev == 0)
        return rc;
    /* The activation before: its generation comes back, and the new row
     * takes the place of the undone one (its previous is that one's). */
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT generation, previous FROM script_activations WHERE id = ?", &st) !=
        TM_DB_OK)
        return tm__sq_error(s, err, "reading activations");
    tm__db_bind_int64(st, 1, prev);
    int64_t gen = 0, before = 0;
    int step = tm__sq_step(s, st);
    if (step == TM_DB_ROW) {
        gen = tm__db_column_int64(st, 0);
        before = tm__db_column_int64(st, 1);
    } else {
        rc = step == TM_DB_DONE ? tm_err_set(err, TM_ESTORE, "activation %lld is missing",
                                              (long long)prev)
                                 : tm__sq_error(s, err, "reading activations");
    }
    tm__db_finalize(st);
    if (rc == TM_OK)
        rc = switch_active(s, gen, before, by, now, "rollback", err);
    if (rc == TM_OK && to)
        rc = gen_by_id(s, gen, to, &found, err);
    if (rc == TM_OK)
        *done = 1;
    return rc;
}

int tm_store_gen_list(tm_store *s, tm_store_gen_fn fn, void *ud, struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, GEN_COLS "ORDER BY g.id", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "listing script generations");
    int rc = TM_OK, step;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        tm_generation g;
        read_gen(st, &g);
        rc = fn(ud, &g);
    }
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "listing script generations");
    tm__db_finalize(st);
    return rc;
}

int tm_store_gen_history(tm_store *s, int64_t id, tm_store_gen_event_fn fn, void *ud,
                         struct tm_err *err)
{
    tm_db_stmt *st;
    if (tm__sq_prepare(s, "SELECT at, approved_by, 'approved as ' || role, 0 FROM script_approvals "
                          "WHERE generation = ?1 UNION ALL SELECT at, activated_by, CASE how WHEN "
                          "'rollback' THEN 'rolled back to' ELSE 'activated' END, id FROM "
                          "script_activations WHERE generation = ?1 ORDER BY 1, 4", &st) != TM_DB_OK)
        return tm__sq_error(s, err, "reading a generation's history");
    tm__db_bind_int64(st, 1, id);
    int rc = TM_OK, step;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW)
        rc = fn(ud, tm__db_column_int64(st, 0), (const char *)tm__db_column_text(st, 1),
                (const char *)tm__db_column_text(st, 2));
    if (rc == TM_OK && step != TM_DB_DONE)
        rc = tm__sq_error(s, err, "reading a generation's history");
    tm__db_finalize(st);
    return rc;
}
