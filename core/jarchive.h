/*
 * core/jarchive.h: the journey archive between the store and the loaded
 * journeys (sandbox/lb_journey.h, "Versions"): keeps the text of every loaded
 * journey in the store before any debt runs on it, finds an old text again
 * for a debt still on it, and audits a debt parked because its text is gone.
 * The daily cycle (core/cycle.c) uses these three; nothing here runs Lua.
 */
#ifndef TM_JARCHIVE_H
#define TM_JARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "lb_journey.h"
#include "store.h"
#include "tm_status.h"

/* Keeps the text of each journey in `js` under its SHA-256 (a text kept
 * before is left alone) and appends one "journey.archived" audit record, at
 * `now`, for each text seen for the first time. Call inside a transaction
 * that `audit` writes in. TM_OK, TM_ESTORE, TM_ENOMEM. */
int tm_jarchive_keep(tm_store *s, const tm_journeys *js, tm_audit_writer *audit, int64_t now,
                     struct tm_err *err);

/* A tm_jarchive_fn over the store: `ud` is the tm_store *, which must stay
 * open while the journeys may call it. *text is malloc'd (caller frees) or
 * NULL when the store does not hold the text. */
int tm_jarchive_lookup(void *ud, const char *sha256, char **text, size_t *len, char *path,
                       size_t path_cap, struct tm_err *err);

/* When a step failed because the debt's journey text cannot be had (`step`
 * has code TM_ENOENT), appends a "journey.parked" audit record for debt `w`
 * naming its journey, version, hash and state with the step's message; any
 * other failure writes nothing. The debt itself is not changed: it stays
 * where it is until its text is back or a migration is declared. Call inside
 * a transaction. TM_OK, TM_ESTORE, TM_ENOMEM. */
int tm_jarchive_parked(tm_audit_writer *audit, const tm_work_debt *w, const struct tm_err *step,
                       int64_t now, struct tm_err *err);

#endif
