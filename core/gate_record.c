/*
 * core/gate_record.c: a decision into the store's decision log and the audit
 * chain (gate_record.h).
 */
#include "gate_record.h"

#include <stdio.h>
#include <string.h>

#include "gate_log.h"

int tm_gate_record(tm_store *s, tm_audit_writer *w, const tm_gate *g, const tm_request *req,
                   const tm_decision *d, const char *actor, int64_t at, struct tm_err *err)
{
    char rules[2048] = "";
    size_t n = 0;
    for (int i = 0; i < d->nblocked && n + 130 < sizeof rules; i++)
        n += (size_t)snprintf(rules + n, sizeof rules - n, "%s%s", i ? "," : "", d->blocked[i].rule->qid);
    tm_gate_log *log = NULL;
    int rc = tm_gate_log_open(s, &log, err);
    if (rc == TM_OK)
        rc = tm_gate_log_add(log, 0, req, d->allow, rules, d->next_allowed, tm_gate_scripts_hash(g), NULL,
                             err);
    if (rc == TM_OK) {
        /* One decision, one batch: its own "gate.decisions" record binds it into
         * the chain, as the cycle's batches are. */
        char subject[200];
        snprintf(subject, sizeof subject, "debt:%s", req->debt_id ? req->debt_id : "(none)");
        rc = tm_gate_log_seal(log, w, at, actor, subject, err);
    }
    tm_gate_log_close(log);
    return rc;
}
