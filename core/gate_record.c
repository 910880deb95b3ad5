/*
 * core/gate_record.c: a decision into the store and the audit log
 * (gate_record.h).
 */
#include "gate_record.h"

#include <stdio.h>
#include <string.h>

#include "gate_wire.h"

int tm_gate_record(tm_store *s, tm_audit_writer *w, const tm_gate *g, const tm_request *req,
                   const tm_decision *d, const char *actor, int64_t at, struct tm_err *err)
{
    char rules[2048] = "", details[2600];
    size_t n = 0;
    for (int i = 0; i < d->nblocked && n + 100 < sizeof rules; i++)
        n += (size_t)snprintf(rules + n, sizeof rules - n, "%s%s", i ? "," : "", d->blocked[i].rule->qid);
    char when[40] = "null";
    if (d->next_allowed != TM_GATE_NEVER) {
        when[0] = '"';
        tm_gate_format_time(d->next_allowed, when + 1, sizeof when - 2);
        strcat(when, "\"");
    }
    snprintf(details, sizeof details,
             "{\"request\":%s,\"channel\":\"%s\",\"allow\":%s,\"blocked_by\":\"%s\","
             "\"next_allowed_at\":%s,\"scripts\":\"%s\"}",
             req->id_json, tm_gate_channel_names[req->channel], d->allow ? "true" : "false", rules,
             when, tm_gate_scripts_hash(g));
    char subject[200];
    snprintf(subject, sizeof subject, "debt:%s", req->debt_id ? req->debt_id : "(none)");
    int rc = tm_store_decision_add(s, req->debt_id, req->now, tm_gate_channel_names[req->channel],
                                   d->allow, rules,
                                   d->next_allowed == TM_GATE_NEVER ? 0 : d->next_allowed,
                                   tm_gate_scripts_hash(g), err);
    if (rc == TM_OK)
        rc = tm_audit_write(w, at, actor, "decision", subject, details, err);
    return rc;
}
