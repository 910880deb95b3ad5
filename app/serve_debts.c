/*
 * app/serve_debts.c: GET /v1/debts/{id}: where a debt stands, without its
 * personal data.
 */
#include "serve_http.h"

#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "calendar.h"

/* GET /v1/debts/{id}: state, journey and version, balance, open promise, the
 * next planned step. Never personal data. */
void tm_sv_debt(tm_sv_req *r)
{
    tm_serve_worker *w = r->w;
    const char *dec = r->arg[0];
    tm_debt_rec d;
    int found = 0;
    struct tm_err e = {0};
    int rc = strlen(dec) < sizeof d.debt_id ? tm_store_debt_find(w->store, dec, &d, &found, &e) : TM_OK;
    tm_work_debt wd;
    int wfound = 0;
    if (rc == TM_OK && found)
        rc = tm_store_work_debt(w->store, d.id, &wd, &wfound, &e);
    if (rc != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    if (!found || !wfound) {
        tm_sv_error(r, 404, "not_found", "no such debt", "id");
        return;
    }
    char timer[40] = "";
    if (wd.timer_at)
        tm_calendar_format_rfc3339(wd.timer_at, 0, timer, sizeof timer, NULL);
    json_t *v = json_pack(
        "{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:o,s:{s:o,s:o,s:i,s:o},s:o,s:o}", "id", wd.debt_id, "status",
        tm_store_debt_status_name(wd.status), "dispute", tm_store_debt_dispute_name(wd.dispute),
        "balance", (json_int_t)wd.balance, "placed_balance", (json_int_t)wd.placed_balance,
        "currency", wd.currency, "state", wd.state, "debt_type",
        wd.debt_type[0] ? json_string(wd.debt_type) : json_null(), "journey", "name",
        wd.journey[0] ? json_string(wd.journey) : json_null(), "state",
        wd.journey_state[0] ? json_string(wd.journey_state) : json_null(), "version",
        wd.journey_version, "hash", wd.journey_hash[0] ? json_string(wd.journey_hash) : json_null(),
        "promise",
        wd.promise_amount ? json_pack("{s:I,s:s}", "amount", (json_int_t)wd.promise_amount, "due",
                                      wd.promise_due)
                          : json_null(),
        "next_step",
        wd.timer_at ? json_pack("{s:s,s:s}", "at", timer, "go", wd.timer_go) : json_null());
    tm_sv_reply_value(r, 200, v);
}
