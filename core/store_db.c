/*
 * core/store_db.c: the store's statement layer (store_sqlite_int.h): every
 * bind, step and column of the operations goes to SQLite or to PostgreSQL
 * (store_pg.c), whichever the statement was prepared on.
 */
#include <sqlite3.h>
#include <stdlib.h>

#include "store_pg_int.h"

#define INT8OID 20
#define FLOAT8OID 701
#define BYTEAOID 17

int tm__db_bind_int64(tm_db_stmt *st, int i, int64_t v)
{
    if (st->sq)
        return sqlite3_bind_int64(st->sq, i, v);
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", (long long)v);
    return tm__pq_bind(st->pq, i, t, (size_t)n, 0, INT8OID);
}

int tm__db_bind_int(tm_db_stmt *st, int i, int v) { return tm__db_bind_int64(st, i, v); }

int tm__db_bind_double(tm_db_stmt *st, int i, double v)
{
    if (st->sq)
        return sqlite3_bind_double(st->sq, i, v);
    char t[40];
    int n = snprintf(t, sizeof t, "%.17g", v);
    return tm__pq_bind(st->pq, i, t, (size_t)n, 0, FLOAT8OID);
}

int tm__db_bind_null(tm_db_stmt *st, int i)
{
    if (st->sq)
        return sqlite3_bind_null(st->sq, i);
    return tm__pq_bind(st->pq, i, NULL, 0, 0, 0);
}

int tm__db_bind_text(tm_db_stmt *st, int i, const char *v, int n, tm_db_destructor d)
{
    if (st->sq)
        return sqlite3_bind_text(st->sq, i, v, n, (sqlite3_destructor_type)d);
    /* Untyped, so the server reads it as the column it meets wants. */
    return tm__pq_bind(st->pq, i, v, v ? (n < 0 ? strlen(v) : (size_t)n) : 0, 0, 0);
}

int tm__db_bind_blob(tm_db_stmt *st, int i, const void *v, int n, tm_db_destructor d)
{
    if (st->sq)
        return sqlite3_bind_blob(st->sq, i, v, n, (sqlite3_destructor_type)d);
    return tm__pq_bind(st->pq, i, v, v ? (size_t)n : 0, 1, BYTEAOID);
}

int64_t tm__db_column_int64(tm_db_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_int64(st->sq, col);
    size_t n;
    const char *v = tm__pq_column_text(st->pq, col, &n);
    if (!v)
        return 0;
    if (v[0] == 't' && v[1] == 0) /* a boolean */
        return 1;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end == '.' || *end == 'e' || *end == 'E')
        return (int64_t)strtod(v, NULL);
    return x;
}

int tm__db_column_int(tm_db_stmt *st, int col) { return (int)tm__db_column_int64(st, col); }

double tm__db_column_double(tm_db_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_double(st->sq, col);
    size_t n;
    const char *v = tm__pq_column_text(st->pq, col, &n);
    return v ? strtod(v, NULL) : 0.0;
}

const unsigned char *tm__db_column_text(tm_db_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_text(st->sq, col);
    size_t n;
    return (const unsigned char *)tm__pq_column_text(st->pq, col, &n);
}

const void *tm__db_column_blob(tm_db_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_blob(st->sq, col);
    size_t n;
    const char *v = tm__pq_column_text(st->pq, col, &n);
    return v && n ? v : NULL; /* an empty blob reads as NULL, as in SQLite */
}

int tm__db_column_bytes(tm_db_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_bytes(st->sq, col);
    size_t n;
    tm__pq_column_text(st->pq, col, &n);
    return (int)n;
}

int tm__db_column_count(tm_db_stmt *st)
{
    if (st->sq)
        return sqlite3_column_count(st->sq);
    return st->pq->res ? PQnfields(st->pq->res) : 0;
}

const char *tm__db_column_name(tm_db_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_name(st->sq, col);
    return st->pq->res ? PQfname(st->pq->res, col) : NULL;
}

int tm__db_column_type(tm_db_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_type(st->sq, col);
    return tm__pq_column_type(st->pq, col);
}

int tm__db_reset(tm_db_stmt *st)
{
    if (st->sq)
        return sqlite3_reset(st->sq);
    tm__pq_reset(st->pq);
    return TM_DB_OK;
}

int tm__db_clear_bindings(tm_db_stmt *st)
{
    if (st->sq)
        return sqlite3_clear_bindings(st->sq);
    for (int i = 1; i <= st->pq->nparams; i++)
        tm__pq_bind(st->pq, i, NULL, 0, 0, 0);
    return TM_DB_OK;
}

int tm__db_finalize(tm_db_stmt *st)
{
    if (!st)
        return TM_DB_OK;
    int rc = TM_DB_OK;
    if (st->sq)
        rc = sqlite3_finalize(st->sq);
    tm__pq_free(st->pq);
    free(st);
    return rc;
}

int tm__db_changes(tm_store *s)
{
    return s->pg ? s->pg->changes : sqlite3_changes(s->db);
}

int64_t tm__db_last_id(tm_store *s)
{
    if (!s->pg)
        return sqlite3_last_insert_rowid(s->db);
    /* The identity column's sequence, as this session last drew from it. */
    PGresult *r = PQexec(s->pg->conn, "SELECT lastval()");
    int64_t id = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return id;
}
