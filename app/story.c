/*
 * app/story.c: a debt's story in time order (story.h), from what the store
 * keeps; `tallyman why` prints it and the service's GET
 * /v1/debts/{id}/story answers it.
 */
#include "story.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_wire.h"
#include "pay.h"

static void add(tm_story *s, int64_t at, int order, json_t *obj, char *text)
{
    if (!obj || !text || s->oom) {
        json_decref(obj);
        free(text);
        s->oom = 1;
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        tm_story_entry *q = realloc(s->v, cap * sizeof *q);
        if (!q) {
            json_decref(obj);
            free(text);
            s->oom = 1;
            return;
        }
        s->v = q;
        s->cap = cap;
    }
    json_object_set_new(obj, "at", json_integer(at));
    s->v[s->n] = (tm_story_entry){at, order, (long)s->n, obj, text};
    s->n++;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap, ap2;
    va_start(ap, f);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out)
        vsnprintf(out, (size_t)n + 1, f, ap2);
    va_end(ap2);
    return out;
}

void tm_story_when(int64_t t, char out[40]) { tm_gate_format_time(t, out, 40); }

void tm_story_money(int64_t minor, const char *cur, char out[TM_MONEY_FMT_MAX])
{
    tm_money m = {.minor = minor};
    snprintf(m.currency, sizeof m.currency, "%s", cur);
    if (tm_money_format(m, out, TM_MONEY_FMT_MAX, NULL) != TM_OK)
        snprintf(out, TM_MONEY_FMT_MAX, "%" PRId64 " (minor units) %s", minor, cur);
}

/* The audit log: journey steps and what the cycle did with messages. */
static int on_audit(void *ud, const tm_audit_rec *r)
{
    tm_story *s = ud;
    json_t *d = json_loads(r->details, 0, NULL);
    if (!d)
        return 0; /* not JSON: not a record this command reads */
    const char *action = r->action;
    if (strcmp(action, "journey.step") == 0) {
        const char *trigger = "", *journey = "", *variant = "", *from = "", *to = "", *closed = NULL;
        json_unpack(d, "{s?s, s?s, s?s, s?s, s?s, s?s}", "trigger", &trigger, "journey", &journey, "variant",
                    &variant, "from", &from, "to", &to, "closed", &closed);
        char acts[400] = "";
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(d, "actions"), i, a) {
            size_t off = strlen(acts);
            snprintf(acts + off, sizeof acts - off, "%s%s", off ? ", " : "", json_string_value(a) ? json_string_value(a) : "?");
        }
        char *text = fmt("journey   %s (variant %s), %s: %s -> %s%s%s%s%s", journey, variant, trigger, from, to,
                         *acts ? "; " : "", acts, closed ? "; closed: " : "", closed ? closed : "");
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "kind", "journey", "journey", journey,
                              "variant", variant, "trigger", trigger, "from", from, "to", to, "actions",
                              json_object_get(d, "actions") ? json_object_get(d, "actions") : json_null());
        if (o && closed)
            json_object_set_new(o, "closed", json_string(closed));
        add(s, r->at, 0, o, text);
    } else if (strcmp(action, "outbox.sent") == 0 || strcmp(action, "outbox.failed") == 0) {
        const char *channel = "", *tmpl = "", *error = NULL;
        json_unpack(d, "{s?s, s?s, s?s}", "channel", &channel, "template", &tmpl, "error", &error);
        int sent = strcmp(action, "outbox.sent") == 0;
        char *text = fmt("%s %s \"%s\"%s%s", sent ? "sent     " : "failed   ", channel, tmpl,
                         error ? ": " : "", error ? error : "");
        json_t *o = json_pack("{s:s, s:s, s:s}", "kind", sent ? "sent" : "failed", "channel", channel,
                              "template", tmpl);
        if (o && error)
            json_object_set_new(o, "error", json_string(error));
        add(s, r->at, 3, o, text);
    } else if (strncmp(action, "journey.", 8) == 0 || strcmp(action, "settlement.override") == 0) {
        /* migrations, parking: said as the audit log says them */
        char *text = fmt("%-9s %s", action, r->details);
        add(s, r->at, 1, json_pack("{s:s, s:s, s:O}", "kind", "audit", "action", action, "details", d), text);
    }
    json_decref(d);
    return s->oom;
}

/* The decision log: each verdict of the gate. */
static int on_decision(void *ud, const tm_gate_log_row *r)
{
    tm_story *s = ud;
    const char *chan = r->channel >= 0 && r->channel < TM_CH__COUNT ? tm_gate_channel_names[r->channel] : "?";
    const char *gen = tm_gate_names_get(s->names, r->gen);
    json_t *rules = json_array();
    char names[1024] = "";
    for (const char *p = r->rules; *p;) {
        char *end;
        long long id = strtoll(p, &end, 10);
        const char *n = tm_gate_names_get(s->names, id);
        json_array_append_new(rules, json_string(n ? n : "?"));
        size_t off = strlen(names);
        snprintf(names + off, sizeof names - off, "%s%s", off ? ", " : "", n ? n : "?");
        p = *end ? end + 1 : end;
    }
    char next[40] = "never";
    if (r->has_next)
        tm_story_when(r->at + r->next, next);
    char *text = r->allow ? fmt("gate      %s allowed (decision %" PRId64 ", generation %.12s)", chan, r->id,
                                gen ? gen : "?")
                          : fmt("gate      %s blocked by %s; next allowed %s (decision %" PRId64
                                ", generation %.12s)",
                                chan, names, next, r->id, gen ? gen : "?");
    json_t *o = json_pack("{s:s, s:I, s:s, s:b, s:o, s:s}", "kind", "gate", "decision", (json_int_t)r->id,
                          "channel", chan, "allow", r->allow, "blocked_by", rules, "generation", gen ? gen : "");
    if (o && !r->allow)
        json_object_set_new(o, "next_allowed_at", r->has_next ? json_string(next) : json_null());
    add(s, r->at, 2, o, text);
    return s->oom ? TM_ENOMEM : TM_OK;
}

/* The store's rows about the debt: contacts planned, events, payments,
 * promises, agent work. */
static int on_story(void *ud, const tm_story_row *r)
{
    tm_story *s = ud;
    char t1[40], m[TM_MONEY_FMT_MAX];
    if (strcmp(r->kind, "planned") == 0) {
        tm_story_when(r->n1, t1);
        char *text = fmt("planned   %s \"%s\" for %s (now %s%s%s)", r->a, r->b, t1, r->c, *r->d ? ", blocked by " : "", r->d);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "planned", "channel", r->a, "template", r->b,
                              "for", t1, "status", r->c);
        if (o && *r->d)
            json_object_set_new(o, "blocked_by", json_string(r->d));
        add(s, r->at, 1, o, text);
    } else if (strcmp(r->kind, "event") == 0) {
        add(s, r->at, 0, json_pack("{s:s, s:s, s:s}", "kind", "event", "type", r->a, "status", r->b),
            fmt("event     %s (%s)", r->a, r->b));
    } else if (strcmp(r->kind, "payment") == 0) {
        tm_story_money(r->n1, r->a, m);
        add(s, r->at, 0, json_pack("{s:s, s:I, s:s}", "kind", "payment", "amount_minor", (json_int_t)r->n1,
                                   "currency", r->a),
            fmt("payment   %s", m));
    } else if (strcmp(r->kind, "promise") == 0) {
        tm_story_money(r->n1, r->a, m);
        add(s, r->at, 0, json_pack("{s:s, s:I, s:s, s:s, s:s}", "kind", "promise", "amount_minor",
                                   (json_int_t)r->n1, "currency", r->a, "due", r->b, "status", r->c),
            fmt("promise   %s due %s (%s)", m, r->b, r->c));
    } else if (strcmp(r->kind, "queue") == 0) {
        add(s, r->at, 1, json_pack("{s:s, s:s, s:s, s:s}", "kind", "queue", "queue", r->a, "status", r->b,
                                   "reason", r->c),
            fmt("queue     handed to %s: %s (%s%s%s)", r->a, *r->c ? r->c : "-", r->b, *r->d ? ", " : "", r->d));
    }
    return s->oom ? TM_ENOMEM : TM_OK;
}

static int entry_cmp(const void *a, const void *b)
{
    const tm_story_entry *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int tm_story_build(tm_store *st, const char *debt_id, tm_story *s, int *found, struct tm_err *err)
{
    memset(s, 0, sizeof *s);
    *found = 0;
    char subject[160];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    int rc = strlen(debt_id) < sizeof s->debt.debt_id ? tm_store_debt_find(st, debt_id, &s->debt, found, err)
                                                      : TM_OK;
    if (rc != TM_OK || !*found)
        return rc;
    rc = tm_gate_names_load(st, &s->names, err);
    if (rc == TM_OK)
        rc = tm_store_audit_scan(st, 0, 0, subject, on_audit, s, err);
    if (rc == TM_OK)
        rc = tm_store_gate_log_scan(st, s->debt.id, 0, 0, on_decision, s, err);
    if (rc == TM_OK)
        rc = tm_store_debt_story(st, s->debt.id, on_story, s, err);
    if (rc == TM_OK && s->oom)
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    if (rc != TM_OK) {
        tm_story_free(s);
        return rc;
    }
    qsort(s->v, s->n, sizeof *s->v, entry_cmp);
    for (size_t i = 0; i < s->n; i++) {
        char t[40];
        tm_story_when(s->v[i].at, t);
        json_object_set_new(s->v[i].obj, "at", json_string(t));
    }
    return TM_OK;
}

json_t *tm_story_head(const tm_story *s)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "kind", "debt", "debt", s->debt.debt_id,
                     "creditor", s->debt.creditor, "balance_minor", (json_int_t)s->debt.balance,
                     "placed_minor", (json_int_t)s->debt.placed_balance, "currency", s->debt.currency);
}

void tm_story_free(tm_story *s)
{
    for (size_t i = 0; i < s->n; i++) {
        json_decref(s->v[i].obj);
        free(s->v[i].text);
    }
    free(s->v);
    tm_gate_names_free(s->names);
    memset(s, 0, sizeof *s);
}
