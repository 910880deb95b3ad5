/*
 * core/cycle.c: the daily cycle (cycle.h).
 */
#include "cycle.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "calendar.h"
#include "jarchive.h"
#include "lb_render.h"
#include "tz.h"

#define DAY 86400
#define HISTORY_DAYS 40 /* the longest rolling window a rule counts, with room */

typedef struct run {
    tm_store *s;
    const tm_keys *keys;
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
    int rc = tm_audit_writer_flush(r->audit, err);
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
        .currency = w->currency, .creditor = w->creditor, .dispute = w->dispute,
        .status = w->status, .zone = w->timezone, .language = w->language, .flags = w->flags,
        .charge_off_date = w->charge_off_date, .last_payment_date = w->last_payment_date,
        .balance = w->balance, .placed_balance = w->placed_balance,
        .days_past_due = w->days_past_due,
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
                /* integer minor units, rounded half up: no float on the amount itself */
                int64_t bps = (int64_t)(pct * 100 + 0.5);
                int64_t amount = (w->balance * bps + 5000) / 10000;
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
            ev.channel = json_string_value(json_object_get(p, "channel"));
            ev.outcome = json_string_value(json_object_get(p, "outcome"));
            tm_jresult res;
            struct tm_err e = {0};
            int64_t now = at > r->day_start ? at : r->day_start;
            if (tm_journeys_event(r->js, &d, &js, &ev, now, &res, &e) != TM_OK) {
                r->st->step_errors++;
                report(r, "debt %s: event %s: %s", w.debt_id, jt, e.msg);
                rc = tm_jarchive_parked(r->audit, &w, &e, now, err);
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
    if (rc == TM_OK)
        rc = tm_store_event_worked(r->s, id, err);
    if (rc == TM_OK)
        rc = tx_step(r, err);
    return rc;
}

/* ---------------------------------------------------------------------------
 * 2 and 3. Starts and timers.
 */
static int work_debts(run *r, const int64_t *ids, size_t n, int timers, struct tm_err *err)
{
    int rc = tx_begin(r, err);
    for (size_t i = 0; i < n && rc == TM_OK; i++) {
        if (i % 1000 == 0)
            progress(r, timers ? "timers" : "new debts", (long)i, (long)n);
        tm_work_debt w;
        int found = 0;
        rc = tm_store_work_debt(r->s, ids[i], &w, &found, err);
        if (rc != TM_OK || !found)
            continue;
        plan_zone(&w);
        tm_jdebt d = jdebt_of(&w);
        tm_jresult res;
        struct tm_err e = {0};
        int64_t now;
        int step_rc;
        if (timers) {
            if (!w.timer_go[0] || w.timer_at >= r->day_end)
                continue;
            now = w.timer_at > r->day_start ? w.timer_at : r->day_start;
            tm_jstate js = jstate_of(&w);
            step_rc = tm_journeys_timer(r->js, &d, &js, now, &res, &e);
        } else {
            tm_jstate js;
            step_rc = tm_journeys_assign(r->js, &d, &js, &e);
            if (step_rc == TM_OK && !js.journey[0]) {
                r->st->unassigned++;
                continue;
            }
            /* Starts are planned from the morning of the day, in UTC; the
             * journey's send window and the gate fit them to local time. */
            now = r->day_start + 13 * 3600;
            if (step_rc == TM_OK)
                step_rc = tm_journeys_start(r->js, &d, &js, now, &res, &e);
        }
        if (step_rc != TM_OK) {
            r->st->step_errors++;
            report(r, "debt %s: %s", w.debt_id, e.msg);
            rc = tm_jarchive_parked(r->audit, &w, &e, now, err);
            continue;
        }
        if (timers)
            r->st->timers++;
        else
            r->st->started++;
        rc = apply(r, &w, &res, timers ? "timer" : "start", now, err);
        if (rc == TM_OK)
            rc = tx_step(r, err);
    }
    progress(r, timers ? "timers" : "new debts", (long)n, (long)n);
    if (rc == TM_OK)
        rc = tx_commit(r, err);
    return rc;
}

/* ---------------------------------------------------------------------------
 * 4. The gate.
 */
typedef struct hist_ctx {
    json_t *arr;
} hist_ctx;

static int on_history(void *ud, const char *channel, int64_t at, const char *outcome,
                      const char *place, const char *direction, const char *debt_id)
{
    hist_ctx *h = ud;
    char t[32];
    tm_gate_format_time(at, t, sizeof t);
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "channel", channel ? channel : "call",
                          "at", t, "outcome", outcome ? outcome : "attempt", "place",
                          place ? place : "personal", "direction",
                          direction ? direction : "outbound", "debt", debt_id ? debt_id : "");
    if (e)
        json_array_append_new(h->arr, e);
    return TM_OK;
}

static json_t *csv_array(const char *s)
{
    json_t *a = json_array();
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n)
            json_array_append_new(a, json_stringn(s, n));
        s += n + (e ? 1 : 0);
    }
    return a;
}

/* The gate request for sending `o` to debt `w` at o->send_at. */
static char *request_json(run *r, const tm_work_debt *w, const tm_outbox_rec *o, struct tm_err *err)
{
    char now[32];
    tm_gate_format_time(o->send_at, now, sizeof now);
    json_t *consumer = json_pack("{s:s}", "state", w->state);
    if (w->timezone[0])
        json_object_set_new(consumer, "timezones", json_pack("[s]", w->timezone));
    json_object_set_new(consumer, "flags", csv_array(w->flags));
    json_object_set_new(consumer, "optout", csv_array(w->optout));
    json_t *consent = json_object();
    json_t *ca = csv_array(w->consent);
    size_t i;
    json_t *v;
    json_array_foreach(ca, i, v) json_object_set_new(consent, json_string_value(v), json_true());
    json_decref(ca);
    json_object_set_new(consumer, "consent", consent);
    json_t *debt = json_pack("{s:s, s:s, s:s}", "id", w->debt_id, "type",
                             w->debt_type[0] ? w->debt_type : "other", "dispute",
                             w->dispute[0] ? w->dispute : "none");
    if (w->last_payment_date[0])
        json_object_set_new(debt, "last_payment_date", json_string(w->last_payment_date));
    if (w->charge_off_date[0])
        json_object_set_new(debt, "charge_off_date", json_string(w->charge_off_date));
    hist_ctx h = {.arr = json_array()};
    int rc = tm_store_history(r->s, w->consumer_id, o->send_at - HISTORY_DAYS * DAY, on_history, &h, err);
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", o->key, "now", now,
                            "channel", o->channel, "purpose",
                            o->purpose && *o->purpose ? o->purpose : "collection", "consumer", consumer,
                            "debt", debt, "history", h.arr);
    char *text = rc == TM_OK && req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text && rc == TM_OK)
        tm_err_set(err, TM_ENOMEM, "out of memory building a gate request");
    return text;
}

/* The consumer's first and last name, decrypted for a render (NUL-filled
 * when unknown). The plaintext is wiped before returning. */
static void consumer_names(run *r, int64_t consumer, char *first, char *last, size_t cap)
{
    first[0] = last[0] = '\0';
    char ext[129];
    uint8_t *blob = NULL;
    size_t len = 0;
    struct tm_err e = {0};
    if (tm_store_consumer_pii(r->s, consumer, ext, &blob, &len, &e) != TM_OK || !blob) {
        free(blob);
        return;
    }
    char aad[200];
    snprintf(aad, sizeof aad, "consumer:%s", ext);
    char *plain = NULL;
    size_t plen = 0;
    if (tm_keys_decrypt(r->keys, blob, len, aad, &plain, &plen, &e) == TM_OK) {
        json_t *j = json_loadb(plain, plen, 0, NULL);
        const char *f = json_string_value(json_object_get(j, "first_name"));
        const char *l = json_string_value(json_object_get(j, "last_name"));
        snprintf(first, cap, "%s", f ? f : "");
        snprintf(last, cap, "%s", l ? l : "");
        json_decref(j);
        OPENSSL_cleanse(plain, plen);
    }
    free(plain);
    free(blob);
}

/* Renders the allowed row `o` for debt `w` and stores it encrypted as ready.
 * A row that cannot be rendered (unknown template, a disclosure with no
 * text, an SMS past its limit) fails with the reason, and no message goes
 * out without its disclosures. */
static int render_ready(run *r, const tm_work_debt *w, const tm_outbox_rec *o, const tm_decision *d,
                        struct tm_err *err)
{
    char first[128], last[128], today[16];
    consumer_names(r, w->consumer_id, first, last, sizeof first);
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
    json_t *pj = o->payload_owned ? json_loadb(o->payload_owned, o->payload_len, 0, NULL) : NULL;
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
    int rrc = tm_render(r->sb, &in, &rd, &e);
    json_decref(pj);
    OPENSSL_cleanse(first, sizeof first);
    OPENSSL_cleanse(last, sizeof last);
    if (rrc != TM_OK || rd.over_limit) {
        r->st->render_failed++;
        char why[600];
        snprintf(why, sizeof why, "render: %.500s", rrc != TM_OK ? e.msg : "the message is past its SMS segment limit");
        report(r, "debt %s: outbox %s: %s", w->debt_id, o->key, why);
        tm_rendered_free(&rd);
        return tm_store_outbox_set(r->s, o->id, "failed", o->send_at, why, NULL, 0, err);
    }
    json_t *m = json_pack("{s:s, s:s, s:s}", "template", o->template_id, "language", in.language,
                          "text", rd.text);
    if (rd.subject)
        json_object_set_new(m, "subject", json_string(rd.subject));
    if (rd.html)
        json_object_set_new(m, "html", json_string(rd.html));
    json_t *ra = json_array();
    for (int i = 0; i < in.nrequires; i++)
        json_array_append_new(ra, json_string(reqs[i]));
    json_object_set_new(m, "requires", ra);
    char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
    if (rd.text)
        OPENSSL_cleanse(rd.text, strlen(rd.text));
    if (rd.html)
        OPENSSL_cleanse(rd.html, strlen(rd.html));
    tm_rendered_free(&rd);
    if (!text)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    char aad[300];
    snprintf(aad, sizeof aad, "outbox:%s", o->key);
    uint8_t *blob = NULL;
    size_t blen = 0;
    int rc = tm_keys_encrypt(r->keys, text, strlen(text), aad, &blob, &blen, err);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (rc == TM_OK)
        rc = tm_store_outbox_ready(r->s, o->id, blob, blen, tm_keys_current(r->keys), err);
    free(blob);
    return rc;
}

/* Gate outcome for one planned row; may reschedule it or plan others. */
static int gate_one(run *r, int64_t id, int *again, struct tm_err *err)
{
    tm_outbox_rec o;
    int found = 0;
    int rc = tm_store_outbox_get(r->s, id, &o, &found, err);
    if (rc != TM_OK || !found || strcmp(o.status, "planned") != 0 || o.send_at >= r->day_end) {
        free(o.payload_owned);
        return rc;
    }
    tm_work_debt w;
    rc = tm_store_work_debt(r->s, o.debt, &w, &found, err);
    if (rc != TM_OK || !found) {
        free(o.payload_owned);
        return rc;
    }
    char *text = request_json(r, &w, &o, err);
    if (!text) {
        free(o.payload_owned);
        return TM_ENOMEM;
    }
    tm_request req;
    char *idj = NULL;
    struct tm_err e = {0};
    if (tm_gate_request_parse(text, strlen(text), o.send_at, &req, &idj, &e) != TM_OK) {
        report(r, "debt %s: outbox %s: the gate request is invalid: %s", w.debt_id, o.key, e.msg);
        free(idj);
        free(text);
        rc = tm_store_outbox_set(r->s, id, "failed", o.send_at, "invalid-request", NULL, 0, err);
        free(o.payload_owned);
        return rc;
    }
    free(idj);
    free(text);
    tm_decision d;
    tm_gate_decide(r->gate, &req, &d);
    char blocked[600] = "";
    size_t off = 0;
    for (int i = 0; i < d.nblocked && off < sizeof blocked - 100; i++) {
        const char *rid = d.blocked[i].rule->qid;
        off += (size_t)snprintf(blocked + off, sizeof blocked - off, "%s%s", off ? "," : "", rid);
        count_rule(r->st, rid);
    }
    rc = tm_store_decision_add(r->s, w.debt_id, o.send_at, o.channel, d.allow, blocked[0] ? blocked : NULL,
                               d.allow ? o.send_at : d.next_allowed, r->scripts, err);
    if (rc == TM_OK && d.allow) {
        r->st->allowed++;
        plan_zone(&w);
        rc = render_ready(r, &w, &o, &d, err);
        if (rc == TM_OK)
            rc = tm_store_contact_add(r->s, o.debt, o.channel, o.send_at,
                                      strcmp(o.channel, "call") == 0 ? "attempt" : "delivered", err);
    } else if (rc == TM_OK) {
        r->st->blocked++;
        plan_zone(&w);
        tm_jdebt jd = jdebt_of(&w);
        tm_jstate js = jstate_of(&w);
        tm_jaction send;
        memset(&send, 0, sizeof send);
        send.type = TM_JA_SEND;
        snprintf(send.channel, sizeof send.channel, "%s", o.channel);
        snprintf(send.template_id, sizeof send.template_id, "%s", o.template_id);
        snprintf(send.purpose, sizeof send.purpose, "%s", o.purpose ? o.purpose : "");
        send.at = o.send_at;
        tm_jresult res;
        int64_t next = d.next_allowed == TM_GATE_NEVER ? INT64_MAX : d.next_allowed;
        if (tm_journeys_blocked(r->js, &jd, &js, &send, next, blocked, o.send_at, &res, &e) != TM_OK) {
            r->st->step_errors++;
            report(r, "debt %s: blocked handler: %s", w.debt_id, e.msg);
            res.nactions = 0;
            rc = tm_jarchive_parked(r->audit, &w, &e, o.send_at, err);
        }
        int moved = 0;
        for (int i = 0; rc == TM_OK && i < res.nactions; i++) {
            const tm_jaction *a = &res.actions[i];
            if (a->type != TM_JA_SEND)
                continue;
            if (a->rescheduled && !moved && strcmp(a->channel, o.channel) == 0) {
                moved = 1;
                r->st->rescheduled++;
                rc = tm_store_outbox_set(r->s, id, "planned", a->at, blocked, NULL, 0, err);
                if (a->at < r->day_end)
                    *again = 1;
            } else {
                char key[300];
                snprintf(key, sizeof key, "%s:alt%d", o.key, i);
                tm_outbox_rec n = {.debt = o.debt, .key = key, .channel = a->channel,
                                   .template_id = a->template_id, .payload = a->json,
                                   .send_at = a->at, .purpose = a->purpose[0] ? a->purpose : o.purpose,
                                   .journey_state = o.journey_state, .created_at = o.send_at};
                int added = 0;
                rc = tm_store_outbox_plan(r->s, &n, &added, err);
                r->st->planned += added;
                if (added && a->at < r->day_end)
                    *again = 1;
            }
        }
        if (rc == TM_OK && !moved) {
            r->st->skipped++;
            rc = tm_store_outbox_set(r->s, id, "skipped", o.send_at, blocked, NULL, 0, err);
        }
    }
    tm_gate_decision_free(&d);
    tm_gate_request_free(&req);
    free(o.payload_owned);
    return rc;
}

static int gate_day(run *r, struct tm_err *err)
{
    int rc = TM_OK;
    /* A rescheduled or switched send may fall later the same day: go round
     * until nothing new is due (bounded: each pass moves time forward). */
    for (int pass = 0; pass < 8 && rc == TM_OK; pass++) {
        int64_t *ids = NULL;
        size_t n = 0;
        rc = tm_store_work_outbox(r->s, r->day_end, &ids, &n, err);
        if (rc != TM_OK || n == 0) {
            free(ids);
            break;
        }
        int again = 0;
        rc = tx_begin(r, err);
        for (size_t i = 0; i < n && rc == TM_OK; i++) {
            if (i % 1000 == 0)
                progress(r, "gate", (long)i, (long)n);
            rc = gate_one(r, ids[i], &again, err);
            if (rc == TM_OK)
                rc = tx_step(r, err);
        }
        progress(r, "gate", (long)n, (long)n);
        if (rc == TM_OK)
            rc = tx_commit(r, err);
        free(ids);
        if (!again)
            break;
    }
    return rc;
}

/* ---------------------------------------------------------------------------
 * 5. Dispatch.
 */
static int dispatch(run *r, struct tm_err *err)
{
    if (!r->out)
        return TM_OK;
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = tm_store_work_ready(r->s, &ids, &n, err);
    if (rc == TM_OK)
        rc = tx_begin(r, err);
    for (size_t i = 0; i < n && rc == TM_OK; i++) {
        if (i % 1000 == 0)
            progress(r, "dispatch", (long)i, (long)n);
        tm_outbox_rec o;
        int found = 0;
        rc = tm_store_outbox_get(r->s, ids[i], &o, &found, err);
        if (rc != TM_OK || !found) {
            free(o.payload_owned);
            continue;
        }
        tm_work_debt w;
        rc = tm_store_work_debt(r->s, o.debt, &w, &found, err);
        char *plain = NULL;
        size_t plen = 0;
        json_t *msg = NULL;
        if (rc == TM_OK && found) {
            char aad[300];
            snprintf(aad, sizeof aad, "outbox:%s", o.key);
            struct tm_err de = {0};
            if (!o.payload_owned ||
                tm_keys_decrypt(r->keys, (const uint8_t *)o.payload_owned, o.payload_len, aad, &plain,
                                &plen, &de) != TM_OK ||
                !(msg = json_loadb(plain, plen, 0, NULL))) {
                report(r, "debt %s: outbox %s: the stored message cannot be read: %s", w.debt_id,
                       o.key, de.msg[0] ? de.msg : "not JSON");
                r->st->failed++;
                rc = tm_store_outbox_set(r->s, o.id, "failed", o.send_at, "unreadable", NULL, 0, err);
                found = 0;
            }
        }
        if (rc == TM_OK && found) {
            tm_message m = {.key = o.key, .channel = o.channel, .debt_id = w.debt_id,
                            .template_id = o.template_id,
                            .language = json_string_value(json_object_get(msg, "language")),
                            .subject = json_string_value(json_object_get(msg, "subject")),
                            .text = json_string_value(json_object_get(msg, "text")),
                            .html = json_string_value(json_object_get(msg, "html")),
                            .send_at = o.send_at};
            tm_send_result sr;
            struct tm_err e = {0};
            if (tm_adapter_send(r->out, &m, &sr, &e) != TM_OK) {
                report(r, "debt %s: outbox %s: %s", w.debt_id, o.key, e.msg);
                r->st->retry++;
            } else if (sr.outcome == TM_SEND_SENT || sr.outcome == TM_SEND_DUPLICATE) {
                if (sr.outcome == TM_SEND_SENT) {
                    r->st->sent++;
                    count_channel(r->st, o.channel);
                } else {
                    r->st->duplicates++;
                }
                rc = tm_store_outbox_set(r->s, o.id, "sent", o.send_at, NULL, NULL, o.send_at, err);
                if (rc == TM_OK) {
                    char subject[160], details[400];
                    snprintf(subject, sizeof subject, "debt:%s", w.debt_id);
                    snprintf(details, sizeof details,
                             "{\"key\":\"%s\",\"channel\":\"%s\",\"template\":\"%s\",\"outcome\":\"%s\"}",
                             o.key, o.channel, o.template_id,
                             sr.outcome == TM_SEND_SENT ? "sent" : "already sent");
                    rc = tm_audit_write(r->audit, o.send_at, "cycle", "outbox.sent", subject, details, err);
                }
            } else if (sr.outcome == TM_SEND_RETRY) {
                r->st->retry++;
            } else {
                r->st->failed++;
                report(r, "debt %s: outbox %s: %s", w.debt_id, o.key, sr.detail);
                rc = tm_store_outbox_set(r->s, o.id, "failed", o.send_at, NULL, NULL, 0, err);
            }
        }
        json_decref(msg);
        if (plain) {
            OPENSSL_cleanse(plain, plen);
            free(plain);
        }
        free(o.payload_owned);
        if (rc == TM_OK)
            rc = tx_step(r, err);
    }
    progress(r, "dispatch", (long)n, (long)n);
    if (rc == TM_OK)
        rc = tx_commit(r, err);
    free(ids);
    return rc;
}

int tm_cycle_run(tm_store *s, const tm_keys *keys, tm_sandbox *sb, tm_gate *gate, tm_journeys *js,
                 tm_adapter *out, const tm_cycle_opts *opts, tm_cycle_stats *stats,
                 struct tm_err *err)
{
    memset(stats, 0, sizeof *stats);
    run r = {.s = s, .keys = keys, .sb = sb, .gate = gate, .js = js, .out = out, .o = opts, .st = stats,
             .day_start = opts->day * DAY, .day_end = (opts->day + 1) * DAY,
             .scripts = tm_gate_scripts_hash(gate) ? tm_gate_scripts_hash(gate) : ""};
    int rc = tm_audit_writer_open(s, opts->audit_key, &r.audit, err);
    if (rc != TM_OK)
        return rc;
    /* Every loaded journey's text is kept before a debt runs on it, and debts
     * on an older text run it from the store (lb_journey.h, "Versions"). */
    tm_journeys_set_archive(js, tm_jarchive_lookup, s);
    rc = tx_begin(&r, err);
    if (rc == TM_OK)
        rc = tm_jarchive_keep(s, js, r.audit, r.day_start, err);
    if (rc == TM_OK)
        rc = tx_commit(&r, err);
    /* 1. Events that happened by the end of the day and are not yet worked,
     * in time order (each is marked worked with its step). */
    evrun x = {.r = &r, .err = err};
    if (rc == TM_OK)
        rc = tm_store_scan_events(s, r.day_end, on_event, &x, err);
    if (rc == TM_OK)
        rc = tx_commit(&r, err);
    /* 2. New debts. */
    int64_t *ids = NULL;
    size_t n = 0;
    if (rc == TM_OK)
        rc = tm_store_work_unassigned(s, &ids, &n, err);
    if (rc == TM_OK)
        rc = work_debts(&r, ids, n, 0, err);
    free(ids);
    ids = NULL;
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
    /* 4. The gate, 5. dispatch. */
    if (rc == TM_OK)
        rc = gate_day(&r, err);
    if (rc == TM_OK)
        rc = dispatch(&r, err);
    if (rc == TM_OK)
        rc = tm_store_cycle_set(s, "last_day", opts->day, err);
    if (rc != TM_OK && r.in_tx) {
        tm_store_rollback(s);
        r.in_tx = 0;
    }
    tm_audit_writer_close(r.audit);
    tm_journeys_set_archive(js, NULL, NULL);
    return rc;
}

void tm_cycle_print(FILE *f, const tm_cycle_stats *st)
{
    fprintf(f, "journeys: %ld started, %ld events handled (%ld ignored), %ld timers, %ld debts in no journey",
            st->started, st->events, st->events_ignored, st->timers, st->unassigned);
    if (st->step_errors)
        fprintf(f, ", %ld script errors", st->step_errors);
    fprintf(f, "\ncontacts: %ld planned, %ld allowed, %ld blocked (%ld rescheduled, %ld skipped)\n",
            st->planned, st->allowed, st->blocked, st->rescheduled, st->skipped);
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
    if (st->nrules) {
        fprintf(f, "blocked by rule:\n");
        for (int i = 0; i < st->nrules; i++)
            fprintf(f, "  %-48s %ld\n", st->by_rule[i].rule, st->by_rule[i].count);
    }
}
