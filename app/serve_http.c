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

#include "buf.h"
#include "calendar.h"
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

/* Checks the bearer token and that one of its roles grants `perm`. Returns
 * 0, or -1 after replying 401 (none, unknown, revoked, expired), 403 (a role
 * that may not) or 503 (the store cannot be read). */
int tm_sv_authorize(tm_sv_req *r, enum tm_perm perm)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Authorization");
    struct evkeyvalq *oh = evhttp_request_get_output_headers(r->req);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        evhttp_add_header(oh, "WWW-Authenticate", "Bearer");
        tm_sv_error(r, 401, "unauthorized", "this route needs Authorization: Bearer TOKEN", NULL);
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
        tm_sv_error(r, 503, "store_unavailable", "the credentials cannot be checked now", NULL);
        return -1;
    }
    int64_t now = (int64_t)time(NULL);
    const char *why = !found                          ? "unknown token"
                      : t.revoked                     ? "the token was revoked"
                      : t.expires && now >= t.expires ? "the token has expired"
                                                      : NULL;
    if (why) {
        evhttp_add_header(oh, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        tm_sv_error(r, 401, "unauthorized", why, NULL);
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
        tm_sv_error(r, 403, "forbidden", msg, NULL);
        return -1;
    }
    r->roles = roles; /* what else the caller may see (personal data) */
    if (now - t.last_used >= 60)
        tm_store_token_touch(r->w->store, t.id, now, NULL); /* best effort: a busy store waits */
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
