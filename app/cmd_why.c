/*
 * app/cmd_why.c: `tallyman why DEBT_ID`: a debt's story in time order, from
 * what the store keeps: the journey's steps (audit log), the contacts
 * planned, each gate verdict with its rules and generation (the decision
 * log), the messages sent or failed, events, payments, promises and agent
 * work. Text a person reads, or JSON lines (--json). It reads only, and
 * shows no personal data: ids, times, rules and amounts.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "gate.h"
#include "gate_log.h"
#include "gate_wire.h"
#include "keys.h"
#include "pay.h"
#include "store.h"

static const char why_help[] =
    "usage: tallyman [--db PATH] why DEBT_ID [--json]\n"
    "\n"
    "The debt's story in time order: each journey step (trigger, states, what it\n"
    "sent), each contact planned, each gate verdict on it (allowed, or blocked with\n"
    "the rules and the next allowed time, and the script generation that judged),\n"
    "the messages sent or failed, events, payments, promises and agent work.\n"
    "`tallyman decide --replay --debt DEBT_ID` judges its decisions again.\n"
    "\n"
    "Options:\n"
    "  --json   one JSON object a line: {\"at\", \"kind\", ...} with the same facts\n";

/* One line of the story. */
typedef struct entry {
    int64_t at;
    int order;   /* among entries at the same instant: the order things happen */
    long seq;    /* then the order read */
    json_t *obj; /* {"at", "kind", ...} */
    char *text;
} entry;

typedef struct story {
    entry *v;
    size_t n, cap;
    int oom;
    tm_gate_names *names;
    const char *debt_id;
} story;

static void add(story *s, int64_t at, int order, json_t *obj, char *text)
{
    if (!obj || !text || s->oom) {
        json_decref(obj);
        free(text);
        s->oom = 1;
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        entry *q = realloc(s->v, cap * sizeof *q);
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
    s->v[s->n] = (entry){at, order, (long)s->n, obj, text};
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

static void when(int64_t t, char out[40]) { tm_gate_format_time(t, out, 40); }

static void money(int64_t minor, const char *cur, char out[TM_MONEY_FMT_MAX])
{
    tm_money m = {.minor = minor};
    snprintf(m.currency, sizeof m.currency, "%s", cur);
    if (tm_money_format(m, out, TM_MONEY_FMT_MAX, NULL) != TM_OK)
        snprintf(out, TM_MONEY_FMT_MAX, "%" PRId64 " (minor units) %s", minor, cur);
}

/* The audit log: journey steps and what the cycle did with messages. */
static int on_audit(void *ud, const tm_audit_rec *r)
{
    story *s = ud;
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
    story *s = ud;
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
        when(r->at + r->next, next);
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
    story *s = ud;
    char t1[40], m[TM_MONEY_FMT_MAX];
    if (strcmp(r->kind, "planned") == 0) {
        when(r->n1, t1);
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
        money(r->n1, r->a, m);
        add(s, r->at, 0, json_pack("{s:s, s:I, s:s}", "kind", "payment", "amount_minor", (json_int_t)r->n1,
                                   "currency", r->a),
            fmt("payment   %s", m));
    } else if (strcmp(r->kind, "promise") == 0) {
        money(r->n1, r->a, m);
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
    const entry *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int tm_cmd_why(tm_cli *cli)
{
    const char *debt_id = NULL;
    int json = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(why_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (a[0] == '-' && a[1]) {
            return tm_cli_usage_error("why", "unknown option '%s'", a);
        } else if (debt_id) {
            return tm_cli_usage_error("why", "one debt at a time ('%s' and '%s')", debt_id, a);
        } else {
            debt_id = a;
        }
    }
    if (!debt_id)
        return tm_cli_usage_error("why", "which debt? (tallyman why DEBT_ID)");
    if (!tm_cli_store_exists(cli, "tallyman import accounts"))
        return TM_EXIT_FAIL;
    tm_store *st = NULL;
    tm_keys *keys = NULL;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_READ, &st, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    struct tm_err e = {0};
    tm_debt_rec rec;
    int found = 0;
    story s = {.debt_id = debt_id};
    char subject[160];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    int rc = tm_store_debt_find(st, debt_id, &rec, &found, &e);
    if (rc == TM_OK && !found) {
        fprintf(stderr, "tallyman: why: no debt '%s' in the store %s\n", debt_id, cli->db);
        tm_store_close(st);
        tm_keys_free(keys);
        return TM_EXIT_FAIL;
    }
    if (rc == TM_OK)
        rc = tm_gate_names_load(st, &s.names, &e);
    if (rc == TM_OK)
        rc = tm_store_audit_scan(st, 0, 0, subject, on_audit, &s, &e);
    if (rc == TM_OK)
        rc = tm_store_gate_log_scan(st, rec.id, 0, 0, on_decision, &s, &e);
    if (rc == TM_OK)
        rc = tm_store_debt_story(st, rec.id, on_story, &s, &e);
    if (rc == TM_OK && s.oom)
        rc = tm_err_set(&e, TM_ENOMEM, "out of memory");
    if (rc == TM_OK) {
        qsort(s.v, s.n, sizeof *s.v, entry_cmp);
        char bal[TM_MONEY_FMT_MAX], placed[TM_MONEY_FMT_MAX];
        money(rec.balance, rec.currency, bal);
        money(rec.placed_balance, rec.currency, placed);
        if (json) {
            json_t *h = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "kind", "debt", "debt", debt_id, "creditor",
                                  rec.creditor, "balance_minor", (json_int_t)rec.balance, "placed_minor",
                                  (json_int_t)rec.placed_balance, "currency", rec.currency);
            char *line = h ? json_dumps(h, JSON_COMPACT) : NULL;
            json_decref(h);
            if (line)
                puts(line);
            free(line);
        } else {
            printf("debt %s%s%s: balance %s (placed %s); %zu entries\n", debt_id, *rec.creditor ? ", creditor " : "",
                   rec.creditor, bal, placed, s.n);
        }
        for (size_t i = 0; i < s.n; i++) {
            char t[40];
            when(s.v[i].at, t);
            if (json) {
                json_object_set_new(s.v[i].obj, "at", json_string(t));
                char *line = json_dumps(s.v[i].obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (line)
                    puts(line);
                free(line);
            } else {
                printf("%s  %s\n", t, s.v[i].text);
            }
        }
    }
    for (size_t i = 0; i < s.n; i++) {
        json_decref(s.v[i].obj);
        free(s.v[i].text);
    }
    free(s.v);
    tm_gate_names_free(s.names);
    tm_store_close(st);
    tm_keys_free(keys);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: why %s: %s\n", debt_id, e.msg);
        return TM_EXIT_FAIL;
    }
    return fflush(stdout) == 0 ? TM_EXIT_OK : TM_EXIT_FAIL;
}
