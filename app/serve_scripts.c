/*
 * app/serve_scripts.c: script sets through the service, the lifecycle of
 * `tallyman scripts` (CONTRACT.md, "Script sets") as routes:
 *
 *   GET  /v1/scripts                 the generations, oldest first, and the active one
 *   GET  /v1/scripts/{gen}           one generation, its history and difference
 *   GET  /v1/scripts/{gen}/diff      the rule-level difference from its base
 *   POST /v1/scripts/{gen}/approve   approve it, for the roles the person holds
 *   POST /v1/scripts/{gen}/activate  make it the active set
 *   POST /v1/scripts/rollback        go back to the set active before
 *
 * The steps that change what runs take a person (a personal token, `tokens
 * create --user`), never a machine: the lifecycle's checks (app/lifecycle.c,
 * the same code `tallyman scripts` runs) are about people, so an approval
 * by the proposer, or by someone without a role the change needs, is
 * refused the same way, audited the same way. An activation here is taken
 * up by every `serve` on the store the way one made on the command line is
 * (serve.h).
 */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "calendar.h"
#include "lifecycle.h"

/* An RFC 3339 time, or null for 0 (not set). */
static json_t *time_value(int64_t t)
{
    char buf[40];
    if (t <= 0 || tm_calendar_format_rfc3339(t, 0, buf, sizeof buf, NULL) != TM_OK)
        return json_null();
    return json_string(buf);
}

/* The roles (TM_ROLE_BIT set) as an array of names. */
static json_t *roles_value(unsigned roles)
{
    json_t *a = json_array();
    for (int i = 0; a && i < TM_ROLE_OTHER; i++)
        if (roles & TM_ROLE_BIT(i))
            json_array_append_new(a, json_string(tm_store_role_name((enum tm_role)i)));
    return a;
}

static json_t *text_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* A generation as the routes show it. */
static json_t *gen_value(const tm_generation *g)
{
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:I}", "hash", g->hash,
                     "status", tm_store_gen_status_name(g->status), "needs", roles_value(g->needs),
                     "approved_as", roles_value(g->approved), "base", text_or_null(g->base),
                     "source", text_or_null(g->source), "proposed_by", g->proposed_by,
                     "proposed_at", time_value(g->proposed_at), "approved_at",
                     time_value(g->approved_at), "activated_by", text_or_null(g->activated_by),
                     "activated_at", time_value(g->activated_at), "retired_at",
                     time_value(g->retired_at), "files", (json_int_t)g->files);
}

static int list_one(void *ud, const tm_generation *g)
{
    json_t *v = gen_value(g);
    if (!v || json_array_append_new(ud, v) != 0)
        return TM_ENOMEM;
    return TM_OK;
}

void tm_sv_scripts_list(tm_sv_req *r)
{
    tm_store *s = r->w->store;
    struct tm_err e = {0};
    json_t *gens = json_array();
    char active[65];
    int found = 0;
    if (!gens || tm_store_gen_list(s, list_one, gens, &e) != TM_OK ||
        tm_store_gen_active_hash(s, active, &found, &e) != TM_OK) {
        json_decref(gens);
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    tm_sv_reply_value(r, 200, json_pack("{s:o,s:o}", "active", text_or_null(active),
                                        "generations", gens));
}

/* The generation r->arg[0] names, or a reply saying why not (-1). */
static int find_gen(tm_sv_req *r, tm_generation *g)
{
    struct tm_err e = {0};
    int found = 0;
    int rc = tm_store_gen_get(r->w->store, r->arg[0], g, &found, &e);
    if (rc == TM_EINVAL) {
        tm_sv_error(r, 400, "invalid_generation", e.msg, "gen");
        return -1;
    }
    if (rc != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return -1;
    }
    if (!found) {
        tm_sv_error(r, 404, "not_found", "no such script generation", "gen");
        return -1;
    }
    return 0;
}

static int history_one(void *ud, int64_t at, const char *by, const char *what)
{
    json_t *v = json_pack("{s:o,s:s,s:s}", "at", time_value(at), "by", by, "what", what);
    if (!v || json_array_append_new(ud, v) != 0)
        return TM_ENOMEM;
    return TM_OK;
}

void tm_sv_scripts_show(tm_sv_req *r)
{
    tm_generation g;
    if (find_gen(r, &g) != 0)
        return;
    struct tm_err e = {0};
    json_t *hist = json_pack("[{s:o,s:s,s:s}]", "at", time_value(g.proposed_at), "by",
                             g.proposed_by, "what", "proposed");
    char *diff = NULL;
    if (!hist || tm_store_gen_history(r->w->store, g.id, history_one, hist, &e) != TM_OK ||
        tm_store_gen_diff(r->w->store, g.id, &diff, &e) != TM_OK) {
        json_decref(hist);
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    json_t *v = gen_value(&g);
    if (v) {
        json_object_set_new(v, "history", hist);
        json_object_set_new(v, "diff", text_or_null(diff));
    } else {
        json_decref(hist);
    }
    free(diff);
    tm_sv_reply_value(r, 200, v);
}

void tm_sv_scripts_diff(tm_sv_req *r)
{
    tm_generation g;
    if (find_gen(r, &g) != 0)
        return;
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
    if (query && evhttp_parse_query_str(query, &q) == 0) {
        int against = evhttp_find_header(&q, "against") != NULL;
        evhttp_clear_headers(&q);
        if (against) {
            /* The difference kept is the one reviewers were shown: from the
             * set active when it was proposed. Another base is not offered. */
            tm_sv_error(r, 400, "invalid_request",
                        "against: the difference is kept from the set active when the "
                        "generation was proposed (its base); compare with another set by "
                        "proposing from it",
                        "against");
            return;
        }
    }
    char *diff = NULL;
    struct tm_err e = {0};
    if (tm_store_gen_diff(r->w->store, g.id, &diff, &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    json_t *v = json_pack("{s:s,s:o,s:o}", "hash", g.hash, "base", text_or_null(g.base), "diff",
                          text_or_null(diff));
    free(diff);
    tm_sv_reply_value(r, 200, v);
}

/* The person asking, for a step that changes what runs; or a 403 (-1). */
static int person(tm_sv_req *r, const char *what, tm_user *u, int *found)
{
    if (!r->person[0]) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "%s a script set takes a person, not a machine: use a personal token "
                 "(tallyman tokens create --user NAME)", what);
        tm_sv_error(r, 403, "forbidden", msg, NULL);
        return -1;
    }
    struct tm_err e = {0};
    if (tm_store_user_get(r->w->store, r->person, u, found, &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return -1;
    }
    return 0;
}

/* The reply to a step that did not happen. */
static void life_error(tm_sv_req *r, const tm_life_result *res)
{
    switch (res->outcome) {
    case TM_LIFE_BAD: tm_sv_error(r, 400, "invalid_generation", res->why, "gen"); break;
    case TM_LIFE_UNKNOWN: tm_sv_error(r, 404, "not_found", res->why, "gen"); break;
    case TM_LIFE_FORBIDDEN: tm_sv_error(r, 403, "forbidden", res->why, NULL); break;
    case TM_LIFE_CONFLICT: tm_sv_error(r, 409, "conflict", res->why, NULL); break;
    default: tm_sv_error(r, 503, "store_unavailable", res->why, NULL); break;
    }
}

void tm_sv_scripts_approve(tm_sv_req *r)
{
    tm_user u;
    int found = 0;
    if (person(r, "approving", &u, &found) != 0)
        return;
    char asked[200];
    snprintf(asked, sizeof asked, "POST /v1/scripts/%.64s/approve", r->arg[0]);
    tm_life_who who = {.s = r->w->store, .keys = r->w->sv->keys, .db = r->w->sv->cli->db,
                       .me = r->person, .u = found ? &u : NULL, .asked = asked, .quiet = 1};
    tm_life_result res;
    if (tm_life_approve(&who, r->arg[0], &res) != TM_LIFE_DONE) {
        life_error(r, &res);
        return;
    }
    tm_sv_reply_value(r, 200, json_pack("{s:s,s:o,s:o}", "approved_by", r->person, "approved_as",
                                        roles_value(res.roles), "generation",
                                        gen_value(&res.after)));
}

/* After an activation or a rollback: the generation now active. */
static void reply_active(tm_sv_req *r, const tm_life_result *res)
{
    tm_generation now;
    int found = 0;
    struct tm_err e = {0};
    if (tm_store_gen_get(r->w->store, res->g.hash, &now, &found, &e) != TM_OK || !found)
        now = res->g;
    tm_sv_reply_value(r, 200, json_pack("{s:s,s:o,s:o}", "active", now.hash, "was",
                                        text_or_null(res->was), "generation", gen_value(&now)));
}

void tm_sv_scripts_activate(tm_sv_req *r)
{
    tm_user u;
    int found = 0;
    if (person(r, "activating", &u, &found) != 0)
        return;
    char asked[200];
    snprintf(asked, sizeof asked, "POST /v1/scripts/%.64s/activate", r->arg[0]);
    tm_life_who who = {.s = r->w->store, .keys = r->w->sv->keys, .db = r->w->sv->cli->db,
                       .me = r->person, .u = found ? &u : NULL, .asked = asked, .quiet = 1};
    tm_life_result res;
    if (tm_life_activate(&who, r->arg[0], &res) != TM_LIFE_DONE) {
        life_error(r, &res);
        return;
    }
    reply_active(r, &res);
}

void tm_sv_scripts_rollback(tm_sv_req *r)
{
    tm_user u;
    int found = 0;
    if (person(r, "rolling back", &u, &found) != 0)
        return;
    tm_life_who who = {.s = r->w->store, .keys = r->w->sv->keys, .db = r->w->sv->cli->db,
                       .me = r->person, .u = found ? &u : NULL,
                       .asked = "POST /v1/scripts/rollback", .quiet = 1};
    tm_life_result res;
    if (tm_life_rollback(&who, &res) != TM_LIFE_DONE) {
        life_error(r, &res);
        return;
    }
    reply_active(r, &res);
}
