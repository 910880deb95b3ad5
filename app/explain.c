/*
 * app/explain.c: a gate decision explained, as text or JSON (explain.h).
 * The JSON starts from the decide line itself (tm_gate_decision_json read
 * back), so an explanation never says anything the decision does not.
 */
#include "explain.h"

#include <stdlib.h>
#include <string.h>

#include "gate_wire.h"

static const char *const verdict_names[] = {"allowed", "blocked", "not_applicable"};

static void fmt_when(int64_t t, char *buf, size_t cap)
{
    if (t == TM_GATE_NEVER)
        snprintf(buf, cap, "no time will do");
    else
        tm_gate_format_time(t, buf, cap);
}

/* The part of a rule's id after the regulation's ("US-MA/call-frequency"
 * under US-MA is "call-frequency"). */
static const char *short_id(const tm_rule *r)
{
    const char *slash = strchr(r->qid, '/');
    return slash ? slash + 1 : r->qid;
}

/* A regulation's script relative to the tree at `root`. */
static const char *rel_script(const char *root, const char *script)
{
    if (!script || !root)
        return script;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    return strncmp(script, root, n) == 0 && script[n] == '/' ? script + n + 1 : script;
}

/* The decision line of `req`, in a buffer that grows until it fits (caller
 * frees); NULL when out of memory. */
static char *decision_line(const tm_gate *g, const tm_request *req, const tm_decision *d)
{
    size_t cap = 4096;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL;
        if (tm_gate_decision_json(g, req, d, buf, cap) >= 0)
            return buf;
        free(buf);
        if (cap > (64u << 20))
            return NULL;
        cap *= 2;
    }
}

void tm_explain_text(FILE *out, const tm_gate *g, const char *root, const tm_request *req,
                     const tm_explain *x)
{
    char when[40], list[200];
    const tm_decision *d = &x->d;
    tm_gate_format_time(req->now, when, sizeof when);
    fprintf(out, "request %s: %s (%s, %s) at %s, collector %s, consumer in %s", req->id_json,
            tm_gate_channel_names[req->channel], tm_gate_place_names[req->place],
            tm_gate_purpose_names[req->purpose], when, tm_gate_collector_names[req->collector],
            req->state);
    if (req->city)
        fprintf(out, " (%s)", req->city);
    if (req->creditor)
        fprintf(out, ", creditor %s", req->creditor);
    if (req->debt_id)
        fprintf(out, ", debt %s", req->debt_id);
    fprintf(out, " (%s%s)\n", tm_gate_debt_type_names[req->debt_type],
            req->time_barred == TM_TRI_TRUE ? ", time-barred" : "");
    if (req->flags) {
        tm_gate_mask_names(req->flags, tm_gate_flag_names, ", ", list, sizeof list);
        fprintf(out, "  consumer flags: %s\n", list);
    }
    if (d->allow) {
        fprintf(out, "decision: allowed\n");
    } else {
        fmt_when(d->next_allowed, when, sizeof when);
        fprintf(out, "decision: blocked by %d rule%s; next allowed: %s\n", d->nblocked,
                d->nblocked == 1 ? "" : "s", when);
    }
    fprintf(out, "generation: %s\n", tm_gate_scripts_hash(g));
    for (const char *p = req->warnings; p && *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(out, "warning: %.*s\n", n, p);
        p += n + (nl ? 1 : 0);
    }
    int napplies = 0;
    for (int i = 0; i < x->nregs; i++)
        napplies += x->regs[i].applies;
    fprintf(out, "\n%d of %d regulations apply:\n", napplies, x->nregs);
    for (int i = 0; i < x->nregs; i++) {
        const tm_reg_explain *re = &x->regs[i];
        if (!re->applies)
            continue;
        fprintf(out, "\n%s", re->reg->id);
        if (re->reg->name)
            fprintf(out, "  %s", re->reg->name);
        if (re->reg->script)
            fprintf(out, "  (%s)", rel_script(root, re->reg->script));
        fprintf(out, "\n  applies: %s\n", re->why);
        for (int k = 0; k < re->nrules; k++) {
            const tm_rule_explain *e = &re->rules[k];
            const char *cite = e->rule->cite ? e->rule->cite : "";
            switch (e->verdict) {
            case TM_VERDICT_BLOCKED:
                fmt_when(e->res.next, when, sizeof when);
                fprintf(out, "  blocked         %s  [%s]\n                  %s; next allowed: %s\n",
                        short_id(e->rule), cite, e->res.reason, when);
                break;
            case TM_VERDICT_ALLOWED:
                fprintf(out, "  allowed         %s  [%s]\n", short_id(e->rule), cite);
                for (int f = 0; f < e->res.nrequires; f++)
                    fprintf(out, "                  the message must carry %s\n",
                            e->res.requires[f]);
                break;
            default:
                fprintf(out, "  not applicable  %s: %s\n", short_id(e->rule), e->why);
            }
        }
    }
    if (d->nrequires) {
        fprintf(out, "\nthe message must carry:\n");
        for (int r = 0; r < d->nrequires; r++) {
            fprintf(out, "  %s (", d->requires[r]);
            int n = 0;
            for (int i = 0; i < x->nregs; i++)
                for (int k = 0; k < x->regs[i].nrules; k++) {
                    const tm_rule_explain *e = &x->regs[i].rules[k];
                    for (int f = 0; f < e->res.nrequires; f++)
                        if (strcmp(e->res.requires[f], d->requires[r]) == 0)
                            fprintf(out, "%s%s", n++ ? ", " : "", e->rule->qid);
                }
            fprintf(out, ")\n");
        }
    }
    if (napplies < x->nregs) {
        fprintf(out, "\n%d regulations do not apply:\n", x->nregs - napplies);
        for (int i = 0; i < x->nregs; i++)
            if (!x->regs[i].applies)
                fprintf(out, "  %-10s %s (%s)\n", x->regs[i].reg->id, x->regs[i].why,
                        rel_script(root, x->regs[i].reg->script ? x->regs[i].reg->script : "?"));
    }
}

/* json_object_set_new steals the value's reference; a NULL value (out of
 * memory) makes the whole answer NULL through `ok`. */
static void put(json_t *o, const char *k, json_t *v, int *ok)
{
    if (!v || json_object_set_new(o, k, v) != 0)
        *ok = 0;
}

static json_t *time_or_null(int64_t t)
{
    if (t == TM_GATE_NEVER)
        return json_null();
    char b[40];
    tm_gate_format_time(t, b, sizeof b);
    return json_string(b);
}

json_t *tm_explain_json(const tm_gate *g, const char *root, const tm_request *req,
                        const tm_explain *x)
{
    char *line = decision_line(g, req, &x->d);
    if (!line)
        return NULL;
    json_t *o = json_loads(line, 0, NULL);
    free(line);
    if (!o)
        return NULL;
    int ok = 1;
    put(o, "generation", json_string(tm_gate_scripts_hash(g)), &ok);
    json_t *regs = json_array();
    put(o, "regulations", regs, &ok);
    for (int i = 0; ok && i < x->nregs; i++) {
        const tm_reg_explain *re = &x->regs[i];
        json_t *r = json_object();
        if (!r || json_array_append_new(regs, r) != 0) {
            ok = 0;
            break;
        }
        put(r, "id", json_string(re->reg->id), &ok);
        put(r, "name", re->reg->name ? json_string(re->reg->name) : json_null(), &ok);
        put(r, "script",
            re->reg->script ? json_string(rel_script(root, re->reg->script)) : json_null(), &ok);
        put(r, "applies", json_boolean(re->applies), &ok);
        put(r, "why", json_string(re->why), &ok);
        if (!re->applies)
            continue;
        json_t *rules = json_array();
        put(r, "rules", rules, &ok);
        for (int k = 0; ok && k < re->nrules; k++) {
            const tm_rule_explain *e = &re->rules[k];
            json_t *j = json_object();
            if (!j || json_array_append_new(rules, j) != 0) {
                ok = 0;
                break;
            }
            put(j, "rule", json_string(e->rule->qid), &ok);
            put(j, "cite", json_string(e->rule->cite ? e->rule->cite : ""), &ok);
            put(j, "verdict", json_string(verdict_names[e->verdict]), &ok);
            if (e->verdict == TM_VERDICT_NOT_APPLICABLE) {
                put(j, "why", json_string(e->why), &ok);
                continue;
            }
            if (e->verdict == TM_VERDICT_BLOCKED) {
                put(j, "reason", json_string(e->res.reason), &ok);
                put(j, "next_allowed_at", time_or_null(e->res.next), &ok);
                if (e->res.failed)
                    put(j, "failed", json_true(), &ok);
            }
            if (e->res.nrequires) {
                json_t *rq = json_array();
                put(j, "requires", rq, &ok);
                for (int f = 0; ok && f < e->res.nrequires; f++)
                    if (json_array_append_new(rq, json_string(e->res.requires[f])) != 0)
                        ok = 0;
            }
        }
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
