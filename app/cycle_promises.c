/*
 * app/cycle_promises.c: phase 0 of the daily cycle (cycle_int.h). Promises
 * whose due date and grace have passed: kept, partly kept or broken, judged by
 * tm_pay_promise_status on what was paid in time. One not kept becomes a
 * broken_promise event, worked in phase 1 like any other (the promise-to-pay
 * journey follows it up). Everything here runs on the caller's thread.
 */
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cycle_int.h"
#include "jw.h"
#include "pay.h"

int tm__cycle_promises(run *r, struct tm_err *err)
{
    char today[16];
    tm_date td;
    tm_calendar_days_to_date(r->day_start / DAY, &td);
    tm_calendar_format_date(td, today, sizeof today, NULL);
    tm_promise_due *p = NULL;
    size_t n = 0;
    int rc = tm_store_promises_lapsed(r->s, today, &p, &n, err);
    if (rc == TM_OK && n)
        rc = tm__cycle_tx_begin(r, err);
    for (size_t i = 0; i < n && rc == TM_OK; i++) {
        tm_pay_promise pr = {.amount = {.minor = p[i].amount}, .grace_days = p[i].grace_days};
        memcpy(pr.amount.currency, p[i].currency, sizeof pr.amount.currency);
        tm_pay_payment pay = {.amount = {.minor = p[i].paid}};
        memcpy(pay.amount.currency, p[i].currency, sizeof pay.amount.currency);
        struct tm_err e = {0};
        int state = 0;
        tm_work_debt w;
        int found = 0;
        rc = tm_store_work_debt(r->s, p[i].debt, &w, &found, err);
        if (rc != TM_OK || !found)
            continue;
        if (tm_calendar_parse_date(p[i].due, &pr.due, &e) != TM_OK ||
            (pay.date = pr.due, tm_pay_promise_status(&pr, &pay, p[i].paid > 0, td, &state, NULL, &e)) != TM_OK) {
            tm__cycle_report(r, "debt %s: promise %lld cannot be judged: %s", w.debt_id, (long long)p[i].id, e.msg);
            continue;
        }
        enum tm_promise_status ps =
            state == TM_PAY_PROMISE_KEPT             ? TM_PROMISE_KEPT
            : state == TM_PAY_PROMISE_PARTIALLY_KEPT ? TM_PROMISE_PARTIALLY_KEPT
            : state == TM_PAY_PROMISE_BROKEN         ? TM_PROMISE_BROKEN
                                                     : TM_PROMISE_OPEN;
        if (ps == TM_PROMISE_OPEN)
            continue;
        const char *status = tm_store_promise_status_name(ps);
        rc = tm_store_promise_set(r->s, p[i].id, ps, err);
        tm_buf db = TM_BUF_INIT; /* the broken promise event's details and the audit record's */
        tm_jw jw;
        tm_jw_init(&jw, &db, 0);
        tm_jw_obj(&jw);
        tm_jw_key(&jw, "promise");
        tm_jw_int(&jw, p[i].id);
        tm_jw_key(&jw, "amount_minor");
        tm_jw_int(&jw, p[i].amount);
        tm_jw_key(&jw, "paid_minor");
        tm_jw_int(&jw, p[i].paid);
        tm_jw_key(&jw, "due");
        tm_jw_str(&jw, p[i].due);
        tm_jw_key(&jw, "grace_days");
        tm_jw_int(&jw, p[i].grace_days);
        tm_jw_key(&jw, "status");
        tm_jw_str(&jw, status);
        tm_jw_obj_end(&jw);
        if (rc == TM_OK)
            rc = tm_buf_done(&db, "the promise's audit record", err);
        const char *details = db.data;
        if (rc == TM_OK && state != TM_PAY_PROMISE_KEPT) {
            r->st->promises_broken++;
            /* at the end of the grace: the first moment it was broken */
            int64_t at = (tm_calendar_date_to_days(pr.due) + pr.grace_days + 1) * DAY;
            if (at < p[i].created_at)
                at = p[i].created_at;
            char key[64];
            snprintf(key, sizeof key, "promise:%lld:broken", (long long)p[i].id);
            rc = tm_store_event_add(r->s, key, "broken_promise", p[i].debt, at, details, TM_EVENT_APPLIED,
                                    NULL, NULL, r->day_start, err);
        } else if (rc == TM_OK) {
            r->st->promises_kept++;
        }
        if (rc == TM_OK) {
            char subject[160], action[40];
            snprintf(subject, sizeof subject, "debt:%s", w.debt_id);
            snprintf(action, sizeof action, "promise.%s", status);
            rc = tm_audit_write(r->audit, r->day_start, "cycle", action, subject, details, err);
        }
        tm_buf_free(&db);
        if (rc == TM_OK)
            rc = tm__cycle_tx_step(r, err);
    }
    free(p);
    if (rc == TM_OK)
        rc = tm__cycle_tx_commit(r, err);
    return rc;
}
