/*
 * app/replay.c: past gate decisions judged again (replay.h).
 */
#include "replay.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gate.h"
#include "gate_log.h"
#include "gate_wire.h"
#include "jarchive.h"

#define MAX_GENS 16

/* A generation loaded from the store, or why it could not be. */
typedef struct gen_slot {
    int64_t id;          /* gate_names id of its hash */
    tm_engine *eng;      /* NULL: see why */
    char why[700];
} gen_slot;

typedef struct replay {
    tm_store *s;
    const tm_replay_opts *o;
    FILE *out;
    tm_replay_stats *st;
    tm_gate_names *names;
    gen_slot gens[MAX_GENS];
    int ngens;
} replay;

static gen_slot *gen_for(replay *rp, int64_t id)
{
    for (int i = 0; i < rp->ngens; i++)
        if (rp->gens[i].id == id)
            return &rp->gens[i];
    gen_slot *g;
    if (rp->ngens == MAX_GENS) {
        /* more generations than slots: the least recently loaded goes */
        tm_engine_close(rp->gens[0].eng);
        memmove(&rp->gens[0], &rp->gens[1], (MAX_GENS - 1) * sizeof rp->gens[0]);
        g = &rp->gens[MAX_GENS - 1];
    } else {
        g = &rp->gens[rp->ngens++];
    }
    memset(g, 0, sizeof *g);
    g->id = id;
    const char *hash = tm_gate_names_get(rp->names, id);
    if (!hash) {
        snprintf(g->why, sizeof g->why, "the generation's hash is not kept");
        return g;
    }
    char dir[4200];
    int found = 0;
    struct tm_err e = {0};
    if (tm_jarchive_gen_dir(rp->s, hash, NULL, dir, sizeof dir, &found, &e) != TM_OK) {
        snprintf(g->why, sizeof g->why, "generation %.12s: %.600s", hash, e.msg);
        return g;
    }
    if (!found) {
        snprintf(g->why, sizeof g->why, "generation %.12s: its texts are not kept in the store", hash);
        return g;
    }
    tm_engine_opts eo = {.scripts = dir};
    int failed_at = 0;
    if (tm_engine_open(&eo, TM_ENGINE_GATE, &g->eng, &failed_at, &e) != TM_OK) {
        snprintf(g->why, sizeof g->why, "generation %.12s does not load: %.600s", hash, e.msg);
        g->eng = NULL;
    } else if (strcmp(tm_gen_hash(g->eng->gen), hash) != 0) {
        /* The kept texts are not the ones that ran. */
        snprintf(g->why, sizeof g->why, "generation %.12s: the kept texts hash to %.12s", hash,
                 tm_gen_hash(g->eng->gen));
        tm_engine_close(g->eng);
        g->eng = NULL;
    } else {
        rp->st->generations++;
    }
    tm_jarchive_gen_dir_remove(dir);
    return g;
}

/* "US-MA/call-frequency,US-FED/x" from the row's numbers. */
static void rule_names(replay *rp, const char *ids, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (const char *p = ids; *p && off + 1 < cap;) {
        char *end;
        long long id = strtoll(p, &end, 10);
        const char *n = tm_gate_names_get(rp->names, id);
        int w = snprintf(buf + off, cap - off, "%s%s", off ? "," : "", n ? n : "?");
        if (w < 0 || (size_t)w >= cap - off)
            break;
        off += (size_t)w;
        p = *end == ',' ? end + 1 : (*end ? end + 1 : end);
    }
}

static void describe(char *buf, size_t cap, int allow, const char *rules, int has_next, int64_t next)
{
    char when[40] = "never";
    if (has_next)
        tm_gate_format_time(next, when, sizeof when);
    if (allow)
        snprintf(buf, cap, "allowed");
    else
        snprintf(buf, cap, "blocked by %s, next allowed %s", *rules ? rules : "(no rule)", when);
}

static int on_row(void *ud, const tm_gate_log_row *r)
{
    replay *rp = ud;
    rp->st->replayed++;
    char at[40], head[300];
    tm_gate_format_time(r->at, at, sizeof at);
    const char *chan = r->channel >= 0 && r->channel < TM_CH__COUNT ? tm_gate_channel_names[r->channel] : "?";
    tm_request req;
    struct tm_err e = {0};
    if (tm_gate_log_decode(r->request, r->request_len, r->at, r->channel, r->debt_ref, NULL,
                           tm_gate_names_get, rp->names, &req, &e) != TM_OK) {
        rp->st->unreadable++;
        fprintf(rp->out, "decision %" PRId64 " (debt %s, %s at %s): cannot be judged again: %s\n", r->id,
                *r->debt_ref ? r->debt_ref : "-", chan, at, e.msg);
        return e.code == TM_ENOMEM ? TM_ENOMEM : TM_OK;
    }
    /* the debt's own id: the row's, or the request's when the store does
     * not know the debt */
    snprintf(head, sizeof head, "decision %" PRId64 " (debt %.128s, %s at %s)", r->id,
             req.debt_id ? req.debt_id : "-", chan, at);
    gen_slot *g = gen_for(rp, r->gen);
    if (!g->eng) {
        rp->st->unreadable++;
        fprintf(rp->out, "%s: cannot be judged again: %s\n", head, g->why);
        tm_gate_request_free(&req);
        return TM_OK;
    }
    tm_decision d;
    tm_gate_decide(g->eng->gate, &req, &d);
    char was_rules[1024], now_rules[1024] = "";
    rule_names(rp, r->rules, was_rules, sizeof was_rules);
    size_t off = 0;
    for (int i = 0; i < d.nblocked && off + 100 < sizeof now_rules; i++)
        off += (size_t)snprintf(now_rules + off, sizeof now_rules - off, "%s%s", i ? "," : "",
                                d.blocked[i].rule->qid);
    int now_has_next = !d.allow && d.next_allowed != TM_GATE_NEVER;
    int64_t now_next = now_has_next ? d.next_allowed : 0, was_next = r->has_next ? r->at + r->next : 0;
    int same = (d.allow != 0) == (r->allow != 0) && strcmp(was_rules, now_rules) == 0 &&
               now_has_next == r->has_next && now_next == was_next;
    char was[1200], now[1200];
    describe(was, sizeof was, r->allow, was_rules, r->has_next, was_next);
    describe(now, sizeof now, d.allow, now_rules, now_has_next, now_next);
    if (same) {
        rp->st->same++;
        if (rp->o->verbose)
            fprintf(rp->out, "%s: %s, the same again\n", head, was);
    } else {
        rp->st->different++;
        fprintf(rp->out, "%s: recorded %s; judged again %s\n", head, was, now);
    }
    tm_gate_decision_free(&d);
    tm_gate_request_free(&req);
    return TM_OK;
}

int tm_replay_run(tm_store *s, const tm_replay_opts *o, FILE *out, tm_replay_stats *st,
                  struct tm_err *err)
{
    memset(st, 0, sizeof *st);
    int64_t debt = 0;
    if (o->debt_id) {
        tm_debt_rec rec;
        int found = 0;
        int rc = tm_store_debt_find(s, o->debt_id, &rec, &found, err);
        if (rc != TM_OK)
            return rc;
        if (!found)
            return tm_err_set(err, TM_ENOENT, "no debt '%s' in the store", o->debt_id);
        debt = rec.id;
    }
    replay rp = {.s = s, .o = o, .out = out, .st = st};
    int rc = tm_gate_names_load(s, &rp.names, err);
    if (rc == TM_OK)
        rc = tm_store_gate_log_scan(s, debt, o->from, o->to, on_row, &rp, err);
    if (rc == TM_ENOMEM)
        tm_err_set(err, rc, "out of memory judging decisions again");
    for (int i = 0; i < rp.ngens; i++)
        tm_engine_close(rp.gens[i].eng);
    tm_gate_names_free(rp.names);
    if (rc == TM_OK)
        fprintf(out, "%ld decisions judged again: %ld the same, %ld different, %ld could not be judged "
                     "(%d generation%s loaded from the store)\n",
                st->replayed, st->same, st->different, st->unreadable, st->generations,
                st->generations == 1 ? "" : "s");
    return rc;
}
