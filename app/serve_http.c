/*
 * app/serve_http.c: what the service's route files share (serve_http.h):
 * counting connections against the cap, replies and their log line, the
 * JSON error shape, request bodies and the credentials check.
 *
 * Credentials are looked up in the store on every request (a unique index,
 * a cached statement), so a revoked token is refused from the next request
 * on; only the token's last use is written, at most once a minute.
 */
#include "serve_http.h"

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
#include "buf.h"
#include "calendar.h"
#include "cli.h"
#include "crypto.h"
#include "pay.h"

int64_t tm_sv_now_us(void)
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
int tm_sv_conn_admit(tm_serve_worker *w, struct evhttp_request *req)
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
void tm_sv_reply(tm_sv_req *r, int status, const char *ctype, const char *body, size_t len)
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
    uint64_t us = (uint64_t)(tm_sv_now_us() - r->t0_us);
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

void tm_sv_reply_json(tm_sv_req *r, int status, const char *body, size_t len)
{
    tm_sv_reply(r, status, "application/json", body, len);
}

/* Replies with a jansson value (stolen). */
void tm_sv_reply_value(tm_sv_req *r, int status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!text) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"field\":null}}";
        tm_sv_reply_json(r, 500, oom, sizeof oom - 1);
        return;
    }
    tm_sv_reply_json(r, status, text, strlen(text));
    free(text);
}

/* {"error": {"code", "message", "field"}} as a value; field may be NULL. */
json_t *tm_sv_error_value(const char *code, const char *message, const char *field)
{
    return json_pack("{s:{s:s,s:s,s:o}}", "error", "code", code, "message", message, "field",
                     field ? json_string(field) : json_null());
}

void tm_sv_error(tm_sv_req *r, int status, const char *code, const char *message,
                        const char *field)
{
    tm_sv_reply_value(r, status, tm_sv_error_value(code, message, field));
}

/* "consumer.state: unknown state 'ZZ'": the field a message names before
 * its first ": " (a path: letters, digits, '_', '.', '[', ']'), into buf. */
const char *tm_sv_field_of(const char *msg, char *buf, size_t cap)
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
int tm_sv_content_type_is(struct evhttp_request *req, const char *const *types)
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

const char *const tm_sv_json_types[] = {"application/json", NULL};
const char *const tm_sv_json_or_lines[] = {"application/json", "application/x-ndjson",
                                            "application/jsonl", "application/x-jsonlines", NULL};

/* The body, contiguous. */
const char *tm_sv_body(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    *len = evbuffer_get_length(in);
    return *len ? (const char *)evbuffer_pullup(in, -1) : "";
}

/* Scans `body` into *j with tokens from *toks (grown as needed; the caller
 * frees *toks). TM_OK, TM_EINVAL (err says why), TM_ENOMEM. */
int tm_sv_scan_body(const char *body, size_t len, tm_jtok **toks, tm_json *j, struct tm_err *err)
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

int64_t tm_sv_wall(const tm_sv_req *r) { return (int64_t)time(NULL) + r->w->sv->clock_offset; }

int tm_sv_audit(tm_sv_req *r, const char *by, const char *action, const char *subject,
                json_t *details)
{
    tm_store *s = r->w->store;
    char *text = details ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    json_decref(details);
    if (!text)
        return TM_ENOMEM;
    struct tm_err e = {0};
    int rc = tm_store_begin(s, &e);
    if (rc == TM_OK)
        rc = tm_audit_append(s, r->w->sv->audit_key, tm_sv_wall(r),
                             by ? by : r->token[0] ? r->token : "-", action, subject, text, &e);
    if (rc == TM_OK)
        rc = tm_store_commit(s, &e);
    else
        tm_store_rollback(s);
    free(text);
    return rc;
}

int tm_sv_record_personal_data(tm_sv_req *r, const char *debt_id, const char *const *fields)
{
    json_t *f = json_array();
    for (int i = 0; fields && fields[i]; i++)
        json_array_append_new(f, json_string(fields[i]));
    char subject[160];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    json_t *d = json_pack("{s:s, s:o, s:s, s:s}", "debt", debt_id, "fields", f, "route",
                          tm_serve_route_names[r->route], "as",
                          r->who == TM_SV_PERSON ? "person" : "machine");
    return d ? tm_sv_audit(r, NULL, "personal_data.read", subject, d) : TM_ENOMEM;
}

/* A refusal of the credentials given: audited (who it claimed to be and
 * why, for the record), answered with one message whatever the reason. */
static int refuse_credentials(tm_sv_req *r, int status, const char *claimed, const char *why)
{
    struct evkeyvalq *oh = evhttp_request_get_output_headers(r->req);
    tm_sv_audit(r, claimed, "access.refused", "service",
                json_pack("{s:s, s:s}", "route", tm_serve_route_names[r->route], "why", why));
    if (status == 401) {
        evhttp_add_header(oh, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        tm_sv_error(r, 401, "unauthorized", "the credentials are not valid", NULL);
    } else {
        tm_sv_error(r, 403, "forbidden", "this request is not allowed with these credentials",
                    NULL);
    }
    return -1;
}

/* The value of cookie `name` in the Cookie header into buf; 1 when there. */
static int cookie_value(struct evhttp_request *req, const char *name, char *buf, size_t cap)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
    size_t nl = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        size_t n = strcspn(h, ";");
        if (n > nl && strncmp(h, name, nl) == 0 && h[nl] == '=') {
            size_t vl = n - nl - 1;
            if (vl >= cap)
                return 0;
            memcpy(buf, h + nl + 1, vl);
            buf[vl] = '\0';
            return 1;
        }
        h += n;
    }
    return 0;
}

static int rate_check(tm_sv_req *r, double own);

static int by_token(tm_sv_req *r, const char *h)
{
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    char hash[65];
    tm_sha256_hex(tok, strlen(tok), hash);
    tm_token_rec t;
    int found = 0;
    struct tm_err e = {0};
    if (tm_store_token_by_hash(r->w->store, hash, &t, &found, &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the credentials cannot be checked now", NULL);
        return -1;
    }
    int64_t now = tm_sv_wall(r);
    const char *why = !found                          ? "unknown token"
                      : t.revoked                     ? "revoked token"
                      : t.expires && now >= t.expires ? "expired token"
                                                      : NULL;
    if (why)
        return refuse_credentials(r, 401, found ? t.name : "-", why);
    r->who = TM_SV_MACHINE;
    snprintf(r->token, sizeof r->token, "%s", t.name);
    tm_roles roles = 0;
    char bad[64];
    if (t.person[0]) {
        /* A person's token: their roles as they are now. */
        tm_user u;
        int ufound = 0;
        if (tm_store_user_get(r->w->store, t.person, &u, &ufound, &e) != TM_OK) {
            tm_sv_error(r, 503, "store_unavailable", "the credentials cannot be checked now", NULL);
            return -1;
        }
        if (!ufound || u.disabled_at)
            return refuse_credentials(r, 401, t.name, ufound ? "the token's person is disabled"
                                                             : "the token's person is gone");
        r->who = TM_SV_PERSON;
        snprintf(r->person, sizeof r->person, "%s", u.name);
        r->person_roles = u.roles;
        roles = tm_access_of_person(u.roles);
    } else if (tm_access_roles_parse(t.roles, &roles, bad, sizeof bad) != 0) {
        roles = 0; /* a role this build does not know grants nothing */
    }
    r->roles = roles;
    if (rate_check(r, t.rate_limit) != 0)
        return -1;
    if (now - t.last_used >= 60)
        tm_store_token_touch(r->w->store, t.id, now, NULL); /* best effort: a busy store waits */
    return 0;
}

static int by_session(tm_sv_req *r, const char *cookie)
{
    char hash[65];
    tm_sha256_hex(cookie, strlen(cookie), hash);
    tm_session_rec x;
    int found = 0;
    struct tm_err e = {0};
    if (tm_store_session_by_hash(r->w->store, hash, &x, &found, &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the credentials cannot be checked now", NULL);
        return -1;
    }
    int64_t now = tm_sv_wall(r);
    const char *why = !found                                       ? "unknown session"
                      : x.ended                                    ? "ended session"
                      : now >= x.expires                           ? "expired session"
                      : now - x.last_seen >= TM_SV_SESSION_IDLE    ? "idle session"
                      : x.user_disabled                            ? "disabled person"
                                                                   : NULL;
    if (why)
        return refuse_credentials(r, 401, found ? x.user : "-", why);
    /* A request made with the cookie that changes anything must carry the
     * CSRF token the login returned: another site can make the browser send
     * the cookie, never read the token. */
    enum evhttp_cmd_type m = evhttp_request_get_command(r->req);
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        const char *c = evhttp_find_header(evhttp_request_get_input_headers(r->req),
                                           "X-CSRF-Token");
        char ch[65];
        if (c)
            tm_sha256_hex(c, strlen(c), ch);
        if (!c || !tm_ct_equal(ch, x.csrf_hash, 64))
            return refuse_credentials(r, 403, x.user, c ? "wrong CSRF token" : "no CSRF token");
    }
    r->who = TM_SV_PERSON;
    snprintf(r->token, sizeof r->token, "%s", x.user);
    snprintf(r->person, sizeof r->person, "%s", x.user);
    r->person_roles = x.roles;
    r->roles = tm_access_of_person(x.roles);
    r->session = x.id;
    if (rate_check(r, 0) != 0)
        return -1;
    if (now - x.last_seen >= 10)
        tm_store_session_touch(r->w->store, x.id, now, NULL); /* best effort */
    return 0;
}

int tm_serve_parse_rate(const char *text, double *out)
{
    uint64_t n;
    size_t len = strlen(text);
    char num[16];
    if (len < 3 || len - 2 >= sizeof num || strcmp(text + len - 2, "/s") != 0)
        return -1;
    memcpy(num, text, len - 2);
    num[len - 2] = '\0';
    if (tm_cli_parse_u64(num, 100000, &n) != 0 || n == 0)
        return -1;
    *out = (double)n;
    return 0;
}

static size_t key_hash(const char *k, size_t cap)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (uint8_t)*k) * 1099511628211u;
    return (size_t)h & (cap - 1);
}

/* Takes one request from the caller's bucket at rate `rate` a second.
 * Returns 0, or the whole seconds to wait (at least 1) when it is empty. */
static int64_t rate_take(tm_serve *sv, const char *key, double rate)
{
    int64_t now = tm_sv_now_us(), wait = 0;
    pthread_mutex_lock(&sv->rate_lock);
    if (!sv->buckets || sv->used_buckets * 4 >= sv->nbuckets * 3) {
        size_t cap = sv->nbuckets ? sv->nbuckets : 1024;
        if (sv->buckets && cap < 65536)
            cap *= 2;
        free(sv->buckets);
        sv->buckets = calloc(cap, sizeof *sv->buckets);
        sv->nbuckets = sv->buckets ? cap : 0;
        sv->used_buckets = 0;
    }
    if (!sv->buckets) { /* out of memory: the limit is not applied rather than refusing all */
        pthread_mutex_unlock(&sv->rate_lock);
        return 0;
    }
    size_t i = key_hash(key, sv->nbuckets);
    while (sv->buckets[i].key[0] && strcmp(sv->buckets[i].key, key) != 0)
        i = (i + 1) & (sv->nbuckets - 1);
    struct rate_bucket *b = &sv->buckets[i];
    if (!b->key[0]) {
        snprintf(b->key, sizeof b->key, "%s", key);
        b->tokens = rate;
        b->at_us = now;
        sv->used_buckets++;
    }
    b->tokens += (double)(now - b->at_us) / 1e6 * rate;
    if (b->tokens > rate)
        b->tokens = rate;
    b->at_us = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        wait = (int64_t)((1.0 - b->tokens) / rate) + 1;
    }
    pthread_mutex_unlock(&sv->rate_lock);
    return wait;
}

/* The caller's rate limit: `own` (a token's, 0: none) or the service's. 0,
 * or -1 after replying 429 with Retry-After. */
static int rate_check(tm_sv_req *r, double own)
{
    double rate = own > 0 ? own : r->w->sv->o.rate_limit;
    if (rate <= 0)
        return 0;
    char key[136];
    snprintf(key, sizeof key, "%c:%s", r->who == TM_SV_PERSON ? 'p' : 't', r->token);
    int64_t wait = rate_take(r->w->sv, key, rate);
    if (!wait)
        return 0;
    char ra[24];
    snprintf(ra, sizeof ra, "%lld", (long long)wait);
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", ra);
    tm_sv_error(r, 429, "rate_limited", "too many requests; slow down", NULL);
    return -1;
}

int tm_sv_identify(tm_sv_req *r)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0 && h[7])
        return by_token(r, h);
    char cookie[130];
    if (!h && cookie_value(r->req, TM_SV_SESSION_COOKIE, cookie, sizeof cookie))
        return by_session(r, cookie);
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "WWW-Authenticate", "Bearer");
    tm_sv_error(r, 401, "unauthorized",
                "this route needs Authorization: Bearer TOKEN, or a session (POST /v1/login)",
                NULL);
    return -1;
}

int tm_sv_authorize(tm_sv_req *r, enum tm_perm perm)
{
    if (tm_sv_identify(r) != 0)
        return -1;
    if (!tm_access_allows(r->roles, perm)) {
        char roles[200];
        tm_access_roles_format(r->roles, roles, sizeof roles);
        tm_sv_audit(r, NULL, "access.refused", "service",
                    json_pack("{s:s, s:s, s:s}", "route", tm_serve_route_names[r->route], "why",
                              "role", "roles", roles));
        char msg[300];
        snprintf(msg, sizeof msg, "the roles (%s) may not use this route", roles[0] ? roles : "none");
        tm_sv_error(r, 403, "forbidden", msg, NULL);
        return -1;
    }
    if (tm_access_needs_person(perm) && r->who != TM_SV_PERSON) {
        tm_sv_audit(r, NULL, "access.refused", "service",
                    json_pack("{s:s, s:s}", "route", tm_serve_route_names[r->route], "why",
                              "a machine's token"));
        tm_sv_error(r, 403, "forbidden",
                    "this route takes a person (a login session or a personal token: tallyman "
                    "tokens create --user NAME), not a machine's token",
                    NULL);
        return -1;
    }
    return 0;
}

/* ---- Refusals ------------------------------------------------------------------- */

int tm_sv_refuse(tm_serve_reply *out, int status, const char *code, const char *field,
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
int tm_sv_refuse_malformed(tm_serve_reply *out, const char *body, size_t len,
                            const char *scan_msg)
{
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!v)
        tm_sv_refuse(out, 400, "malformed_json", NULL,
               "malformed JSON at offset %d (line %d, column %d): %s", je.position, je.line,
               je.column, je.text);
    else
        tm_sv_refuse(out, 400, "malformed_json", NULL, "malformed JSON: %s", scan_msg);
    /* The parser quotes the text near the fault, which may be a card
     * number: then the place alone is said. */
    if (tm_pay_holds_card_number(out->message, strlen(out->message))) {
        if (!v)
            tm_sv_refuse(out, 400, "malformed_json", NULL,
                         "malformed JSON at offset %d (line %d, column %d)", je.position, je.line,
                         je.column);
        else
            tm_sv_refuse(out, 400, "malformed_json", NULL,
                         "malformed JSON: a member named twice or nested too deep");
    }
    json_decref(v);
    return 400;
}

void tm_sv_reply_malformed(tm_sv_req *r, const char *body, size_t len, const char *scan_msg)
{
    tm_serve_reply out;
    memset(&out, 0, sizeof out);
    tm_sv_refuse_malformed(&out, body, len, scan_msg);
    tm_sv_error(r, out.status, out.code, out.message, out.field);
}

/* The body as JSON lines, one item a line: a JSON array's elements as they
 * stand in the body (not re-encoded: the import reads exactly what was
 * sent), or JSON lines as sent, blank lines dropped. Per item, the text of
 * its "key" member (events), for telling an item applied from a duplicate.
 * Returns the number of items, or -1 after replying 400/500. (serve_http.h) */
int tm_sv_body_items(tm_sv_req *r, int want_keys, tm_buf *lines, char ***keys)
{
    *keys = NULL;
    if (tm_sv_need_type(r, tm_sv_json_or_lines) != 0)
        return -1;
    size_t len;
    const char *body = tm_sv_body(r->req, &len);
    size_t i0 = 0;
    while (i0 < len && (body[i0] == ' ' || body[i0] == '\t' || body[i0] == '\r' || body[i0] == '\n'))
        i0++;
    tm_jtok *toks = NULL;
    tm_json j;
    struct tm_err e = {0};
    int n = 0, cap = 0;
    if (i0 < len && body[i0] == '[') {
        int rc = tm_sv_scan_body(body, len, &toks, &j, &e);
        if (rc != TM_OK) {
            free(toks);
            if (rc == TM_ENOMEM)
                tm_sv_error(r, 500, "internal", "out of memory", NULL);
            else
                tm_sv_reply_malformed(r, body, len, e.msg);
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
                tm_buf_put(lines, raw[k] == '\n' || raw[k] == '\r' ? " " : raw + k, 1);
            tm_buf_put(lines, "\n", 1);
            int kv = want_keys && j.tok[t].type == TM_J_OBJECT ? tm_json_get(&j, t, "key") : -1;
            char kbuf[512];
            if (kv >= 0 && tm_json_str(&j, kv, kbuf, sizeof kbuf) >= 0)
                (*keys)[i] = strdup(kbuf);
        }
        free(toks);
        if (!*keys) {
            tm_sv_error(r, 500, "internal", "out of memory", NULL);
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
                    tm_sv_error(r, 500, "internal", "out of memory", NULL);
                    return -1;
                }
                *keys = k2;
            }
            (*keys)[n] = NULL;
            tm_buf_put(lines, p, (size_t)(le - p));
            tm_buf_put(lines, "\n", 1);
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

void tm_sv_free_keys(char **keys, int n)
{
    if (!keys)
        return;
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

int tm_sv_need_type(tm_sv_req *r, const char *const *types)
{
    if (tm_sv_content_type_is(r->req, types))
        return 0;
    tm_sv_error(r, 415, "unsupported_media_type",
                types == tm_sv_json_or_lines ? "the body must be application/json (an array) or "
                                               "application/x-ndjson (JSON lines)"
                                             : "the body must be application/json",
                "Content-Type");
    return -1;
}

json_t *tm_sv_json_object(tm_sv_req *r, int allow_empty)
{
    size_t len;
    const char *body = tm_sv_body(r->req, &len);
    if (allow_empty && len == strspn(body, " \t\r\n"))
        return json_object();
    if (tm_sv_need_type(r, tm_sv_json_types) != 0)
        return NULL;
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        tm_sv_reply_malformed(r, body, len, je.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        tm_sv_error(r, 400, "invalid_request", "the body must be a JSON object", NULL);
        return NULL;
    }
    return v;
}
