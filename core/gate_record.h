/*
 * core/gate_record.h: keeping a decision: the row in the store's decisions
 * table (what the daily cycle reads back) and its audit record, written the
 * same way by `tallyman decide --record` and by the service's POST
 * /v1/decide with "record": true.
 */
#ifndef TM_GATE_RECORD_H
#define TM_GATE_RECORD_H

#include <stdint.h>

#include "audit.h"
#include "gate.h"
#include "store.h"
#include "tm_status.h"

/* Records decision `d` on `req` by gate `g` in the store `s` (inside the
 * caller's transaction) with an audit record through `w` (actor `actor`, at
 * `at`): the debt, channel, verdict, blocking rules by id, next allowed time
 * and script set; rule ids and times only, never personal data. Returns
 * TM_OK, or the store's or audit writer's error (the caller rolls back). */
int tm_gate_record(tm_store *s, tm_audit_writer *w, const tm_gate *g, const tm_request *req,
                   const tm_decision *d, const char *actor, int64_t at, struct tm_err *err);

#endif
