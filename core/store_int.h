/*
 * core/store_int.h: the store's test hook, shared with the test programs
 * only (the product never calls it): fault injection in the SQLite store,
 * after SQLite's own anomaly tests.
 */
#ifndef TM_STORE_INT_H
#define TM_STORE_INT_H

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

#endif
