/*
 * core/store_pg_int.h: the PostgreSQL side of the store's statement layer
 * (store_sqlite_int.h), shared by store_db.c and store_pg*.c only. The
 * operations themselves (store_sqlite_records.c and the others) are the same
 * code on both databases; what differs is here:
 *
 *   store_pg.c      the connection, its transactions, running a statement
 *                   as a server-side prepared statement, reading its rows
 *   store_pg_sql.c  the dialect: SQLite's SQL as the operations write it,
 *                   translated once per statement to PostgreSQL's
 */
#ifndef TM_STORE_PG_INT_H
#define TM_STORE_PG_INT_H

#include <libpq-fe.h>

#include "store_sqlite_int.h"

/* A statement of either database: exactly one of sq and pq is set. */
struct tm_db_stmt {
    tm_store *s;
    struct sqlite3_stmt *sq;
    struct tm__pq_stmt *pq;
};

/* A server-side prepared statement: its translated SQL and parameter types
 * (the key), and the name it was prepared under. */
struct tm__pq_prep {
    char *key;
    char name[16];
};

struct tm__pq {
    PGconn *conn;
    char msg[1024];  /* the last error, for tm__sq_error */
    int constraint;  /* the last error was a constraint (SQLSTATE class 23) */
    int changes;     /* rows the last command changed */
    struct tm__pq_prep *preps;
    size_t nprep, capprep;
};

/* A statement on PostgreSQL: parameters as text (blobs as binary bytea),
 * the result of its run, and the row the cursor is on. */
struct tm__pq_stmt {
    char *sql;          /* translated */
    int nparams;
    char **val;         /* each malloc'd, or NULL for a NULL */
    int *len, *fmt;
    Oid *type;
    PGresult *res;
    int row;            /* the current row; -1 before the first step */
    int ran;
    unsigned char **blob; /* decoded bytea columns of the current row */
    size_t *blob_len;
    int nblob;
};

/* Translates SQLite's SQL as the store writes it to PostgreSQL's (malloc'd;
 * NULL when out of memory): numbered parameters, INSERT OR IGNORE / OR
 * REPLACE as ON CONFLICT, two-argument MAX/MIN as GREATEST/LEAST,
 * group_concat, instr, column types in DDL, and the few date and hex
 * expressions SQLite writes its own way. *nparams is the highest parameter
 * number. */
char *tm__pq_translate(const char *sql, int *nparams);

/* Opens the connection of a PostgreSQL store (s->pg set on TM_OK). TM_EINVAL
 * for a URL that does not parse, TM_ESTORE for a server that cannot be
 * reached or refuses the login; err names the URL without its password. */
int tm__pq_open(tm_store *s, const char *url, struct tm_err *err);
void tm__pq_close(tm_store *s);
/* Statements. */
int tm__pq_prepare(tm_store *s, const char *sql, tm_db_stmt **out);
int tm__pq_step(tm_store *s, tm_db_stmt *st);
void tm__pq_reset(struct tm__pq_stmt *p);
void tm__pq_free(struct tm__pq_stmt *p);
int tm__pq_bind(struct tm__pq_stmt *p, int i, const void *v, size_t n, int binary, Oid type);
int tm__pq_column_type(struct tm__pq_stmt *p, int col);
const char *tm__pq_column_text(struct tm__pq_stmt *p, int col, size_t *len);
/* Runs one or more statements without parameters: TM_OK or TM_ESTORE. */
int tm__pq_exec(tm_store *s, const char *sql, struct tm_err *err);
/* Transactions and the schema version (schema_migrations). */
int tm__pq_begin(tm_store *s, struct tm_err *err);
int tm__pq_commit(tm_store *s, struct tm_err *err);
void tm__pq_rollback(tm_store *s);
int tm__pq_schema_version(tm_store *s);
/* Moves every identity column's sequence past the highest id its table
 * holds, after rows were written with their ids (a copy, a test): the next
 * row then gets a new id, as a SQLite rowid would. TM_OK or TM_ESTORE. */
int tm__pq_sync_ids(tm_store *s, struct tm_err *err);

#endif
