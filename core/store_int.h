/*
 * core/store_int.h: what the SQLite store gives the test programs and the
 * SQLite-specific tools, and the product never calls: the raw database
 * handle, and fault injection in every SQLite call of the store, after
 * SQLite's own anomaly tests. store.h stays free of SQLite, so another
 * implementation of it (PostgreSQL) has nothing of this to provide.
 */
#ifndef TM_STORE_INT_H
#define TM_STORE_INT_H

#include "store.h"

/* The store's SQLite handle, borrowed: valid until tm_store_close(). For tests
 * that look at or change the tables directly; a write through it bypasses the
 * audit chain. */
struct sqlite3 *tm_store_sqlite(tm_store *s);

/* Called before every SQLite call of the store that can fail (a prepare, a
 * step, an exec; `what` names which). Returning 0 lets the call go ahead;
 * returning a SQLite result code (SQLITE_BUSY, SQLITE_IOERR, SQLITE_FULL,
 * ...) makes the call fail with it without running, as the database would,
 * and for SQLITE_IOERR and SQLITE_FULL rolls back the transaction in
 * progress, as SQLite may. */
typedef int (*tm__store_fault_fn)(void *ud, const char *what);

/* Installs `fn` for every store of the process; NULL removes it. Not for
 * use while another thread uses a store. */
void tm__store_fault_install(tm__store_fault_fn fn, void *ud);

/* Runs `sql` (one or more statements in SQLite's dialect, translated on
 * PostgreSQL) on the store directly, for tests that set up or damage rows;
 * it bypasses the audit chain. On PostgreSQL the id columns' sequences then
 * move past the highest id, as SQLite's rowids do. TM_OK or TM_ESTORE. */
int tm__store_exec(tm_store *s, const char *sql, struct tm_err *err);
/* The first column of the first row `sql` gives, as an integer; -1 when it
 * fails or gives no row. */
long long tm__store_query_int(tm_store *s, const char *sql);

#endif
