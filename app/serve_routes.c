/*
 * app/serve_routes.c: the service's routes (serve.h): one table naming each
 * route's path, methods and the permission it needs (app/access.h), the
 * checks every request goes through in order (route, method, credentials,
 * role, content type), the JSON error every refusal is, and the handlers.
 *
 * POST /v1/decide answers what `tallyman decide` answers for the same
 * request, byte for byte: the request is read and the decision written by
 * the same functions (core/gate_wire.h), on a gate from the same scripts.
 * Credentials are looked up in the store on every request (a unique index,
 * a cached statement), so a revoked token is refused from the next request
 * on; only the token's last use is written, at most once a minute.
 */
#include "serve.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "audit.h"
#include "calendar.h"
#include "crypto.h"
#include "gate_record.h"
#include "gate_wire.h"
#include "jscan.h"
#include "portfolio.h"
#include "stopat.h"

/* One request being answered. */
typedef struct rq {
    tm_serve_worker *w;
    struct evhttp_request *req;
    enum tm_serve_route route;
    int64_t t0_us;
    char token[129]; /* the token's name, for the log; "" without one */
} rq;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "OTHER";
}

/* ---- Connections: the cap ------------------------------------------------------ */

/* The connections a worker has seen a request on, so each is counted once
 * (libevent 2.1 tells a server of a connection at its first request only). */

static size_t conn_hash(const void *p, size_t cap)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= 0x9E3779B97F4A7C15u;
    return (size_t)(v >> 7) & (cap - 1);
}

static int conn_has(struct conn_set *s, const void *p)
{
    for (size_t i = conn_hash(p, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == p)
            return 1;
        if (!s->slot[i])
            return 0;
    }
}

static void conn_add(struct conn_set *s, void *p)
{
    size_t i = conn_hash(p, s->cap);
    while (s->slot[i])
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = p;
}

/* Removes p by shifting back the entries after it (linear probing). */
static void conn_del(struct conn_set *s, const void *p)
{
    size_t m = s->cap - 1, i = conn_hash(p, s->cap);
    while (s->slot[i] != p) {
        if (!s->slot[i])
            return;
        i = (i + 1) & m;
    }
    s->slot[i] = NULL;
    for (size_t j = (i + 1) & m; s->slot[j]; j = (j + 1) & m) {
        size_t h = conn_hash(s->slot[j], s->cap);
        /* Move slot j back to i when its home is not in (i, j]. */
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            s->slot[i] = s->slot[j];
            s->slot[j] = NULL;
            i = j;
        }
    }
}

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
    tm_serve_worker *w = arg;
    if (w->seen && conn_has(w->seen, evcon)) {
        conn_del(w->seen, evcon);
        w->conns--;
    }
}

/* Counts the request's connection when it is new. Returns 0, or -1 when the
 * worker is at its cap (the request is then refused). */
static int conn_admit(tm_serve_worker *w, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon)
        return 0;
    if (!w->seen) {
        size_t cap = 16;
        while (cap < (size_t)w->sv->per_worker_conns * 2 + 2)
            cap *= 2;
        w->seen = calloc(1, sizeof *w->seen);
        if (w->seen && !(w->seen->slot = calloc(cap, sizeof *w->seen->slot))) {
            free(w->seen);
            w->seen = NULL;
        }
        if (!w->seen)
            return -1;
        w->seen->cap = cap;
    }
    if (conn_has(w->seen, evcon))
        return 0;
    if (w->conns >= w->sv->per_worker_conns)
        return -1;
    conn_add(w->seen, evcon);
    w->conns++;
    evhttp_connection_set_closecb(evcon, conn_closed, w);
    return 0;
}

/* ---- Replies ------------------------------------------------------------------- */

static void reply_done(struct evhttp_request *req, void *arg)
{
    (void)req;
    tm_serve_worker *w = arg;
    w->unflushed--;
}

/* Sends the reply, counts it and logs it: time, method, route (never the
 * path: a path may hold an id), status, latency, the token's name. */
static void reply(rq *r, int status, const char *ctype, const char *body, size_t len)
{
    tm_serve_worker *w = r->w;
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(h, "Content-Type", ctype);
    if (atomic_load_explicit(&w->sv->stopping, memory_order_relaxed))
        evhttp_add_header(h, "Connection", "close");
    struct evbuffer *out = evbuffer_new();
    if (out && len)
        evbuffer_add(out, body, len);
    w->unflushed++;
    evhttp_request_set_on_complete_cb(r->req, reply_done, w);
    evhttp_send_reply(r->req, status, NULL, out);
    if (out)
        evbuffer_free(out);
    uint64_t us = (uint64_t)(now_us() - r->t0_us);
    tm_serve_count_request(&w->metrics, r->route, status, us);
    char when[40], line[512];
    tm_calendar_format_rfc3339((int64_t)time(NULL), 0, when, sizeof when, NULL);
    snprintf(line, sizeof line,
             "{\"time\":\"%s\",\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,"
             "\"latency_ms\":%.3f,\"bytes\":%zu,\"token\":%s%s%s}",
             when, method_name(evhttp_request_get_command(r->req)), tm_serve_route_names[r->route],
             status, (double)us / 1000.0, len, r->token[0] ? "\"" : "",
             r->token[0] ? r->token : "null", r->token[0] ? "\"" : "");
    tm_serve_log_request(w, line);
}

static void reply_json(rq *r, int status, const char *body, size_t len)
{
    reply(r, status, "application/json", body, len);
}

/* Replies with a jansson value (stolen). */
static void reply_value(rq *r, int status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!text) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"field\":null}}";
        reply_json(r, 500, oom, sizeof oom - 1);
        return;
    }
    reply_json(r, status, text, strlen(text));
    free(text);
}

/* {"error": {"code", "message", "field"}} as a value; field may be NULL. */
static json_t *error_value(const char *code, const char *message, const char *field)
{
    return json_pack("{s:{s:s,s:s,s:o}}", "error", "code", code, "message", message, "field",
                     field ? json_string(field) : json_null());
}

static void reply_error(rq *r, int status, const char *code, const char *message,
                        const char *field)
{
    reply_value(r, status, error_value(code, message, field));
}

/* "consumer.state: unknown state 'ZZ'": the field a message names before
 * its first ": " (a path: letters, digits, '_', '.', '[', ']'), into buf. */
static const char *field_of(const char *msg, char *buf, size_t cap)
{
    const char *colon = strstr(msg, ": ");
    if (!colon || colon == msg || (size_t)(colon - msg) >= cap)
        return NULL;
    for (const char *p = msg; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '[' || *p == ']'))
            return NULL;
    snprintf(buf, cap, "%.*s", (int)(colon - msg), msg);
    return buf;
}

/* ---- Request bodies -------------------------------------------------------------- */

/* 1 when the request's Content-Type is one of `types` (NULL-terminated;
 * parameters such as "; charset=utf-8" allowed). */
static int content_type_is(struct evhttp_request *req, const char *const *types)
{
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!ct)
        return 0;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    for (int i = 0; types[i]; i++)
        if (strlen(types[i]) == n && strncasecmp(ct, types[i], n) == 0)
            return 1;
    return 0;
}

static const char *const json_types[] = {"application/json", NULL};
static const char *const json_or_lines[] = {"application/json", "application/x-ndjson",
                                            "application/jsonl", "application/x-jsonlines", NULL};

/* The body, contiguous. */
static const char *body_of(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    *len = evbuffer_get_length(in);
    return *len ? (const char *)evbuffer_pullup(in, -1) : "";
}

/* Scans `body` into *j with tokens from *toks (grown as needed; the caller
 * frees *toks). TM_OK, TM_EINVAL (err says why), TM_ENOMEM. */
static int scan_body(const char *body, size_t len, tm_jtok **toks, tm_json *j, struct tm_err *err)
{
    /* Room for a token per 3 bytes at first (the densest requests come
     * close), so a large array is scanned once. */
    int max = len / 3 + 64 > 1024 ? (len / 3 + 64 < 1u << 28 ? (int)(len / 3 + 64) : 1 << 28) : 1024;
    for (;;) {
        tm_jtok *t = realloc(*toks, (size_t)max * sizeof *t);
        if (!t)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        *toks = t;
        int rc = tm_json_scan(body, len, t, max, j, err);
        if (rc != TM_ENOMEM)
            return rc;
        if ((size_t)max > len + 2)
            return rc;
        max *= 4;
    }
}

/* ---- Credentials ----------------------------------------------------------------- */

/* Checks the bearer token and that one of its roles grants `perm`. Returns
 * 0, or -1 after replying 401 (none, unknown, revoked, expired), 403 (a role
 * that may not) or 503 (the store cannot be read). */
static int authorize(rq *r, enum tm_perm perm)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Authorization");
    struct evkeyvalq *oh = evhttp_request_get_output_headers(r->req);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        evhttp_add_header(oh, "WWW-Authenticate", "Bearer");
        reply_error(r, 401, "unauthorized", "this route needs Authorization: Bearer TOKEN", NULL);
        return -1;
    }
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    char hash[65];
    tm_sha256_hex(tok, strlen(tok), hash);
    tm_token_rec t;
    int found = 0;
    struct tm_err e = {0};
    if (tm_store_token_by_hash(r->w->store, hash, &t, &found, &e) != TM_OK) {
        reply_error(r, 503, "store_unavailable", "the credentials cannot be checked now", NULL);
        return -1;
    }
    int64_t now = (int64_t)time(NULL);
    const char *why = !found                          ? "unknown token"
                      : t.revoked                     ? "the token was revoked"
                      : t.expires && now >= t.expires ? "the token has expired"
                                                      : NULL;
    if (why) {
        evhttp_add_header(oh, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        reply_error(r, 401, "unauthorized", why, NULL);
        return -1;
    }
    snprintf(r->token, sizeof r->token, "%s", t.name);
    tm_roles roles = 0;
    char bad[64];
    if (tm_access_roles_parse(t.roles, &roles, bad, sizeof bad) != 0)
        roles = 0; /* a role this build does not know grants nothing */
    if (!tm_access_allows(roles, perm)) {
        char msg[300];
        snprintf(msg, sizeof msg, "the token's roles (%s) may not use this route", t.roles);
        reply_error(r, 403, "forbidden", msg, NULL);
        return -1;
    }
    if (now - t.last_used >= 60)
        tm_store_token_touch(r->w->store, t.id, now, NULL); /* best effort: a busy store waits */
    return 0;
}

/* ---- Handlers --------------------------------------------------------------------- */

static void h_healthz(rq *r, const char *rest)
{
    (void)rest;
    static const char ok[] = "{\"status\":\"ok\"}";
    reply_json(r, 200, ok, sizeof ok - 1);
}

static void h_readyz(rq *r, const char *rest)
{
    (void)rest;
    tm_serve_worker *w = r->w;
    if (!w->eng || !w->eng->gate) {
        reply_error(r, 503, "not_ready", "no script generation is loaded", NULL);
        return;
    }
    if (tm_store_schema_version(w->store) < 0) {
        reply_error(r, 503, "not_ready", "the store cannot be read", NULL);
        return;
    }
    reply_value(r, 200, json_pack("{s:s,s:s,s:s}", "status", "ready", "store", "ok", "scripts",
                                  tm_gate_scripts_hash(w->eng->gate)));
}

static void h_metrics(rq *r, const char *rest)
{
    (void)rest;
    char *text = tm_serve_metrics_text(r->w->sv);
    if (!text) {
        reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}

/* Growing output. */
typedef struct outbuf {
    char *s;
    size_t n, cap;
    int failed;
} outbuf;

static void out_put(outbuf *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->n + n + 1)
            cap *= 2;
        char *q = realloc(o->s, cap);
        if (!q) {
            o->failed = 1;
            return;
        }
        o->s = q;
        o->cap = cap;
    }
    memcpy(o->s + o->n, s, n);
    o->n += n;
    o->s[o->n] = '\0';
}

/* Appends the decision's JSON (tm_gate_decision_json) to o. */
static void out_decision(outbuf *o, const tm_gate *g, const tm_request *req, const tm_decision *d)
{
    char stack[4096];
    int n = tm_gate_decision_json(g, req, d, stack, sizeof stack);
    if (n >= 0) {
        out_put(o, stack, (size_t)n);
        return;
    }
    for (size_t cap = sizeof stack * 4; cap <= (1u << 24); cap *= 4) {
        char *big = malloc(cap);
        if (!big)
            break;
        n = tm_gate_decision_json(g, req, d, big, cap);
        if (n >= 0)
            out_put(o, big, (size_t)n);
        free(big);
        if (n >= 0)
            return;
    }
    o->failed = 1;
}

/* An item of an array that yields no decision. */
static void out_item_error(outbuf *o, long index, const char *id_json, const char *code,
                           const char *msg)
{
    char fbuf[128];
    const char *field = field_of(msg, fbuf, sizeof fbuf);
    json_t *v = json_pack("{s:I,s:o,s:{s:s,s:s,s:o}}", "index", (json_int_t)index, "id",
                          id_json ? json_loads(id_json, JSON_DECODE_ANY, NULL) : json_null(),
                          "error", "code", code, "message", msg, "field",
                          field ? json_string(field) : json_null());
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!t) {
        o->failed = 1;
        return;
    }
    out_put(o, t, strlen(t));
    free(t);
}

/* 1 when the `len` bytes at `s` hold `needle`. */
static int has_text(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = s; len >= n && (p = memchr(p, needle[0], len - n + 1 - (size_t)(p - s)));
         p++)
        if (memcmp(p, needle, n) == 0)
            return 1;
    return 0;
}

/* 1 when the request object at token `obj` has "record": true. */
static int wants_record(const tm_json *j, int obj)
{
    int v = tm_json_get(j, obj, "record");
    return v >= 0 && j->tok[v].type == TM_J_TRUE;
}

static int refuse(tm_serve_reply *out, int status, const char *code, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refuse(tm_serve_reply *out, int status, const char *code, const char *field,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    out->status = status;
    out->code = code;
    out->field = field ? snprintf(out->fieldbuf, sizeof out->fieldbuf, "%s", field), out->fieldbuf
                       : NULL;
    return status;
}

/* A body that is not JSON: where it goes wrong (the byte offset, from
 * jansson), or the scanner's reason when jansson takes it (a member named
 * twice, nesting too deep). */
static int refuse_malformed(tm_serve_reply *out, const char *body, size_t len,
                            const char *scan_msg)
{
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!v)
        refuse(out, 400, "malformed_json", NULL,
               "malformed JSON at offset %d (line %d, column %d): %s", je.position, je.line,
               je.column, je.text);
    else
        refuse(out, 400, "malformed_json", NULL, "malformed JSON: %s", scan_msg);
    json_decref(v);
    return 400;
}

int tm_serve_decide_body(tm_gate *g, const char *body, size_t len, int64_t now, tm_serve_shard *m,
                         tm_serve_record_fn rec, void *ud, tm_serve_reply *out)
{
    memset(out, 0, sizeof *out);
    size_t i0 = 0;
    while (i0 < len && (body[i0] == ' ' || body[i0] == '\t' || body[i0] == '\r' || body[i0] == '\n'))
        i0++;
    struct tm_err e = {0};
    char fbuf[128];
    outbuf o = {0};
    if (i0 < len && body[i0] == '{' && !has_text(body, len, "\"record\"")) {
        /* One request, nothing to record: the fast path, as `decide` reads a line. */
        tm_request req;
        char *id_json = NULL;
        if (tm_gate_request_parse(body, len, now, &req, &id_json, &e) != TM_OK) {
            free(id_json);
            if (e.code == TM_ENOMEM)
                return refuse(out, 500, "internal", NULL, "out of memory");
            if (strncmp(e.msg, "not valid JSON: ", 16) == 0)
                return refuse_malformed(out, body, len, e.msg + 16);
            return refuse(out, 400, "invalid_request", field_of(e.msg, fbuf, sizeof fbuf), "%s",
                          e.msg);
        }
        free(id_json);
        tm_decision d;
        tm_gate_decide(g, &req, &d);
        if (m)
            tm_serve_count_decision(m, &d);
        out_decision(&o, g, &req, &d);
        tm_gate_decision_free(&d);
        tm_gate_request_free(&req);
        if (o.failed) {
            free(o.s);
            return refuse(out, 500, "internal", NULL, "out of memory");
        }
        out->status = 200;
        out->body = o.s;
        out->len = o.n;
        return 200;
    }
    tm_jtok *toks = NULL;
    tm_json j;
    int rc = scan_body(body, len, &toks, &j, &e);
    if (rc != TM_OK) {
        free(toks);
        if (rc == TM_ENOMEM)
            return refuse(out, 500, "internal", NULL, "out of memory");
        return refuse_malformed(out, body, len, e.msg);
    }
    int single = j.tok[0].type == TM_J_OBJECT;
    if (!single && j.tok[0].type != TM_J_ARRAY) {
        free(toks);
        return refuse(out, 400, "invalid_request", NULL,
                      "the body must be a request object or an array of them");
    }
    int count = single ? 1 : (int)j.tok[0].count;
    int t = single ? 0 : 1;
    int status = 200;
    if (!single)
        out_put(&o, "[", 1);
    for (int i = 0; i < count && status == 200; i++, t = (int)j.tok[t].next) {
        size_t rl;
        const char *raw = tm_json_raw(&j, t, &rl);
        char *id_json = NULL;
        memset(&e, 0, sizeof e);
        if (i)
            out_put(&o, ",", 1);
        if (j.tok[t].type != TM_J_OBJECT) {
            out_item_error(&o, i, NULL, "invalid_request", "request: must be a JSON object");
            continue;
        }
        tm_request req;
        if (tm_gate_request_parse(raw, rl, now, &req, &id_json, &e) != TM_OK) {
            if (single) {
                status = e.code == TM_ENOMEM
                             ? refuse(out, 500, "internal", NULL, "out of memory")
                             : refuse(out, 400, "invalid_request", field_of(e.msg, fbuf, sizeof fbuf),
                                      "%s", e.msg);
            } else {
                out_item_error(&o, i, id_json, e.code == TM_ENOMEM ? "internal" : "invalid_request",
                               e.msg);
            }
            free(id_json);
            continue;
        }
        free(id_json);
        tm_decision d;
        tm_gate_decide(g, &req, &d);
        if (m)
            tm_serve_count_decision(m, &d);
        if (wants_record(&j, t) && rec && rec(ud, &req, &d) != TM_OK)
            status = refuse(out, 503, "store_unavailable", NULL, "the decisions were not recorded");
        out_decision(&o, g, &req, &d);
        tm_gate_decision_free(&d);
        tm_gate_request_free(&req);
    }
    if (!single)
        out_put(&o, "]", 1);
    free(toks);
    if (status == 200 && o.failed)
        status = refuse(out, 500, "internal", NULL, "out of memory");
    if (status != 200) {
        free(o.s);
        return status;
    }
    out->status = 200;
    out->body = o.s;
    out->len = o.n;
    return 200;
}

static void reply_malformed(rq *r, const char *body, size_t len, const char *scan_msg)
{
    tm_serve_reply out;
    memset(&out, 0, sizeof out);
    refuse_malformed(&out, body, len, scan_msg);
    reply_error(r, out.status, out.code, out.message, out.field);
}

/* Recording the decisions of one POST in one transaction, begun at the
 * first decision to record, with their audit records. */
typedef struct recorder {
    rq *r;
    tm_audit_writer *aw;
    int begun, failed;
    char actor[160];
    struct tm_err e;
} recorder;

static int record_one(void *ud, const tm_request *req, const tm_decision *d)
{
    recorder *rc = ud;
    tm_serve_worker *w = rc->r->w;
    if (rc->failed)
        return TM_ESTORE;
    int st = TM_OK;
    if (!rc->begun) {
        st = tm_store_begin(w->store, &rc->e);
        if (st == TM_OK) {
            rc->begun = 1;
            st = tm_audit_writer_open(w->store, w->sv->audit_key, &rc->aw, &rc->e);
        }
    }
    if (st == TM_OK)
        st = tm_gate_record(w->store, rc->aw, w->eng->gate, req, d, rc->actor, (int64_t)time(NULL),
                            &rc->e);
    if (st != TM_OK)
        rc->failed = 1;
    return st;
}

static void h_decide(rq *r, const char *rest)
{
    (void)rest;
    tm_serve_worker *w = r->w;
    if (!content_type_is(r->req, json_types)) {
        reply_error(r, 415, "unsupported_media_type", "the body must be application/json",
                    "Content-Type");
        return;
    }
    size_t len;
    const char *body = body_of(r->req, &len);
    tm_stopat("serve.decide");
    recorder rc = {.r = r};
    snprintf(rc.actor, sizeof rc.actor, "serve:%s", r->token);
    tm_serve_reply out;
    int status = tm_serve_decide_body(w->eng->gate, body, len, (int64_t)time(NULL), &w->metrics,
                                      record_one, &rc, &out);
    if (rc.begun) {
        /* Recorded whole or not at all: then the answer says so, not the decisions. */
        int st = rc.failed ? TM_ESTORE : tm_audit_writer_flush(rc.aw, &rc.e);
        if (st == TM_OK)
            st = tm_store_commit(w->store, &rc.e);
        else
            tm_store_rollback(w->store);
        tm_audit_writer_close(rc.aw);
        if (st != TM_OK && status == 200) {
            free(out.body);
            out.body = NULL;
            status = refuse(&out, 503, "store_unavailable", NULL, "the decisions were not recorded");
        }
        if (st != TM_OK)
            snprintf(out.message, sizeof out.message, "the decisions were not recorded: %.300s",
                     rc.e.msg);
    }
    if (status == 200)
        reply_json(r, 200, out.body, out.len);
    else
        reply_error(r, status, out.code, out.message, out.field);
    free(out.body);
}

/* ---- Events and accounts ------------------------------------------------------------ */

/* What the import said about each item. */
typedef struct item_notes {
    int n;            /* items */
    char **why;       /* per item: the rejection ("field: reason"), or NULL */
    const char *name; /* as given to the import (its messages start "NAME:LINE: ") */
} item_notes;

static void note_reject(void *ud, const char *message)
{
    item_notes *in = ud;
    size_t nl = strlen(in->name);
    if (strncmp(message, in->name, nl) != 0 || message[nl] != ':')
        return;
    char *end;
    long line = strtol(message + nl + 1, &end, 10);
    if (line < 1 || line > in->n || strncmp(end, ": ", 2) != 0)
        return;
    if (!in->why[line - 1])
        in->why[line - 1] = strdup(end + 2);
}

/* The body as JSON lines, one item a line: a JSON array's elements as they
 * stand in the body (not re-encoded: the import reads exactly what was
 * sent), or JSON lines as sent, blank lines dropped. Per item, the text of
 * its "key" member (events), for telling an item applied from a duplicate.
 * Returns the number of items, or -1 after replying 400/500. */
static int items_of(rq *r, const char *body, size_t len, int want_keys, outbuf *lines,
                    char ***keys)
{
    size_t i0 = 0;
    while (i0 < len && (body[i0] == ' ' || body[i0] == '\t' || body[i0] == '\r' || body[i0] == '\n'))
        i0++;
    tm_jtok *toks = NULL;
    tm_json j;
    struct tm_err e = {0};
    int n = 0, cap = 0;
    *keys = NULL;
    if (i0 < len && body[i0] == '[') {
        int rc = scan_body(body, len, &toks, &j, &e);
        if (rc != TM_OK) {
            free(toks);
            if (rc == TM_ENOMEM)
                reply_error(r, 500, "internal", "out of memory", NULL);
            else
                reply_malformed(r, body, len, e.msg);
            return -1;
        }
        n = (int)j.tok[0].count;
        *keys = calloc((size_t)n + 1, sizeof **keys);
        int t = 1;
        for (int i = 0; i < n && *keys; i++, t = (int)j.tok[t].next) {
            size_t rl;
            const char *raw = tm_json_raw(&j, t, &rl);
            /* An element holding a newline (inside it, between tokens) would
             * read as two lines: such white space is not part of any string. */
            for (size_t k = 0; k < rl; k++)
                out_put(lines, raw[k] == '\n' || raw[k] == '\r' ? " " : raw + k, 1);
            out_put(lines, "\n", 1);
            int kv = want_keys && j.tok[t].type == TM_J_OBJECT ? tm_json_get(&j, t, "key") : -1;
            char kbuf[512];
            if (kv >= 0 && tm_json_str(&j, kv, kbuf, sizeof kbuf) >= 0)
                (*keys)[i] = strdup(kbuf);
        }
        free(toks);
        if (!*keys) {
            reply_error(r, 500, "internal", "out of memory", NULL);
            return -1;
        }
        return n;
    }
    /* JSON lines. */
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                char **k2 = realloc(*keys, (size_t)cap * sizeof *k2);
                if (!k2) {
                    reply_error(r, 500, "internal", "out of memory", NULL);
                    return -1;
                }
                *keys = k2;
            }
            (*keys)[n] = NULL;
            out_put(lines, p, (size_t)(le - p));
            out_put(lines, "\n", 1);
            if (want_keys) {
                tm_jtok lt[256];
                if (tm_json_scan(p, (size_t)(le - p), lt, 256, &j, NULL) == TM_OK &&
                    lt[0].type == TM_J_OBJECT) {
                    int kv = tm_json_get(&j, 0, "key");
                    char kbuf[512];
                    if (kv >= 0 && tm_json_str(&j, kv, kbuf, sizeof kbuf) >= 0)
                        (*keys)[n] = strdup(kbuf);
                }
            }
            n++;
        }
        p = nl ? nl + 1 : end;
    }
    return n;
}

static void free_keys(char **keys, int n)
{
    if (!keys)
        return;
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* POST /v1/events and /v1/accounts: the body through the same import as
 * `tallyman event` / `import accounts`, with a result per item. */
static void h_input(rq *r, int events)
{
    tm_serve_worker *w = r->w;
    if (!content_type_is(r->req, json_or_lines)) {
        reply_error(r, 415, "unsupported_media_type",
                    "the body must be application/json (an array) or application/x-ndjson "
                    "(JSON lines)",
                    "Content-Type");
        return;
    }
    size_t len;
    const char *body = body_of(r->req, &len);
    outbuf lines = {0};
    char **keys = NULL;
    int n = items_of(r, body, len, events, &lines, &keys);
    if (n < 0) {
        free(lines.s);
        return;
    }
    if (n == 0 || lines.failed) {
        free(lines.s);
        free_keys(keys, n);
        if (n == 0)
            reply_error(r, 400, "invalid_request", "no items in the body", NULL);
        else
            reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    /* Which keys were applied before this request: those items are duplicates
     * unless the import rejects them (a key used for other content). */
    char *before = calloc((size_t)n, 1);
    item_notes notes = {.n = n, .why = calloc((size_t)n, sizeof(char *)), .name = "item"};
    struct tm_err e = {0};
    int rc = before && notes.why ? TM_OK : tm_err_set(&e, TM_ENOMEM, "out of memory");
    for (int i = 0; rc == TM_OK && events && i < n; i++) {
        int exists = 0;
        if (keys[i] && (rc = tm_store_event_exists(w->store, keys[i], &exists, &e)) == TM_OK)
            before[i] = (char)exists;
    }
    FILE *in = rc == TM_OK ? fmemopen(lines.s, lines.n, "r") : NULL;
    if (rc == TM_OK && !in)
        rc = tm_err_set(&e, TM_ENOMEM, "out of memory");
    char actor[160];
    snprintf(actor, sizeof actor, "serve:%s", r->token);
    tm_import_opts io = {.name = "item", .actor = actor, .now = (int64_t)time(NULL),
                         .reject = note_reject, .ud = &notes, .size = lines.n, .origin = NULL};
    tm_import_stats is = {0};
    tm_event_stats es = {0};
    if (rc == TM_OK)
        rc = events ? tm_apply_events(w->store, w->sv->keys, in, &io, &es, &e)
                    : tm_import_accounts(w->store, w->sv->keys, in, &io, &is, &e);
    if (in)
        fclose(in);
    if (rc != TM_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%.300s", e.msg);
        if (rc == TM_ESTORE)
            reply_error(r, 503, "store_unavailable", msg, NULL);
        else if (rc == TM_ENOMEM)
            reply_error(r, 500, "internal", msg, NULL);
        else
            reply_error(r, 400, "invalid_request", msg, NULL);
    } else {
        json_t *items = json_array();
        long rejected = 0;
        for (int i = 0; i < n && items; i++) {
            json_t *it;
            if (notes.why[i]) {
                char fbuf[128];
                const char *field = field_of(notes.why[i], fbuf, sizeof fbuf);
                it = json_pack("{s:i,s:s,s:{s:s,s:s,s:o}}", "index", i, "status", "rejected",
                               "error", "code", "invalid_item", "message", notes.why[i], "field",
                               field ? json_string(field) : json_null());
                rejected++;
            } else {
                it = json_pack("{s:i,s:s}", "index", i, "status",
                               events ? (before[i] ? "duplicate" : "applied") : "accepted");
            }
            json_array_append_new(items, it);
        }
        json_t *v = events ? json_pack("{s:i,s:I,s:I,s:I,s:o}", "items", n, "applied",
                                       (json_int_t)es.applied, "duplicates",
                                       (json_int_t)es.duplicates, "rejected",
                                       (json_int_t)es.rejected, "results", items)
                           : json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:o}", "items", n, "accepted",
                                       (json_int_t)is.accepted, "rejected", (json_int_t)is.rejected,
                                       "debts_created", (json_int_t)is.debts_created,
                                       "debts_updated", (json_int_t)is.debts_updated, "unchanged",
                                       (json_int_t)is.unchanged, "results", items);
        (void)rejected;
        reply_value(r, 200, v);
    }
    for (int i = 0; notes.why && i < n; i++)
        free(notes.why[i]);
    free(notes.why);
    free(before);
    free_keys(keys, n);
    free(lines.s);
}

static void h_events(rq *r, const char *rest)
{
    (void)rest;
    h_input(r, 1);
}

static void h_accounts(rq *r, const char *rest)
{
    (void)rest;
    h_input(r, 0);
}

/* GET /v1/debts/{id}: state, journey and version, balance, open promise, the
 * next planned step. Never personal data. */
static void h_debt(rq *r, const char *id)
{
    tm_serve_worker *w = r->w;
    char *dec = evhttp_uridecode(id, 0, NULL);
    if (!dec || !*dec || strchr(dec, '/')) {
        free(dec);
        reply_error(r, 404, "not_found", "no such route", NULL);
        return;
    }
    tm_debt_rec d;
    int found = 0;
    struct tm_err e = {0};
    int rc = strlen(dec) < sizeof d.debt_id ? tm_store_debt_find(w->store, dec, &d, &found, &e) : TM_OK;
    tm_work_debt wd;
    int wfound = 0;
    if (rc == TM_OK && found)
        rc = tm_store_work_debt(w->store, d.id, &wd, &wfound, &e);
    if (rc != TM_OK) {
        free(dec);
        reply_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    if (!found || !wfound) {
        free(dec);
        reply_error(r, 404, "not_found", "no such debt", "id");
        return;
    }
    char timer[40] = "";
    if (wd.timer_at)
        tm_calendar_format_rfc3339(wd.timer_at, 0, timer, sizeof timer, NULL);
    json_t *v = json_pack(
        "{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:o,s:{s:o,s:o,s:i,s:o},s:o,s:o}", "id", wd.debt_id, "status",
        tm_store_debt_status_name(wd.status), "dispute", tm_store_debt_dispute_name(wd.dispute),
        "balance", (json_int_t)wd.balance, "placed_balance", (json_int_t)wd.placed_balance,
        "currency", wd.currency, "state", wd.state, "debt_type",
        wd.debt_type[0] ? json_string(wd.debt_type) : json_null(), "journey", "name",
        wd.journey[0] ? json_string(wd.journey) : json_null(), "state",
        wd.journey_state[0] ? json_string(wd.journey_state) : json_null(), "version",
        wd.journey_version, "hash", wd.journey_hash[0] ? json_string(wd.journey_hash) : json_null(),
        "promise",
        wd.promise_amount ? json_pack("{s:I,s:s}", "amount", (json_int_t)wd.promise_amount, "due",
                                      wd.promise_due)
                          : json_null(),
        "next_step",
        wd.timer_at ? json_pack("{s:s,s:s}", "at", timer, "go", wd.timer_go) : json_null());
    free(dec);
    reply_value(r, 200, v);
}

/* ---- The router ----------------------------------------------------------------------- */

typedef struct route {
    const char *path;  /* exact, or a prefix when it ends in '/' */
    enum tm_serve_route id;
    enum evhttp_cmd_type method;
    int perm;          /* enum tm_perm, or -1: no credentials needed */
    void (*fn)(rq *r, const char *rest);
} route;

static const route routes[] = {
    {"/healthz", TM_ROUTE_HEALTHZ, EVHTTP_REQ_GET, -1, h_healthz},
    {"/readyz", TM_ROUTE_READYZ, EVHTTP_REQ_GET, -1, h_readyz},
    {"/metrics", TM_ROUTE_METRICS, EVHTTP_REQ_GET, TM_PERM_METRICS, h_metrics},
    {"/v1/decide", TM_ROUTE_DECIDE, EVHTTP_REQ_POST, TM_PERM_DECIDE, h_decide},
    {"/v1/events", TM_ROUTE_EVENTS, EVHTTP_REQ_POST, TM_PERM_EVENTS, h_events},
    {"/v1/accounts", TM_ROUTE_ACCOUNTS, EVHTTP_REQ_POST, TM_PERM_ACCOUNTS, h_accounts},
    {"/v1/debts/", TM_ROUTE_DEBT, EVHTTP_REQ_GET, TM_PERM_DEBTS_READ, h_debt},
};

void tm_serve_handle(struct evhttp_request *req, void *arg)
{
    tm_serve_worker *w = arg;
    rq r = {.w = w, .req = req, .route = TM_ROUTE_OTHER, .t0_us = now_us()};
    if (conn_admit(w, req) != 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        reply_error(&r, 503, "overloaded", "too many connections; try again", NULL);
        return;
    }
    /* A new generation is taken up between requests, never during one. */
    tm_serve_worker_refresh(w);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (!path)
        path = "";
    const route *hit = NULL;
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        size_t n = strlen(routes[i].path);
        if (routes[i].path[n - 1] == '/' ? strncmp(path, routes[i].path, n) == 0 && path[n]
                                         : strcmp(path, routes[i].path) == 0) {
            hit = &routes[i];
            rest = path + (routes[i].path[n - 1] == '/' ? n : strlen(path));
            break;
        }
    }
    if (!hit) {
        reply_error(&r, 404, "not_found", "no such route", NULL);
        return;
    }
    r.route = hit->id;
    if (evhttp_request_get_command(req) != hit->method) {
        const char *allow = hit->method == EVHTTP_REQ_GET ? "GET" : "POST";
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        char msg[120];
        snprintf(msg, sizeof msg, "this route takes %s only", allow);
        reply_error(&r, 405, "method_not_allowed", msg, NULL);
        return;
    }
    if (hit->perm >= 0 && authorize(&r, (enum tm_perm)hit->perm) != 0)
        return;
    hit->fn(&r, rest);
}
