/*
 * core/gate_record.c: a decision into the store and the audit log
 * (gate_record.h).
 */
#include "gate_record.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "gate_wire.h"
#include "jw.h"

int tm_gate_record(tm_store *s, tm_audit_writer *w, const tm_gate *g, const tm_request *req,
                   const tm_decision *d, const char *actor, int64_t at, struct tm_err *err)
{
    char rules[2048] = "";
    size_t n = 0;
    for (int i = 0; i < d->nblocked && n + 100 < sizeof rules; i++)
        n += (size_t)snprintf(rules + n, sizeof rules - n, "%s%s", i ? "," : "", d->blocked[i].rule->qid);
    /* The audit record: rule ids and times only, no personal data. */
    tm_buf b = TM_BUF_INIT;
    tm_jw jw;
    tm_jw_init(&jw, &b, 0);
    tm_jw_obj(&jw);
    tm_jw_key(&jw, "request");
    tm_jw_raw(&jw, req->id_json ? req->id_json : "null");
    tm_jw_key(&jw, "channel");
    tm_jw_str(&jw, tm_gate_channel_names[req->channel]);
    tm_jw_key(&jw, "allow");
    tm_jw_bool(&jw, d->allow);
    tm_jw_key(&jw, "blocked_by");
    tm_jw_str(&jw, rules);
    tm_jw_key(&jw, "next_allowed_at");
    if (d->next_allowed == TM_GATE_NEVER) {
        tm_jw_null(&jw);
    } else {
        char when[40];
        tm_gate_format_time(d->next_allowed, when, sizeof when);
        tm_jw_str(&jw, when);
    }
    tm_jw_key(&jw, "scripts");
    tm_jw_str(&jw, tm_gate_scripts_hash(g));
    tm_jw_obj_end(&jw);
    int rc = tm_buf_done(&b, "the decision's audit record", err);
    if (rc != TM_OK) {
        tm_buf_free(&b);
        return rc;
    }
    char subject[200];
    snprintf(subject, sizeof subject, "debt:%s", req->debt_id ? req->debt_id : "(none)");
    rc = tm_store_decision_add(s, req->debt_id, req->now, tm_gate_channel_names[req->channel],
                                   d->allow, rules,
                                   d->next_allowed == TM_GATE_NEVER ? 0 : d->next_allowed,
                                   tm_gate_scripts_hash(g), err);
    if (rc == TM_OK)
        rc = tm_audit_write(w, at, actor, "decision", subject, b.data, err);
    tm_buf_free(&b);
    return rc;
}
