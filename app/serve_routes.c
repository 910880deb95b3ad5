/*
 * app/serve_routes.c: the service's routes (serve.h): one table naming each
 * route's path, method and the permission it needs (app/access.h), and the
 * checks every request goes through in order: the connection cap, the
 * route, the method, credentials and role; then the route's handler (one
 * group of routes to a file, serve_http.h). The probes and /metrics live
 * here too.
 */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* ---- Probes and metrics ------------------------------------------------------------ */

void tm_sv_healthz(tm_sv_req *r)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    tm_sv_reply_json(r, 200, ok, sizeof ok - 1);
}

void tm_sv_readyz(tm_sv_req *r)
{
    tm_serve_worker *w = r->w;
    if (tm_store_schema_version(w->store) < 0) {
        tm_sv_error(r, 503, "not_ready", "the store cannot be read", NULL);
        return;
    }
    if (!w->eng || !w->eng->gate) {
        tm_sv_error(r, 503, "not_ready",
                    "the store has no active script set (tallyman scripts activate)", NULL);
        return;
    }
    json_t *v = json_pack("{s:s,s:s,s:s}", "status", "ready", "store", "ok", "scripts",
                          tm_gate_scripts_hash(w->eng->gate));
    if (v && w->sv->draft)
        json_object_set_new(v, "draft", json_true());
    tm_sv_reply_value(r, 200, v);
}

void tm_sv_metrics(tm_sv_req *r)
{
    char *text = tm_serve_metrics_text(r->w->sv);
    if (!text) {
        tm_sv_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    tm_sv_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}

/* ---- The router ----------------------------------------------------------------------- */

typedef struct route {
    /* Segments separated by '/'; "{}" stands for one variable segment
     * (non-empty, decoded into tm_sv_req.arg in order). */
    const char *path;
    enum evhttp_cmd_type method;
    enum tm_serve_route id;
    int perm; /* enum tm_perm, or -1: no credentials needed */
    tm_sv_handler fn;
} route;

static const route routes[] = {
    {"/healthz", EVHTTP_REQ_GET, TM_ROUTE_HEALTHZ, -1, tm_sv_healthz},
    {"/readyz", EVHTTP_REQ_GET, TM_ROUTE_READYZ, -1, tm_sv_readyz},
    {"/metrics", EVHTTP_REQ_GET, TM_ROUTE_METRICS, TM_PERM_METRICS, tm_sv_metrics},
    {"/v1/decide", EVHTTP_REQ_POST, TM_ROUTE_DECIDE, TM_PERM_DECIDE, tm_sv_decide},
    {"/v1/events", EVHTTP_REQ_POST, TM_ROUTE_EVENTS, TM_PERM_EVENTS, tm_sv_events},
    {"/v1/accounts", EVHTTP_REQ_POST, TM_ROUTE_ACCOUNTS, TM_PERM_ACCOUNTS, tm_sv_accounts},
    {"/v1/debts/{}", EVHTTP_REQ_GET, TM_ROUTE_DEBT, TM_PERM_DEBTS_READ, tm_sv_debt},
    /* A person's session: the login checks its own credentials, the logout
     * the session it ends. */
    {"/v1/login", EVHTTP_REQ_POST, TM_ROUTE_LOGIN, -1, tm_sv_login},
    {"/v1/logout", EVHTTP_REQ_POST, TM_ROUTE_LOGOUT, -1, tm_sv_logout},
    {"/v1/scripts", EVHTTP_REQ_GET, TM_ROUTE_SCRIPTS, TM_PERM_POLICY_READ, tm_sv_scripts_list},
    /* Before /v1/scripts/{}: "rollback" is not a generation's name. */
    {"/v1/scripts/rollback", EVHTTP_REQ_POST, TM_ROUTE_SCRIPTS_ROLLBACK, TM_PERM_POLICY_PROPOSE,
     tm_sv_scripts_rollback},
    {"/v1/scripts/{}", EVHTTP_REQ_GET, TM_ROUTE_SCRIPT, TM_PERM_POLICY_READ, tm_sv_scripts_show},
    {"/v1/scripts/{}/diff", EVHTTP_REQ_GET, TM_ROUTE_SCRIPT_DIFF, TM_PERM_POLICY_READ,
     tm_sv_scripts_diff},
    {"/v1/scripts/{}/approve", EVHTTP_REQ_POST, TM_ROUTE_SCRIPT_APPROVE, TM_PERM_POLICY_APPROVE,
     tm_sv_scripts_approve},
    {"/v1/scripts/{}/activate", EVHTTP_REQ_POST, TM_ROUTE_SCRIPT_ACTIVATE, TM_PERM_POLICY_PROPOSE,
     tm_sv_scripts_activate},
    {"/v1/payments", EVHTTP_REQ_POST, TM_ROUTE_PAYMENTS, TM_PERM_PAYMENTS, tm_sv_payments},
    {"/v1/debts/{}/story", EVHTTP_REQ_GET, TM_ROUTE_STORY, TM_PERM_DEBT_STORY, tm_sv_story},
    {"/v1/debts/{}/explain", EVHTTP_REQ_POST, TM_ROUTE_EXPLAIN, TM_PERM_DEBT_STORY, tm_sv_explain},
    {"/v1/audit", EVHTTP_REQ_GET, TM_ROUTE_AUDIT, TM_PERM_AUDIT_READ, tm_sv_audit_list},
    {"/v1/audit/verify", EVHTTP_REQ_GET, TM_ROUTE_AUDIT_VERIFY, TM_PERM_AUDIT_READ, tm_sv_audit_verify},
    {"/v1/queues/{}", EVHTTP_REQ_GET, TM_ROUTE_QUEUE, TM_PERM_QUEUE_WORK, tm_sv_queue},
    {"/v1/queues/{}/claim", EVHTTP_REQ_POST, TM_ROUTE_QUEUE_CLAIM, TM_PERM_QUEUE_WORK, tm_sv_queue_claim},
    {"/v1/queues/{}/items/{}/close", EVHTTP_REQ_POST, TM_ROUTE_QUEUE_CLOSE, TM_PERM_QUEUE_WORK,
     tm_sv_queue_close},
    {"/v1/simulations", EVHTTP_REQ_POST, TM_ROUTE_SIMULATIONS, TM_PERM_SIMULATE, tm_sv_simulations},
    {"/v1/simulations/{}", EVHTTP_REQ_GET, TM_ROUTE_SIMULATION, TM_PERM_SIMULATE, tm_sv_simulation},
    {"/v1/simulations/{}/report", EVHTTP_REQ_GET, TM_ROUTE_SIMULATION_REPORT, TM_PERM_SIMULATE,
     tm_sv_simulation_report},
};

#define NROUTES (sizeof routes / sizeof *routes)

static const char *method_text(enum evhttp_cmd_type m);

/* One line per role ("role NAME person|machine"), then one per route
 * ("route METHOD PATH PERMISSION ROLES WHO"): method, path ("{}" for a variable segment),
 * the permission's name or "-" (no credentials needed), the roles of
 * app/access.c that grant it, comma-separated, and "person" when only a
 * person may use it (tm_access_needs_person), else "any". */
void tm_serve_routes_print(FILE *out)
{
    for (int k = 0; tm_access_role_name(k); k++)
        fprintf(out, "role %s %s\n", tm_access_role_name(k),
                tm_access_role_is_person(k) ? "person" : "machine");
    for (size_t i = 0; i < NROUTES; i++) {
        char roles[300] = "";
        size_t n = 0;
        for (int k = 0; routes[i].perm >= 0 && tm_access_role_name(k); k++)
            if (tm_access_allows(1u << k, (enum tm_perm)routes[i].perm))
                n += (size_t)snprintf(roles + n, sizeof roles - n, "%s%s", n ? "," : "",
                                      tm_access_role_name(k));
        fprintf(out, "route %s %s %s %s %s\n", method_text(routes[i].method), routes[i].path,
                routes[i].perm >= 0 ? tm_access_perm_name((enum tm_perm)routes[i].perm) : "-",
                routes[i].perm >= 0 ? (n ? roles : "none") : "-",
                routes[i].perm >= 0 && tm_access_needs_person((enum tm_perm)routes[i].perm)
                    ? "person"
                    : "any");
    }
}

static const char *method_text(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "OTHER";
    }
}

/* 1 when `path` fits the pattern; the variable segments are decoded into
 * r->argbuf and pointed at by r->arg (overwritten on each call). A segment
 * that does not decode, holds a '/' once decoded, or does not fit argbuf
 * does not match. */
static int path_matches(const char *pat, const char *path, tm_sv_req *r)
{
    size_t used = 0;
    r->nargs = 0;
    for (;;) {
        if (*pat == '\0' || *path == '\0')
            return *pat == '\0' && *path == '\0';
        if (*pat == '{') {
            size_t n = strcspn(path, "/");
            if (n == 0 || r->nargs == TM_SV_MAXARGS)
                return 0;
            char seg[sizeof r->argbuf];
            if (n >= sizeof seg)
                return 0;
            memcpy(seg, path, n);
            seg[n] = '\0';
            size_t dl = 0;
            char *dec = evhttp_uridecode(seg, 0, &dl);
            int ok = dec && dl > 0 && !memchr(dec, '/', dl) && !memchr(dec, '\0', dl) &&
                     used + dl + 1 <= sizeof r->argbuf;
            if (ok) {
                memcpy(r->argbuf + used, dec, dl + 1);
                r->arg[r->nargs++] = r->argbuf + used;
                used += dl + 1;
            }
            free(dec);
            if (!ok)
                return 0;
            pat += 2;
            path += n;
            continue;
        }
        if (*pat != *path)
            return 0;
        pat++;
        path++;
    }
}

void tm_serve_handle(struct evhttp_request *req, void *arg)
{
    tm_serve_worker *w = arg;
    tm_sv_req r = {.w = w, .req = req, .route = TM_ROUTE_OTHER, .t0_us = tm_sv_now_us()};
    if (tm_sv_conn_admit(w, req) != 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        tm_sv_error(&r, 503, "overloaded", "too many connections; try again", NULL);
        return;
    }
    /* A new generation is taken up between requests, never during one. */
    tm_serve_worker_refresh(w);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (!path)
        path = "";
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    const route *hit = NULL;
    char allow[64] = "";
    for (size_t i = 0; i < NROUTES && !hit; i++) {
        if (!path_matches(routes[i].path, path, &r))
            continue;
        if (routes[i].method == m) {
            hit = &routes[i];
        } else if (strlen(allow) + 10 < sizeof allow) {
            r.route = routes[i].id;
            if (allow[0])
                strcat(allow, ", ");
            strcat(allow, method_text(routes[i].method));
        }
    }
    if (!hit && allow[0]) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        char msg[120];
        snprintf(msg, sizeof msg, "this route takes %s only", allow);
        tm_sv_error(&r, 405, "method_not_allowed", msg, NULL);
        return;
    }
    if (!hit) {
        tm_sv_error(&r, 404, "not_found", "no such route", NULL);
        return;
    }
    /* path_matches ran again for later routes only when this one failed, so
     * r.arg still holds this route's segments. */
    r.route = hit->id;
    if (hit->perm >= 0 && tm_sv_authorize(&r, (enum tm_perm)hit->perm) != 0)
        return;
    hit->fn(&r);
}
