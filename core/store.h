/*
 * core/store.h: the portfolio store: consumers, debts, events, contacts,
 * decisions, the outbox and the audit log, behind one interface.
 *
 * SQLite (WAL, one file, zero set-up) is the first implementation
 * (core/store_sqlite.c); PostgreSQL will implement the same operations.
 * Every write that changes consumer or debt state appends its audit records
 * in the same transaction, so a record and its proof commit or vanish
 * together. Personal data reaches the store only as AES-256-GCM ciphertext
 * (core/keys.h); lookups use keyed hashes.
 *
 * A store is used by one thread at a time. Writes are grouped in explicit
 * transactions (tm_store_begin / tm_store_commit) so an import commits in
 * batches; a crash loses at most the batch in progress, never half a record.
 */
#ifndef TM_STORE_H
#define TM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

typedef struct tm_store tm_store;

/* The schema version this build migrates to. */
#define TM_STORE_SCHEMA_VERSION 1

/* Opens (creating if needed) the store at `path` and applies every pending
 * migration in one transaction each. `path` is a file name; a
 * "postgresql://" URL is refused with TM_EINVAL until that backend exists.
 * The caller frees the store with tm_store_close(). */
int tm_store_open(const char *path, tm_store **out, struct tm_err *err);
void tm_store_close(tm_store *s);

/* The schema version the store is at. */
int tm_store_schema_version(tm_store *s);

/* Transactions. begin/commit/rollback nest: only the outermost pair touches
 * the database. */
int tm_store_begin(tm_store *s, struct tm_err *err);
int tm_store_commit(tm_store *s, struct tm_err *err);
void tm_store_rollback(tm_store *s);

/* The raw SQLite handle, for tests and the sqlite-specific tools only. */
struct sqlite3 *tm_store_sqlite(tm_store *s);

#endif
