/*
 * app/cycle_journeys.c: phases 1 to 3 of the daily cycle (cycle_int.h): the
 * day's events, new debts and due timers through each debt's journey, and
 * the writing of a step's result (the debt's journey fields, its planned
 * sends, its queue and score actions, one audit record) or of a step that
 * failed (the debt parked). Events are worked on the caller's thread; starts
 * and timers run their steps on the workers.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cycle_int.h"
#include "jw.h"
#include "stopat.h"
#include "tz.h"

/* ---------------------------------------------------------------------------
 * A debt as its journey sees it, and a step's result written back.
 */
/* Starts the standing offer's JSON members (",\"offer\":{...") in `mem`, the debt's
 * fixed field of `cap` bytes; the caller adds the members and calls offer_end. */
static void offer_begin(tm_buf *b, tm_jw *w, char *mem, size_t cap)
{
    tm_buf_fixed(b, mem, cap);
    tm_buf_putc(b, ',');
    tm_jw_init(w, b, 0);
    tm_jw_key(w, "offer");
    tm_jw_obj(w);
}

/* Closes the offer; one that does not fit its field is no offer, rather than a cut-short
 * text in every later payload. */
static void offer_end(tm_buf *b, tm_jw *w)
{
    tm_jw_obj_end(w);
    if (tm_buf_failed(b))
        b->data[0] = '\0';
}

/* Writes the audit record `action` on the debt with the details in `b`, and frees b. */
static int audit_debt(run *r, int64_t now, const char *action, const char *debt_id, tm_buf *b,
                      struct tm_err *err)
{
    char subject[160];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    int rc = tm_buf_done(b, "the audit record", err);
    if (rc == TM_OK)
        rc = tm_audit_write(r->audit, now, "cycle", action, subject, b->data, err);
    tm_buf_free(b);
    return rc;
}

tm_jdebt tm__cycle_jdebt(tm_work_debt *w)
{
    tm_contact_reach reach = {.consent = w->consent, .optout = w->optout, .has_phone = w->has_phone,
                              .has_email = w->has_email, .has_address = w->has_address,
                              .phone_bad = w->phone_bad, .email_bad = w->email_bad};
    tm_contact_usable(&reach, w->channels, sizeof w->channels);
    tm_jdebt d = {
        .channels = w->channels, .preferred_channel = w->preferred_channel,
        .debt_id = w->debt_id, .state = w->state, .debt_type = w->debt_type,
        .currency = w->currency, .creditor = w->creditor,
        .dispute = tm_store_debt_dispute_name(w->dispute),
        .status = tm_store_debt_status_name(w->status), .zone = w->timezone,
        .language = w->language, .flags = w->flags,
        .charge_off_date = w->charge_off_date, .last_payment_date = w->last_payment_date,
        .balance = w->balance, .placed_balance = w->placed_balance,
        .days_past_due = w->days_past_due, .promise_amount = w->promise_amount,
        .promise_due = w->promise_due, .hardship = w->hardship,
    };
    return d;
}

tm_jstate tm__cycle_jstate(const tm_work_debt *w)
{
    tm_jstate st;
    memset(&st, 0, sizeof st);
    snprintf(st.journey, sizeof st.journey, "%s", w->journey);
    snprintf(st.state, sizeof st.state, "%s", w->journey_state);
    snprintf(st.variant, sizeof st.variant, "%s", w->variant);
    st.version = w->journey_version;
    snprintf(st.timer_go, sizeof st.timer_go, "%s", w->timer_go);
    st.timer_at = w->timer_at;
    snprintf(st.hash, sizeof st.hash, "%s", w->journey_hash);
    return st;
}

void tm__cycle_plan_zone(tm_work_debt *w)
{
    if (w->timezone[0])
        return;
    const char *const *z = tm_tz_state_zones(w->state);
    snprintf(w->timezone, sizeof w->timezone, "%s", z && z[0] ? z[0] : "America/New_York");
}

/* A step's queue and score actions: the debt waits in the agent queue
 * (once per step and action, like a send), and the score is kept on the
 * debt. */
static int hand_on(run *r, const tm_work_debt *w, const tm_jaction *a, int i, int64_t now,
                   struct tm_err *err)
{
    json_t *aj = json_loads(a->json, 0, NULL);
    int rc = TM_OK;
    if (a->type == TM_JA_QUEUE) {
        const char *queue = json_string_value(json_object_get(aj, "queue"));
        char key[256];
        snprintf(key, sizeof key, "%s:%s:%lld:%d", w->debt_id, w->journey, (long long)w->journey_step, i);
        tm_queue_item q = {.debt = w->id, .key = key, .queue = queue && *queue ? queue : "default",
                           .reason = json_string_value(json_object_get(aj, "reason")),
                           .journey = w->journey, .journey_state = w->journey_state, .at = now};
        int added = 0;
        rc = tm_store_queue_add(r->s, &q, &added, err);
        r->st->queued += added;
    } else {
        const char *model = json_string_value(json_object_get(aj, "model"));
        json_t *p = json_object_get(aj, "probability");
        int has_reasons = json_is_array(json_object_get(aj, "reasons"));
        char *reasons = has_reasons ? json_dumps(json_object_get(aj, "reasons"), JSON_COMPACT) : NULL;
        if (has_reasons && !reasons)
            rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        else if (model && json_is_number(p))
            rc = tm_store_score_set(r->s, w->id, model, json_number_value(p), reasons, now, err);
        free(reasons);
    }
    json_decref(aj);
    return rc;
}

/* Writes a step's result: the debt's journey fields, its planned sends, and
 * one audit record. `what` names the trigger ("start", "event payment",
 * "timer", "blocked"). */
static int apply(run *r, tm_work_debt *w, const tm_jresult *res, const char *what, int64_t now,
                 struct tm_err *err)
{
    char from[64];
    snprintf(from, sizeof from, "%s", w->journey_state[0] ? w->journey_state : "(none)");
    w->journey_step++;
    snprintf(w->journey, sizeof w->journey, "%s", res->st.journey);
    snprintf(w->journey_state, sizeof w->journey_state, "%s", res->st.state);
    snprintf(w->variant, sizeof w->variant, "%s", res->st.variant);
    w->journey_version = res->st.version;
    snprintf(w->journey_hash, sizeof w->journey_hash, "%s", res->st.hash);
    snprintf(w->timer_go, sizeof w->timer_go, "%s", res->closed ? "" : res->st.timer_go);
    w->timer_at = res->closed ? 0 : res->st.timer_at;
    if (res->closed)
        snprintf(w->closed_reason, sizeof w->closed_reason, "%s", res->closed_reason);
    int rc = TM_OK;
    tm_buf acts = TM_BUF_INIT; /* the actions' names, as JSON array elements */
    tm_jw aw;
    tm_jw_init(&aw, &acts, 0);
    tm_buf eb;
    tm_jw ew;
    /* Offers made in the step go with its sends, so the templates can name
     * the amounts: a settlement at `percent` of the balance, due in 30 days;
     * a plan's installment count, first amount and first date. */
    char extra[300] = "";
    for (int i = 0; i < res->nactions; i++) {
        const tm_jaction *a = &res->actions[i];
        if (a->type != TM_JA_OFFER_SETTLEMENT && a->type != TM_JA_OFFER_PLAN)
            continue; /* only offers need their JSON read back */
        json_t *aj = json_loads(a->json, 0, NULL);
        if (a->type == TM_JA_OFFER_SETTLEMENT && aj) {
            double pct = json_number_value(json_object_get(aj, "percent"));
            if (pct > 0 && pct <= 100) {
                /* integer minor units, rounded up: the least amount that is
                 * at least the percent, so rounding never takes the offer
                 * below the authority it was checked against */
                int64_t bps = (int64_t)(pct * 100 + 0.5);
                int64_t amount = (w->balance * bps + 9999) / 10000;
                tm_date due;
                char ds[16];
                tm_calendar_days_to_date(now / DAY + 30, &due);
                tm_calendar_format_date(due, ds, sizeof ds, NULL);
                offer_begin(&eb, &ew, extra, sizeof extra);
                tm_jw_key(&ew, "amount");
                tm_jw_int(&ew, amount);
                tm_jw_key(&ew, "due");
                tm_jw_str(&ew, ds);
                tm_jw_key(&ew, "bps");
                tm_jw_int(&ew, bps);
                offer_end(&eb, &ew);
            }
        } else if (a->type == TM_JA_OFFER_PLAN && aj) {
            json_t *pl = json_object_get(aj, "plan");
            json_int_t count = json_integer_value(json_object_get(pl, "count"));
            const char *first = json_string_value(json_object_get(pl, "first"));
            if (count >= 1 && count <= 120 && w->balance > 0) {
                /* The same shape as an offer, under "plan". */
                tm_buf_fixed(&eb, extra, sizeof extra);
                tm_buf_putc(&eb, ',');
                tm_jw_init(&ew, &eb, 0);
                tm_jw_key(&ew, "plan");
                tm_jw_obj(&ew);
                tm_jw_key(&ew, "count");
                tm_jw_int(&ew, count);
                tm_jw_key(&ew, "amount");
                tm_jw_int(&ew, w->balance / count);
                tm_jw_key(&ew, "first_due");
                tm_jw_str(&ew, first ? first : "");
                offer_end(&eb, &ew);
            }
        }
        json_decref(aj);
    }
    /* An offer stands until the next one: later sends (the call after the
     * letter) name it too. */
    if (extra[0])
        snprintf(w->offer, sizeof w->offer, "%s", extra);
    else
        snprintf(extra, sizeof extra, "%s", w->offer);
    for (int i = 0; rc == TM_OK && i < res->nactions; i++) {
        const tm_jaction *a = &res->actions[i];
        static const char *const names[] = {"", "send", "offer_plan", "offer_settlement", "score",
                                            "queue", "close", "note"};
        if (acts.len < 360) { /* the record names the first few dozen */
            char act[64];
            snprintf(act, sizeof act, "%s%s%s", names[a->type], a->type == TM_JA_SEND ? ":" : "",
                     a->type == TM_JA_SEND ? a->channel : "");
            tm_jw_str(&aw, act);
        }
        if (a->type == TM_JA_QUEUE || a->type == TM_JA_SCORE) {
            rc = hand_on(r, w, a, i, now, err);
            continue;
        }
        if (a->type == TM_JA_OFFER_SETTLEMENT && strstr(a->json, "\"overridden\":true")) {
            /* A supervisor's override below the usual minimum: on the record. */
            char subject[160];
            snprintf(subject, sizeof subject, "debt:%s", w->debt_id);
            rc = tm_audit_write(r->audit, now, "cycle", "settlement.override", subject, a->json, err);
            continue;
        }
        if (a->type != TM_JA_SEND)
            continue;
        char key[256];
        snprintf(key, sizeof key, "%s:%s:%lld:%d", w->debt_id, w->journey,
                 (long long)w->journey_step, i);
        /* The send's JSON with the standing offer's members added. */
        tm_buf payload = TM_BUF_INIT;
        size_t jl = strlen(a->json);
        if (extra[0] && jl > 1 && a->json[jl - 1] == '}') {
            tm_buf_put(&payload, a->json, jl - 1);
            tm_buf_puts(&payload, extra);
            tm_buf_putc(&payload, '}');
        } else {
            tm_buf_put(&payload, a->json, jl);
        }
        if ((rc = tm_buf_done(&payload, "the message's payload", err)) != TM_OK) {
            tm_buf_free(&payload);
            break;
        }
        tm_outbox_rec o = {.debt = w->id, .key = key, .channel = a->channel,
                           .template_id = a->template_id, .payload = payload.data,
                           .send_at = a->at < now ? now : a->at,
                           .purpose = a->purpose[0] ? a->purpose : "collection",
                           .journey_state = w->journey_state, .created_at = now};
        int added = 0;
        rc = tm_store_outbox_plan(r->s, &o, &added, err);
        tm_buf_free(&payload);
        r->st->planned += added;
    }
    if (rc == TM_OK)
        rc = tm_store_debt_set_journey(r->s, w->id, w, err);
    if (rc == TM_OK && res->migrated_from) {
        tm_buf b = TM_BUF_INIT;
        tm_jw jw;
        tm_jw_init(&jw, &b, 0);
        tm_jw_obj(&jw);
        tm_jw_key(&jw, "journey");
        tm_jw_str(&jw, w->journey);
        tm_jw_key(&jw, "from_version");
        tm_jw_int(&jw, res->migrated_from);
        tm_jw_key(&jw, "to_version");
        tm_jw_int(&jw, res->st.version);
        tm_jw_key(&jw, "from_state");
        tm_jw_str(&jw, from);
        tm_jw_key(&jw, "to_state");
        tm_jw_str(&jw, res->migrated_state);
        tm_jw_key(&jw, "hash");
        tm_jw_str(&jw, res->st.hash);
        tm_jw_obj_end(&jw);
        rc = audit_debt(r, now, "journey.migrate", w->debt_id, &b, err);
    }
    if (rc == TM_OK)
        rc = tm_buf_done(&acts, "the step's actions", err);
    if (rc == TM_OK) {
        tm_buf b = TM_BUF_INIT;
        tm_jw jw;
        tm_jw_init(&jw, &b, 0);
        tm_jw_obj(&jw);
        tm_jw_key(&jw, "trigger");
        tm_jw_str(&jw, what);
        tm_jw_key(&jw, "journey");
        tm_jw_str(&jw, w->journey);
        tm_jw_key(&jw, "variant");
        tm_jw_str(&jw, w->variant);
        tm_jw_key(&jw, "from");
        tm_jw_str(&jw, from);
        tm_jw_key(&jw, "to");
        tm_jw_str(&jw, w->journey_state);
        tm_jw_key(&jw, "moves");
        tm_jw_str(&jw, res->moves);
        tm_jw_key(&jw, "actions");
        tm_jw_arr(&jw);
        tm_jw_rawn(&jw, acts.data ? acts.data : "", acts.len);
        tm_jw_arr_end(&jw);
        if (res->closed) {
            tm_jw_key(&jw, "closed");
            tm_jw_str(&jw, res->closed_reason);
        }
        tm_jw_key(&jw, "scripts");
        tm_jw_str(&jw, r->scripts);
        tm_jw_key(&jw, "version");
        tm_jw_int(&jw, w->journey_version);
        tm_jw_obj_end(&jw);
        rc = audit_debt(r, now, "journey.step", w->debt_id, &b, err);
    }
    tm_buf_free(&acts);
    /* A hand-off ("handoff:<journey>": a promise, a dispute, a hardship)
     * leaves the debt without a journey: segmentation takes it again, the
     * same day, and the journey with the higher priority gets it. */
    if (rc == TM_OK && res->closed && strncmp(res->closed_reason, "handoff:", 8) == 0) {
        w->journey[0] = w->journey_state[0] = w->variant[0] = w->timer_go[0] = '\0';
        w->closed_reason[0] = '\0';
        w->timer_at = 0;
        w->journey_version = 0;
        rc = tm_store_debt_set_journey(r->s, w->id, w, err);
        r->st->handoffs++;
    }
    return rc;
}

/* A step that failed (a script error, a limit, an offer beyond authority):
 * the debt stays where it was, parked until the scripts are fixed, and the
 * error goes to the operator and to the audit log, which is where a
 * compliance officer looks. */
int tm__cycle_park(run *r, const tm_work_debt *w, const char *what, const char *msg, int64_t now,
                struct tm_err *err)
{
    r->st->step_errors++;
    tm__cycle_report(r, "debt %s: %s", w->debt_id, msg);
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "trigger", what, "error", msg,
                          "journey", w->journey, "state", w->journey_state, "version",
                          w->journey_version, "hash", w->journey_hash, "scripts", r->scripts);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (!text)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    char subject[160];
    snprintf(subject, sizeof subject, "debt:%s", w->debt_id);
    int rc = tm_audit_write(r->audit, now, "cycle", "journey.parked", subject, text, err);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------------------
 * 1. Events.
 */
typedef struct evrun {
    run *r;
    struct tm_err *err;
} evrun;

static const char *journey_event(const char *type, json_t *p)
{
    if (strcmp(type, "payment") == 0) {
        json_t *b = json_object_get(p, "balance_minor");
        return json_is_integer(b) && json_integer_value(b) > 0 ? "partial_payment" : "payment";
    }
    static const char *const same[] = {"promise", "dispute", "dispute_verified", "cease", "attorney",
                                       "bankruptcy", "deceased", "contact", "optout", "consent",
                                       "address_change", "phone_change", "email_change",
                                       "hardship", "inbound_reply", "broken_promise", NULL};
    for (int i = 0; same[i]; i++)
        if (strcmp(type, same[i]) == 0)
            return same[i];
    return NULL;
}

static int on_event(void *ud, int64_t id, const char *type, int64_t debt, int64_t at,
                    const char *payload)
{
    evrun *x = ud;
    run *r = x->r;
    struct tm_err *err = x->err;
    int rc = tm__cycle_tx_begin(r, err);
    if (rc != TM_OK)
        return rc;
    tm_work_debt w;
    int found = 0;
    rc = tm_store_work_debt(r->s, debt, &w, &found, err);
    if (rc == TM_OK && found && w.journey[0] && !w.closed_reason[0]) {
        json_t *p = json_loads(payload, 0, NULL);
        const char *jt = journey_event(type, p);
        if (jt) {
            tm__cycle_plan_zone(&w);
            tm_jdebt d = tm__cycle_jdebt(&w);
            tm_jstate js = tm__cycle_jstate(&w);
            tm_jevent ev = {.type = jt, .at = at};
            json_t *amt = json_object_get(p, "amount_minor"), *bal = json_object_get(p, "balance_minor");
            if (json_is_integer(amt)) {
                ev.has_amount = 1;
                ev.amount = json_integer_value(amt);
                ev.balance = json_is_integer(bal) ? json_integer_value(bal) : 0;
            }
            /* A promise (made or broken) is what the debt's next messages
             * speak of: it stands as the offer their templates name
             * ({{offer.amount}}, {{offer.due}}), in place of an earlier one. */
            const char *due = json_string_value(json_object_get(p, "due"));
            if ((strcmp(jt, "promise") == 0 || strcmp(jt, "broken_promise") == 0) && json_is_integer(amt) &&
                due && strlen(due) == 10) {
                tm_buf ob;
                tm_jw ow;
                offer_begin(&ob, &ow, w.offer, sizeof w.offer);
                tm_jw_key(&ow, "amount");
                tm_jw_int(&ow, json_integer_value(amt));
                tm_jw_key(&ow, "due");
                tm_jw_str(&ow, due);
                offer_end(&ob, &ow);
            }
            ev.channel = json_string_value(json_object_get(p, "channel"));
            ev.outcome = json_string_value(json_object_get(p, "outcome"));
            tm_jresult res;
            struct tm_err e = {0};
            int64_t now = at > r->day_start ? at : r->day_start;
            /* j:best_slot asks the gate about this debt (with a contact model). */
            void *hist = NULL;
            cycle_slot slot = {.gate = r->gate, .w = &w};
            if (tm__cycle_wants_slots(r)) {
                rc = tm__cycle_slot_history(r, &w, r->day_end, &hist, err);
                if (rc != TM_OK) {
                    json_decref(p);
                    return rc;
                }
                slot.hist = hist;
                tm_sandbox_set_slot_check(r->sb, tm__cycle_slot_check, &slot);
            }
            int step_rc = tm_journeys_event(r->js, &d, &js, &ev, now, &res, &e);
            tm_sandbox_set_slot_check(r->sb, NULL, NULL);
            tm__cycle_slot_history_free(hist);
            if (step_rc != TM_OK) {
                char what[48], msg[600];
                snprintf(what, sizeof what, "event %s", jt);
                snprintf(msg, sizeof msg, "event %s: %.500s", jt, e.msg);
                rc = tm__cycle_park(r, &w, what, msg, now, err);
            } else if (res.ignored && !res.migrated_from) {
                r->st->events_ignored++;
            } else {
                char what[48];
                snprintf(what, sizeof what, "event %s", jt);
                rc = apply(r, &w, &res, what, now, err);
                r->st->events++;
            }
        }
        json_decref(p);
    }
    if (rc == TM_OK && found && w.journey[0] && w.closed_reason[0]) {
        /* An event for a debt whose journey has ended changes nothing: said
         * in the audit log, so nobody wonders where it went. */
        r->st->events_ignored++;
        json_t *d = json_pack("{s:s, s:s, s:s}", "event", type, "journey", w.journey, "ended", w.closed_reason);
        char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        char subject[160];
        snprintf(subject, sizeof subject, "debt:%s", w.debt_id);
        rc = text ? tm_audit_write(r->audit, at > r->day_start ? at : r->day_start, "cycle",
                                   "event.after_close", subject, text, err)
                  : tm_err_set(err, TM_ENOMEM, "out of memory");
        free(text);
    }
    if (rc == TM_OK)
        rc = tm_store_event_worked(r->s, id, err);
    if (rc == TM_OK)
        rc = tm__cycle_tx_step(r, err);
    return rc;
}

int tm__cycle_events(run *r, struct tm_err *err)
{
    evrun x = {.r = r, .err = err};
    int rc = tm_store_scan_events(r->s, r->day_end, on_event, &x, err);
    if (rc == TM_OK)
        rc = tm__cycle_tx_commit(r, err);
    return rc;
}

/* ---------------------------------------------------------------------------
 * 2 and 3. Starts and timers. The store is read and written on the caller's
 * thread; the journey steps of a chunk of debts run on the workers while the
 * caller reads the next chunk and writes the one before.
 */
typedef struct step_item {
    tm_work_debt w;
    void *hist; /* the consumer's contact history, for j:best_slot; NULL without a contact model */
    int found;
    int kind; /* STEP_* */
    int64_t now;
    tm_jresult res;
    char msg[600];
} step_item;

enum { STEP_NONE, STEP_UNASSIGNED, STEP_ERROR, STEP_OK };

typedef struct step_job {
    run *r;
    step_item *items;
    size_t n;
    int timers;
    int slots; /* the script set has a contact model: j:best_slot asks the gate */
} step_job;

/* On a worker: one debt's step with the worker's own journeys. */
static void step_fn(void *ctx, int worker, size_t i)
{
    step_job *j = ctx;
    run *r = j->r;
    step_item *it = &j->items[i];
    tm_journeys *js = r->eng[worker].js;
    it->kind = STEP_NONE;
    it->now = 0;
    if (!it->found)
        return;
    tm_work_debt *w = &it->w;
    tm__cycle_plan_zone(w);
    tm_jdebt d = tm__cycle_jdebt(w);
    struct tm_err e = {0};
    int step_rc;
    /* j:best_slot asks the worker's gate about this debt. */
    cycle_slot slot = {.gate = r->eng[worker].gate, .w = w, .hist = it->hist};
    tm_sandbox *sb = r->eng[worker].sb;
    if (j->slots)
        tm_sandbox_set_slot_check(sb, tm__cycle_slot_check, &slot);
    if (j->timers) {
        if (!w->timer_go[0] || w->timer_at >= r->day_end) {
            tm_sandbox_set_slot_check(sb, NULL, NULL);
            return;
        }
        it->now = w->timer_at > r->day_start ? w->timer_at : r->day_start;
        tm_jstate st = tm__cycle_jstate(w);
        step_rc = tm_journeys_timer(js, &d, &st, it->now, &it->res, &e);
    } else {
        tm_jstate st;
        step_rc = tm_journeys_assign(js, &d, &st, &e);
        if (step_rc == TM_OK && !st.journey[0]) {
            it->kind = STEP_UNASSIGNED;
            tm_sandbox_set_slot_check(sb, NULL, NULL);
            return;
        }
        /* Starts are planned from the morning of the day, in UTC; the
         * journey's send window and the gate fit them to local time. */
        it->now = r->day_start + 13 * 3600;
        if (step_rc == TM_OK)
            step_rc = tm_journeys_start(js, &d, &st, it->now, &it->res, &e);
    }
    tm_sandbox_set_slot_check(sb, NULL, NULL);
    if (step_rc != TM_OK) {
        it->kind = STEP_ERROR;
        snprintf(it->msg, sizeof it->msg, "%.500s", e.msg);
        return;
    }
    it->kind = STEP_OK;
}

static void free_steps(step_job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        tm__cycle_slot_history_free(j->items[i].hist);
        j->items[i].hist = NULL;
    }
}

static int load_steps(run *r, step_job *j, const int64_t *ids, size_t n, struct tm_err *err)
{
    free_steps(j);
    j->n = n;
    for (size_t i = 0; i < n; i++)
        j->items[i].hist = NULL;
    for (size_t i = 0; i < n; i++) {
        step_item *it = &j->items[i];
        int rc = tm_store_work_debt(r->s, ids[i], &it->w, &it->found, err);
        /* The history up to the end of the day: the gate counts only what
         * came before the moment it is asked about. */
        if (rc == TM_OK && it->found && j->slots)
            rc = tm__cycle_slot_history(r, &it->w, r->day_end, &it->hist, err);
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

static int write_steps(run *r, step_job *j, struct tm_err *err)
{
    int rc = TM_OK;
    for (size_t i = 0; i < j->n && rc == TM_OK; i++) {
        step_item *it = &j->items[i];
        if (it->kind == STEP_UNASSIGNED) {
            r->st->unassigned++;
        } else if (it->kind == STEP_ERROR) {
            if (!j->timers)
                r->st->unstarted++;
            rc = tm__cycle_park(r, &it->w, j->timers ? "timer" : "start", it->msg,
                      it->now ? it->now : r->day_start, err);
        } else if (it->kind == STEP_OK) {
            if (j->timers)
                r->st->timers++;
            else
                r->st->started++;
            rc = apply(r, &it->w, &it->res, j->timers ? "timer" : "start", it->now, err);
            tm_stopat("run.step"); /* run: after each journey step written back, batch uncommitted */
            if (rc == TM_OK)
                rc = tm__cycle_tx_step(r, err);
        }
    }
    return rc;
}

int tm__cycle_work_debts(run *r, const int64_t *ids, size_t n, int timers, struct tm_err *err)
{
    const char *phase = timers ? "timers" : "new debts";
    int slots = tm__cycle_wants_slots(r);
    step_job jobs[2] = {{.r = r, .timers = timers, .slots = slots},
                        {.r = r, .timers = timers, .slots = slots}};
    jobs[0].items = malloc(CHUNK * sizeof *jobs[0].items);
    jobs[1].items = malloc(CHUNK * sizeof *jobs[1].items);
    int rc = jobs[0].items && jobs[1].items ? tm__cycle_tx_begin(r, err) : tm_err_set(err, TM_ENOMEM, "out of memory");
    size_t nchunks = (n + CHUNK - 1) / CHUNK;
    if (rc == TM_OK && nchunks) {
        rc = load_steps(r, &jobs[0], ids, n < CHUNK ? n : CHUNK, err);
        if (rc == TM_OK)
            tm_pool_submit(r->pool, step_fn, &jobs[0], jobs[0].n);
    }
    for (size_t k = 0; k < nchunks && rc == TM_OK; k++) {
        tm__cycle_progress(r, phase, (long)(k * CHUNK), (long)n);
        step_job *cur = &jobs[k % 2], *nxt = &jobs[(k + 1) % 2];
        size_t at = (k + 1) * CHUNK;
        if (k + 1 < nchunks)
            rc = load_steps(r, nxt, ids + at, n - at < CHUNK ? n - at : CHUNK, err);
        tm_pool_wait(r->pool);
        if (rc == TM_OK && k + 1 < nchunks)
            tm_pool_submit(r->pool, step_fn, nxt, nxt->n);
        if (rc == TM_OK)
            rc = write_steps(r, cur, err);
    }
    tm_pool_wait(r->pool);
    tm__cycle_progress(r, phase, (long)n, (long)n);
    if (rc == TM_OK)
        rc = tm__cycle_tx_commit(r, err);
    if (jobs[0].items)
        free_steps(&jobs[0]);
    if (jobs[1].items)
        free_steps(&jobs[1]);
    free(jobs[0].items);
    free(jobs[1].items);
    return rc;
}
