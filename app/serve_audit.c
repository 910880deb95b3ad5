/*
 * app/serve_audit.c: GET /v1/audit (what `tallyman audit export` gives, a
 * page at a time, filtered by debt, actor, action and period) and GET
 * /v1/audit/verify (what `tallyman audit verify` says). The records are the
 * chain's as stored: their details were masked when written (core/audit.h),
 * so no personal data is in clear here.
 */
#include "serve_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "audit.h"
#include "calendar.h"

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX 1000

/* A whole number from `lo` to `hi` in `text`; -1 when it is not one. */
static int64_t whole(const char *text, int64_t lo, int64_t hi)
{
    if (!*text || strspn(text, "0123456789") != strlen(text) || strlen(text) > 18)
        return -1;
    long long v = strtoll(text, NULL, 10);
    return v < lo || v > hi ? -1 : (int64_t)v;
}

/* GET /v1/audit?debt=&actor=&action=&from=&to=&limit=&after= :
 * {"records": [...], "count", "next_after"}: the records in seq order, each
 * as `audit export` writes it (times in RFC 3339); next_after is the `after`
 * of the next page, null on the last. */
void tm_sv_audit_list(tm_sv_req *r)
{
    struct evkeyvalq q = {0};
    const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
    if (qs && evhttp_parse_query_str(qs, &q) != 0) {
        tm_sv_error(r, 400, "invalid_request", "the query string does not decode", NULL);
        return;
    }
    tm_audit_filter f = {.limit = AUDIT_PAGE_DEFAULT};
    char subject[300];
    char msg[200] = "";
    const char *bad = NULL;
    for (struct evkeyval *kv = q.tqh_first; kv && !bad; kv = kv->next.tqe_next) {
        const char *k = kv->key, *v = kv->value;
        if (strcmp(k, "debt") == 0) {
            snprintf(subject, sizeof subject, "debt:%s", v);
            f.subject = subject;
        } else if (strcmp(k, "actor") == 0) {
            f.actor = v;
        } else if (strcmp(k, "action") == 0) {
            f.action = v;
        } else if (strcmp(k, "from") == 0 || strcmp(k, "to") == 0) {
            if (tm_calendar_parse_bound(v, k[0] == 't', k[0] == 'f' ? &f.from : &f.to, NULL) != TM_OK) {
                bad = k;
                snprintf(msg, sizeof msg, "%s: needs a date (YYYY-MM-DD) or an RFC 3339 time", k);
            }
        } else if (strcmp(k, "limit") == 0) {
            if ((f.limit = (long)whole(v, 1, AUDIT_PAGE_MAX)) < 0) {
                bad = k;
                snprintf(msg, sizeof msg, "limit: a number from 1 to %d", AUDIT_PAGE_MAX);
            }
        } else if (strcmp(k, "after") == 0) {
            if ((f.after = whole(v, 0, INT64_MAX / 2)) < 0) {
                bad = k;
                snprintf(msg, sizeof msg, "after: a record's seq (the next_after of a page)");
            }
        } else {
            bad = k;
            snprintf(msg, sizeof msg, "%.60s: not a filter (debt, actor, action, from, to, limit, after)", k);
        }
    }
    if (bad) {
        char field[64];
        snprintf(field, sizeof field, "%s", bad);
        evhttp_clear_headers(&q);
        tm_sv_error(r, 400, "invalid_request", msg, field);
        return;
    }
    tm_buf out = TM_BUF_INIT;
    tm_buf_puts(&out, "{\"records\":[");
    tm_audit_page page;
    struct tm_err e = {0};
    int rc = tm_audit_select(r->w->store, &f, &out, &page, &e);
    evhttp_clear_headers(&q);
    if (rc == TM_OK) {
        char tail[80];
        if (page.more)
            snprintf(tail, sizeof tail, "],\"count\":%ld,\"next_after\":%lld}", page.records,
                     (long long)page.last_seq);
        else
            snprintf(tail, sizeof tail, "],\"count\":%ld,\"next_after\":null}", page.records);
        tm_buf_puts(&out, tail);
    }
    if (rc == TM_OK && !tm_buf_failed(&out))
        tm_sv_reply_json(r, 200, out.data, out.len);
    else if (rc == TM_OK || rc == TM_ENOMEM)
        tm_sv_error(r, 500, "internal", "out of memory", NULL);
    else
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
    tm_buf_free(&out);
}

/* GET /v1/audit/verify: 200 {"intact": true, "records"} when the chain
 * holds; 409 with the error shape (code audit_chain_broken, the message as
 * `audit verify` words it) plus "records" and "broken_at" when it does not. */
void tm_sv_audit_verify(tm_sv_req *r)
{
    tm_audit_report rep;
    struct tm_err e = {0};
    int rc = tm_audit_verify(r->w->store, r->w->sv->audit_key, &rep, &e);
    if (rc == TM_OK) {
        tm_sv_reply_value(r, 200, json_pack("{s:b,s:I}", "intact", 1, "records", (json_int_t)rep.records));
        return;
    }
    if (rc != TM_ECRYPTO) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    char msg[400];
    snprintf(msg, sizeof msg, "audit chain broken at record %lld: %s", (long long)rep.bad_seq,
             rep.problem);
    json_t *v = tm_sv_error_value("audit_chain_broken", msg, NULL);
    if (v) {
        json_object_set_new(v, "intact", json_false());
        json_object_set_new(v, "records", json_integer(rep.records));
        json_object_set_new(v, "broken_at", json_integer(rep.bad_seq));
    }
    tm_sv_reply_value(r, 409, v);
}
