/*
 * app/serve_decide.c: POST /v1/decide, the dialer's call. It answers what
 * `tallyman decide` answers for the same request, byte for byte: the
 * request is read and the decision written by the same functions
 * (core/gate_wire.h), on a gate from the same scripts. With "record": true
 * the decisions of one POST are stored in one transaction, with their audit
 * records, as the cycle stores its own.
 */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "buf.h"
#include "gate_record.h"
#include "gate_wire.h"
#include "stopat.h"

/* Appends the decision's JSON (tm_gate_decision_json) to o. */
static void out_decision(tm_buf *o, const tm_gate *g, const tm_request *req, const tm_decision *d)
{
    char stack[4096];
    int n = tm_gate_decision_json(g, req, d, stack, sizeof stack);
    if (n >= 0) {
        tm_buf_put(o, stack, (size_t)n);
        return;
    }
    for (size_t cap = sizeof stack * 4; cap <= (1u << 24); cap *= 4) {
        char *big = malloc(cap);
        if (!big)
            break;
        n = tm_gate_decision_json(g, req, d, big, cap);
        if (n >= 0)
            tm_buf_put(o, big, (size_t)n);
        free(big);
        if (n >= 0)
            return;
    }
    o->failed = TM_ENOMEM;
}

/* An item of an array that yields no decision. */
static void out_item_error(tm_buf *o, long index, const char *id_json, const char *code,
                           const char *msg)
{
    char fbuf[128];
    const char *field = tm_sv_field_of(msg, fbuf, sizeof fbuf);
    json_t *v = json_pack("{s:I,s:o,s:{s:s,s:s,s:o}}", "index", (json_int_t)index, "id",
                          id_json ? json_loads(id_json, JSON_DECODE_ANY, NULL) : json_null(),
                          "error", "code", code, "message", msg, "field",
                          field ? json_string(field) : json_null());
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!t) {
        o->failed = TM_ENOMEM;
        return;
    }
    tm_buf_put(o, t, strlen(t));
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

int tm_serve_decide_body(tm_gate *g, const char *body, size_t len, int64_t now, tm_serve_shard *m,
                         tm_serve_record_fn rec, void *ud, tm_serve_reply *out)
{
    memset(out, 0, sizeof *out);
    size_t i0 = 0;
    while (i0 < len && (body[i0] == ' ' || body[i0] == '\t' || body[i0] == '\r' || body[i0] == '\n'))
        i0++;
    struct tm_err e = {0};
    char fbuf[128];
    tm_buf o = TM_BUF_INIT;
    if (i0 < len && body[i0] == '{' && !has_text(body, len, "\"record\"")) {
        /* One request, nothing to record: the fast path, as `decide` reads a line. */
        tm_request req;
        char *id_json = NULL;
        if (tm_gate_request_parse(body, len, now, &req, &id_json, &e) != TM_OK) {
            free(id_json);
            if (e.code == TM_ENOMEM)
                return tm_sv_refuse(out, 500, "internal", NULL, "out of memory");
            if (strncmp(e.msg, "not valid JSON: ", 16) == 0)
                return tm_sv_refuse_malformed(out, body, len, e.msg + 16);
            return tm_sv_refuse(out, 400, "invalid_request", tm_sv_field_of(e.msg, fbuf, sizeof fbuf), "%s",
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
            free(o.data);
            return tm_sv_refuse(out, 500, "internal", NULL, "out of memory");
        }
        out->status = 200;
        out->body = o.data;
        out->len = o.len;
        return 200;
    }
    tm_jtok *toks = NULL;
    tm_json j;
    int rc = tm_sv_scan_body(body, len, &toks, &j, &e);
    if (rc != TM_OK) {
        free(toks);
        if (rc == TM_ENOMEM)
            return tm_sv_refuse(out, 500, "internal", NULL, "out of memory");
        return tm_sv_refuse_malformed(out, body, len, e.msg);
    }
    int single = j.tok[0].type == TM_J_OBJECT;
    if (!single && j.tok[0].type != TM_J_ARRAY) {
        free(toks);
        return tm_sv_refuse(out, 400, "invalid_request", NULL,
                      "the body must be a request object or an array of them");
    }
    int count = single ? 1 : (int)j.tok[0].count;
    int t = single ? 0 : 1;
    int status = 200;
    if (!single)
        tm_buf_put(&o, "[", 1);
    for (int i = 0; i < count && status == 200; i++, t = (int)j.tok[t].next) {
        size_t rl;
        const char *raw = tm_json_raw(&j, t, &rl);
        char *id_json = NULL;
        memset(&e, 0, sizeof e);
        if (i)
            tm_buf_put(&o, ",", 1);
        if (j.tok[t].type != TM_J_OBJECT) {
            out_item_error(&o, i, NULL, "invalid_request", "request: must be a JSON object");
            continue;
        }
        tm_request req;
        if (tm_gate_request_parse(raw, rl, now, &req, &id_json, &e) != TM_OK) {
            if (single) {
                status = e.code == TM_ENOMEM
                             ? tm_sv_refuse(out, 500, "internal", NULL, "out of memory")
                             : tm_sv_refuse(out, 400, "invalid_request", tm_sv_field_of(e.msg, fbuf, sizeof fbuf),
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
            status = tm_sv_refuse(out, 503, "store_unavailable", NULL, "the decisions were not recorded");
        out_decision(&o, g, &req, &d);
        tm_gate_decision_free(&d);
        tm_gate_request_free(&req);
    }
    if (!single)
        tm_buf_put(&o, "]", 1);
    free(toks);
    if (status == 200 && o.failed)
        status = tm_sv_refuse(out, 500, "internal", NULL, "out of memory");
    if (status != 200) {
        free(o.data);
        return status;
    }
    out->status = 200;
    out->body = o.data;
    out->len = o.len;
    return 200;
}

/* Recording the decisions of one POST in one transaction, begun at the
 * first decision to record, with their audit records. */
typedef struct recorder {
    tm_sv_req *r;
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

/* A draft's decisions say so, each one, as `decide --draft` writes them
 * (CONTRACT.md, "Script sets"): "draft": true after the decision's last
 * member. Items of an array that are errors are left as they are. Returns
 * the new body (malloc'd; the old one is freed) or NULL when out of memory. */
static char *mark_draft(char *body, size_t *len)
{
    static const char mark[] = ",\"draft\":true}";
    if (*len && body[0] == '{' && body[*len - 1] == '}') {
        char *b = realloc(body, *len + sizeof mark - 1);
        if (!b) {
            free(body);
            return NULL;
        }
        memcpy(b + *len - 1, mark, sizeof mark - 1);
        *len += sizeof mark - 2;
        return b;
    }
    json_t *arr = json_loadb(body, *len, JSON_DECODE_ANY, NULL);
    free(body);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_object_get(v, "scripts"))
            json_object_set_new(v, "draft", json_true());
    char *out = arr ? json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(arr);
    *len = out ? strlen(out) : 0;
    return out;
}

void tm_sv_decide(tm_sv_req *r)
{
    tm_serve_worker *w = r->w;
    if (!w->eng) {
        tm_sv_error(r, 503, "no_active_set",
                    "the store has no active script set: nothing decides until one is activated "
                    "(tallyman scripts activate)", NULL);
        return;
    }
    if (tm_sv_need_type(r, tm_sv_json_types) != 0)
        return;
    size_t len;
    const char *body = tm_sv_body(r->req, &len);
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
            status = tm_sv_refuse(&out, 503, "store_unavailable", NULL, "the decisions were not recorded");
        }
        if (st != TM_OK)
            snprintf(out.message, sizeof out.message, "the decisions were not recorded: %.300s",
                     rc.e.msg);
    }
    if (status == 200 && w->sv->draft && !(out.body = mark_draft(out.body, &out.len)))
        status = tm_sv_refuse(&out, 500, "internal", NULL, "out of memory");
    if (status == 200)
        tm_sv_reply_json(r, 200, out.body, out.len);
    else
        tm_sv_error(r, status, out.code, out.message, out.field);
    free(out.body);
}
