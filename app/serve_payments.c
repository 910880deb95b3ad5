/*
 * app/serve_payments.c: POST /v1/payments: card payments through the same
 * intake as `tallyman pay` (core/pay_intake.h): each item checked, its card
 * number made a token at once, counted against the velocity limits, charged
 * once per idempotency key ("key"), recorded, audited and applied as a
 * payment; a result per item. The card numbers in the body are wiped once
 * the items are taken: they reach no store, log or reply.
 */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "pay_intake.h"

/* The velocity limits, as `tallyman pay` has them by default. */
#define PAY_PER_CARD 3
#define PAY_PER_DEBT 5
#define PAY_WINDOW (60 * 60)

static const char *const status_names[] = {
    [TM_INTAKE_APPROVED] = "approved", [TM_INTAKE_DECLINED] = "declined",
    [TM_INTAKE_PENDING] = "pending",   [TM_INTAKE_DUPLICATE] = "duplicate",
    [TM_INTAKE_REFUSED] = "refused",   [TM_INTAKE_REJECTED] = "rejected"};

/* One item's result: {"index", "status", "token", "reference"} and, when it
 * was not taken, "error" {"code", "message", "field"}. */
static json_t *item_value(int i, const tm_pay_intake_result *res)
{
    json_t *it = json_pack("{s:i,s:s,s:o,s:o}", "index", i, "status", status_names[res->status],
                           "token", res->token[0] ? json_string(res->token) : json_null(),
                           "reference", res->reference[0] ? json_string(res->reference) : json_null());
    int rejected = res->status == TM_INTAKE_REJECTED;
    if (it && (rejected || res->status == TM_INTAKE_REFUSED))
        json_object_set_new(it, "error",
                            json_pack("{s:s,s:s,s:o}", "code", rejected ? "invalid_item" : "velocity_limit",
                                      "message", res->message, "field",
                                      rejected ? json_string(res->field) : json_null()));
    return it;
}

void tm_sv_payments(tm_sv_req *r)
{
    tm_serve_worker *w = r->w;
    tm_buf lines = TM_BUF_INIT;
    char **keys = NULL;
    int n = tm_sv_body_items(r, 0, &lines, &keys);
    size_t len;
    const char *body = tm_sv_body(r->req, &len);
    tm_sv_free_keys(keys, n > 0 ? n : 0);
    if (n <= 0 || lines.failed) {
        if (n == 0)
            tm_sv_error(r, 400, "invalid_request", "no items in the body", NULL);
        else if (n > 0)
            tm_sv_error(r, 500, "internal", "out of memory", NULL);
        goto wipe;
    }
    char actor[160];
    snprintf(actor, sizeof actor, "serve:%s", r->token);
    tm_pay_intake_opts po = {.per_card = PAY_PER_CARD, .per_debt = PAY_PER_DEBT,
                             .window = PAY_WINDOW, .name = "item", .actor = actor};
    tm_pay_intake *in = NULL;
    struct tm_err e = {0};
    int rc = tm_pay_intake_new(w->store, w->sv->keys, &po, &in, &e);
    json_t *results = json_array();
    long count[TM_INTAKE_REJECTED + 1] = {0};
    int64_t now = (int64_t)time(NULL);
    char *p = lines.data;
    for (int i = 0; rc == TM_OK && i < n; i++) {
        char *nl = memchr(p, '\n', lines.len - (size_t)(p - lines.data));
        size_t ll = (size_t)(nl - p);
        tm_pay_intake_result res;
        rc = tm_pay_intake_take(in, p, ll, i + 1, now, &res, &e);
        if (rc == TM_OK) {
            count[res.status]++;
            json_array_append_new(results, item_value(i, &res));
        }
        p = nl + 1;
    }
    tm_pay_intake_free(in);
    if (rc != TM_OK) {
        /* The items before this one are taken and on file; the store or
         * memory failed on this one, which the same request again retries
         * without charging the others twice (their keys). */
        json_decref(results);
        char msg[400];
        snprintf(msg, sizeof msg, "%.300s (the items before it are taken; send the same request "
                                  "again: a key is never charged twice)", e.msg);
        tm_sv_error(r, rc == TM_ENOMEM ? 500 : 503,
                    rc == TM_ENOMEM ? "internal" : "store_unavailable", msg, NULL);
        goto wipe;
    }
    tm_sv_reply_value(
        r, 200,
        json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "items", n, "approved",
                  (json_int_t)count[TM_INTAKE_APPROVED], "declined",
                  (json_int_t)count[TM_INTAKE_DECLINED], "pending",
                  (json_int_t)count[TM_INTAKE_PENDING], "duplicates",
                  (json_int_t)count[TM_INTAKE_DUPLICATE], "refused",
                  (json_int_t)count[TM_INTAKE_REFUSED], "rejected",
                  (json_int_t)count[TM_INTAKE_REJECTED], "results", results));
wipe:
    /* The body and its copy may hold card numbers. */
    if (lines.data)
        OPENSSL_cleanse(lines.data, lines.cap);
    free(lines.data);
    if (len)
        OPENSSL_cleanse((char *)body, len);
}
