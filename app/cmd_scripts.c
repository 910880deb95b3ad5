/*
 * app/cmd_scripts.c: script sets in the store (CONTRACT.md, "Script sets"):
 * `tallyman scripts propose|approve|activate|rollback|list|show` (the
 * people who may do it are kept by `tallyman users`, app/cmd_users.c).
 *
 * A working tree becomes what runs only through the store: it is proposed
 * (checked by lint and every spec, its texts kept whole in the store with
 * the rule-level difference from the active set), approved by someone else
 * holding every role the change needs (regulations/ and policies/: the
 * compliance role; strategies/, channels/, templates/, models/: the
 * strategy role; anything else: the engineer role), then activated. Who
 * acts is the operating system's user (tm_cli_person), never a name given
 * on the command line, and every step and every refusal is audited.
 */
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "calendar.h"
#include "cli.h"
#include "engine.h"
#include "lifecycle.h"
#include "portfolio.h"
#include "store.h"

static const char scripts_help[] =
    "usage: tallyman [--db PATH] scripts propose [DIR]\n"
    "       tallyman [--db PATH] scripts approve GEN\n"
    "       tallyman [--db PATH] scripts activate GEN\n"
    "       tallyman [--db PATH] scripts rollback\n"
    "       tallyman [--db PATH] scripts list\n"
    "       tallyman [--db PATH] scripts show GEN\n"
    "\n"
    "What runs on a store (run, decide --db, simulate) is its active script set.\n"
    "A set gets there in steps, each audited with who and when:\n"
    "  propose [DIR]  lints the tree (default: --scripts), runs every spec, keeps its\n"
    "                 texts in the store and prints its SHA-256 on a line of its own,\n"
    "                 then the rule-level difference from the active set\n"
    "  approve GEN    by someone other than the proposer, for each role the change\n"
    "                 needs that they hold: regulations/ and policies/ need compliance;\n"
    "                 strategies/, channels/, templates/ and models/ need strategy;\n"
    "                 anything else needs engineer\n"
    "  activate GEN   makes an approved (or earlier active) set the active one\n"
    "  rollback       goes back to the set active before the current one\n"
    "  list, show GEN the generations and one generation's history and difference\n"
    "GEN is a generation's hash or its first hex digits (at least 4).\n"
    "The person acting is the operating system user; people and roles are kept\n"
    "with `tallyman users`.\n";

/* The store of a command that must not create one, with its keys (for the
 * audit key). Returns TM_EXIT_OK or TM_EXIT_FAIL (said on stderr). */
static int open_existing(const tm_cli *cli, tm_store **s, tm_keys **keys)
{
    if (!tm_cli_store_exists(cli, "create one"))
        return TM_EXIT_FAIL;
    return tm_cli_open_store(cli, TM_CLI_KEYS_WRITE, s, keys);
}

/* Appends one audit record in its own transaction. `details` is JSON. */
static int audit(tm_store *s, const tm_keys *keys, const char *by, const char *action,
                 const char *subject, const char *details, struct tm_err *err)
{
    return tm_life_audit(s, keys, by, action, subject, details, err);
}

/* A refusal: said on stderr as "tallyman: <why>", audited as
 * scripts.refused (or users.refused) with what was asked and why. Returns
 * TM_EXIT_FAIL. */
static int refuse(tm_store *s, const tm_keys *keys, const char *by, const char *action,
                  const char *asked, const char *subject, const char *why)
{
    fprintf(stderr, "tallyman: %s\n", why);
    json_t *d = json_pack("{s:s, s:s}", "asked", asked, "why", why);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    struct tm_err e = {0};
    if (text && audit(s, keys, by, action, subject, text, &e) != TM_OK)
        fprintf(stderr, "tallyman: the refusal could not be audited: %s\n", e.msg);
    free(text);
    json_decref(d);
    return TM_EXIT_FAIL;
}

static void fmt_time(int64_t t, char *buf, size_t cap)
{
    if (t <= 0)
        snprintf(buf, cap, "-");
    else
        tm_calendar_format_rfc3339(t, 0, buf, cap, NULL);
}

/* The roles as "compliance, strategy" ("none" for none). */
static void roles_text(unsigned roles, char *buf, size_t cap)
{
    tm_life_roles_text(roles, buf, cap);
}

/* ---- The difference between two sets ---------------------------------------------- */

/* What a change needs approved by: TM_ROLE_BIT of each role (see the top). */
static unsigned role_for(const char *path)
{
    if (!strncmp(path, "regulations/", 12) || !strncmp(path, "policies/", 9))
        return TM_ROLE_BIT(TM_ROLE_COMPLIANCE);
    if (!strncmp(path, "strategies/", 11) || !strncmp(path, "channels/", 9) ||
        !strncmp(path, "templates/", 10) || !strncmp(path, "models/", 7))
        return TM_ROLE_BIT(TM_ROLE_STRATEGY);
    return TM_ROLE_BIT(TM_ROLE_ENGINEER);
}

/* A growing text. */
typedef struct buf {
    char *p;
    size_t n, cap;
    int oom;
} buf;

static void bprintf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)k + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* The gate of a set, built in a sandbox of its own (NULL when it cannot be
 * built; the problems were found by lint before). */
typedef struct built {
    tm_sandbox *sb;
    tm_gate *gate;
} built;

static void quiet(void *ud, const char *message, int fatal)
{
    (void)ud;
    (void)message;
    (void)fatal;
}

static void build(tm_gen *gen, built *b)
{
    struct tm_err e = {0};
    memset(b, 0, sizeof *b);
    if (!gen)
        return;
    b->sb = tm_sandbox_new(gen, NULL, &e);
    if (b->sb && tm_lb_gate_load(b->sb, &b->gate, quiet, NULL, &e) != TM_OK)
        b->gate = NULL;
}

static void unbuild(built *b)
{
    tm_gate_free(b->gate);
    tm_sandbox_free(b->sb);
}

static const tm_rule *find_rule(const tm_gate *g, const char *qid, const tm_regulation **reg)
{
    for (int i = 0; g && i < tm_gate_count(g); i++) {
        const tm_regulation *r = tm_gate_regulation(g, i);
        for (int k = 0; k < r->nrules; k++)
            if (!strcmp(r->rules[k].qid, qid)) {
                if (reg)
                    *reg = r;
                return &r->rules[k];
            }
    }
    return NULL;
}

/* The k-th regulation (from 0) with this id: an id may be declared more
 * than once (a state's own regulation and the one the time-barred table
 * makes for it), and the same ones are compared in order. */
static const tm_regulation *find_reg(const tm_gate *g, const char *id, int k)
{
    for (int i = 0; g && i < tm_gate_count(g); i++)
        if (!strcmp(tm_gate_regulation(g, i)->id, id) && k-- == 0)
            return tm_gate_regulation(g, i);
    return NULL;
}

/* Which occurrence of its id regulation i of g is. */
static int reg_occurrence(const tm_gate *g, int i)
{
    int k = 0;
    for (int j = 0; j < i; j++)
        k += !strcmp(tm_gate_regulation(g, j)->id, tm_gate_regulation(g, i)->id);
    return k;
}

static void hm(int s, char *out, size_t cap)
{
    unsigned t = s < 0 ? 0u : (unsigned)s > 86400u ? 86400u : (unsigned)s;
    snprintf(out, cap, "%02u:%02u", (t / 3600) % 100, t % 3600 / 60);
}

/* What a rule says, for the difference: its window or cap in words. */
static void rule_terms(const tm_rule *r, char *out, size_t cap)
{
    char a[16], b[16];
    switch (r->kind) {
    case TM_RULE_WINDOW:
        hm(r->from_s, a, sizeof a);
        hm(r->to_s, b, sizeof b);
        snprintf(out, cap, "window %s-%s", a, b);
        break;
    case TM_RULE_CAP:
        if (r->window_secs > 0)
            snprintf(out, cap, "cap %d in %lld s", r->count, (long long)r->window_secs);
        else
            snprintf(out, cap, "cap %d in %d days", r->count, r->window_days);
        break;
    default:
        out[0] = '\0';
    }
}

/* The fields of a rule other than its citation and terms, compared whole. */
static int rule_scope_differs(const tm_rule *x, const tm_rule *y)
{
    if (x->kind != y->kind || x->channels != y->channels || x->places != y->places ||
        x->purposes != y->purposes || x->collectors != y->collectors ||
        x->debt_types != y->debt_types || x->disputes != y->disputes ||
        x->flags_any != y->flags_any || x->flags_none != y->flags_none ||
        x->time_barred != y->time_barred || x->consent_bit != y->consent_bit ||
        x->effective_day != y->effective_day || x->expires_day != y->expires_day ||
        x->days_mask != y->days_mask || x->holidays != y->holidays ||
        x->of_channels != y->of_channels || x->of_outcomes != y->of_outcomes ||
        x->of_places != y->of_places || x->of_direction != y->of_direction ||
        x->per_debt != y->per_debt || x->nfields != y->nfields || x->nwhen_msg != y->nwhen_msg)
        return 1;
    for (int i = 0; i < x->nfields; i++)
        if (strcmp(x->fields[i], y->fields[i]))
            return 1;
    for (int i = 0; i < x->nwhen_msg; i++)
        if (strcmp(x->when_msg[i], y->when_msg[i]))
            return 1;
    return 0;
}

static int reg_scope_differs(const tm_regulation *x, const tm_regulation *y)
{
    if (x->nstates != y->nstates || x->ncities != y->ncities || x->ncreditors != y->ncreditors ||
        x->collectors != y->collectors)
        return 1;
    for (int i = 0; i < x->nstates; i++)
        if (strcmp(x->states[i], y->states[i]))
            return 1;
    for (int i = 0; i < x->ncities; i++)
        if (strcmp(x->cities[i], y->cities[i]))
            return 1;
    for (int i = 0; i < x->ncreditors; i++)
        if (strcmp(x->creditors[i], y->creditors[i]))
            return 1;
    return 0;
}

/* The rule-level difference from `old` (NULL: no active set) to `new`, and
 * the roles the change needs. Regulations and rules by id; journeys,
 * states, templates and everything else by file. */
static void difference(tm_gen *old, tm_gen *new, buf *out, unsigned *needs)
{
    built bo, bn;
    build(old, &bo);
    build(new, &bn);
    *needs = 0;
    int lines = 0;
    /* Regulations and rules. */
    for (int i = 0; bn.gate && i < tm_gate_count(bn.gate); i++) {
        const tm_regulation *r = tm_gate_regulation(bn.gate, i);
        const tm_regulation *o = find_reg(bo.gate, r->id, reg_occurrence(bn.gate, i));
        if (!o) {
            bprintf(out, "+ regulation %s (%d rule%s)\n", r->id, r->nrules,
                    r->nrules == 1 ? "" : "s");
            lines++;
        } else if (reg_scope_differs(o, r)) {
            bprintf(out, "~ regulation %s: where it applies changed (states, cities, creditors or "
                         "collectors)\n",
                    r->id);
            lines++;
        }
        for (int k = 0; k < r->nrules; k++) {
            const tm_rule *x = &r->rules[k];
            const tm_rule *y = find_rule(bo.gate, x->qid, NULL);
            char tx[64], ty[64];
            rule_terms(x, tx, sizeof tx);
            if (!y) {
                bprintf(out, "+ rule %s [%s]%s%s\n", x->qid, x->cite ? x->cite : "",
                        tx[0] ? " " : "", tx);
                lines++;
                continue;
            }
            rule_terms(y, ty, sizeof ty);
            if (strcmp(x->cite ? x->cite : "", y->cite ? y->cite : "")) {
                bprintf(out, "~ rule %s: citation %s -> %s\n", x->qid, y->cite ? y->cite : "",
                        x->cite ? x->cite : "");
                lines++;
            }
            if (strcmp(tx, ty) || (x->kind == TM_RULE_CAP && x->count != y->count)) {
                bprintf(out, "~ rule %s: %s -> %s\n", x->qid, ty, tx);
                lines++;
            }
            if (rule_scope_differs(x, y)) {
                bprintf(out, "~ rule %s: when it applies or what it checks changed\n", x->qid);
                lines++;
            }
        }
    }
    for (int i = 0; bo.gate && i < tm_gate_count(bo.gate); i++) {
        const tm_regulation *o = tm_gate_regulation(bo.gate, i);
        if (!find_reg(bn.gate, o->id, reg_occurrence(bo.gate, i))) {
            bprintf(out, "- regulation %s (%d rule%s)\n", o->id, o->nrules,
                    o->nrules == 1 ? "" : "s");
            lines++;
            continue;
        }
        for (int k = 0; k < o->nrules; k++)
            if (!find_rule(bn.gate, o->rules[k].qid, NULL)) {
                bprintf(out, "- rule %s [%s]\n", o->rules[k].qid,
                        o->rules[k].cite ? o->rules[k].cite : "");
                lines++;
            }
    }
    /* Files: each added, removed or changed, and the role it needs (a
     * first set: how many, not each). */
    if (!old) {
        for (size_t i = 0; i < tm_gen_file_count(new); i++)
            *needs |= role_for(tm_gen_file(new, i)->path);
        bprintf(out, "+ %zu files (the first set)\n", tm_gen_file_count(new));
        lines++;
    }
    for (size_t i = 0; old && i < tm_gen_file_count(new); i++) {
        const tm_script *f = tm_gen_file(new, i);
        const tm_script *g = old ? tm_gen_find(old, f->path) : NULL;
        if (!g && old) /* a model is not a script: look it up among the files */
            for (size_t k = 0; k < tm_gen_file_count(old); k++)
                if (!strcmp(tm_gen_file(old, k)->path, f->path))
                    g = tm_gen_file(old, k);
        if (g && !strcmp(g->sha256, f->sha256))
            continue;
        *needs |= role_for(f->path);
        bprintf(out, "%s file %s\n", g ? "~" : "+", f->path);
        lines++;
    }
    for (size_t i = 0; old && i < tm_gen_file_count(old); i++) {
        const tm_script *g = tm_gen_file(old, i);
        int there = 0;
        for (size_t k = 0; k < tm_gen_file_count(new) && !there; k++)
            there = !strcmp(tm_gen_file(new, k)->path, g->path);
        if (!there) {
            *needs |= role_for(g->path);
            bprintf(out, "- file %s\n", g->path);
            lines++;
        }
    }
    if (!lines)
        bprintf(out, "no difference from the active set\n");
    unbuild(&bo);
    unbuild(&bn);
}

/* ---- scripts ----------------------------------------------------------------------- */

/* Runs another command (lint, test) on `dir` with its output on stderr, so
 * stdout stays the proposal's. Returns its exit code. */
static int check_with(tm_cli *cli, int (*cmd)(tm_cli *), const char *name, const char *dir)
{
    char *argv[3] = {(char *)name, (char *)dir, NULL};
    tm_cli sub = *cli;
    sub.argc = 2;
    sub.argv = argv;
    sub.scripts = dir;
    fflush(stdout);
    int saved = dup(1);
    if (saved < 0 || dup2(2, 1) < 0)
        return TM_EXIT_FAIL;
    int rc = cmd(&sub);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    return rc;
}

/* The active set loaded from the store (NULL when none); TM_OK or an error. */
static int load_active(tm_store *s, const char *db, tm_gen **out, tm_generation *g, int *found,
                       struct tm_err *err)
{
    *out = NULL;
    int rc = tm_store_gen_active(s, g, found, err);
    if (rc != TM_OK || !*found)
        return rc;
    return tm_engine_load_generation(s, db, g, out, err);
}

static int propose(tm_cli *cli, tm_store *s, const tm_keys *keys, const char *me, const tm_user *u,
                   const char *dir)
{
    struct tm_err e = {0};
    char asked[700];
    snprintf(asked, sizeof asked, "scripts propose %s", dir);
    if (!u)
        return refuse(s, keys, me, "scripts.refused", asked, "scripts",
                      "you are not among the store's people (tallyman users add, by an admin)");
    if (tm_engine_is_strategy_folder(dir)) {
        char why[900];
        snprintf(why, sizeof why,
                 "%s is a strategy folder, not a script tree: copy it into a tree's strategies/ "
                 "and propose the tree",
                 dir);
        return refuse(s, keys, me, "scripts.refused", asked, "scripts", why);
    }
    tm_gen *gen = NULL;
    if (tm_gen_load(dir, &gen, &e) != TM_OK) {
        char why[700];
        snprintf(why, sizeof why, "%s: the set was not proposed", e.msg);
        return refuse(s, keys, me, "scripts.refused", asked, "scripts", why);
    }
    /* A set without a regulation would judge every contact allowed. */
    {
        built b;
        build(gen, &b);
        int regs = b.gate ? tm_gate_count(b.gate) : 0;
        unbuild(&b);
        if (regs == 0) {
            tm_gen_release(gen);
            char why[900];
            snprintf(why, sizeof why,
                     "%s has no regulation: a set without one would allow every contact; the set "
                     "was not proposed",
                     dir);
            return refuse(s, keys, me, "scripts.refused", asked, "scripts", why);
        }
    }
    /* Lint, then every spec: a set with a problem is never kept. */
    if (check_with(cli, tm_cmd_lint, "lint", dir) != TM_EXIT_OK) {
        tm_gen_release(gen);
        return refuse(s, keys, me, "scripts.refused", asked, "scripts",
                      "lint found problems (above): the set was not proposed");
    }
    if (check_with(cli, tm_cmd_test, "test", dir) != TM_EXIT_OK) {
        tm_gen_release(gen);
        return refuse(s, keys, me, "scripts.refused", asked, "scripts",
                      "a spec failed (above): the set was not proposed");
    }
    tm_generation kept;
    int found = 0;
    if (tm_store_gen_get(s, tm_gen_hash(gen), &kept, &found, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        tm_gen_release(gen);
        return TM_EXIT_FAIL;
    }
    if (found) {
        printf("%s\n", kept.hash);
        printf("already kept as %s (proposed by %s)\n", tm_store_gen_status_name(kept.status),
               kept.proposed_by);
        tm_gen_release(gen);
        return TM_EXIT_OK;
    }
    tm_gen *old = NULL;
    tm_generation act;
    int has_active = 0;
    if (load_active(s, cli->db, &old, &act, &has_active, &e) != TM_OK) {
        fprintf(stderr, "tallyman: the active set: %s\n", e.msg);
        tm_gen_release(gen);
        return TM_EXIT_FAIL;
    }
    buf diff = {0};
    unsigned needs = 0;
    difference(old, gen, &diff, &needs);
    tm_gen_release(old);
    if (diff.oom) {
        fprintf(stderr, "tallyman: out of memory\n");
        free(diff.p);
        tm_gen_release(gen);
        return TM_EXIT_FAIL;
    }
    if (!needs) /* no file differs: cannot be, the same files make the same hash, kept already */
        needs = TM_ROLE_BIT(TM_ROLE_ENGINEER);
    size_t n = tm_gen_file_count(gen);
    tm_store_file *files = calloc(n ? n : 1, sizeof *files);
    int rc = files ? TM_OK : tm_err_set(&e, TM_ENOMEM, "out of memory");
    for (size_t i = 0; files && i < n; i++) {
        const tm_script *f = tm_gen_file(gen, i);
        files[i] = (tm_store_file){
            .path = f->path, .sha256 = f->sha256, .text = f->text, .len = f->len};
    }
    tm_generation g;
    memset(&g, 0, sizeof g);
    snprintf(g.hash, sizeof g.hash, "%s", tm_gen_hash(gen));
    g.needs = needs;
    snprintf(g.base, sizeof g.base, "%s", has_active ? act.hash : "");
    char real[4096];
    snprintf(g.source, sizeof g.source, "%.511s", realpath(dir, real) ? real : dir);
    snprintf(g.proposed_by, sizeof g.proposed_by, "%s", me);
    g.proposed_at = (int64_t)time(NULL);
    if (rc == TM_OK)
        rc = tm_store_begin(s, &e);
    if (rc == TM_OK) {
        rc = tm_store_gen_propose(s, &g, files, n, diff.p, NULL, &e);
        char rl[200];
        roles_text(needs, rl, sizeof rl);
        json_t *d = json_pack("{s:s, s:s, s:s, s:I, s:s}", "set", g.hash, "base", g.base,
                              "source", g.source, "files", (json_int_t)n, "needs", rl);
        char *t = d ? json_dumps(d, JSON_COMPACT) : NULL;
        uint8_t akey[32];
        tm_portfolio_audit_key(keys, akey);
        if (rc == TM_OK)
            rc = t ? tm_audit_append(s, akey, g.proposed_at, me, "scripts.proposed", "scripts", t,
                                     &e)
                   : tm_err_set(&e, TM_ENOMEM, "out of memory");
        free(t);
        json_decref(d);
        OPENSSL_cleanse(akey, sizeof akey);
    }
    if (rc == TM_OK)
        rc = tm_store_commit(s, &e);
    else
        tm_store_rollback(s);
    free(files);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: %s: the set was not proposed\n", e.msg);
        free(diff.p);
        tm_gen_release(gen);
        return TM_EXIT_FAIL;
    }
    char rl[200];
    roles_text(needs, rl, sizeof rl);
    printf("%s\n", g.hash);
    printf("proposed by %s, %zu files; needs approval by: %s\n", me, n, rl);
    printf("difference from %s:\n%s", has_active ? act.hash : "(no active set)",
           diff.p ? diff.p : "");
    free(diff.p);
    tm_gen_release(gen);
    return TM_EXIT_OK;
}

/* The generation GEN names, or a refusal (unknown, ambiguous). */
static int named(tm_store *s, const tm_keys *keys, const char *me, const char *asked,
                 const char *gen, tm_generation *g)
{
    struct tm_err e = {0};
    int found = 0;
    if (tm_store_gen_get(s, gen, g, &found, &e) != TM_OK)
        return refuse(s, keys, me, "scripts.refused", asked, "scripts", e.msg);
    if (!found) {
        char why[300];
        snprintf(why, sizeof why, "%s: no such script generation (tallyman scripts list)", gen);
        return refuse(s, keys, me, "scripts.refused", asked, "scripts", why);
    }
    return TM_EXIT_OK;
}

/* What a lifecycle step refused or failed: said on stderr (the refusal is
 * audited already). Returns TM_EXIT_FAIL. */
static int life_failed(const tm_life_result *res)
{
    fprintf(stderr, "tallyman: %s\n", res->why);
    return TM_EXIT_FAIL;
}

static int approve(tm_store *s, const tm_keys *keys, const char *me, const tm_user *u,
                   const char *gen)
{
    char asked[200], rl[200];
    snprintf(asked, sizeof asked, "scripts approve %s", gen);
    tm_life_who who = {.s = s, .keys = keys, .me = me, .u = u, .asked = asked};
    tm_life_result res;
    if (tm_life_approve(&who, gen, &res) != TM_LIFE_DONE)
        return life_failed(&res);
    roles_text(res.roles, rl, sizeof rl);
    printf("%s approved %s as %s\n", me, res.g.hash, rl);
    if (res.after.status == TM_GEN_APPROVED) {
        printf("approved: activate it with `tallyman scripts activate %.12s`\n", res.g.hash);
    } else {
        roles_text(res.after.needs & ~res.after.approved, rl, sizeof rl);
        printf("still needs approval by: %s\n", rl);
    }
    return TM_EXIT_OK;
}

static int activate(tm_cli *cli, tm_store *s, const tm_keys *keys, const char *me, const tm_user *u,
                    const char *gen)
{
    char asked[200];
    snprintf(asked, sizeof asked, "scripts activate %s", gen);
    tm_life_who who = {.s = s, .keys = keys, .db = cli->db, .me = me, .u = u, .asked = asked};
    tm_life_result res;
    if (tm_life_activate(&who, gen, &res) != TM_LIFE_DONE)
        return life_failed(&res);
    printf("active: %s (was %s)\n", res.g.hash, res.was[0] ? res.was : "none");
    return TM_EXIT_OK;
}

static int rollback(tm_store *s, const tm_keys *keys, const char *me, const tm_user *u)
{
    tm_life_who who = {.s = s, .keys = keys, .me = me, .u = u, .asked = "scripts rollback"};
    tm_life_result res;
    if (tm_life_rollback(&who, &res) != TM_LIFE_DONE)
        return life_failed(&res);
    printf("active: %s (rolled back from %s)\n", res.g.hash, res.was[0] ? res.was : "none");
    return TM_EXIT_OK;
}

static int list_one(void *ud, const tm_generation *g)
{
    (void)ud;
    char at[40], act[40];
    fmt_time(g->proposed_at, at, sizeof at);
    fmt_time(g->activated_at, act, sizeof act);
    printf("%.12s  %-8s  proposed %s by %s", g->hash, tm_store_gen_status_name(g->status), at,
           g->proposed_by);
    if (g->activated_at)
        printf("; activated %s by %s", act, g->activated_by);
    printf("\n");
    return TM_OK;
}

static int history_one(void *ud, int64_t at, const char *by, const char *what)
{
    (void)ud;
    char t[40];
    fmt_time(at, t, sizeof t);
    printf("  %s  %-24s %s\n", t, by, what);
    return TM_OK;
}

static int show(tm_store *s, const tm_keys *keys, const char *me, const char *gen)
{
    char asked[200];
    snprintf(asked, sizeof asked, "scripts show %s", gen);
    tm_generation g;
    if (named(s, keys, me, asked, gen, &g) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    char at[40], needs[200], got[200];
    fmt_time(g.proposed_at, at, sizeof at);
    roles_text(g.needs, needs, sizeof needs);
    roles_text(g.approved, got, sizeof got);
    printf("generation %s\n", g.hash);
    printf("status:      %s\n", tm_store_gen_status_name(g.status));
    printf("proposed:    %s by %s from %s (%lld files)\n", at, g.proposed_by, g.source,
           (long long)g.files);
    printf("base:        %s\n", g.base[0] ? g.base : "(no active set)");
    printf("needs:       %s; approved as: %s\n", needs, g.approved ? got : "none yet");
    printf("history:\n");
    printf("  %s  %-24s proposed\n", at, g.proposed_by);
    struct tm_err e = {0};
    char *diff = NULL;
    if (tm_store_gen_history(s, g.id, history_one, NULL, &e) != TM_OK ||
        tm_store_gen_diff(s, g.id, &diff, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    printf("difference from its base:\n%s", diff ? diff : "(none kept)\n");
    free(diff);
    return TM_EXIT_OK;
}

int tm_cmd_scripts(tm_cli *cli)
{
    const char *what = cli->argc >= 2 ? cli->argv[1] : "";
    if (!strcmp(what, "--help") || !strcmp(what, "-h")) {
        fputs(scripts_help, stdout);
        return TM_EXIT_OK;
    }
    int want_gen = !strcmp(what, "approve") || !strcmp(what, "activate") || !strcmp(what, "show");
    int none = !strcmp(what, "rollback") || !strcmp(what, "list");
    int prop = !strcmp(what, "propose");
    if (!want_gen && !none && !prop) {
        if (!strcmp(what, "deploy"))
            return tm_cli_usage_error("scripts", "scripts deploy is now scripts propose, approve "
                                                 "and activate (tallyman scripts --help)");
        return tm_cli_usage_error("scripts", "scripts propose, approve, activate, rollback, list "
                                             "or show");
    }
    for (int i = 2; i < cli->argc; i++)
        if (cli->argv[i][0] == '-' && cli->argv[i][1] != '\0')
            return tm_cli_usage_error("scripts", "unknown option '%s'", cli->argv[i]);
    if (want_gen && cli->argc != 3)
        return tm_cli_usage_error("scripts", "scripts %s needs one GEN (a hash or its first hex "
                                             "digits)", what);
    if (none && cli->argc != 2)
        return tm_cli_usage_error("scripts", "scripts %s takes no argument", what);
    if (prop && cli->argc > 3)
        return tm_cli_usage_error("scripts", "scripts propose takes at most one DIR");
    const char *me = tm_cli_person();
    if (!me)
        return TM_EXIT_FAIL;
    tm_store *s = NULL;
    tm_keys *keys = NULL;
    if (open_existing(cli, &s, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    struct tm_err e = {0};
    tm_user u;
    int found = 0;
    int code = TM_EXIT_FAIL;
    if (tm_store_user_get(s, me, &u, &found, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    /* A disabled person acts as nobody: every step is refused. */
    const tm_user *up = found && !u.disabled_at ? &u : NULL;
    if (prop)
        code = propose(cli, s, keys, me, up, cli->argc == 3 ? cli->argv[2] : cli->scripts);
    else if (!strcmp(what, "approve"))
        code = approve(s, keys, me, up, cli->argv[2]);
    else if (!strcmp(what, "activate"))
        code = activate(cli, s, keys, me, up, cli->argv[2]);
    else if (!strcmp(what, "rollback"))
        code = rollback(s, keys, me, up);
    else if (!strcmp(what, "show"))
        code = show(s, keys, me, cli->argv[2]);
    else if (tm_store_gen_list(s, list_one, NULL, &e) == TM_OK)
        code = TM_EXIT_OK;
    else
        fprintf(stderr, "tallyman: %s\n", e.msg);
done:
    tm_store_close(s);
    tm_keys_free(keys);
    return code;
}
