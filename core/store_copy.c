/*
 * core/store_copy.c: tm_store_copy (store.h): a whole store copied to an
 * empty one, either database to either, row by row with every value as
 * stored (ids, ciphertexts, the audit chain and its head), through the
 * statement layer both databases share (store_sqlite_int.h).
 */
#include "store_pg_int.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The tables in an order where a row's references are copied before it;
 * a table a later build adds (found in the source's catalogue) is copied
 * after these. The store's own bookkeeping (schema versions, leases held by
 * processes of the source) is not copied. */
static const char *const ordered[] = {
    "consumers", "debts", "events", "contacts", "promises", "plans", "payments",
    "decisions", "outbox", "users", "user_roles", "script_versions", "audit_head",
    "audit", "cycle", "journey_texts", "agent_queue", "scores", "payment_attempts",
    "key_checks", "api_tokens", "script_texts", "script_generations", "script_files",
    "script_approvals", "script_activations", "gate_names", "gate_log", "gate_gen_files",
};
static const char *const skipped[] = {"schema_migrations", "leases", "sqlite_sequence",
                                      "sqlite_stat1", "sqlite_stat4"};

static int in_list(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* Copies every row of `table` from `from` to `to` (inside to's transaction). */
static int copy_table(tm_store *from, tm_store *to, const char *table, int64_t *rows,
                      struct tm_err *err)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
    tm_db_stmt *src;
    if (tm__sq_prepare(from, sql, &src) != TM_DB_OK)
        return tm__sq_error(from, err, table);
    tm_db_stmt *dst = NULL;
    int rc = TM_OK, step;
    while ((step = tm__sq_step(from, src)) == TM_DB_ROW) {
        int n = tm__db_column_count(src);
        if (!dst) {
            /* The INSERT, from the columns the source has. */
            tm_buf b;
            tm_buf_init(&b, 0);
            tm_buf_printf(&b, "INSERT INTO %s (", table);
            for (int i = 0; i < n; i++)
                tm_buf_printf(&b, "%s%s", i ? ", " : "", tm__db_column_name(src, i));
            tm_buf_puts(&b, ") VALUES (");
            for (int i = 0; i < n; i++)
                tm_buf_printf(&b, "%s?%d", i ? ", " : "", i + 1);
            tm_buf_puts(&b, ")");
            char *ins = tm_buf_take(&b, NULL);
            if (!ins) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            int prc = tm__sq_prepare(to, ins, &dst);
            free(ins);
            if (prc != TM_DB_OK) {
                rc = tm__sq_error(to, err, table);
                break;
            }
        }
        tm__db_reset(dst);
        for (int i = 0; i < n; i++) {
            switch (tm__db_column_type(src, i)) {
            case TM_DB_INTEGER:
                tm__db_bind_int64(dst, i + 1, tm__db_column_int64(src, i));
                break;
            case TM_DB_FLOAT:
                tm__db_bind_double(dst, i + 1, tm__db_column_double(src, i));
                break;
            case TM_DB_BLOB: {
                const void *v = tm__db_column_blob(src, i);
                int len = tm__db_column_bytes(src, i);
                tm__db_bind_blob(dst, i + 1, v ? v : "", len, TM_DB_TRANSIENT);
                break;
            }
            case TM_DB_TEXT: {
                const unsigned char *t = tm__db_column_text(src, i);
                tm__db_bind_text(dst, i + 1, (const char *)t, tm__db_column_bytes(src, i),
                                 TM_DB_TRANSIENT);
                break;
            }
            default:
                tm__db_bind_null(dst, i + 1);
            }
        }
        if (tm__sq_step(to, dst) != TM_DB_DONE) {
            rc = tm__sq_error(to, err, table);
            break;
        }
        (*rows)++;
    }
    if (rc == TM_OK && step != TM_DB_DONE && step != TM_DB_ROW)
        rc = tm__sq_error(from, err, table);
    tm__db_finalize(src);
    tm__db_finalize(dst);
    return rc;
}

/* The source's tables, ordered (caller frees each and the array). */
static int tables_of(tm_store *s, char ***out, size_t *n, struct tm_err *err)
{
    *out = NULL;
    *n = 0;
    tm_db_stmt *st;
    const char *sql = s->pg ? "SELECT table_name FROM information_schema.tables WHERE table_schema "
                              "= current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
                            : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1";
    if (tm__sq_prepare(s, sql, &st) != TM_DB_OK)
        return tm__sq_error(s, err, "listing the tables");
    size_t cap = sizeof ordered / sizeof *ordered + 64;
    char **names = calloc(cap, sizeof *names);
    char **extra = calloc(cap, sizeof *extra);
    size_t next = 0, nx = 0;
    int rc = names && extra ? TM_OK : tm_err_set(err, TM_ENOMEM, "out of memory");
    int have[sizeof ordered / sizeof *ordered] = {0};
    int step;
    while (rc == TM_OK && (step = tm__sq_step(s, st)) == TM_DB_ROW) {
        const char *t = (const char *)tm__db_column_text(st, 0);
        if (!t || in_list(skipped, sizeof skipped / sizeof *skipped, t))
            continue;
        size_t i;
        for (i = 0; i < sizeof ordered / sizeof *ordered; i++)
            if (strcmp(ordered[i], t) == 0)
                have[i] = 1;
        if (!in_list(ordered, sizeof ordered / sizeof *ordered, t) && nx < 64)
            extra[nx++] = strdup(t);
    }
    tm__db_finalize(st);
    for (size_t i = 0; rc == TM_OK && i < sizeof ordered / sizeof *ordered; i++)
        if (have[i])
            names[next++] = strdup(ordered[i]);
    for (size_t i = 0; rc == TM_OK && i < nx; i++)
        names[next++] = extra[i];
    free(extra);
    for (size_t i = 0; rc == TM_OK && i < next; i++)
        if (!names[i])
            rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    if (rc != TM_OK) {
        for (size_t i = 0; names && i < next; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    *out = names;
    *n = next;
    return TM_OK;
}

int tm_store_copy(const char *from, const char *to, tm_store_copy_fn fn, void *ud,
                  struct tm_err *err)
{
    if (!from || !to)
        return tm_err_set(err, TM_EINVAL, "tm_store_copy: NULL store");
    tm_store *a = NULL, *b = NULL;
    int rc = tm_store_open(from, &a, err);
    if (rc == TM_OK)
        rc = tm_store_open(to, &b, err);
    tm_store_counts c;
    if (rc == TM_OK)
        rc = tm_store_count_data(b, &c, err);
    if (rc == TM_OK && (c.consumers || c.debts || c.events || c.decisions || c.outbox ||
                        c.script_sets || c.audit || c.key_checks))
        rc = tm_err_set(err, TM_EEXIST, "%s holds data already: a store is copied to an empty one",
                        tm_store_is_url(to) ? "the destination" : to);
    char **tables = NULL;
    size_t nt = 0;
    /* One transaction on each side: the source read as of one moment (its
     * write lock held), the destination written whole or not at all. */
    if (rc == TM_OK)
        rc = tm_store_begin(a, err);
    if (rc == TM_OK) {
        rc = tm_store_begin(b, err);
        if (rc != TM_OK)
            tm_store_rollback(a);
    }
    if (rc == TM_OK) {
        rc = tables_of(a, &tables, &nt, err);
        for (size_t i = 0; rc == TM_OK && i < nt; i++) {
            int64_t rows = 0;
            rc = copy_table(a, b, tables[i], &rows, err);
            if (rc == TM_OK && fn)
                fn(ud, tables[i], rows);
        }
        if (rc == TM_OK && b->pg)
            rc = tm__pq_sync_ids(b, err);
        if (rc == TM_OK)
            rc = tm_store_commit(b, err);
        else
            tm_store_rollback(b);
        tm_store_rollback(a);
    }
    for (size_t i = 0; i < nt; i++)
        free(tables[i]);
    free(tables);
    tm_store_close(a);
    tm_store_close(b);
    return rc;
}
