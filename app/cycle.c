/*
 * app/cycle.c: the daily cycle (cycle.h).
 */
#include "cycle.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "calendar.h"
#include "pay.h"
#include "pool.h"
#include "stopat.h"
#include "jarchive.h"
#include "lb_gate.h"
#include "lb_render.h"
#include "tz.h"

#define DAY 86400
#define HISTORY_DAYS 40 /* the longest rolling window a rule counts, with room */

typedef struct run {
    tm_store *s;
    const tm_keys *keys;  /* the caller's, or own_keys once the key file was read again */
    tm_keys *own_keys;
    tm_sandbox *sb;
    tm_gate *gate;
    tm_journeys *js;
    tm_adapter *out;
    const tm_cycle_opts *o;
    tm_cycle_stats *st;
    tm_audit_writer *audit;
    int64_t day_start, day_end;
    int in_tx;
    long in_batch;
    const char *scripts;
    const tm_cycle_engine *eng; /* one per worker */
    struct claim_cache *claims; /* one per worker: templates' claims, looked up once a run */
    tm_cycle_engine own;        /* the caller's, when it gives no workers */
    tm_pool *pool;
} run;

static void report(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(run *r, const char *fmt, ...)
{
    if (!r->o->report)
        return;
    char m[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    r->o->report(r->o->report_ud, m);
}

/* Keys rotated while the run works (`tallyman keys rotate`) re-encrypt
 * records under a version this run's key set lacks: the key file is read
 * again before the chunk that holds such a record is handed to the workers,
 * while none of them runs. `newest` is the highest version the chunk names. */
static int keys_for(run *r, int newest, struct tm_err *err)
{
    if (newest <= tm_keys_current(r->keys) || !r->o->key_path)
        return TM_OK;
    tm_keys *k = NULL;
    int rc = tm_keys_load(r->o->key_path, &k, err);
    if (rc != TM_OK)
        return rc;
    tm_keys_free(r->own_keys);
    r->own_keys = k;
    r->keys = k;
    return TM_OK;
}

static void progress(run *r, const char *phase, long done, long total)
{
    if (r->o->progress)
        r->o->progress(r->o->progress_ud, phase, done, total);
}

/* ---------------------------------------------------------------------------
 * Transactions: batches of debts, the audit head stored before each commit.
 */
static int tx_begin(run *r, struct tm_err *err)
{
    if (r->in_tx)
        return TM_OK;
    int rc = tm_store_begin(r->s, err);
    if (rc == TM_OK) {
        r->in_tx = 1;
        r->in_batch = 0;
    }
    return rc;
}

static int tx_commit(run *r, struct tm_err *err)
{
    if (!r->in_tx)
        return TM_OK;
    /* The lease is renewed with the work, so a run whose lease was taken
     * over commits nothing more. */
    int rc = tm_lease_renew(r->o->lease, (int64_t)time(NULL), err);
    if (rc == TM_OK)
        rc = tm_audit_writer_flush(r->audit, err);
    if (rc == TM_OK)
        rc = tm_store_commit(r->s, err);
    if (rc != TM_OK) {
        tm_store_rollback(r->s);
        tm_audit_writer_reset(r->audit);
    }
    r->in_tx = 0;
    return rc;
}

/* After each debt: commit when the batch is full. */
static int tx_step(run *r, struct tm_err *err)
{
    if (++r->in_batch < (r->o->batch > 0 ? r->o->batch : 500))
        return TM_OK;
    int rc = tx_commit(r, err);
    return rc == TM_OK ? tx_begin(r, err) : rc;
}

static void count_rule(tm_cycle_stats *st, const char *rule)
{
    for (int i = 0; i < st->nrules; i++)
        if (strcmp(st->by_rule[i].rule, rule) == 0) {
            st->by_rule[i].count++;
            return;
        }
    if (st->nrules < TM_CYCLE_MAX_RULES) {
        snprintf(st->by_rule[st->nrules].rule, sizeof st->by_rule[0].rule, "%s", rule);
        st->by_rule[st->nrules++].count = 1;
    }
}

static void count_channel(tm_cycle_stats *st, const char *ch)
{
    for (int i = 0; i < st->nchannels; i++)
        if (strcmp(st->by_channel[i].channel, ch) == 0) {
            st->by_channel[i].sent++;
            return;
        }
    if (st->nchannels < TM_CYCLE_MAX_CHANNELS) {
        snprintf(st->by_channel[st->nchannels].channel, sizeof st->by_channel[0].channel, "%s", ch);
        st->by_channel[st->nchannels++].sent = 1;
    }
}

/* ---------------------------------------------------------------------------
 * A debt as its journey sees it.
 */
static tm_jdebt jdebt_of(const tm_work_debt *w)
{
    tm_jdebt d = {
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

static tm_jstate jstate_of(const tm_work_debt *w)
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

/* The zone a debt's sends are planned in: the consumer's, else the first in
 * use in their state. */
static void plan_zone(tm_work_debt *w)
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
    char acts[400] = "";
    size_t off = 0;
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
                snprintf(extra, sizeof extra, ",\"offer\":{\"amount\":%lld,\"due\":\"%s\",\"bps\":%lld}",
                         (long long)amount, ds, (long long)bps);
            }
        } else if (a->type == TM_JA_OFFER_PLAN && aj) {
            json_t *pl = json_object_get(aj, "plan");
            json_int_t count = json_integer_value(json_object_get(pl, "count"));
            const char *first = json_string_value(json_object_get(pl, "first"));
            if (count >= 1 && count <= 120 && w->balance > 0)
                snprintf(extra, sizeof extra,
                         ",\"plan\":{\"count\":%lld,\"amount\":%lld,\"first_due\":\"%s\"}",
                         (long long)count, (long long)(w->balance / count), first ? first : "");
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
        if (off < sizeof acts - 40)
            off += (size_t)snprintf(acts + off, sizeof acts - off, "%s\"%s%s%s\"", off ? "," : "",
                                    names[a->type], a->type == TM_JA_SEND ? ":" : "",
                                    a->type == TM_JA_SEND ? a->channel : "");
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
        char payload[1024];
        size_t jl = strlen(a->json);
        if (extra[0] && jl > 1 && a->json[jl - 1] == '}')
            snprintf(payload, sizeof payload, "%.*s%s}", (int)(jl - 1), a->json, extra);
        else
            snprintf(payload, sizeof payload, "%s", a->json);
        tm_outbox_rec o = {.debt = w->id, .key = key, .channel = a->channel,
                           .template_id = a->template_id, .payload = payload,
                           .send_at = a->at < now ? now : a->at,
                           .purpose = a->purpose[0] ? a->purpose : "collection",
                           .journey_state = w->journey_state, .created_at = now};
        int added = 0;
        rc = tm_store_outbox_plan(r->s, &o, &added, err);
        r->st->planned += added;
    }
    if (rc == TM_OK)
        rc = tm_store_debt_set_journey(r->s, w->id, w, err);
    if (rc == TM_OK && res->migrated_from) {
        char details[512], subject[160];
        snprintf(details, sizeof details,
                 "{\"journey\":\"%s\",\"from_version\":%d,\"to_version\":%d,\"from_state\":\"%s\","
                 "\"to_state\":\"%s\",\"hash\":\"%s\"}",
                 w->journey, res->migrated_from, res->st.version, from, res->migrated_state,
                 res->st.hash);
        snprintf(subject, sizeof subject, "debt:%s", w->debt_id);
        rc = tm_audit_write(r->audit, now, "cycle", "journey.migrate", subject, details, err);
    }
    if (rc == TM_OK) {
        char details[2048];
        snprintf(details, sizeof details,
                 "{\"trigger\":\"%s\",\"journey\":\"%s\",\"variant\":\"%s\",\"from\":\"%s\","
                 "\"to\":\"%s\",\"moves\":\"%s\",\"actions\":[%s]%s%s%s,\"scripts\":\"%s\","
                 "\"version\":%d}",
                 what, w->journey, w->variant, from, w->journey_state, res->moves, acts,
                 res->closed ? ",\"closed\":\"" : "", res->closed ? res->closed_reason : "",
                 res->closed ? "\"" : "", r->scripts, w->journey_version);
        char subject[160];
        snprintf(subject, sizeof subject, "debt:%s", w->debt_id);
        rc = tm_audit_write(r->audit, now, "cycle", "journey.step", subject, details, err);
    }
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
static int park(run *r, const tm_work_debt *w, const char *what, const char *msg, int64_t now,
                struct tm_err *err)
{
    r->st->step_errors++;
    report(r, "debt %s: %s", w->debt_id, msg);
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
 * 0. Promises whose due date and grace have passed: kept, partly kept or
 * broken, judged by tm_pay_promise_status on what was paid in time. One not
 * kept becomes a broken_promise event, worked in phase 1 like any other (the
 * promise-to-pay journey follows it up).
 */
static int promises(run *r, struct tm_err *err)
{
    char today[16];
    tm_date td;
    tm_calendar_days_to_date(r->day_start / DAY, &td);
    tm_calendar_format_date(td, today, sizeof today, NULL);
    tm_promise_due *p = NULL;
    size_t n = 0;
    int rc = tm_store_promises_lapsed(r->s, today, &p, &n, err);
    if (rc == TM_OK && n)
        rc = tx_begin(r, err);
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
            report(r, "debt %s: promise %lld cannot be judged: %s", w.debt_id, (long long)p[i].id, e.msg);
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
        char details[300];
        snprintf(details, sizeof details,
                 "{\"promise\":%lld,\"amount_minor\":%lld,\"paid_minor\":%lld,\"due\":\"%s\","
                 "\"grace_days\":%d,\"status\":\"%s\"}",
                 (long long)p[i].id, (long long)p[i].amount, (long long)p[i].paid, p[i].due,
                 p[i].grace_days, status);
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
        if (rc == TM_OK)
            rc = tx_step(r, err);
    }
    free(p);
    if (rc == TM_OK)
        rc = tx_commit(r, err);
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
    int rc = tx_begin(r, err);
    if (rc != TM_OK)
        return rc;
    tm_work_debt w;
    int found = 0;
    rc = tm_store_work_debt(r->s, debt, &w, &found, err);
    if (rc == TM_OK && found && w.journey[0] && !w.closed_reason[0]) {
        json_t *p = json_loads(payload, 0, NULL);
        const char *jt = journey_event(type, p);
        if (jt) {
            plan_zone(&w);
            tm_jdebt d = jdebt_of(&w);
            tm_jstate js = jstate_of(&w);
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
                due && strlen(due) == 10)
                snprintf(w.offer, sizeof w.offer, ",\"offer\":{\"amount\":%lld,\"due\":\"%s\"}",
                         (long long)json_integer_value(amt), due);
            ev.channel = json_string_value(json_object_get(p, "channel"));
            ev.outcome = json_string_value(json_object_get(p, "outcome"));
            tm_jresult res;
            struct tm_err e = {0};
            int64_t now = at > r->day_start ? at : r->day_start;
            if (tm_journeys_event(r->js, &d, &js, &ev, now, &res, &e) != TM_OK) {
                char what[48], msg[600];
                snprintf(what, sizeof what, "event %s", jt);
                snprintf(msg, sizeof msg, "event %s: %.500s", jt, e.msg);
                rc = park(r, &w, what, msg, now, err);
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
        rc = tx_step(r, err);
    return rc;
}

/* ---------------------------------------------------------------------------
 * 2 and 3. Starts and timers. The store is read and written on the caller's
 * thread; the journey steps of a chunk of debts run on the workers while the
 * caller reads the next chunk and writes the one before.
 */
#define CHUNK 256

typedef struct step_item {
    tm_work_debt w;
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
    plan_zone(w);
    tm_jdebt d = jdebt_of(w);
    struct tm_err e = {0};
    int step_rc;
    if (j->timers) {
        if (!w->timer_go[0] || w->timer_at >= r->day_end)
            return;
        it->now = w->timer_at > r->day_start ? w->timer_at : r->day_start;
        tm_jstate st = jstate_of(w);
        step_rc = tm_journeys_timer(js, &d, &st, it->now, &it->res, &e);
    } else {
        tm_jstate st;
        step_rc = tm_journeys_assign(js, &d, &st, &e);
        if (step_rc == TM_OK && !st.journey[0]) {
            it->kind = STEP_UNASSIGNED;
            return;
        }
        /* Starts are planned from the morning of the day, in UTC; the
         * journey's send window and the gate fit them to local time. */
        it->now = r->day_start + 13 * 3600;
        if (step_rc == TM_OK)
            step_rc = tm_journeys_start(js, &d, &st, it->now, &it->res, &e);
    }
    if (step_rc != TM_OK) {
        it->kind = STEP_ERROR;
        snprintf(it->msg, sizeof it->msg, "%.500s", e.msg);
        return;
    }
    it->kind = STEP_OK;
}

static int load_steps(run *r, step_job *j, const int64_t *ids, size_t n, struct tm_err *err)
{
    j->n = n;
    for (size_t i = 0; i < n; i++) {
        int rc = tm_store_work_debt(r->s, ids[i], &j->items[i].w, &j->items[i].found, err);
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
            rc = park(r, &it->w, j->timers ? "timer" : "start", it->msg,
                      it->now ? it->now : r->day_start, err);
        } else if (it->kind == STEP_OK) {
            if (j->timers)
                r->st->timers++;
            else
                r->st->started++;
            rc = apply(r, &it->w, &it->res, j->timers ? "timer" : "start", it->now, err);
            tm_stopat("run.step"); /* run: after each journey step written back, batch uncommitted */
            if (rc == TM_OK)
                rc = tx_step(r, err);
        }
    }
    return rc;
}

static int work_debts(run *r, const int64_t *ids, size_t n, int timers, struct tm_err *err)
{
    const char *phase = timers ? "timers" : "new debts";
    step_job jobs[2] = {{.r = r, .timers = timers}, {.r = r, .timers = timers}};
    jobs[0].items = malloc(CHUNK * sizeof *jobs[0].items);
    jobs[1].items = malloc(CHUNK * sizeof *jobs[1].items);
    int rc = jobs[0].items && jobs[1].items ? tx_begin(r, err) : tm_err_set(err, TM_ENOMEM, "out of memory");
    size_t nchunks = (n + CHUNK - 1) / CHUNK;
    if (rc == TM_OK && nchunks) {
        rc = load_steps(r, &jobs[0], ids, n < CHUNK ? n : CHUNK, err);
        if (rc == TM_OK)
            tm_pool_submit(r->pool, step_fn, &jobs[0], jobs[0].n);
    }
    for (size_t k = 0; k < nchunks && rc == TM_OK; k++) {
        progress(r, phase, (long)(k * CHUNK), (long)n);
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
    progress(r, phase, (long)n, (long)n);
    if (rc == TM_OK)
        rc = tx_commit(r, err);
    free(jobs[0].items);
    free(jobs[1].items);
    return rc;
}

/* ---------------------------------------------------------------------------
 * 4. The gate.
 */
/* A consumer's contact history as the gate reads it, kept per consumer for
 * the chunk: what the store holds, plus each contact allowed before in the
 * same run. */
typedef struct hist_ent {
    int channel, outcome, place, direction;
    int64_t at;
    char *debt; /* the debt's own id, or NULL */
} hist_ent;

typedef struct hist_list {
    hist_ent *e;
    size_t n, cap;
    int bad; /* an entry the gate's names do not know: the request is refused */
    char why[120];
} hist_list;

static int hist_add(hist_list *h, int channel, int outcome, int place, int direction, int64_t at,
                    const char *debt)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        hist_ent *q = realloc(h->e, cap * sizeof *q);
        if (!q)
            return TM_ENOMEM;
        h->e = q;
        h->cap = cap;
    }
    hist_ent *x = &h->e[h->n];
    /* Without its debt an entry would count toward this debt's limits. */
    char *copy = NULL;
    if (debt && *debt && !(copy = strdup(debt)))
        return TM_ENOMEM;
    *x = (hist_ent){.channel = channel, .outcome = outcome, .place = place, .direction = direction,
                    .at = at, .debt = copy};
    h->n++;
    return TM_OK;
}

static void hist_clear(hist_list *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->e[i].debt);
    free(h->e);
    memset(h, 0, sizeof *h);
}

static int on_history(void *ud, const char *channel, int64_t at, const char *outcome,
                      const char *place, const char *direction, const char *debt_id)
{
    hist_list *h = ud;
    int ch = tm_gate_lookup(tm_gate_channel_names, channel ? channel : "call");
    int out = tm_gate_lookup(tm_gate_outcome_names, outcome ? outcome : "attempt");
    int pl = tm_gate_lookup(tm_gate_place_names, place ? place : "personal");
    int dir = direction && strcmp(direction, "inbound") == 0 ? TM_DIR_INBOUND : TM_DIR_OUTBOUND;
    if (ch < 0 || out < 0 || pl < 0) {
        if (!h->bad)
            snprintf(h->why, sizeof h->why, "history: a contact the gate cannot read (%.20s, %.20s, %.20s)",
                     channel ? channel : "", outcome ? outcome : "", place ? place : "");
        h->bad = 1;
        return TM_OK;
    }
    return hist_add(h, ch, out, pl, dir, at, debt_id) == TM_OK ? TM_OK : TM_ENOMEM;
}

/* Sets the bits of the comma-separated names in `csv` found in `table`
 * (`autodial` too, for consent); an unknown name is refused, naming it. */
static int name_bits(const char *csv, const char *const *table, int consent, uint32_t *bits,
                     const char *field, struct tm_err *err)
{
    *bits = 0;
    for (const char *p = csv; p && *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        char name[48];
        if (n) {
            snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
            int k = tm_gate_lookup(table, name);
            if (k >= 0)
                *bits |= 1u << k;
            else if (consent && strcmp(name, "autodial") == 0)
                *bits |= TM_CONSENT_AUTODIAL;
            else
                return tm_err_set(err, TM_EINVAL, "%s: unknown value '%s'", field, name);
        }
        p += n + (c ? 1 : 0);
    }
    return TM_OK;
}

/* The gate request for sending `o` to debt `w` at o->send_at, built from
 * the store's fields directly (what `tallyman decide` reads from JSON): the
 * consumer's state and zone, flags, opt-outs and consents, the debt, its
 * creditor (for a creditor's own policy) and the consumer's contacts up to
 * the send. The caller frees *req with tm_gate_request_free. */
static int build_request(const tm_work_debt *w, const tm_outbox_rec *o, const hist_list *h, tm_request *req,
                         struct tm_err *err)
{
    memset(req, 0, sizeof *req);
    req->debt_type = TM_DT_OTHER;
    req->last_payment_day = req->charge_off_day = INT64_MIN;
    size_t kl = strlen(o->key);
    if (!(req->id_json = malloc(kl + 3)))
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    snprintf(req->id_json, kl + 3, "\"%s\"", o->key); /* keys are [A-Za-z0-9._:-] */
    req->now = o->send_at;
    int rc = TM_OK;
    if ((req->channel = tm_gate_lookup(tm_gate_channel_names, o->channel)) < 0)
        rc = tm_err_set(err, TM_EINVAL, "channel: unknown value '%s'", o->channel);
    const char *purpose = o->purpose && *o->purpose ? o->purpose : "collection";
    if (rc == TM_OK && (req->purpose = tm_gate_lookup(tm_gate_purpose_names, purpose)) < 0)
        rc = tm_err_set(err, TM_EINVAL, "purpose: unknown value '%s'", purpose);
    req->place = TM_PLACE_PERSONAL;
    req->collector = TM_CO_THIRD_PARTY;
    const char *const *szones = tm_tz_state_zones(w->state);
    if (rc == TM_OK && (strlen(w->state) != 2 || !szones))
        rc = tm_err_set(err, TM_EINVAL, "consumer.state: unknown state '%s'", w->state);
    if (rc == TM_OK) {
        memcpy(req->state, w->state, 3);
        const tm_zone *zone;
        if (w->timezone[0]) {
            if (tm_tz_get(w->timezone, &zone, NULL) != TM_OK)
                rc = tm_err_set(err, TM_EINVAL, "consumer.timezones[0]: unknown time zone '%s'", w->timezone);
            else
                req->zones[req->nzones++] = zone;
        } else {
            for (int i = 0; szones[i] && req->nzones < TM_GATE_MAX_ZONES; i++)
                if (tm_tz_get(szones[i], &zone, NULL) == TM_OK)
                    req->zones[req->nzones++] = zone;
            if (req->nzones == 0)
                rc = tm_err_set(err, TM_EINVAL, "consumer.state: no time zone data for '%s'", w->state);
        }
    }
    if (rc == TM_OK)
        rc = name_bits(w->flags, tm_gate_flag_names, 0, &req->flags, "consumer.flags", err);
    if (rc == TM_OK)
        rc = name_bits(w->optout, tm_gate_channel_names, 0, &req->optout, "consumer.optout", err);
    if (rc == TM_OK)
        rc = name_bits(w->consent, tm_gate_channel_names, 1, &req->consent, "consumer.consent", err);
    if (rc == TM_OK && w->creditor[0] && !(req->creditor = strdup(w->creditor)))
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    if (rc == TM_OK && !(req->debt_id = strdup(w->debt_id)))
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    const char *type = w->debt_type[0] ? w->debt_type : "other";
    if (rc == TM_OK && (req->debt_type = tm_gate_lookup(tm_gate_debt_type_names, type)) < 0)
        rc = tm_err_set(err, TM_EINVAL, "debt.type: unknown value '%s'", type);
    const char *dispute = tm_store_debt_dispute_name(w->dispute);
    if (rc == TM_OK && (req->dispute = tm_gate_lookup(tm_gate_dispute_names, dispute)) < 0)
        rc = tm_err_set(err, TM_EINVAL, "debt.dispute: unknown value '%s'", dispute);
    tm_date d;
    if (rc == TM_OK && w->last_payment_date[0]) {
        if (tm_calendar_parse_date(w->last_payment_date, &d, NULL) != TM_OK)
            rc = tm_err_set(err, TM_EINVAL, "debt.last_payment_date: not a date '%s'", w->last_payment_date);
        else
            req->last_payment_day = tm_calendar_date_to_days(d);
    }
    if (rc == TM_OK && w->charge_off_date[0]) {
        if (tm_calendar_parse_date(w->charge_off_date, &d, NULL) != TM_OK)
            rc = tm_err_set(err, TM_EINVAL, "debt.charge_off_date: not a date '%s'", w->charge_off_date);
        else
            req->charge_off_day = tm_calendar_date_to_days(d);
    }
    if (rc == TM_OK && h->bad)
        rc = tm_err_set(err, TM_EINVAL, "%s", h->why);
    if (rc == TM_OK && h->n) {
        if (!(req->history = calloc(h->n, sizeof *req->history)))
            rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        /* Contacts after the send (a rerun of a day sees its own) are not
         * its history. */
        for (size_t i = 0; rc == TM_OK && i < h->n; i++) {
            const hist_ent *x = &h->e[i];
            if (x->at > req->now)
                continue;
            tm_history *y = &req->history[req->nhistory++];
            *y = (tm_history){.channel = x->channel, .outcome = x->outcome, .place = x->place,
                              .direction = x->direction, .at = x->at,
                              .other_debt = x->debt && strcmp(x->debt, w->debt_id) != 0};
        }
    }
    if (rc != TM_OK)
        tm_gate_request_free(req);
    return rc;
}

/* A consumer's first and last name from their decrypted personal data
 * (NUL-filled when unknown). The plaintext is wiped before returning. */
static void consumer_names(const tm_keys *keys, const char *ext, const uint8_t *blob, size_t len,
                           char *first, char *last, size_t cap)
{
    first[0] = last[0] = '\0';
    if (!blob)
        return;
    char aad[200];
    snprintf(aad, sizeof aad, "consumer:%s", ext);
    char *plain = NULL;
    size_t plen = 0;
    struct tm_err e = {0};
    if (tm_keys_decrypt(keys, blob, len, aad, &plain, &plen, &e) == TM_OK) {
        json_t *j = json_loadb(plain, plen, 0, NULL);
        const char *f = json_string_value(json_object_get(j, "first_name"));
        const char *l = json_string_value(json_object_get(j, "last_name"));
        snprintf(first, cap, "%s", f ? f : "");
        snprintf(last, cap, "%s", l ? l : "");
        json_decref(j);
        OPENSSL_cleanse(plain, plen);
    }
    free(plain);
}

/* One planned row as the gate phase works it: read on the caller's thread,
 * judged (and rendered, or handed to the journey's blocked handler) on a
 * worker, written back on the caller's thread. */
typedef struct gate_row {
    tm_outbox_rec o;
    tm_work_debt w;
    int invalid;          /* the request could not be built or parsed */
    int closed;           /* the debt is no longer open (paid): the contact is not made */
    int allow;
    char blocked[600];    /* rule ids, comma-separated */
    int64_t next_allowed; /* TM_GATE_NEVER when never */
    int render_failed;
    int oom;              /* out of memory on the worker: the run stops, the row stays planned */
    uint8_t *blob;        /* the rendered message, encrypted */
    size_t blen;
    int handler_failed;
    char failed[1000];    /* rules whose check failed, one "qid (cite): where: error" a line */
    tm_jresult res;       /* the blocked handler's result */
    char msg[600];
} gate_row;

/* The planned rows of one consumer, in time order: worked on one worker in
 * turn, so each row's history holds the contacts allowed before it. */
typedef struct gate_group {
    size_t first, n;
    hist_list history;
    char ext[129];
    uint8_t *pii;
    size_t pii_len;
} gate_group;

typedef struct gate_job {
    run *r;
    gate_row *rows;
    size_t nrows, cap;
    gate_group *groups;
    size_t ngroups, gcap;
    int newest; /* the highest key version of the personal data read */
} gate_job;

/* On a worker: render an allowed row and encrypt it. A row that cannot be
 * rendered (unknown template, a disclosure with no text, an SMS past its
 * limit) fails with the reason, and no message goes out without its
 * disclosures. */
static void render_row(run *r, tm_sandbox *sb, gate_row *g, const tm_decision *d, const char *first,
                       const char *last)
{
    const tm_work_debt *w = &g->w;
    const tm_outbox_rec *o = &g->o;
    char today[16];
    tm_date td;
    tm_calendar_days_to_date(o->send_at / DAY, &td);
    tm_calendar_format_date(td, today, sizeof today, NULL);
    const char *reqs[16];
    for (int i = 0; i < d->nrequires && i < 16; i++)
        reqs[i] = d->requires[i];
    tm_render_in in = {.channel = o->channel, .template_id = o->template_id,
                       .language = strncmp(w->language, "es", 2) == 0 ? "es" : "en",
                       .state = w->state, .zone = w->timezone, .currency = w->currency,
                       .first_name = first, .last_name = last, .debt_id = w->debt_id,
                       .creditor = w->creditor, .balance = w->balance,
                       .days_past_due = w->days_past_due, .today = today, .requires = reqs,
                       .nrequires = d->nrequires < 16 ? d->nrequires : 16};
    json_error_t je;
    json_t *pj = o->payload_owned ? json_loadb(o->payload_owned, o->payload_len, 0, &je) : NULL;
    /* Out of memory is not a message without its offer: it stops the run. */
    if (o->payload_owned && !pj && json_error_code(&je) == json_error_out_of_memory) {
        g->oom = 1;
        return;
    }
    json_t *of = json_object_get(pj, "offer"), *pl = json_object_get(pj, "plan");
    if (json_is_object(of)) {
        in.has_offer = 1;
        in.offer_amount = json_integer_value(json_object_get(of, "amount"));
        in.offer_due = json_string_value(json_object_get(of, "due"));
    }
    if (json_is_object(pl)) {
        in.has_plan = 1;
        in.plan_count = json_integer_value(json_object_get(pl, "count"));
        in.plan_amount = json_integer_value(json_object_get(pl, "amount"));
        in.plan_first_due = json_string_value(json_object_get(pl, "first_due"));
    }
    tm_rendered rd;
    struct tm_err e = {0};
    int rrc = tm_render(sb, &in, &rd, &e);
    json_decref(pj);
    if (rrc == TM_ENOMEM) {
        g->oom = 1;
        return;
    }
    if (rrc != TM_OK || rd.over_limit) {
        g->render_failed = 1;
        snprintf(g->msg, sizeof g->msg, "render: %.500s",
                 rrc != TM_OK ? e.msg : "the message is past its SMS segment limit");
        tm_rendered_free(&rd);
        return;
    }
    /* Every part is checked: a message missing its subject or a required
     * disclosure for want of memory must not be stored as whole. */
    json_t *m = json_pack("{s:s, s:s, s:s}", "template", o->template_id, "language", in.language,
                          "text", rd.text);
    int whole = m != NULL;
    if (whole && rd.subject)
        whole = json_object_set_new(m, "subject", json_string(rd.subject)) == 0;
    if (whole && rd.html)
        whole = json_object_set_new(m, "html", json_string(rd.html)) == 0;
    json_t *ra = whole ? json_array() : NULL;
    whole = ra != NULL;
    for (int i = 0; whole && i < in.nrequires; i++)
        whole = json_array_append_new(ra, json_string(reqs[i])) == 0;
    if (ra && json_object_set_new(m, "requires", ra) != 0)
        whole = 0;
    char *text = whole ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(m);
    if (rd.text)
        OPENSSL_cleanse(rd.text, strlen(rd.text));
    if (rd.html)
        OPENSSL_cleanse(rd.html, strlen(rd.html));
    tm_rendered_free(&rd);
    if (!text) {
        g->oom = 1;
        return;
    }
    char aad[300];
    snprintf(aad, sizeof aad, "outbox:%s", o->key);
    if (tm_keys_encrypt(r->keys, text, strlen(text), aad, &g->blob, &g->blen, &e) != TM_OK) {
        g->oom = e.code == TM_ENOMEM;
        g->render_failed = 1;
        snprintf(g->msg, sizeof g->msg, "encrypt: %.500s", e.msg);
    }
    OPENSSL_cleanse(text, strlen(text));
    free(text);
}

/* A template's claims (lib/claims.lua), kept per worker for the run: the
 * scripts do not change during a run, and a Lua call per contact would cost
 * as much as the gate itself. */
typedef struct claim_entry {
    char channel[16], template_id[96];
    int n;
    char names[8][TM_RENDER_CLAIM_LEN];
} claim_entry;

typedef struct claim_cache {
    claim_entry *e;
    size_t n, cap;
} claim_cache;

static int claims_of(claim_cache *c, tm_sandbox *sb, const char *channel, const char *template_id,
                     const claim_entry **out, struct tm_err *err)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].channel, channel) == 0 && strcmp(c->e[i].template_id, template_id) == 0) {
            *out = &c->e[i];
            return TM_OK;
        }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        claim_entry *q = realloc(c->e, cap * sizeof *q);
        if (!q)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        c->e = q;
        c->cap = cap;
    }
    claim_entry *x = &c->e[c->n];
    memset(x, 0, sizeof *x);
    snprintf(x->channel, sizeof x->channel, "%s", channel);
    snprintf(x->template_id, sizeof x->template_id, "%s", template_id);
    int known = 0;
    int rc = tm_render_claims(sb, channel, template_id, x->names, 8, &x->n, &known, err);
    if (rc != TM_OK)
        return rc;
    c->n++;
    *out = x;
    return TM_OK;
}

/* A rule whose check failed (a script error or a limit) blocks its contact,
 * failing closed; the row keeps which rules and why, so the run counts it
 * apart from the blocks the rules meant. */
static void note_failed_rules(gate_row *g, const tm_decision *d)
{
    g->failed[0] = '\0';
    size_t off = 0;
    for (int i = 0; d->error && i < d->nblocked && off < sizeof g->failed - 1; i++) {
        const tm_rule_result *b = &d->blocked[i];
        if (!b->failed)
            continue;
        const char *why = strncmp(b->reason, "rule failed: ", 13) == 0 ? b->reason + 13 : b->reason;
        int n = snprintf(g->failed + off, sizeof g->failed - off, "%s (%s): %s\n", b->rule->qid,
                         b->rule->cite ? b->rule->cite : "", why);
        off = n < 0 ? off : off + (size_t)n >= sizeof g->failed ? sizeof g->failed - 1 : off + (size_t)n;
    }
}

/* Whether rule `qid` is one of the row's failed rules. */
static int rule_failed(const gate_row *g, const char *qid)
{
    size_t n = strlen(qid);
    for (const char *p = g->failed; *p;) {
        if (strncmp(p, qid, n) == 0 && p[n] == ' ')
            return 1;
        const char *e = strchr(p, '\n');
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* Counts a rule failure once per distinct rule and reason; the first time,
 * the audit log says so (which rule, where it failed, the first debt). */
static int count_failures(run *r, const gate_row *g, struct tm_err *err)
{
    int rc = TM_OK;
    for (const char *p = g->failed; *p && rc == TM_OK;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char what[400];
        snprintf(what, sizeof what, "%.*s", (int)(len < sizeof what ? len : sizeof what - 1), p);
        tm_cycle_stats *st = r->st;
        int k = 0;
        while (k < st->nfailures && strcmp(st->failures[k].what, what) != 0)
            k++;
        if (k < st->nfailures) {
            st->failures[k].count++;
        } else if (k < TM_CYCLE_MAX_FAILURES) {
            snprintf(st->failures[k].what, sizeof st->failures[k].what, "%s", what);
            st->failures[k].count = 1;
            st->nfailures++;
            json_t *dj = json_pack("{s:s, s:s, s:s}", "failure", what, "debt", g->w.debt_id,
                                   "scripts", r->scripts);
            char *dt = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
            json_decref(dj);
            char subject[120];
            snprintf(subject, sizeof subject, "rule:%.*s", (int)strcspn(what, " "), what);
            rc = dt ? tm_audit_write(r->audit, g->o.send_at, "cycle", "gate.rule_failed", subject, dt, err)
                    : tm_err_set(err, TM_ENOMEM, "out of memory");
            free(dt);
        }
        p = e ? e + 1 : p + len;
    }
    return rc;
}

/* On a worker: the gate's answer for each row of one consumer. */
static void gate_fn(void *ctx, int worker, size_t gi)
{
    gate_job *j = ctx;
    run *r = j->r;
    const tm_cycle_engine *en = &r->eng[worker];
    gate_group *grp = &j->groups[gi];
    char first[128] = "", last[128] = "";
    int named = 0;
    for (size_t k = 0; k < grp->n; k++) {
        gate_row *g = &j->rows[grp->first + k];
        tm_outbox_rec *o = &g->o;
        if (g->closed)
            continue;
        tm_request req;
        struct tm_err e = {0};
        if (build_request(&g->w, o, &grp->history, &req, &e) != TM_OK) {
            g->invalid = 1;
            snprintf(g->msg, sizeof g->msg, "%.500s", e.msg);
            continue;
        }
        /* What the message says that a rule may forbid (its template's
         * claims) goes to the gate as message fields. */
        const claim_entry *ce = NULL;
        if (claims_of(&r->claims[worker], en->sb, o->channel, o->template_id, &ce, &e) != TM_OK) {
            g->invalid = 1;
            snprintf(g->msg, sizeof g->msg, "claims: %.500s", e.msg);
            tm_gate_request_free(&req);
            continue;
        }
        _Static_assert(sizeof req.msg[0].name >= TM_RENDER_CLAIM_LEN, "a claim fits a message field");
        for (int ci = 0; ci < ce->n && req.nmsg < TM_GATE_MAX_MSGFIELDS; ci++) {
            memcpy(req.msg[req.nmsg].name, ce->names[ci], TM_RENDER_CLAIM_LEN);
            req.msg[req.nmsg++].value = TM_TRI_TRUE;
        }
        tm_decision d;
        tm_gate_decide(en->gate, &req, &d);
        size_t off = 0;
        for (int i = 0; i < d.nblocked && off < sizeof g->blocked - 100; i++)
            off += (size_t)snprintf(g->blocked + off, sizeof g->blocked - off, "%s%s", off ? "," : "",
                                    d.blocked[i].rule->qid);
        note_failed_rules(g, &d);
        g->allow = d.allow;
        g->next_allowed = d.next_allowed;
        plan_zone(&g->w);
        if (d.allow) {
            if (!named) {
                consumer_names(r->keys, grp->ext, grp->pii, grp->pii_len, first, last, sizeof first);
                named = 1;
            }
            render_row(r, en->sb, g, &d, first, last);
            /* later rows of this consumer count this contact */
            hist_add(&grp->history, req.channel,
                     tm_gate_lookup(tm_gate_outcome_names, req.channel == TM_CH_CALL ? "attempt" : "delivered"),
                     TM_PLACE_PERSONAL, TM_DIR_OUTBOUND, o->send_at, g->w.debt_id);
        } else {
            tm_jdebt jd = jdebt_of(&g->w);
            tm_jstate js = jstate_of(&g->w);
            tm_jaction send;
            memset(&send, 0, sizeof send);
            send.type = TM_JA_SEND;
            snprintf(send.channel, sizeof send.channel, "%s", o->channel);
            snprintf(send.template_id, sizeof send.template_id, "%s", o->template_id);
            snprintf(send.purpose, sizeof send.purpose, "%s", o->purpose ? o->purpose : "");
            send.at = o->send_at;
            int64_t next = d.next_allowed == TM_GATE_NEVER ? INT64_MAX : d.next_allowed;
            if (tm_journeys_blocked(en->js, &jd, &js, &send, next, g->blocked, o->send_at, &g->res,
                                    &e) != TM_OK) {
                g->handler_failed = 1;
                snprintf(g->msg, sizeof g->msg, "%.500s", e.msg);
                g->res.nactions = 0;
            }
        }
        tm_gate_decision_free(&d);
        tm_gate_request_free(&req);
    }
    OPENSSL_cleanse(first, sizeof first);
    OPENSSL_cleanse(last, sizeof last);
}

static void gate_job_clear(gate_job *j)
{
    for (size_t i = 0; i < j->nrows; i++) {
        free(j->rows[i].o.payload_owned);
        free(j->rows[i].blob);
    }
    for (size_t i = 0; i < j->ngroups; i++) {
        hist_clear(&j->groups[i].history);
        free(j->groups[i].pii);
    }
    j->nrows = j->ngroups = 0;
    j->newest = 0;
}

/* Reads planned rows from ids[*pos] on into `j`: at least CHUNK rows unless
 * the list ends, and never part of a consumer's rows (the list is in
 * consumer order), so no two chunks in flight share a consumer. */
static int load_gate(run *r, gate_job *j, const int64_t *ids, size_t n, size_t *pos, struct tm_err *err)
{
    gate_job_clear(j);
    int64_t consumer = -1;
    int rc = TM_OK;
    while (*pos < n && rc == TM_OK) {
        if (j->nrows == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : CHUNK * 2;
            gate_row *nr = realloc(j->rows, cap * sizeof *nr);
            if (!nr)
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            j->rows = nr;
            j->cap = cap;
        }
        gate_row *g = &j->rows[j->nrows];
        memset(g, 0, offsetof(gate_row, res));
        int found = 0;
        rc = tm_store_outbox_get(r->s, ids[*pos], &g->o, &found, err);
        if (rc != TM_OK || !found || g->o.status != TM_OUTBOX_PLANNED || g->o.send_at >= r->day_end) {
            free(g->o.payload_owned);
            ++*pos;
            continue;
        }
        /* A debt's rows come together (by consumer, then time): the debt
         * read for the row before serves this one. */
        if (j->nrows > 0 && j->rows[j->nrows - 1].o.debt == g->o.debt) {
            g->w = j->rows[j->nrows - 1].w;
            found = 1;
        } else {
            rc = tm_store_work_debt(r->s, g->o.debt, &g->w, &found, err);
        }
        if (rc != TM_OK || !found) {
            free(g->o.payload_owned);
            ++*pos;
            continue;
        }
        /* Planned while the debt was open, it is not sent once the debt is
         * paid (or otherwise closed) before its time: nobody is asked to pay
         * what is already paid. */
        g->closed = g->w.status != TM_DEBT_OPEN;
        if (g->w.consumer_id != consumer) {
            if (j->nrows >= CHUNK) {
                free(g->o.payload_owned);
                break; /* read again as the first row of the next chunk */
            }
            if (j->ngroups == j->gcap) {
                size_t cap = j->gcap ? j->gcap * 2 : CHUNK;
                gate_group *ng = realloc(j->groups, cap * sizeof *ng);
                if (!ng) {
                    free(g->o.payload_owned);
                    return tm_err_set(err, TM_ENOMEM, "out of memory");
                }
                j->groups = ng;
                j->gcap = cap;
            }
            gate_group *grp = &j->groups[j->ngroups++];
            memset(grp, 0, sizeof *grp);
            grp->first = j->nrows;
            consumer = g->w.consumer_id;
            rc = tm_store_history(r->s, consumer, g->o.send_at - HISTORY_DAYS * DAY, on_history,
                                  &grp->history, err);
            if (rc == TM_ENOMEM)
                tm_err_set(err, rc, "out of memory reading the contact history");
            /* A store that fails here stops the phase: a message rendered
             * without the consumer's data would go out as if all were well. */
            if (rc == TM_OK)
                rc = tm_store_consumer_pii(r->s, consumer, grp->ext, &grp->pii, &grp->pii_len, err);
            if (rc == TM_OK && grp->pii) {
                int v = tm_keys_blob_version(grp->pii, grp->pii_len);
                j->newest = v > j->newest ? v : j->newest;
            }
        }
        j->groups[j->ngroups - 1].n++;
        j->nrows++;
        ++*pos;
    }
    if (rc != TM_OK)
        gate_job_clear(j);
    return rc;
}

/* On the caller's thread: the decisions, messages and reschedules of a chunk. */
static int write_gate(run *r, gate_job *j, int *again, struct tm_err *err)
{
    int rc = TM_OK;
    for (size_t i = 0; i < j->nrows && rc == TM_OK; i++) {
        gate_row *g = &j->rows[i];
        tm_outbox_rec *o = &g->o;
        tm_work_debt *w = &g->w;
        if (g->closed) {
            char why[64];
            snprintf(why, sizeof why, "debt-%s", tm_store_debt_status_name(w->status));
            r->st->skipped++;
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_SKIPPED, o->send_at, why, NULL, 0, err);
            if (rc == TM_OK)
                rc = tx_step(r, err);
            continue;
        }
        if (g->invalid) {
            /* A contact the gate cannot judge is never sent: the row fails
             * and the debt is parked with the reason. */
            char msg[800];
            snprintf(msg, sizeof msg, "outbox %s: the gate cannot judge this contact: %s", o->key, g->msg);
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_FAILED, o->send_at, "invalid-request", NULL, 0, err);
            if (rc == TM_OK)
                rc = park(r, w, "gate", msg, o->send_at, err);
            if (rc == TM_OK)
                rc = tx_step(r, err);
            continue;
        }
        for (const char *p = g->blocked; *p;) {
            const char *c = strchr(p, ',');
            char rule[96];
            size_t len = c ? (size_t)(c - p) : strlen(p);
            snprintf(rule, sizeof rule, "%.*s", (int)(len < sizeof rule ? len : sizeof rule - 1), p);
            if (!rule_failed(g, rule)) /* a failed rule is counted apart */
                count_rule(r->st, rule);
            p += len + (c ? 1 : 0);
        }
        if (g->oom) {
            /* The batch rolls back; the row is judged again by the rerun. */
            rc = tm_err_set(err, TM_ENOMEM, "out of memory rendering outbox %s", o->key);
            break;
        }
        rc = tm_store_decision_add(r->s, w->debt_id, o->send_at, o->channel, g->allow,
                                   g->blocked[0] ? g->blocked : NULL,
                                   g->allow ? o->send_at : g->next_allowed, r->scripts, err);
        if (rc == TM_OK && g->allow) {
            r->st->allowed++;
            if (g->render_failed) {
                /* No message goes out without its template and disclosures:
                 * the row fails, and the audit log says why. */
                r->st->render_failed++;
                report(r, "debt %s: outbox %s: %s", w->debt_id, o->key, g->msg);
                rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_FAILED, o->send_at, g->msg, NULL, 0, err);
                json_t *dj = json_pack("{s:s, s:s, s:s, s:s}", "key", o->key, "channel", o->channel,
                                       "template", o->template_id, "error", g->msg);
                char *dt = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
                json_decref(dj);
                char subject[160];
                snprintf(subject, sizeof subject, "debt:%s", w->debt_id);
                if (rc == TM_OK)
                    rc = dt ? tm_audit_write(r->audit, o->send_at, "cycle", "outbox.failed", subject, dt, err)
                            : tm_err_set(err, TM_ENOMEM, "out of memory");
                free(dt);
            } else {
                rc = tm_store_outbox_ready(r->s, o->id, g->blob, g->blen,
                                           tm_keys_blob_version(g->blob, g->blen), err);
            }
            if (rc == TM_OK)
                rc = tm_store_contact_add(r->s, o->debt, o->channel, o->send_at,
                                          strcmp(o->channel, "call") == 0 ? "attempt" : "delivered", err);
        } else if (rc == TM_OK) {
            if (g->failed[0]) {
                r->st->rule_failures++;
                rc = count_failures(r, g, err);
            } else {
                r->st->blocked++;
            }
            if (rc == TM_OK && g->handler_failed) {
                char msg[700];
                snprintf(msg, sizeof msg, "blocked handler: %s", g->msg);
                rc = park(r, w, "blocked", msg, o->send_at, err);
            }
            int moved = 0;
            for (int k = 0; rc == TM_OK && k < g->res.nactions; k++) {
                const tm_jaction *a = &g->res.actions[k];
                if (a->type != TM_JA_SEND)
                    continue;
                if (a->rescheduled && !moved && strcmp(a->channel, o->channel) == 0) {
                    moved = 1;
                    r->st->rescheduled++;
                    rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_PLANNED, a->at, g->blocked, NULL, 0, err);
                    if (a->at < r->day_end)
                        *again = 1;
                } else {
                    char key[300];
                    snprintf(key, sizeof key, "%s:alt%d", o->key, k);
                    tm_outbox_rec nr = {.debt = o->debt, .key = key, .channel = a->channel,
                                        .template_id = a->template_id, .payload = a->json,
                                        .send_at = a->at, .purpose = a->purpose[0] ? a->purpose : o->purpose,
                                        .journey_state = o->journey_state, .created_at = o->send_at};
                    int added = 0;
                    rc = tm_store_outbox_plan(r->s, &nr, &added, err);
                    r->st->planned += added;
                    if (added && a->at < r->day_end)
                        *again = 1;
                }
            }
            if (rc == TM_OK && !moved) {
                r->st->skipped++;
                rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_SKIPPED, o->send_at, g->blocked, NULL, 0, err);
            }
        }
        tm_stopat("run.gate"); /* run: after each contact judged and written, batch uncommitted */
        if (rc == TM_OK)
            rc = tx_step(r, err);
    }
    return rc;
}

static int gate_day(run *r, struct tm_err *err)
{
    int rc = TM_OK;
    gate_job jobs[2] = {{.r = r}, {.r = r}};
    /* A rescheduled or switched send may fall later the same day: go round
     * until nothing new is due (bounded: each pass moves time forward). */
    for (int pass = 0; pass < 8 && rc == TM_OK; pass++) {
        int64_t *ids = NULL;
        size_t n = 0, pos = 0;
        rc = tm_store_work_outbox(r->s, r->day_end, &ids, &n, err);
        if (rc != TM_OK || n == 0) {
            free(ids);
            break;
        }
        int again = 0;
        rc = tx_begin(r, err);
        if (rc == TM_OK)
            rc = load_gate(r, &jobs[0], ids, n, &pos, err);
        if (rc == TM_OK)
            rc = keys_for(r, jobs[0].newest, err);
        if (rc == TM_OK)
            tm_pool_submit(r->pool, gate_fn, &jobs[0], jobs[0].ngroups);
        for (int k = 0; rc == TM_OK && jobs[k % 2].nrows; k++) {
            progress(r, "gate", (long)pos, (long)n);
            gate_job *cur = &jobs[k % 2], *nxt = &jobs[(k + 1) % 2];
            /* the next chunk is read while the workers judge this one */
            rc = load_gate(r, nxt, ids, n, &pos, err);
            tm_pool_wait(r->pool);
            if (rc == TM_OK && nxt->nrows)
                rc = keys_for(r, nxt->newest, err);
            if (rc == TM_OK && nxt->nrows)
                tm_pool_submit(r->pool, gate_fn, nxt, nxt->ngroups);
            if (rc == TM_OK)
                rc = write_gate(r, cur, &again, err);
            gate_job_clear(cur);
        }
        tm_pool_wait(r->pool);
        progress(r, "gate", (long)n, (long)n);
        if (rc == TM_OK)
            rc = tx_commit(r, err);
        free(ids);
        if (!again)
            break;
    }
    for (int k = 0; k < 2; k++) {
        gate_job_clear(&jobs[k]);
        free(jobs[k].rows);
        free(jobs[k].groups);
    }
    return rc;
}

/* ---------------------------------------------------------------------------
 * 5. Dispatch. Workers decrypt and send a chunk of ready messages (one at a
 * time through an adapter that is not safe to share); the caller's thread
 * makes the chunk durable with one flush, then marks it sent. A crash before
 * the mark sends nothing twice: the rerun finds each spooled file (or the
 * receiver's key) and records it as already sent.
 */
/* Messages per dispatch chunk: each chunk ends with one sync of the spool's
 * file system, which waits for the disk, so chunks are larger here. */
#define SEND_CHUNK 2048

typedef struct send_item {
    tm_outbox_rec o;
    char debt_id[129];
    int unreadable;
    int send_rc;          /* tm_adapter_send's return */
    tm_send_result sr;
    char msg[600];
} send_item;

typedef struct send_job {
    run *r;
    send_item *items;
    size_t n;
    int newest; /* the highest key version of the messages read */
    pthread_mutex_t *lock; /* NULL when the adapter may be shared */
    atomic_int *refused;   /* set when the receiver's certificate did not verify */
} send_job;

static void send_fn(void *ctx, int worker, size_t i)
{
    (void)worker;
    send_job *j = ctx;
    run *r = j->r;
    send_item *it = &j->items[i];
    tm_outbox_rec *o = &it->o;
    char aad[300];
    snprintf(aad, sizeof aad, "outbox:%s", o->key);
    char *plain = NULL;
    size_t plen = 0;
    json_t *msg = NULL;
    struct tm_err e = {0};
    if (!o->payload_owned ||
        tm_keys_decrypt(r->keys, (const uint8_t *)o->payload_owned, o->payload_len, aad, &plain, &plen,
                        &e) != TM_OK ||
        !(msg = json_loadb(plain, plen, 0, NULL))) {
        it->unreadable = 1;
        snprintf(it->msg, sizeof it->msg, "%.500s", e.msg[0] ? e.msg : "not JSON");
    } else {
        tm_message m = {.key = o->key, .channel = o->channel, .debt_id = it->debt_id,
                        .template_id = o->template_id,
                        .language = json_string_value(json_object_get(msg, "language")),
                        .subject = json_string_value(json_object_get(msg, "subject")),
                        .text = json_string_value(json_object_get(msg, "text")),
                        .html = json_string_value(json_object_get(msg, "html")),
                        .send_at = o->send_at};
        /* A receiver whose certificate does not verify will refuse every
         * message alike: after the first, the rest stay ready for a later
         * run instead of each making a handshake. */
        if (j->lock)
            pthread_mutex_lock(j->lock);
        if (atomic_load(j->refused)) {
            it->send_rc = TM_ECRYPTO;
            it->msg[0] = '\0';
        } else {
            it->send_rc = tm_adapter_send(r->out, &m, &it->sr, &e);
            if (it->send_rc != TM_OK)
                snprintf(it->msg, sizeof it->msg, "%.500s", e.msg);
            if (it->send_rc == TM_ECRYPTO)
                atomic_store(j->refused, 1);
        }
        if (j->lock)
            pthread_mutex_unlock(j->lock);
    }
    json_decref(msg);
    if (plain) {
        OPENSSL_cleanse(plain, plen);
        free(plain);
    }
}

static void send_job_clear(send_job *j)
{
    for (size_t i = 0; i < j->n; i++)
        free(j->items[i].o.payload_owned);
    j->n = 0;
    j->newest = 0;
}

static int load_sends(run *r, send_job *j, const int64_t *ids, size_t n, struct tm_err *err)
{
    send_job_clear(j);
    for (size_t i = 0; i < n; i++) {
        send_item *it = &j->items[j->n];
        memset(it, 0, sizeof *it);
        int found = 0;
        int rc = tm_store_outbox_get(r->s, ids[i], &it->o, &found, err);
        if (rc == TM_OK && found) {
            found = it->o.debt_ref[0] != '\0';
            snprintf(it->debt_id, sizeof it->debt_id, "%s", it->o.debt_ref);
        }
        if (rc != TM_OK || !found || it->o.status != TM_OUTBOX_READY) {
            free(it->o.payload_owned);
            if (rc != TM_OK) {
                send_job_clear(j);
                return rc;
            }
            continue;
        }
        int v = tm_keys_blob_version((const uint8_t *)it->o.payload_owned, it->o.payload_len);
        j->newest = v > j->newest ? v : j->newest;
        j->n++;
    }
    return TM_OK;
}

static int write_sends(run *r, send_job *j, struct tm_err *err)
{
    struct tm_err fe = {0};
    int durable = tm_adapter_flush(r->out, &fe) == TM_OK;
    if (!durable)
        report(r, "dispatch: %s (the batch stays ready and is sent again)", fe.msg);
    int rc = TM_OK;
    for (size_t i = 0; i < j->n && rc == TM_OK; i++) {
        send_item *it = &j->items[i];
        tm_outbox_rec *o = &it->o;
        if (it->unreadable) {
            report(r, "debt %s: outbox %s: the stored message cannot be read: %s", it->debt_id, o->key,
                   it->msg);
            r->st->failed++;
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_FAILED, o->send_at, "unreadable", NULL, 0, err);
        } else if (it->send_rc != TM_OK || !durable) {
            if (it->send_rc != TM_OK && it->msg[0])
                report(r, "debt %s: outbox %s: %s", it->debt_id, o->key, it->msg);
            r->st->retry++;
        } else if (it->sr.outcome == TM_SEND_SENT || it->sr.outcome == TM_SEND_DUPLICATE) {
            if (it->sr.outcome == TM_SEND_SENT) {
                r->st->sent++;
                count_channel(r->st, o->channel);
            } else {
                r->st->duplicates++;
            }
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_SENT, o->send_at, NULL, NULL, o->send_at, err);
            if (rc == TM_OK) {
                char subject[160], details[400];
                snprintf(subject, sizeof subject, "debt:%s", it->debt_id);
                snprintf(details, sizeof details,
                         "{\"key\":\"%s\",\"channel\":\"%s\",\"template\":\"%s\",\"outcome\":\"%s\"}",
                         o->key, o->channel, o->template_id,
                         it->sr.outcome == TM_SEND_SENT ? "sent" : "already sent");
                rc = tm_audit_write(r->audit, o->send_at, "cycle", "outbox.sent", subject, details, err);
            }
            tm_stopat("run.sent"); /* run: after each message spooled and marked sent, uncommitted */
        } else if (it->sr.outcome == TM_SEND_RETRY) {
            r->st->retry++;
        } else {
            r->st->failed++;
            report(r, "debt %s: outbox %s: %s", it->debt_id, o->key, it->sr.detail);
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_FAILED, o->send_at, NULL, NULL, 0, err);
        }
        if (rc == TM_OK)
            rc = tx_step(r, err);
    }
    return rc;
}

static int dispatch(run *r, struct tm_err *err)
{
    if (!r->out)
        return TM_OK;
    int64_t *ids = NULL;
    size_t n = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    atomic_int refused;
    atomic_init(&refused, 0);
    send_job jobs[2] = {{.r = r}, {.r = r}};
    for (int k = 0; k < 2; k++) {
        jobs[k].lock = tm_adapter_concurrent(r->out) ? NULL : &lock;
        jobs[k].refused = &refused;
    }
    jobs[0].items = malloc(SEND_CHUNK * sizeof *jobs[0].items);
    jobs[1].items = malloc(SEND_CHUNK * sizeof *jobs[1].items);
    int rc = jobs[0].items && jobs[1].items ? tm_store_work_ready(r->s, &ids, &n, err)
                                            : tm_err_set(err, TM_ENOMEM, "out of memory");
    tm_adapter_batch(r->out, 1);
    if (rc == TM_OK)
        rc = tx_begin(r, err);
    size_t nchunks = (n + SEND_CHUNK - 1) / SEND_CHUNK;
    if (rc == TM_OK && nchunks) {
        rc = load_sends(r, &jobs[0], ids, n < SEND_CHUNK ? n : SEND_CHUNK, err);
        if (rc == TM_OK)
            rc = keys_for(r, jobs[0].newest, err);
        if (rc == TM_OK)
            tm_pool_submit(r->pool, send_fn, &jobs[0], jobs[0].n);
    }
    for (size_t k = 0; k < nchunks && rc == TM_OK; k++) {
        progress(r, "dispatch", (long)(k * SEND_CHUNK), (long)n);
        send_job *cur = &jobs[k % 2], *nxt = &jobs[(k + 1) % 2];
        size_t at = (k + 1) * SEND_CHUNK;
        if (k + 1 < nchunks)
            rc = load_sends(r, nxt, ids + at, n - at < SEND_CHUNK ? n - at : SEND_CHUNK, err);
        tm_pool_wait(r->pool);
        if (rc == TM_OK && k + 1 < nchunks)
            rc = keys_for(r, nxt->newest, err);
        if (rc == TM_OK && k + 1 < nchunks)
            tm_pool_submit(r->pool, send_fn, nxt, nxt->n);
        if (rc == TM_OK)
            rc = write_sends(r, cur, err);
    }
    tm_pool_wait(r->pool);
    r->st->receiver_refused = atomic_load(&refused);
    if (r->st->receiver_refused)
        report(r, "dispatch: the receiver's certificate did not verify: %ld messages stay ready "
                  "for a later run", r->st->retry);
    /* What a failed run left written but unmarked is found again by the rerun. */
    tm_adapter_flush(r->out, NULL);
    tm_adapter_batch(r->out, 0);
    progress(r, "dispatch", (long)n, (long)n);
    if (rc == TM_OK)
        rc = tx_commit(r, err);
    for (int k = 0; k < 2; k++) {
        if (jobs[k].items)
            send_job_clear(&jobs[k]);
        free(jobs[k].items);
    }
    free(ids);
    return rc;
}

/* Script calls that ended on a limit so far, over every sandbox of the run. */
static uint64_t limit_hits(const run *r, tm_sandbox *sb)
{
    uint64_t n = 0;
    tm_sandbox_stats ss;
    if (r->o->nengines <= 0) {
        tm_sandbox_stats_get(sb, &ss);
        return ss.limit_hits;
    }
    for (int i = 0; i < r->o->nengines; i++) {
        tm_sandbox_stats_get(r->o->engines[i].sb, &ss);
        n += ss.limit_hits;
    }
    if (sb != r->o->engines[0].sb) { /* the caller's, when not a worker's */
        tm_sandbox_stats_get(sb, &ss);
        n += ss.limit_hits;
    }
    return n;
}

/* The journeys the run stopped after a limit, into the day's figures. */
static void take_stopped(tm_cycle_stats *st, tm_jbench *b)
{
    for (int i = 0; st->nstopped < TM_CYCLE_MAX_STOPPED; i++) {
        long hits = 0, skipped = 0;
        if (tm_jbench_get(b, i, st->stopped[st->nstopped].journey, sizeof st->stopped[0].journey,
                          st->stopped[st->nstopped].what, sizeof st->stopped[0].what, &hits,
                          &skipped) != TM_OK)
            break;
        st->stopped[st->nstopped].hits = hits;
        st->stopped[st->nstopped].parked = skipped;
        st->nstopped++;
    }
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int tm_cycle_run(tm_store *s, const tm_keys *keys, tm_sandbox *sb, tm_gate *gate, tm_journeys *js,
                 tm_adapter *out, const tm_cycle_opts *opts, tm_cycle_stats *stats,
                 struct tm_err *err)
{
    memset(stats, 0, sizeof *stats);
    run r = {.s = s, .keys = keys, .sb = sb, .gate = gate, .js = js, .out = out, .o = opts, .st = stats,
             .day_start = opts->day * DAY, .day_end = (opts->day + 1) * DAY,
             .scripts = tm_gate_scripts_hash(gate) ? tm_gate_scripts_hash(gate) : ""};
    r.own = (tm_cycle_engine){.sb = sb, .gate = gate, .js = js};
    r.eng = opts->nengines > 0 ? opts->engines : &r.own;
    int rc = tm_pool_new(opts->nengines > 0 ? opts->nengines : 0, &r.pool, err);
    if (rc != TM_OK)
        return rc;
    int ncache = opts->nengines > 0 ? opts->nengines : 1;
    if (!(r.claims = calloc((size_t)ncache, sizeof *r.claims))) {
        tm_pool_free(r.pool);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    rc = tm_audit_writer_open(s, opts->audit_key, &r.audit, err);
    if (rc != TM_OK) {
        free(r.claims);
        tm_pool_free(r.pool);
        return rc;
    }
    /* Journeys that hit a limit are stopped for the rest of the run, on
     * every worker: one bench for all. */
    tm_jbench *bench = tm_jbench_new();
    if (!bench) {
        tm_audit_writer_close(r.audit);
        free(r.claims);
        tm_pool_free(r.pool);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    uint64_t hits_before = limit_hits(&r, sb);
    tm_journeys_set_bench(js, bench);
    for (int i = 0; i < opts->nengines; i++)
        tm_journeys_set_bench(opts->engines[i].js, bench);
    /* Every loaded journey's text is kept before a debt runs on it; debts on
     * an older text run it from the archive, read into memory here so the
     * workers never touch the store (lb_journey.h, "Versions"). */
    rc = tx_begin(&r, err);
    if (rc == TM_OK)
        rc = tm_jarchive_keep(s, js, r.audit, r.day_start, err);
    if (rc == TM_OK)
        rc = tx_commit(&r, err);
    tm_jarchive_cache *texts = NULL;
    if (rc == TM_OK)
        rc = tm_jarchive_cache_load(s, &texts, err);
    if (rc == TM_OK) {
        tm_journeys_set_archive(js, tm_jarchive_cache_lookup, texts);
        for (int i = 0; i < opts->nengines; i++)
            tm_journeys_set_archive(opts->engines[i].js, tm_jarchive_cache_lookup, texts);
    }
    /* 1. Events that happened by the end of the day and are not yet worked,
     * in time order (each is marked worked with its step). */
    double t = mono(), t2;
    if (rc == TM_OK)
        rc = promises(&r, err);
    evrun x = {.r = &r, .err = err};
    if (rc == TM_OK)
        rc = tm_store_scan_events(s, r.day_end, on_event, &x, err);
    if (rc == TM_OK)
        rc = tx_commit(&r, err);
    t2 = mono(), stats->seconds[0] = t2 - t, t = t2;
    /* 2. New debts. */
    int64_t *ids = NULL;
    size_t n = 0;
    if (rc == TM_OK)
        rc = tm_store_work_unassigned(s, &ids, &n, err);
    if (rc == TM_OK)
        rc = work_debts(&r, ids, n, 0, err);
    free(ids);
    ids = NULL;
    t2 = mono(), stats->seconds[1] = t2 - t, t = t2;
    /* 3. Timers due today; a timer's step may set another timer for later
     * today, so go round a few times. */
    for (int pass = 0; pass < 8 && rc == TM_OK; pass++) {
        rc = tm_store_work_timers(s, r.day_end, &ids, &n, err);
        if (rc == TM_OK && n)
            rc = work_debts(&r, ids, n, 1, err);
        free(ids);
        ids = NULL;
        if (n == 0)
            break;
    }
    t2 = mono(), stats->seconds[2] = t2 - t, t = t2;
    /* 4. The gate, 5. dispatch. */
    tm_stopat("run.gate"); /* run: before the gate phase, no transaction open */
    if (rc == TM_OK)
        rc = gate_day(&r, err);
    t2 = mono(), stats->seconds[3] = t2 - t, t = t2;
    tm_stopat("run.dispatch"); /* run: before the dispatch phase, no transaction open */
    if (rc == TM_OK)
        rc = dispatch(&r, err);
    stats->seconds[4] = mono() - t;
    if (rc == TM_OK)
        rc = tm_store_cycle_set(s, "last_day", opts->day, err);
    if (rc != TM_OK && r.in_tx) {
        tm_store_rollback(s);
        r.in_tx = 0;
    }
    tm_audit_writer_close(r.audit);
    tm_journeys_set_archive(js, NULL, NULL);
    for (int i = 0; i < opts->nengines; i++)
        tm_journeys_set_archive(opts->engines[i].js, NULL, NULL);
    stats->limit_hits = (long)(limit_hits(&r, sb) - hits_before);
    take_stopped(stats, bench);
    tm_journeys_set_bench(js, NULL);
    for (int i = 0; i < opts->nengines; i++)
        tm_journeys_set_bench(opts->engines[i].js, NULL);
    tm_jbench_free(bench);
    tm_jarchive_cache_free(texts);
    tm_pool_free(r.pool);
    tm_keys_free(r.own_keys);
    for (int i = 0; i < ncache; i++)
        free(r.claims[i].e);
    free(r.claims);
    return rc;
}

void tm_cycle_stats_add(tm_cycle_stats *t, const tm_cycle_stats *d)
{
    t->events += d->events;
    t->events_ignored += d->events_ignored;
    t->started += d->started;
    t->unassigned = d->unassigned; /* a count of the day, not a flow */
    t->unstarted = d->unstarted;
    t->timers += d->timers;
    t->promises_broken += d->promises_broken;
    t->promises_kept += d->promises_kept;
    t->handoffs += d->handoffs;
    t->queued += d->queued;
    t->step_errors += d->step_errors;
    t->planned += d->planned;
    t->allowed += d->allowed;
    t->blocked += d->blocked;
    t->rescheduled += d->rescheduled;
    t->skipped += d->skipped;
    t->rule_failures += d->rule_failures;
    t->limit_hits += d->limit_hits;
    for (int i = 0; i < d->nstopped; i++) {
        int k = 0;
        while (k < t->nstopped && (strcmp(t->stopped[k].journey, d->stopped[i].journey) != 0 ||
                                   strcmp(t->stopped[k].what, d->stopped[i].what) != 0))
            k++;
        if (k == t->nstopped && t->nstopped < TM_CYCLE_MAX_STOPPED) {
            t->stopped[t->nstopped++] = d->stopped[i];
        } else if (k < t->nstopped) {
            t->stopped[k].hits += d->stopped[i].hits;
            t->stopped[k].parked += d->stopped[i].parked;
        }
    }
    for (int i = 0; i < d->nfailures; i++) {
        int k = 0;
        while (k < t->nfailures && strcmp(t->failures[k].what, d->failures[i].what) != 0)
            k++;
        if (k == t->nfailures && t->nfailures < TM_CYCLE_MAX_FAILURES)
            t->failures[t->nfailures++] = d->failures[i];
        else if (k < t->nfailures)
            t->failures[k].count += d->failures[i].count;
    }
    t->sent += d->sent;
    t->duplicates += d->duplicates;
    t->retry += d->retry;
    t->failed += d->failed;
    t->render_failed += d->render_failed;
    t->receiver_refused |= d->receiver_refused;
    for (int i = 0; i < 5; i++)
        t->seconds[i] += d->seconds[i];
    for (int i = 0; i < d->nchannels; i++) {
        int k = 0;
        while (k < t->nchannels && strcmp(t->by_channel[k].channel, d->by_channel[i].channel) != 0)
            k++;
        if (k == t->nchannels && t->nchannels < TM_CYCLE_MAX_CHANNELS)
            t->by_channel[t->nchannels++] = d->by_channel[i];
        else if (k < t->nchannels)
            t->by_channel[k].sent += d->by_channel[i].sent;
    }
    for (int i = 0; i < d->nrules; i++) {
        int k = 0;
        while (k < t->nrules && strcmp(t->by_rule[k].rule, d->by_rule[i].rule) != 0)
            k++;
        if (k == t->nrules && t->nrules < TM_CYCLE_MAX_RULES)
            t->by_rule[t->nrules++] = d->by_rule[i];
        else if (k < t->nrules)
            t->by_rule[k].count += d->by_rule[i].count;
    }
}

int tm_cycle_engines_load(tm_gen *gen, const tm_cycle_engine *first, int n, tm_cycle_engine **out,
                          int *nout, struct tm_err *err)
{
    *out = NULL;
    *nout = 0;
    if (n <= 0)
        return TM_OK;
    tm_cycle_engine *e = calloc((size_t)n, sizeof *e);
    if (!e)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    e[0] = *first;
    int k = 1, rc = TM_OK;
    for (; k < n && rc == TM_OK; k++) {
        struct tm_err le = {0};
        e[k].sb = tm_sandbox_new(gen, NULL, &le);
        /* Problems were reported when `first` loaded: the same scripts. */
        if (!e[k].sb || tm_lb_gate_load(e[k].sb, &e[k].gate, NULL, NULL, &le) != TM_OK ||
            tm_journeys_load(e[k].sb, &e[k].js, NULL, NULL, &le) != TM_OK)
            rc = tm_err_set(err, le.code ? le.code : TM_ENOMEM, "worker %d: %s", k + 1, le.msg);
    }
    if (rc != TM_OK) {
        tm_cycle_engines_free(e, k);
        return rc;
    }
    *out = e;
    *nout = n;
    return TM_OK;
}

void tm_cycle_engines_free(tm_cycle_engine *e, int n)
{
    for (int i = 1; e && i < n; i++) {
        tm_journeys_free(e[i].js);
        tm_gate_free(e[i].gate);
        tm_sandbox_free(e[i].sb);
    }
    free(e);
}

void tm_cycle_print(FILE *f, const tm_cycle_stats *st)
{
    /* Every new debt that did not start is in no journey: the ones no segment
     * took and the ones a script error kept out (parked until it is fixed). */
    fprintf(f, "journeys: %ld started, %ld events handled (%ld ignored), %ld timers, %ld debts in no journey",
            st->started, st->events, st->events_ignored, st->timers, st->unassigned + st->unstarted);
    if (st->unstarted)
        fprintf(f, " (%ld of them parked by a script error)", st->unstarted);
    if (st->handoffs)
        fprintf(f, ", %ld handed to another journey", st->handoffs);
    if (st->queued)
        fprintf(f, ", %ld handed to agent queues", st->queued);
    if (st->step_errors)
        fprintf(f, ", %ld script errors", st->step_errors);
    if (st->promises_broken || st->promises_kept)
        fprintf(f, "\npromises past their due date: %ld broken or partly kept, %ld kept",
                st->promises_broken, st->promises_kept);
    fprintf(f, "\ncontacts: %ld planned, %ld allowed, %ld blocked", st->planned, st->allowed,
            st->blocked);
    if (st->rule_failures)
        fprintf(f, ", %ld stopped by a rule that failed", st->rule_failures);
    fprintf(f, " (%ld rescheduled, %ld skipped)\n", st->rescheduled, st->skipped);
    fprintf(f, "messages: %ld sent", st->sent);
    for (int i = 0; i < st->nchannels; i++)
        fprintf(f, "%s%s %ld", i ? ", " : " (", st->by_channel[i].channel, st->by_channel[i].sent);
    if (st->nchannels)
        fprintf(f, ")");
    if (st->duplicates)
        fprintf(f, ", %ld already sent", st->duplicates);
    if (st->retry)
        fprintf(f, ", %ld to retry", st->retry);
    if (st->failed)
        fprintf(f, ", %ld failed", st->failed);
    if (st->render_failed)
        fprintf(f, ", %ld could not be rendered", st->render_failed);
    fprintf(f, "\n");
    fprintf(f, "time: %.1f s (events %.1f, new debts %.1f, timers %.1f, gate %.1f, dispatch %.1f)\n",
            st->seconds[0] + st->seconds[1] + st->seconds[2] + st->seconds[3] + st->seconds[4],
            st->seconds[0], st->seconds[1], st->seconds[2], st->seconds[3], st->seconds[4]);
    if (st->nrules) {
        fprintf(f, "blocked by rule:\n");
        for (int i = 0; i < st->nrules; i++)
            fprintf(f, "  %-48s %ld\n", st->by_rule[i].rule, st->by_rule[i].count);
    }
    if (st->limit_hits)
        fprintf(f, "script limits hit: %ld\n", st->limit_hits);
    if (st->nstopped) {
        fprintf(f, "journeys stopped after a limit (their other debts were parked without running "
                   "them; the scripts must be fixed):\n");
        for (int i = 0; i < st->nstopped; i++)
            fprintf(f, "  %s: %s: hit %ld time%s, %ld debt%s parked at once\n", st->stopped[i].journey,
                    st->stopped[i].what, st->stopped[i].hits, st->stopped[i].hits == 1 ? "" : "s",
                    st->stopped[i].parked, st->stopped[i].parked == 1 ? "" : "s");
    }
    if (st->nfailures) {
        fprintf(f, "rule failures (the contacts were blocked; the scripts must be fixed):\n");
        for (int i = 0; i < st->nfailures; i++)
            fprintf(f, "  %s: %ld contact%s\n", st->failures[i].what, st->failures[i].count,
                    st->failures[i].count == 1 ? "" : "s");
    }
}
