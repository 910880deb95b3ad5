/*
 * core/store_sqlite_int.h: what the files of the SQLite store share, and
 * nothing outside them includes (tests reach the store through store.h and
 * store_int.h only). The store is one module in six files:
 *
 *   store_sqlite.c          the connection, its transactions, every call into
 *                           SQLite that fault injection can fail, the prepared
 *                           statements and the snapshot copy
 *   store_sqlite_schema.c   the schema: numbered migrations and the version
 *   store_sqlite_records.c  the portfolio's records: consumers, debts, events,
 *                           payments and promises, contacts, card payment
 *                           attempts, scores, model training rows
 *   store_sqlite_control.c  what guards them: the audit chain, the keys and the
 *                           ciphertexts under each, leases, the counts that say a
 *                           store is in use
 *   store_sqlite_govern.c   who may change what runs: users and their roles, the
 *                           script generations, their files, approvals and
 *                           activations
 *   store_sqlite_cycle.c    the daily cycle's work: marks, work lists, the debt
 *                           as a journey sees it, the outbox, the gate's
 *                           decisions, agent queues, the journey archive
 *
 * Every call into SQLite that can fail goes through tm__sq_prepare,
 * tm__sq_step or tm__sq_exec, so a test can make any of them fail
 * (store_int.h); a failure is reported with tm__sq_error, never read as
 * "not found".
 */
#ifndef TM_STORE_SQLITE_INT_H
#define TM_STORE_SQLITE_INT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

/* ---------------------------------------------------------------------------
 * The statement layer every operation file uses, whichever database the
 * store is on (store_db.c). Its calls have SQLite's shape (bind, step,
 * column, reset, finalize), so the operations read as they did; on
 * PostgreSQL (store_pg*.c) a statement's SQL is translated once to
 * PostgreSQL's dialect and run as a server-side prepared statement. The
 * operation files include neither sqlite3.h nor libpq-fe.h: a call that
 * bypassed this layer would work on one database only.
 */
typedef struct tm_db_stmt tm_db_stmt;
typedef void (*tm_db_destructor)(void *);
/* SQLite's values, so the SQLite side passes them through unchanged. */
enum {
    TM_DB_OK = 0, TM_DB_ERROR = 1, TM_DB_CONSTRAINT = 19, TM_DB_ROW = 100, TM_DB_DONE = 101,
    TM_DB_INTEGER = 1, TM_DB_FLOAT = 2, TM_DB_TEXT = 3, TM_DB_BLOB = 4, TM_DB_NULL = 5
};
#define TM_DB_STATIC ((tm_db_destructor)0)
#define TM_DB_TRANSIENT ((tm_db_destructor)-1)

/* Binding: parameters count from 1; one never bound is NULL. Text and blobs
 * are copied or borrowed as `d` says (TM_DB_STATIC: borrowed until the next
 * step or reset). Each returns TM_DB_OK or an error code. */
int tm__db_bind_int64(tm_db_stmt *st, int i, int64_t v);
int tm__db_bind_int(tm_db_stmt *st, int i, int v);
int tm__db_bind_double(tm_db_stmt *st, int i, double v);
int tm__db_bind_null(tm_db_stmt *st, int i);
int tm__db_bind_text(tm_db_stmt *st, int i, const char *v, int n, tm_db_destructor d);
int tm__db_bind_blob(tm_db_stmt *st, int i, const void *v, int n, tm_db_destructor d);
/* Columns of the current row, counting from 0; pointers stay valid until
 * the next step, reset or finalize. A NULL reads as 0 or a NULL pointer. */
int64_t tm__db_column_int64(tm_db_stmt *st, int col);
int tm__db_column_int(tm_db_stmt *st, int col);
double tm__db_column_double(tm_db_stmt *st, int col);
const unsigned char *tm__db_column_text(tm_db_stmt *st, int col);
const void *tm__db_column_blob(tm_db_stmt *st, int col);
int tm__db_column_bytes(tm_db_stmt *st, int col);
/* The number of columns of a statement's rows, and a column's name. */
int tm__db_column_count(tm_db_stmt *st);
const char *tm__db_column_name(tm_db_stmt *st, int col);
/* TM_DB_INTEGER, _FLOAT, _TEXT, _BLOB or _NULL. */
int tm__db_column_type(tm_db_stmt *st, int col);
/* Makes the statement ready to run again (bindings kept). */
int tm__db_reset(tm_db_stmt *st);
int tm__db_clear_bindings(tm_db_stmt *st);
/* Frees a statement from tm__sq_prepare (never one from tm__sq_stmt or
 * tm__sq_cached, which the store keeps). NULL is allowed. */
int tm__db_finalize(tm_db_stmt *st);
/* Rows the last INSERT, UPDATE or DELETE changed. */
int tm__db_changes(tm_store *s);
/* The id the last INSERT into a table with an id column gave its row. */
int64_t tm__db_last_id(tm_store *s);

/* Prepared statements, made on first use and kept for the store's life
 * (their SQL is in store_sqlite.c). */
enum tm__sq_st {
    ST_CONSUMER_FIND, ST_CONSUMER_INS, ST_CONSUMER_UPD, ST_DEBT_FIND, ST_DEBT_INS, ST_DEBT_UPD,
    ST_EVENT_EXISTS, ST_EVENT_ADD, ST_DEBT_TOUCH, ST_AUDIT_TAIL, ST_AUDIT_ADD, ST_AUDIT_HEAD,
    ST_AUDIT_SET_HEAD, ST_PAY_BALANCE, ST_PAY_ADD, ST_PAY_PROMISE, ST_DEBT_BALANCE, ST_PROMISE_ADD,
    ST_DISPUTE, ST_CONTACT_ADD, ST__COUNT
};

/* Room for every statement the store caches (a statement made once the
 * cache is full would be prepared again on each use). */
#define STORE_CACHE 128

struct tm_store {
    struct sqlite3 *db;       /* SQLite: the connection; NULL on PostgreSQL */
    struct tm__pq *pg;        /* PostgreSQL: the connection and its statements (store_pg_int.h) */
    int depth;     /* nesting of tm_store_begin */
    uint64_t tx;   /* the id of the outermost transaction in progress; 0 when none */
    uint64_t txs;  /* transactions begun so far (the next id less one) */
    int fault_rc;  /* the code of a fault injected into the last call (tests), else 0 */
    tm_db_stmt *st[ST__COUNT];
    /* Statements of the cycle's functions, prepared once, keyed by the
     * address of their SQL text (a static array per function). */
    struct {
        const char *sql;
        tm_db_stmt *st;
    } cache[STORE_CACHE];
    int ncache;
};

/* sqlite3_step: SQLITE_ROW is a row, SQLITE_DONE is done, anything else is
 * an error the caller reports with tm__sq_error (never "not found"). */
int tm__sq_step(tm_store *s, tm_db_stmt *st);
/* sqlite3_prepare_v2 of `sql` into *st (NULL on failure). */
int tm__sq_prepare(tm_store *s, const char *sql, tm_db_stmt **st);
/* Sets `err` to TM_ESTORE, "WHAT: " and SQLite's message (or the injected
 * fault's), and returns TM_ESTORE. */
int tm__sq_error(tm_store *s, struct tm_err *err, const char *what);
/* sqlite3_exec of `sql` (one or more statements): TM_OK or TM_ESTORE. */
int tm__sq_exec(tm_store *s, const char *sql, struct tm_err *err);

/* The prepared statement `which`, reset and unbound; NULL (err set) when it
 * cannot be prepared. */
tm_db_stmt *tm__sq_stmt(tm_store *s, enum tm__sq_st which, struct tm_err *err);
/* The statement for `sql` (a static array), prepared on first use and
 * reset for reuse; NULL with err set when it cannot be prepared. */
tm_db_stmt *tm__sq_cached(tm_store *s, const char *sql, struct tm_err *err);
/* Runs a statement with text and integer parameters: "t" binds the next
 * text (NULL: a NULL), "i" the next int64_t. TM_OK or TM_ESTORE. `sql` must
 * be a string literal (the statement is cached by its address, as for
 * tm__sq_cached), never text built at run time. */
int tm__sq_run(tm_store *s, const char *sql, const char *types, struct tm_err *err, ...);
/* Steps a write statement to its end and resets it: TM_OK or TM_ESTORE. */
int tm__sq_done(tm_store *s, tm_db_stmt *st, struct tm_err *err);

/* Rolls back whatever transaction the connection has open, below the
 * store's own nesting and out of reach of fault injection. */
void tm__sq_abort(tm_store *s);

/* Brings the schema to the newest version (store_sqlite_schema.c). */
int tm__sq_migrate(tm_store *s, struct tm_err *err);
/* TM_ROLE_BIT of each role named in comma-separated `text` (NULL: none);
 * names no build knows are left out (store_sqlite_govern.c). */
unsigned tm__sq_roles_parse(const char *text);

/* Column `col` as text into out (cap bytes; "" for NULL). */
static inline void tm__sq_copy_col(tm_db_stmt *st, int col, char *out, size_t cap)
{
    const char *t = (const char *)tm__db_column_text(st, col);
    snprintf(out, cap, "%s", t ? t : "");
}

/* A lookup hash column: set only when it holds exactly TM_STORE_HASH_LEN bytes. */
static inline void tm__sq_read_hash(tm_db_stmt *st, int col, tm_hash16 *h)
{
    const void *b = tm__db_column_blob(st, col);
    h->set = b && tm__db_column_bytes(st, col) == TM_STORE_HASH_LEN;
    if (h->set)
        memcpy(h->b, b, TM_STORE_HASH_LEN);
}

/* Binds a hash (borrowed for the statement's life), or NULL when unset. */
static inline void tm__sq_bind_hash(tm_db_stmt *st, int i, const tm_hash16 *h)
{
    if (h && h->set)
        tm__db_bind_blob(st, i, h->b, TM_STORE_HASH_LEN, TM_DB_STATIC);
    else
        tm__db_bind_null(st, i);
}

/* Binds text (borrowed), or NULL when v is NULL or "". */
static inline void tm__sq_bind_opt_text(tm_db_stmt *st, int i, const char *v)
{
    if (v && *v)
        tm__db_bind_text(st, i, v, -1, TM_DB_STATIC);
    else
        tm__db_bind_null(st, i);
}

#endif
