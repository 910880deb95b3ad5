/*
 * core/store_pg.c: the PostgreSQL store's connection, transactions and
 * statements (store_pg_int.h). The operations are the SQLite store's own
 * code (store_sqlite_records.c and the others), run through the statement
 * layer of store_sqlite_int.h; here a statement becomes a server-side
 * prepared statement (prepared once per connection for each translated text
 * and set of parameter types), its parameters go as text, ciphertexts and
 * other blobs as binary bytea, and its rows are read in text form (bytea
 * decoded when a blob is asked for).
 *
 * Transactions keep the SQLite store's one guarantee (store.h): the
 * outermost tm_store_begin takes the store's write lock at once, so what a
 * transaction reads before it writes is still true when it commits. On
 * PostgreSQL that lock is a transaction-scoped advisory lock, waited for up
 * to TM_STORE_BUSY_MS (lock_timeout), so writers on several hosts take turns
 * exactly as processes on one host take turns on a SQLite file; readers
 * outside a transaction never wait (MVCC).
 */
#include "store_pg_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The advisory lock that is the store's write lock ("tallyman" in ASCII). */
#define WRITE_LOCK "7022344661016455533"

#define BYTEAOID 17
#define INT8OID 20
#define FLOAT8OID 701

/* Keeps libpq's notices (a table that exists already, ...) off stderr. */
static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* The URL as shown in messages: with any password left out. */
static void shown_url(const char *url, char *out, size_t cap)
{
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (at && colon && colon < at)
        snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(out, cap, "%s", url);
}

/* libpq's message without its trailing newline. */
static void set_msg(tm_store *s, const char *m)
{
    snprintf(s->pg->msg, sizeof s->pg->msg, "%s", m ? m : "unknown error");
    size_t n = strlen(s->pg->msg);
    while (n && (s->pg->msg[n - 1] == '\n' || s->pg->msg[n - 1] == ' '))
        s->pg->msg[--n] = 0;
}

/* Records a failed result's message; returns 1 for a success. */
static int result_ok(tm_store *s, PGresult *r)
{
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_EMPTY_QUERY)
        return 1;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    s->pg->constraint = state && strncmp(state, "23", 2) == 0;
    set_msg(s, r ? PQresultErrorMessage(r) : PQerrorMessage(s->pg->conn));
    if (!s->pg->msg[0] || PQstatus(s->pg->conn) == CONNECTION_BAD)
        set_msg(s, PQerrorMessage(s->pg->conn));
    return 0;
}

int tm__pq_open(tm_store *s, const char *url, struct tm_err *err)
{
    char shown[512];
    shown_url(url, shown, sizeof shown);
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        int rc = tm_err_set(err, TM_EINVAL, "%s: not a PostgreSQL URL: %s", shown,
                            perr ? perr : "out of memory");
        PQfreemem(perr);
        return rc;
    }
    PQconninfoFree(opts);
    s->pg = calloc(1, sizeof *s->pg);
    if (!s->pg)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    s->pg->conn = PQconnectdb(url);
    if (!s->pg->conn)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    if (PQstatus(s->pg->conn) != CONNECTION_OK) {
        set_msg(s, PQerrorMessage(s->pg->conn));
        return tm_err_set(err, TM_ESTORE, "%s: cannot connect to the store: %s", shown, s->pg->msg);
    }
    PQsetNoticeProcessor(s->pg->conn, quiet, NULL);
    /* Text in and out as UTF-8; times are Unix seconds, never the
     * server's zone; a wait for a lock ends after TM_STORE_BUSY_MS. */
    char set[256];
    snprintf(set, sizeof set,
             "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; SET lock_timeout = %d; "
             "SET client_min_messages = warning",
             TM_STORE_BUSY_MS);
    if (tm__pq_exec(s, set, err) != TM_OK)
        return TM_ESTORE;
    return TM_OK;
}

void tm__pq_close(tm_store *s)
{
    if (!s->pg)
        return;
    if (s->pg->conn)
        PQfinish(s->pg->conn);
    for (size_t i = 0; i < s->pg->nprep; i++)
        free(s->pg->preps[i].key);
    free(s->pg->preps);
    free(s->pg);
    s->pg = NULL;
}

int tm__pq_exec(tm_store *s, const char *sql, struct tm_err *err)
{
    int n;
    char *pg = tm__pq_translate(sql, &n);
    if (!pg)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    PGresult *r = PQexec(s->pg->conn, pg);
    free(pg);
    int ok = result_ok(s, r);
    if (ok)
        s->pg->changes = atoi(PQcmdTuples(r));
    PQclear(r);
    return ok ? TM_OK : tm_err_set(err, TM_ESTORE, "store: %s", s->pg->msg);
}

/* ---- Transactions -------------------------------------------------------- */

int tm__pq_begin(tm_store *s, struct tm_err *err)
{
    int rc = tm__pq_exec(s, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK ")", err);
    if (rc != TM_OK) {
        PGresult *r = PQexec(s->pg->conn, "ROLLBACK");
        PQclear(r);
    }
    return rc;
}

int tm__pq_commit(tm_store *s, struct tm_err *err)
{
    PGresult *r = PQexec(s->pg->conn, "COMMIT");
    int ok = result_ok(s, r);
    /* A transaction a failed statement aborted answers COMMIT with
     * ROLLBACK: nothing of it was written. */
    if (ok && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        ok = 0;
        set_msg(s, "the transaction was rolled back after an earlier error");
    }
    PQclear(r);
    if (!ok && PQtransactionStatus(s->pg->conn) != PQTRANS_IDLE) {
        r = PQexec(s->pg->conn, "ROLLBACK");
        PQclear(r);
    }
    return ok ? TM_OK : tm_err_set(err, TM_ESTORE, "store: committing: %s", s->pg->msg);
}

void tm__pq_rollback(tm_store *s)
{
    PGresult *r = PQexec(s->pg->conn, "ROLLBACK");
    PQclear(r);
}

int tm__pq_schema_version(tm_store *s)
{
    PGresult *r = PQexec(s->pg->conn,
                         "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE "
                         "(SELECT COALESCE(MAX(version), 0) FROM schema_migrations) END");
    int v = -1;
    if (result_ok(s, r) && PQntuples(r) == 1)
        v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

int tm__pq_sync_ids(tm_store *s, struct tm_err *err)
{
    /* Every identity column of the store's schema (the first of the search
     * path), each set to its table's highest id (or left unused). */
    static const char sql[] =
        "DO $$ DECLARE r record; m bigint; BEGIN "
        "FOR r IN SELECT table_name, column_name FROM information_schema.columns "
        "WHERE is_identity = 'YES' AND table_schema = current_schema() LOOP "
        "EXECUTE format('SELECT max(%I) FROM %I', r.column_name, r.table_name) INTO m; "
        "IF m IS NOT NULL THEN PERFORM setval(pg_get_serial_sequence(quote_ident(r.table_name), "
        "r.column_name), m); END IF; END LOOP; END $$";
    PGresult *r = PQexec(s->pg->conn, sql);
    int ok = result_ok(s, r);
    PQclear(r);
    return ok ? TM_OK : tm_err_set(err, TM_ESTORE, "store: moving the id sequences: %s", s->pg->msg);
}

/* ---- Statements ---------------------------------------------------------- */

int tm__pq_prepare(tm_store *s, const char *sql, tm_db_stmt **out)
{
    *out = NULL;
    tm_db_stmt *st = calloc(1, sizeof *st);
    struct tm__pq_stmt *p = calloc(1, sizeof *p);
    int n = 0;
    char *pg = st && p ? tm__pq_translate(sql, &n) : NULL;
    if (pg && n > 0) {
        p->val = calloc((size_t)n, sizeof *p->val);
        p->len = calloc((size_t)n, sizeof *p->len);
        p->fmt = calloc((size_t)n, sizeof *p->fmt);
        p->type = calloc((size_t)n, sizeof *p->type);
    }
    if (!pg || (n > 0 && (!p->val || !p->len || !p->fmt || !p->type))) {
        if (p) {
            free(p->val);
            free(p->len);
            free(p->fmt);
            free(p->type);
        }
        free(pg);
        free(p);
        free(st);
        set_msg(s, "out of memory");
        return TM_DB_ERROR;
    }
    p->sql = pg;
    p->nparams = n;
    p->row = -1;
    st->s = s;
    st->pq = p;
    *out = st;
    return TM_DB_OK;
}

static void drop_row(struct tm__pq_stmt *p)
{
    for (int i = 0; i < p->nblob; i++)
        free(p->blob[i]);
    free(p->blob);
    free(p->blob_len);
    p->blob = NULL;
    p->blob_len = NULL;
    p->nblob = 0;
}

void tm__pq_reset(struct tm__pq_stmt *p)
{
    drop_row(p);
    PQclear(p->res);
    p->res = NULL;
    p->row = -1;
    p->ran = 0;
}

void tm__pq_free(struct tm__pq_stmt *p)
{
    if (!p)
        return;
    tm__pq_reset(p);
    for (int i = 0; i < p->nparams; i++)
        free(p->val[i]);
    free(p->val);
    free(p->len);
    free(p->fmt);
    free(p->type);
    free(p->sql);
    free(p);
}

int tm__pq_bind(struct tm__pq_stmt *p, int i, const void *v, size_t n, int binary, Oid type)
{
    if (i < 1 || i > p->nparams)
        return 25; /* SQLITE_RANGE */
    i--;
    free(p->val[i]);
    p->val[i] = NULL;
    p->len[i] = 0;
    p->fmt[i] = binary;
    p->type[i] = type;
    if (!v)
        return TM_DB_OK;
    p->val[i] = malloc(n + 1);
    if (!p->val[i])
        return 7; /* SQLITE_NOMEM */
    memcpy(p->val[i], v, n);
    p->val[i][n] = 0;
    p->len[i] = (int)n;
    return TM_DB_OK;
}

/* The name of the server-side statement for `p`'s SQL and parameter types,
 * preparing it on first use. NULL (message set) when it cannot be. */
static const char *prepared(tm_store *s, struct tm__pq_stmt *p)
{
    size_t sl = strlen(p->sql);
    char *key = malloc(sl + (size_t)p->nparams * 12 + 2);
    if (!key) {
        set_msg(s, "out of memory");
        return NULL;
    }
    memcpy(key, p->sql, sl);
    size_t k = sl;
    key[k++] = 0x1f;
    for (int i = 0; i < p->nparams; i++)
        k += (size_t)sprintf(key + k, "%u,", (unsigned)p->type[i]);
    key[k] = 0;
    struct tm__pq *c = s->pg;
    for (size_t i = 0; i < c->nprep; i++)
        if (strcmp(c->preps[i].key, key) == 0) {
            free(key);
            return c->preps[i].name;
        }
    if (c->nprep == c->capprep) {
        size_t cap = c->capprep ? c->capprep * 2 : 64;
        struct tm__pq_prep *np = realloc(c->preps, cap * sizeof *np);
        if (!np) {
            free(key);
            set_msg(s, "out of memory");
            return NULL;
        }
        c->preps = np;
        c->capprep = cap;
    }
    struct tm__pq_prep *e = &c->preps[c->nprep];
    snprintf(e->name, sizeof e->name, "tm%zu", c->nprep);
    PGresult *r = PQprepare(c->conn, e->name, p->sql, p->nparams, p->type);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && (strcmp(state, "42P08") == 0 || strcmp(state, "42P18") == 0) && p->nparams > 0) {
        /* A parameter the server cannot type from where it stands (`?1 IS
         * NULL OR col = ?1`, bound NULL or as text): SQLite has no types,
         * so the store writes such tests freely; read them as text. */
        PQclear(r);
        Oid *types = malloc((size_t)p->nparams * sizeof *types);
        if (!types) {
            free(key);
            set_msg(s, "out of memory");
            return NULL;
        }
        for (int i = 0; i < p->nparams; i++)
            types[i] = p->type[i] ? p->type[i] : 25; /* text */
        r = PQprepare(c->conn, e->name, p->sql, p->nparams, types);
        free(types);
    }
    int ok = result_ok(s, r);
    PQclear(r);
    if (!ok) {
        free(key);
        return NULL;
    }
    e->key = key;
    c->nprep++;
    return e->name;
}

int tm__pq_step(tm_store *s, tm_db_stmt *st)
{
    struct tm__pq_stmt *p = st->pq;
    if (!p->ran) {
        p->ran = 1;
        const char *name = prepared(s, p);
        if (!name)
            return s->pg->constraint ? TM_DB_CONSTRAINT : TM_DB_ERROR;
        p->res = PQexecPrepared(s->pg->conn, name, p->nparams, (const char *const *)p->val, p->len,
                                p->fmt, 0);
        if (!result_ok(s, p->res)) {
            PQclear(p->res);
            p->res = NULL;
            return s->pg->constraint ? TM_DB_CONSTRAINT : TM_DB_ERROR;
        }
        const char *ct = PQcmdTuples(p->res);
        if (ct && *ct)
            s->pg->changes = atoi(ct);
    }
    if (!p->res)
        return TM_DB_ERROR;
    drop_row(p);
    if (p->row + 1 < PQntuples(p->res)) {
        p->row++;
        return TM_DB_ROW;
    }
    p->row = PQntuples(p->res);
    return TM_DB_DONE;
}

/* The current row's value of `col`, or NULL (no row, no column, SQL NULL). */
static const char *cell(struct tm__pq_stmt *p, int col)
{
    if (!p->res || p->row < 0 || p->row >= PQntuples(p->res) || col < 0 || col >= PQnfields(p->res) ||
        PQgetisnull(p->res, p->row, col))
        return NULL;
    return PQgetvalue(p->res, p->row, col);
}

int tm__pq_column_type(struct tm__pq_stmt *p, int col)
{
    if (!cell(p, col))
        return TM_DB_NULL;
    switch (PQftype(p->res, col)) {
    case 16: /* bool */
    case 20: /* int8 */
    case 21: /* int2 */
    case 23: /* int4 */
        return TM_DB_INTEGER;
    case 700:
    case 701:
    case 1700: /* numeric: a SUM of integers; read as a number */
        return TM_DB_FLOAT;
    case BYTEAOID:
        return TM_DB_BLOB;
    default:
        return TM_DB_TEXT;
    }
}

/* The column's bytes: bytea decoded (kept until the row changes), anything
 * else as the server's text. */
const char *tm__pq_column_text(struct tm__pq_stmt *p, int col, size_t *len)
{
    const char *v = cell(p, col);
    *len = 0;
    if (!v)
        return NULL;
    if (PQftype(p->res, col) != BYTEAOID) {
        *len = (size_t)PQgetlength(p->res, p->row, col);
        return v;
    }
    if (!p->blob) {
        int nf = PQnfields(p->res);
        p->blob = calloc((size_t)nf, sizeof *p->blob);
        p->blob_len = calloc((size_t)nf, sizeof *p->blob_len);
        if (!p->blob || !p->blob_len) {
            free(p->blob);
            free(p->blob_len);
            p->blob = NULL;
            p->blob_len = NULL;
            return NULL;
        }
        p->nblob = nf;
    }
    if (!p->blob[col]) {
        size_t n = 0;
        unsigned char *d = PQunescapeBytea((const unsigned char *)v, &n);
        if (!d)
            return NULL;
        /* PQunescapeBytea's buffer has no room for a NUL: copy into one that
         * has, so the bytes can be read as text too. */
        unsigned char *t = malloc(n + 1);
        if (!t) {
            PQfreemem(d);
            return NULL;
        }
        memcpy(t, d, n);
        t[n] = 0;
        PQfreemem(d);
        p->blob[col] = t;
        p->blob_len[col] = n;
    }
    *len = p->blob_len[col];
    return (const char *)p->blob[col];
}
