/*
 * app/lifecycle.h: the steps of a script set's lifecycle that change what
 * runs (approve, activate, roll back) and the checks before each, shared by
 * `tallyman scripts` (app/cmd_scripts.c) and the service's /v1/scripts
 * routes (app/serve_scripts.c), so that both refuse the same things for
 * the same reasons. Each step is audited as the person who asked (refusals
 * too, as scripts.refused); neither prints anything: the command and the
 * route word the outcome each their own way.
 */
#ifndef TM_LIFECYCLE_H
#define TM_LIFECYCLE_H

#include <stddef.h>

#include "keys.h"
#include "store.h"

/* How a step ended (tm_life_result.outcome). */
enum tm_life_outcome {
    TM_LIFE_DONE = 0,   /* done and audited */
    TM_LIFE_BAD,        /* GEN is not a usable name (too short, not hex, ambiguous) */
    TM_LIFE_UNKNOWN,    /* no generation has that name */
    TM_LIFE_FORBIDDEN,  /* who asks may not: not a person of the store, the proposer, a role missing */
    TM_LIFE_CONFLICT,   /* the generation's state does not allow it (not proposed, not approved,
                         * active already, nothing to roll back to, does not load whole) */
    TM_LIFE_FAILED,     /* the store failed: nothing changed (why says so) */
};

typedef struct tm_life_result {
    enum tm_life_outcome outcome;
    char why[900];         /* a refusal or failure, in words */
    tm_generation g;       /* the generation named; rollback: the one now active */
    tm_generation after;   /* approve: the generation after the approval */
    unsigned roles;        /* approve: the roles approved as (TM_ROLE_BIT) */
    char was[65];          /* activate, rollback: the set active before ("" when none) */
} tm_life_result;

/* Who asks and where: the store (with its keys, for the audit key), the
 * store's name for messages, the person (`me`, their row `u`, NULL when
 * they are not among the store's people) and what they asked, in words, for
 * the audit record of a refusal ("scripts approve 1a2b"). When `quiet` is 0
 * the problems of a set that does not load whole are also told on stderr. */
typedef struct tm_life_who {
    tm_store *s;
    const tm_keys *keys;
    const char *db;
    const char *me;
    const tm_user *u;
    const char *asked;
    int quiet;
} tm_life_who;

/* Approves generation `gen` (a hash or its first hex digits) for each role
 * it still needs that who->u holds. Refused when it is not proposed, when
 * who->me proposed it, when who->u holds none of the roles it still needs.
 * The approval binds to the generation's hash: res->g.hash. Returns
 * res->outcome. */
int tm_life_approve(const tm_life_who *who, const char *gen, tm_life_result *res);

/* Makes generation `gen` the active one. Refused unless who->u holds the
 * compliance, strategy, engineer or admin role, the generation is approved
 * (or was active before: retired) and it loads whole (gate and journeys).
 * Returns res->outcome. */
int tm_life_activate(const tm_life_who *who, const char *gen, tm_life_result *res);

/* Goes back to the set active before the current one (same roles as
 * activating). res->g is the generation now active. Returns res->outcome. */
int tm_life_rollback(const tm_life_who *who, tm_life_result *res);

/* The roles as "compliance, strategy" ("none" for none). */
void tm_life_roles_text(unsigned roles, char *buf, size_t cap);

/* Appends one audit record (details: JSON text) in its own transaction.
 * TM_OK or the store's error. */
int tm_life_audit(tm_store *s, const tm_keys *keys, const char *by, const char *action,
                  const char *subject, const char *details, struct tm_err *err);

#endif
