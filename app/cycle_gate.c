/*
 * app/cycle_gate.c: phase 4 of the daily cycle (cycle_int.h): every contact
 * planned for the day through the compliance gate at its planned time. The
 * caller's thread reads the planned rows a consumer at a time with the
 * consumer's contact history; a worker builds each row's gate request from
 * the store's fields, judges it, has an allowed one rendered
 * (cycle_render.c) and hands a blocked one to the journey's blocked handler;
 * the caller's thread writes the decisions, the ready messages and the
 * reschedules back. A rescheduled send that falls later the same day is
 * judged again in another pass.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "calendar.h"
#include "cycle_int.h"
#include "jw.h"
#include "score.h"
#include "scriptset.h"
#include "stopat.h"
#include "tz.h"

#define HISTORY_DAYS 40 /* the longest rolling window a rule counts, with room */

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
    tm_gate_request_init(req);
    tm_buf id = TM_BUF_INIT;
    tm_jw_escape(&id, o->key, strlen(o->key), 0);
    if (!(req->id_json = tm_buf_take(&id, NULL)))
        return tm_err_set(err, TM_ENOMEM, "out of memory");
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
    /* The consumer's language, as the store keeps it (a tag it cannot read
     * is left out: the rules that turn on it then assume it). */
    size_t ll = strlen(w->language);
    if (ll > 0 && ll < sizeof req->language &&
        strspn(w->language, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ll)
        memcpy(req->language, w->language, ll + 1);
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

/* ---- j:best_slot's question (cycle_int.h) -------------------------------- */

int tm__cycle_wants_slots(run *r)
{
    tm_gen *g = r->eng && r->eng[0].sb ? tm_sandbox_gen(r->eng[0].sb) : NULL;
    for (size_t i = 0; g && i < tm_gen_model_count(g); i++)
        if (tm_model_contact(tm_gen_model(g, tm_gen_model_name(g, i))))
            return 1;
    return 0;
}

int tm__cycle_slot_history(run *r, const tm_work_debt *w, int64_t at, void **hist,
                           struct tm_err *err)
{
    hist_list *h = calloc(1, sizeof *h);
    *hist = NULL;
    if (h == NULL)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    int rc = tm_store_history(r->s, w->consumer_id, at - HISTORY_DAYS * DAY, on_history, h, err);
    if (rc == TM_ENOMEM)
        tm_err_set(err, rc, "out of memory reading the contact history");
    if (rc != TM_OK) {
        hist_clear(h);
        free(h);
        return rc;
    }
    *hist = h;
    return TM_OK;
}

void tm__cycle_slot_history_free(void *hist)
{
    if (hist) {
        hist_clear(hist);
        free(hist);
    }
}

int tm__cycle_slot_check(void *ud, const char *channel, int64_t at, int64_t *next_allowed,
                         char *why, size_t whycap)
{
    const cycle_slot *c = ud;
    static const hist_list none;
    tm_outbox_rec o;
    memset(&o, 0, sizeof o);
    o.key = "best-slot";
    o.channel = channel;
    o.send_at = at;
    o.purpose = "collection";
    tm_request req;
    struct tm_err e = {0};
    *next_allowed = INT64_MAX;
    if (build_request(c->w, &o, c->hist ? c->hist : &none, &req, &e) != TM_OK) {
        snprintf(why, whycap, "%s", e.msg);
        return e.code ? e.code : TM_EINVAL;
    }
    tm_decision d;
    tm_gate_decide(c->gate, &req, &d);
    int allow = d.allow ? 1 : 0;
    if (!allow) {
        size_t off = 0;
        why[0] = 0;
        for (int i = 0; i < d.nblocked && off + 64 < whycap; i++)
            off += (size_t)snprintf(why + off, whycap - off, "%s%s", off ? "," : "",
                                    d.blocked[i].rule->qid);
        if (!why[0])
            snprintf(why, whycap, "blocked");
        *next_allowed = d.next_allowed == TM_GATE_NEVER ? INT64_MAX : d.next_allowed;
    }
    tm_gate_decision_free(&d);
    tm_gate_request_free(&req);
    return allow;
}

/* One planned row as the gate phase works it: read on the caller's thread,
 * judged (and rendered, or handed to the journey's blocked handler) on a
 * worker, written back on the caller's thread. */
typedef struct gate_row {
    tm_outbox_rec o;
    tm_work_debt w;
    int invalid;          /* the request could not be built or parsed */
    int no_contact;       /* no usable contact point: not sent, back to the journey */
    int too_long;         /* allowed, but an SMS past its segment limit: back to the journey */
    char place[16];       /* where the message goes: "personal" or "work" */
    int closed;           /* the debt is no longer open (paid): the contact is not made */
    int allow;
    char blocked[600];    /* rule ids, comma-separated */
    int64_t next_allowed; /* TM_GATE_NEVER when never */
    cycle_message m;      /* when allowed: the rendered message, or why there is none */
    int handler_failed;
    char failed[1000];    /* rules whose check failed, one "qid (cite): where: error" a line */
    tm_jresult res;       /* the blocked handler's result */
    char msg[600];
    tm_request req;       /* what the gate judged, kept for the decision log */
    int judged;           /* req holds a request */
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

/* Hands row g's contact to its journey's blocked handler, with the rules in
 * g->blocked and the next allowed instant `next` (INT64_MAX: never); the
 * actions it asks for land in g->res. */
static void to_blocked_handler(const tm_cycle_engine *en, gate_row *g, int64_t next)
{
    tm_outbox_rec *o = &g->o;
    tm_jdebt jd = tm__cycle_jdebt(&g->w);
    tm_jstate js = tm__cycle_jstate(&g->w);
    tm_jaction send;
    memset(&send, 0, sizeof send);
    send.type = TM_JA_SEND;
    snprintf(send.channel, sizeof send.channel, "%s", o->channel);
    snprintf(send.template_id, sizeof send.template_id, "%s", o->template_id);
    snprintf(send.purpose, sizeof send.purpose, "%s", o->purpose ? o->purpose : "");
    send.at = o->send_at;
    struct tm_err e = {0};
    if (tm_journeys_blocked(en->js, &jd, &js, &send, next, g->blocked, o->send_at, &g->res, &e) != TM_OK) {
        g->handler_failed = 1;
        snprintf(g->msg, sizeof g->msg, "%.500s", e.msg);
        g->res.nactions = 0;
    }
}

/* On a worker: row `g`, which cannot go out as planned (`why`: no usable
 * contact point, an SMS too long), is blocked for good and handed to its
 * journey's blocked handler like a gate block. */
static void hand_back(const tm_cycle_engine *en, gate_row *g, const char *why)
{
    g->allow = 0;
    g->next_allowed = TM_GATE_NEVER;
    snprintf(g->blocked, sizeof g->blocked, "%s", why);
    g->failed[0] = '\0';
    tm__cycle_plan_zone(&g->w);
    to_blocked_handler(en, g, INT64_MAX);
}

/* On a worker: the gate's answer for each row of one consumer. */
static void gate_fn(void *ctx, int worker, size_t gi)
{
    gate_job *j = ctx;
    run *r = j->r;
    const tm_cycle_engine *en = &r->eng[worker];
    gate_group *grp = &j->groups[gi];
    /* The consumer's contact points, decrypted once for their rows and wiped
     * after: each message's recipient is chosen here, and the gate judges
     * the point it goes to. */
    tm_contact_points pts;
    struct tm_err pe = {0};
    int points_ok = grp->n && tm__cycle_consumer_points(r->keys, grp->ext, j->rows[grp->first].w.state,
                                                        grp->pii, grp->pii_len, &pts, &pe) == TM_OK;
    char to[600];
    for (size_t k = 0; k < grp->n; k++) {
        gate_row *g = &j->rows[grp->first + k];
        tm_outbox_rec *o = &g->o;
        if (g->closed)
            continue;
        tm_request req;
        struct tm_err e = {0};
        if (!points_ok) {
            /* Nothing goes to a recipient that cannot be read. */
            g->invalid = 1;
            snprintf(g->msg, sizeof g->msg, "the consumer's contact points cannot be read: %.400s", pe.msg);
            continue;
        }
        /* Where the journey asked the message to go (its send's `place`). */
        json_t *pj = o->payload_owned ? json_loadb(o->payload_owned, o->payload_len, 0, NULL) : NULL;
        const char *pl = json_string_value(json_object_get(pj, "place"));
        snprintf(g->place, sizeof g->place, "%s", pl ? pl : "personal");
        json_decref(pj);
        if (strcmp(g->place, "personal") != 0 && strcmp(g->place, "work") != 0) {
            g->invalid = 1;
            snprintf(g->msg, sizeof g->msg, "place: unknown value '%.20s' (personal or work)", g->place);
            continue;
        }
        tm_contact_use use = {.phone_bad = g->w.phone_bad, .email_bad = g->w.email_bad};
        const char *why = NULL;
        if (!tm_contact_resolve(&pts, o->channel, g->place, o->send_at, &use, to, sizeof to, &why)) {
            /* No usable point: blocked like a gate block, and the journey
             * decides what to do instead. */
            g->no_contact = 1;
            hand_back(en, g, "no-contact-point");
            continue;
        }
        if (build_request(&g->w, o, &grp->history, &req, &e) != TM_OK) {
            g->invalid = 1;
            snprintf(g->msg, sizeof g->msg, "%.500s", e.msg);
            continue;
        }
        if (strcmp(g->place, "work") == 0)
            req.place = TM_PLACE_WORK;
        /* What the message says that a rule may forbid (its template's
         * claims) goes to the gate as message fields. */
        const claim_entry *ce = NULL;
        if (tm__cycle_claims(&r->claims[worker], en->sb, o->channel, o->template_id, &ce, &e) != TM_OK) {
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
        tm__cycle_plan_zone(&g->w);
        if (d.allow) {
            tm__cycle_render(r->keys, en->sb, &g->w, o, &d, pts.first_name, pts.last_name, to, &g->m);
            if (g->m.too_long) {
                /* What a text cannot carry (a state's disclosures) may go
                 * on another channel: the journey decides, as for a block. */
                memset(&g->m, 0, sizeof g->m);
                g->too_long = 1;
                hand_back(en, g, "sms-past-segment-limit");
            } else {
                /* later rows of this consumer count this contact */
                hist_add(&grp->history, req.channel,
                         tm_gate_lookup(tm_gate_outcome_names, req.channel == TM_CH_CALL ? "attempt" : "delivered"),
                         req.place, TM_DIR_OUTBOUND, o->send_at, g->w.debt_id);
            }
        } else {
            to_blocked_handler(en, g, d.next_allowed == TM_GATE_NEVER ? INT64_MAX : d.next_allowed);
        }
        tm_gate_decision_free(&d);
        g->req = req; /* written to the decision log on the caller's thread */
        g->judged = 1;
    }
    tm_contact_points_wipe(&pts);
    OPENSSL_cleanse(to, sizeof to);
}

static void gate_job_clear(gate_job *j)
{
    for (size_t i = 0; i < j->nrows; i++) {
        free(j->rows[i].o.payload_owned);
        free(j->rows[i].m.blob);
        if (j->rows[i].judged)
            tm_gate_request_free(&j->rows[i].req);
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
        g->judged = 0;
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

/* The payload of a send a journey made in place of a refused one: its own
 * action `json` with the refused send's offer and plan (`orig`, len bytes;
 * NULL: none), which the templates' amounts come from. Malloc'd; NULL when
 * out of memory. */
static char *alt_payload(const char *json, const char *orig, size_t len)
{
    json_t *a = json_loads(json, 0, NULL), *o = orig ? json_loadb(orig, len, 0, NULL) : NULL;
    char *out = NULL;
    if (json_is_object(a) && json_is_object(o)) {
        static const char *const keep[] = {"offer", "plan"};
        for (size_t i = 0; i < 2; i++)
            if (!json_object_get(a, keep[i]) && json_object_get(o, keep[i]))
                json_object_set(a, keep[i], json_object_get(o, keep[i])); /* borrows, adds a reference */
        out = json_dumps(a, JSON_COMPACT);
    } else {
        out = strdup(json);
    }
    json_decref(a);
    json_decref(o);
    return out;
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
                rc = tm__cycle_tx_step(r, err);
            continue;
        }
        if (g->invalid) {
            /* A contact the gate cannot judge is never sent: the row fails
             * and the debt is parked with the reason. */
            char msg[800];
            snprintf(msg, sizeof msg, "outbox %s: the gate cannot judge this contact: %s", o->key, g->msg);
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_FAILED, o->send_at, "invalid-request", NULL, 0, err);
            if (rc == TM_OK)
                rc = tm__cycle_park(r, w, "gate", msg, o->send_at, err);
            if (rc == TM_OK)
                rc = tm__cycle_tx_step(r, err);
            continue;
        }
        if (g->no_contact)
            r->st->no_contact++;
        for (const char *p = g->blocked; *p;) {
            const char *c = strchr(p, ',');
            char rule[96];
            size_t len = c ? (size_t)(c - p) : strlen(p);
            snprintf(rule, sizeof rule, "%.*s", (int)(len < sizeof rule ? len : sizeof rule - 1), p);
            if (!rule_failed(g, rule)) /* a failed rule is counted apart */
                tm__cycle_count_rule(r->st, rule);
            p += len + (c ? 1 : 0);
        }
        if (g->m.oom) {
            /* The batch rolls back; the row is judged again by the rerun. */
            rc = tm_err_set(err, TM_ENOMEM, "out of memory rendering outbox %s", o->key);
            break;
        }
        /* Every decision of the gate, allowed or blocked, with what it was
         * judged on (a row the gate judged always holds its request). */
        rc = TM_OK;
        if (g->too_long) /* the gate allowed it; the text could not carry it */
            rc = tm_gate_log_add(r->glog, o->debt, &g->req, 1, "", g->req.now, r->scripts, NULL, err);
        else if (g->judged)
            rc = tm_gate_log_add(r->glog, o->debt, &g->req, g->allow, g->blocked, g->next_allowed, r->scripts,
                                 NULL, err);
        else if (!g->no_contact) /* no contact point: nothing for the gate to judge */
            rc = tm_err_set(err, TM_EINVAL, "outbox %s: judged without its request", o->key);
        if (rc == TM_OK && g->allow) {
            r->st->allowed++;
            if (g->m.failed) {
                /* No message goes out without its template and disclosures:
                 * the row fails, and the audit log says why. */
                r->st->render_failed++;
                tm__cycle_report(r, "debt %s: outbox %s: %s", w->debt_id, o->key, g->m.why);
                rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_FAILED, o->send_at, g->m.why, NULL, 0, err);
                json_t *dj = json_pack("{s:s, s:s, s:s, s:s}", "key", o->key, "channel", o->channel,
                                       "template", o->template_id, "error", g->m.why);
                char *dt = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
                json_decref(dj);
                char subject[160];
                snprintf(subject, sizeof subject, "debt:%s", w->debt_id);
                if (rc == TM_OK)
                    rc = dt ? tm_audit_write(r->audit, o->send_at, "cycle", "outbox.failed", subject, dt, err)
                            : tm_err_set(err, TM_ENOMEM, "out of memory");
                free(dt);
            } else {
                rc = tm_store_outbox_ready(r->s, o->id, g->m.blob, g->m.blen,
                                           tm_keys_blob_version(g->m.blob, g->m.blen), err);
            }
            if (rc == TM_OK)
                rc = tm_store_contact_add_message(r->s, o->debt, o->channel, o->send_at,
                                                  strcmp(o->channel, "call") == 0 ? "attempt" : "delivered",
                                                  g->place, NULL, o->key, err);
        } else if (rc == TM_OK) {
            if (g->failed[0]) {
                r->st->rule_failures++;
                rc = count_failures(r, g, err);
            } else if (!g->no_contact) {
                r->st->blocked++;
            }
            if (rc == TM_OK && g->handler_failed) {
                char msg[700];
                snprintf(msg, sizeof msg, "blocked handler: %s", g->msg);
                rc = tm__cycle_park(r, w, "blocked", msg, o->send_at, err);
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
                    /* A send in place of a refused one carries its offer or plan. */
                    char *payload = alt_payload(a->json, o->payload_owned, o->payload_len);
                    if (!payload) {
                        rc = tm_err_set(err, TM_ENOMEM, "out of memory planning outbox %s", key);
                        break;
                    }
                    tm_outbox_rec nr = {.debt = o->debt, .key = key, .channel = a->channel,
                                        .template_id = a->template_id, .payload = payload,
                                        .send_at = a->at, .purpose = a->purpose[0] ? a->purpose : o->purpose,
                                        .journey_state = o->journey_state, .created_at = o->send_at};
                    int added = 0;
                    rc = tm_store_outbox_plan(r->s, &nr, &added, err);
                    free(payload);
                    r->st->planned += added;
                    if (added && strcmp(a->channel, o->channel) != 0)
                        tm__cycle_count_moved(r->st, o->channel, a->channel);
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
            rc = tm__cycle_tx_step(r, err);
    }
    return rc;
}

int tm__cycle_gate(run *r, struct tm_err *err)
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
        rc = tm__cycle_tx_begin(r, err);
        if (rc == TM_OK)
            rc = load_gate(r, &jobs[0], ids, n, &pos, err);
        if (rc == TM_OK)
            rc = tm__cycle_keys_for(r, jobs[0].newest, err);
        if (rc == TM_OK)
            tm_pool_submit(r->pool, gate_fn, &jobs[0], jobs[0].ngroups);
        for (int k = 0; rc == TM_OK && jobs[k % 2].nrows; k++) {
            tm__cycle_progress(r, "gate", (long)pos, (long)n);
            gate_job *cur = &jobs[k % 2], *nxt = &jobs[(k + 1) % 2];
            /* the next chunk is read while the workers judge this one */
            rc = load_gate(r, nxt, ids, n, &pos, err);
            tm_pool_wait(r->pool);
            if (rc == TM_OK && nxt->nrows)
                rc = tm__cycle_keys_for(r, nxt->newest, err);
            if (rc == TM_OK && nxt->nrows)
                tm_pool_submit(r->pool, gate_fn, nxt, nxt->ngroups);
            if (rc == TM_OK)
                rc = write_gate(r, cur, &again, err);
            gate_job_clear(cur);
        }
        tm_pool_wait(r->pool);
        tm__cycle_progress(r, "gate", (long)n, (long)n);
        if (rc == TM_OK)
            rc = tm__cycle_tx_commit(r, err);
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
