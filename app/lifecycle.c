/*
 * app/lifecycle.c: approving, activating and rolling back a script set, with
 * the checks before each (lifecycle.h), for `tallyman scripts` and the
 * service alike.
 */
#include "lifecycle.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "cli.h"
#include "engine.h"
#include "portfolio.h"

void tm_life_roles_text(unsigned roles, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int r = 0; r < TM_ROLE_OTHER; r++)
        if (roles & TM_ROLE_BIT(r))
            n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "",
                                  tm_store_role_name((enum tm_role)r));
    if (n == 0)
        snprintf(buf, cap, "none");
}

int tm_life_audit(tm_store *s, const tm_keys *keys, const char *by, const char *action,
                  const char *subject, const char *details, struct tm_err *err)
{
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    int rc = tm_store_begin(s, err);
    if (rc == TM_OK)
        rc = tm_audit_append(s, akey, (int64_t)time(NULL), by, action, subject, details, err);
    if (rc == TM_OK)
        rc = tm_store_commit(s, err);
    else
        tm_store_rollback(s);
    OPENSSL_cleanse(akey, sizeof akey);
    return rc;
}

/* A refusal: `outcome` with its reason, audited as scripts.refused with what
 * was asked and why (a refusal that cannot be audited says so in why).
 * Returns outcome. */
static int refused(const tm_life_who *who, tm_life_result *res, enum tm_life_outcome outcome,
                   const char *subject, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refused(const tm_life_who *who, tm_life_result *res, enum tm_life_outcome outcome,
                   const char *subject, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->why, sizeof res->why, fmt, ap);
    va_end(ap);
    res->outcome = outcome;
    json_t *d = json_pack("{s:s, s:s}", "asked", who->asked, "why", res->why);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    struct tm_err e = {0};
    if (!text || tm_life_audit(who->s, who->keys, who->me, "scripts.refused", subject, text, &e) !=
                     TM_OK) {
        size_t n = strlen(res->why);
        snprintf(res->why + n, sizeof res->why - n, " (the refusal could not be audited: %s)",
                 text ? e.msg : "out of memory");
    }
    free(text);
    json_decref(d);
    return outcome;
}

static int failed(tm_life_result *res, const struct tm_err *e)
{
    snprintf(res->why, sizeof res->why, "%s", e->msg);
    res->outcome = TM_LIFE_FAILED;
    return TM_LIFE_FAILED;
}

/* The generation GEN names, or a refusal (malformed, ambiguous, unknown). */
static int named(const tm_life_who *who, const char *gen, tm_life_result *res)
{
    struct tm_err e = {0};
    int found = 0;
    int rc = tm_store_gen_get(who->s, gen, &res->g, &found, &e);
    if (rc == TM_EINVAL)
        return refused(who, res, TM_LIFE_BAD, "scripts", "%s", e.msg);
    if (rc != TM_OK)
        return failed(res, &e);
    if (!found)
        return refused(who, res, TM_LIFE_UNKNOWN, "scripts",
                       "%s: no such script generation (tallyman scripts list)", gen);
    return TM_LIFE_DONE;
}

/* Appends an audit record inside the caller's transaction. */
static int audit_in(const tm_life_who *who, int64_t now, const char *action, const char *subject,
                    json_t *d, struct tm_err *e)
{
    char *t = d ? json_dumps(d, JSON_COMPACT) : NULL;
    uint8_t akey[32];
    tm_portfolio_audit_key(who->keys, akey);
    int rc = t ? tm_audit_append(who->s, akey, now, who->me, action, subject, t, e)
               : tm_err_set(e, TM_ENOMEM, "out of memory");
    OPENSSL_cleanse(akey, sizeof akey);
    free(t);
    json_decref(d);
    return rc;
}

int tm_life_approve(const tm_life_who *who, const char *gen, tm_life_result *res)
{
    memset(res, 0, sizeof *res);
    if (named(who, gen, res) != TM_LIFE_DONE)
        return res->outcome;
    const tm_generation *g = &res->g;
    char subject[100], rl[200];
    snprintf(subject, sizeof subject, "scripts:%s", g->hash);
    if (g->status != TM_GEN_PROPOSED)
        return refused(who, res, TM_LIFE_CONFLICT, subject,
                       "%.12s is %s, not proposed: there is nothing to approve", g->hash,
                       tm_store_gen_status_name(g->status));
    if (!strcmp(g->proposed_by, who->me))
        return refused(who, res, TM_LIFE_FORBIDDEN, subject,
                       "%s proposed %.12s: a set is approved by someone other than its proposer",
                       who->me, g->hash);
    unsigned missing = g->needs & ~g->approved;
    unsigned roles = who->u ? who->u->roles & missing : 0;
    tm_life_roles_text(missing, rl, sizeof rl);
    if (!roles)
        return refused(who, res, TM_LIFE_FORBIDDEN, subject,
                       "%s may not approve %.12s: it still needs approval by the %s role%s, which "
                       "%s does not hold",
                       who->me, g->hash, rl, strchr(rl, ',') ? "s" : "", who->me);
    struct tm_err e = {0};
    int64_t now = (int64_t)time(NULL);
    int rc = tm_store_begin(who->s, &e);
    if (rc == TM_OK)
        rc = tm_store_gen_approve(who->s, g->id, who->me, roles, now, &res->after, &e);
    if (rc == TM_OK) {
        tm_life_roles_text(roles, rl, sizeof rl);
        rc = audit_in(who, now, "scripts.approved", subject,
                      json_pack("{s:s, s:s, s:s}", "set", g->hash, "as", rl, "status",
                                tm_store_gen_status_name(res->after.status)),
                      &e);
    }
    if (rc == TM_OK)
        rc = tm_store_commit(who->s, &e);
    else
        tm_store_rollback(who->s);
    if (rc != TM_OK)
        return failed(res, &e);
    res->roles = roles;
    return TM_LIFE_DONE;
}

/* Who may switch what runs: a person holding any role but agent and
 * auditor (those read and work, they do not change the set). */
static int may_switch(const tm_user *u)
{
    const unsigned ok = TM_ROLE_BIT(TM_ROLE_COMPLIANCE) | TM_ROLE_BIT(TM_ROLE_STRATEGY) |
                        TM_ROLE_BIT(TM_ROLE_ENGINEER) | TM_ROLE_BIT(TM_ROLE_ADMIN);
    return u && (u->roles & ok);
}

/* Checks that generation `g` loads whole (gate and journeys) before it runs. */
static int loads_whole(const tm_life_who *who, const tm_generation *g, struct tm_err *err)
{
    tm_gen *gen = NULL;
    int rc = tm_engine_load_generation(who->s, who->db, g, &gen, err);
    if (rc != TM_OK)
        return rc;
    tm_engine_opts eo = {.gen = gen};
    if (!who->quiet) {
        eo.gate_problem = tm_cli_warn_gate_problem;
        eo.journey_problem = tm_cli_warn_journey_problem;
    }
    tm_engine *eng = NULL;
    rc = tm_engine_open(&eo, TM_ENGINE_GATE | TM_ENGINE_JOURNEYS | TM_ENGINE_WHOLE, &eng, NULL,
                        err);
    tm_engine_close(eng);
    tm_gen_release(gen);
    return rc;
}

int tm_life_activate(const tm_life_who *who, const char *gen, tm_life_result *res)
{
    memset(res, 0, sizeof *res);
    if (named(who, gen, res) != TM_LIFE_DONE)
        return res->outcome;
    const tm_generation *g = &res->g;
    char subject[100];
    snprintf(subject, sizeof subject, "scripts:%s", g->hash);
    if (!may_switch(who->u))
        return refused(who, res, TM_LIFE_FORBIDDEN, subject,
                       "%s may not activate a script set (it takes the compliance, strategy, "
                       "engineer or admin role)", who->me);
    if (g->status == TM_GEN_PROPOSED) {
        char rl[200];
        tm_life_roles_text(g->needs & ~g->approved, rl, sizeof rl);
        return refused(who, res, TM_LIFE_CONFLICT, subject,
                       "%.12s is not approved (it still needs approval by: %s): only what was "
                       "approved runs", g->hash, rl);
    }
    if (g->status == TM_GEN_ACTIVE)
        return refused(who, res, TM_LIFE_CONFLICT, subject, "%.12s is the active set already",
                       g->hash);
    if (g->status != TM_GEN_APPROVED && g->status != TM_GEN_RETIRED)
        return refused(who, res, TM_LIFE_CONFLICT, subject,
                       "%.12s is in a state this build does not know", g->hash);
    struct tm_err e = {0};
    if (loads_whole(who, g, &e) != TM_OK)
        return refused(who, res, TM_LIFE_CONFLICT, subject, "%.12s does not load whole: %s",
                       g->hash, e.msg);
    tm_generation before;
    int had = 0;
    int64_t now = (int64_t)time(NULL);
    int rc = tm_store_gen_active(who->s, &before, &had, &e);
    if (rc == TM_OK)
        rc = tm_store_begin(who->s, &e);
    if (rc == TM_OK) {
        rc = tm_store_gen_activate(who->s, g->id, who->me, now, &e);
        if (rc == TM_OK)
            rc = audit_in(who, now, "scripts.activated", subject,
                          json_pack("{s:s, s:s}", "set", g->hash, "was", had ? before.hash : ""),
                          &e);
        if (rc == TM_OK)
            rc = tm_store_commit(who->s, &e);
        else
            tm_store_rollback(who->s);
    }
    if (rc != TM_OK)
        return failed(res, &e);
    snprintf(res->was, sizeof res->was, "%s", had ? before.hash : "");
    return TM_LIFE_DONE;
}

int tm_life_rollback(const tm_life_who *who, tm_life_result *res)
{
    memset(res, 0, sizeof *res);
    if (!may_switch(who->u))
        return refused(who, res, TM_LIFE_FORBIDDEN, "scripts",
                       "%s may not roll back the script set (it takes the compliance, strategy, "
                       "engineer or admin role)", who->me);
    struct tm_err e = {0};
    tm_generation before;
    int had = 0, done = 0;
    int64_t now = (int64_t)time(NULL);
    int rc = tm_store_gen_active(who->s, &before, &had, &e);
    if (rc == TM_OK)
        rc = tm_store_begin(who->s, &e);
    if (rc == TM_OK) {
        rc = tm_store_gen_rollback(who->s, who->me, now, &res->g, &done, &e);
        if (rc == TM_OK && done) {
            char subject[100];
            snprintf(subject, sizeof subject, "scripts:%s", res->g.hash);
            rc = audit_in(who, now, "scripts.rolled_back", subject,
                          json_pack("{s:s, s:s}", "set", res->g.hash, "was",
                                    had ? before.hash : ""),
                          &e);
        }
        if (rc == TM_OK && done)
            rc = tm_store_commit(who->s, &e);
        else
            tm_store_rollback(who->s);
    }
    if (rc != TM_OK)
        return failed(res, &e);
    if (!done)
        return refused(who, res, TM_LIFE_CONFLICT, "scripts",
                       "there is no earlier active set to go back to");
    snprintf(res->was, sizeof res->was, "%s", had ? before.hash : "");
    return TM_LIFE_DONE;
}
