/*
 * core/gate_record.h: keeping one decision: its row in the store's decision
 * log (core/gate_log.h, what `why` and `decide --replay` read back) sealed
 * into the audit chain, as the service's POST /v1/decide with
 * "record": true keeps it.
 */
#ifndef TM_GATE_RECORD_H
#define TM_GATE_RECORD_H

#include <stdint.h>

#include "audit.h"
#include "gate.h"
#include "store.h"
#include "tm_status.h"

/* Records decision `d` on `req` by gate `g` in the store `s` (inside the
 * caller's transaction): the debt, instant, channel, verdict, blocking rules
 * by id, next allowed time, script set and the request fields judged on,
 * then its "gate.decisions" audit record through `w` (actor `actor`, at
 * `at`) with the row's digest; no personal data. Returns TM_OK, or the
 * store's, encoder's or audit writer's error (the caller rolls back). */
int tm_gate_record(tm_store *s, tm_audit_writer *w, const tm_gate *g, const tm_request *req,
                   const tm_decision *d, const char *actor, int64_t at, struct tm_err *err);

#endif
