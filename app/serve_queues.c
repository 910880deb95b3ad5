/*
 * app/serve_queues.c: the agent queues as `tallyman queue` shows and closes
 * them (core/queue.h): GET /v1/queues/{name} (the open items), POST
 * /v1/queues/{name}/claim (the next item, or a named one, for the caller: no
 * one else is given it until it is closed or the claim expires) and POST
 * /v1/queues/{name}/items/{id}/close (with an outcome, audited as the
 * command audits it).
 *
 * Personal data: an item carries the consumer's name, phone and email, the
 * one who works it needs them; in clear only to a caller whose roles grant
 * TM_PERM_PII_READ, masked (tm_contact_points_mask) for anyone else.
 * GET /v1/queues/{name} and POST .../claim return it (consumer_of below is
 * the one place it is read, for the access audit to hook).
 */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <openssl/crypto.h>

#include "calendar.h"
#include "portfolio.h"
#include "queue.h"

#define CLAIM_TTL_DEFAULT (15 * 60)
#define CLAIM_TTL_MIN 60
#define CLAIM_TTL_MAX (24 * 60 * 60)

/* Who works the queue: the caller, as the audit log names it. */
static void actor_of(const tm_sv_req *r, char *out, size_t cap)
{
    snprintf(out, cap, "serve:%s", r->token);
}

typedef struct items_ctx {
    tm_sv_req *r;
    json_t *items;
    int64_t now;
    int with_consumer;
    int rc;
    json_t *shown; /* the debts whose consumer is in the reply in clear */
} items_ctx;

/* The fields of a consumer a reply shows (tm_sv_record_personal_data). */
static const char *const shown_fields[] = {"first_name", "last_name", "phone", "email", NULL};

/* The consumer of item `q` as JSON for caller c->r: in clear when its roles
 * grant TM_PERM_PII_READ (the debt then noted in c->shown, for the access
 * record), masked otherwise; NULL (JSON null) when the data cannot be read. */
static json_t *consumer_of(items_ctx *c, const tm_queue_item *q)
{
    tm_sv_req *r = c->r;
    tm_contact_points p;
    struct tm_err e = {0};
    int clear = tm_access_allows(r->roles, TM_PERM_PII_READ);
    if (tm_queue_consumer(r->w->store, r->w->sv->keys, q->consumer, &p, &e) != TM_OK) {
        OPENSSL_cleanse(&p, sizeof p);
        return json_null();
    }
    if (!clear)
        tm_contact_points_mask(&p);
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:b}", "first_name", p.first_name, "last_name",
                          p.last_name, "phone", p.phone, "email", p.email, "masked", !clear);
    OPENSSL_cleanse(&p, sizeof p);
    if (v && clear)
        json_array_append_new(c->shown, json_string(q->debt_ref));
    return v ? v : json_null();
}

/* Records, before the reply goes, that it shows the consumers of the debts
 * in c->shown in clear: one access record per debt (who, which debt, which
 * fields, the route). Returns 0, or -1 after replying 503 (the data is not
 * shown when its showing cannot be recorded). */
static int record_shown(items_ctx *c)
{
    size_t i;
    json_t *d;
    json_array_foreach(c->shown, i, d) {
        if (tm_sv_record_personal_data(c->r, json_string_value(d), shown_fields) != TM_OK) {
            tm_sv_error(c->r, 503, "store_unavailable",
                        "the access to personal data cannot be recorded now", NULL);
            return -1;
        }
    }
    return 0;
}

/* An item as JSON: the command's fields, its claim ({by, until} or null)
 * and, when asked, its consumer. */
static int add_item(void *ud, const tm_queue_item *q)
{
    items_ctx *c = ud;
    json_t *j = tm_queue_item_json(q);
    if (!j)
        return TM_ENOMEM;
    char holder[160];
    int64_t until = 0;
    int found = 0;
    struct tm_err e = {0};
    int rc = q->status == TM_QUEUE_OPEN
                 ? tm_store_queue_claim_get(c->r->w->store, NULL, q->id, c->now, &found, holder,
                                            sizeof holder, &until, &e)
                 : TM_OK;
    if (rc != TM_OK) {
        json_decref(j);
        return rc;
    }
    char u[32];
    tm_calendar_format_rfc3339(until, 0, u, sizeof u, NULL);
    json_object_set_new(j, "claim", found && holder[0] ? json_pack("{s:s,s:s}", "by", holder, "until", u)
                                                       : json_null());
    if (c->with_consumer)
        json_object_set_new(j, "consumer", consumer_of(c, q));
    json_array_append_new(c->items, j);
    return TM_OK;
}

static int stop_at_first(void *ud, const tm_queue_item *q)
{
    (void)q;
    *(int *)ud = 1;
    return 1;
}

/* 1 when queue `name` has ever had an item; -1 after replying 503. */
static int queue_known(tm_sv_req *r, const char *name)
{
    int seen = 0;
    struct tm_err e = {0};
    int rc = tm_store_queue_list(r->w->store, name, 1, stop_at_first, &seen, &e);
    if (rc != TM_OK && rc != 1) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return -1;
    }
    if (!seen)
        tm_sv_error(r, 404, "not_found", "no such queue", "name");
    return seen;
}

/* The reply for one item (by id), with its claim and consumer. */
static void reply_item(tm_sv_req *r, int64_t id, int with_consumer)
{
    items_ctx c = {.r = r, .items = json_array(), .now = (int64_t)time(NULL),
                   .with_consumer = with_consumer, .shown = json_array()};
    int found = 0;
    struct tm_err e = {0};
    int rc = c.items ? tm_store_queue_item(r->w->store, id, add_item, &c, &found, &e) : TM_ENOMEM;
    if (rc != TM_OK || !found) {
        json_decref(c.items);
        json_decref(c.shown);
        tm_sv_error(r, rc == TM_ENOMEM ? 500 : 503, rc == TM_ENOMEM ? "internal" : "store_unavailable",
                    "the item cannot be read now", NULL);
        return;
    }
    json_t *it = json_incref(json_array_get(c.items, 0));
    json_decref(c.items);
    if (record_shown(&c) != 0) {
        json_decref(it);
        json_decref(c.shown);
        return;
    }
    json_decref(c.shown);
    tm_sv_reply_value(r, 200, it);
}

/* GET /v1/queues/{name}: {"queue", "items": [...]}, oldest first. */
void tm_sv_queue(tm_sv_req *r)
{
    const char *name = r->arg[0];
    if (queue_known(r, name) <= 0)
        return;
    items_ctx c = {.r = r, .items = json_array(), .now = (int64_t)time(NULL), .with_consumer = 1,
                   .shown = json_array()};
    struct tm_err e = {0};
    int rc = c.items ? tm_store_queue_list(r->w->store, name, 0, add_item, &c, &e) : TM_ENOMEM;
    if (rc != TM_OK) {
        json_decref(c.items);
        json_decref(c.shown);
        tm_sv_error(r, rc == TM_ENOMEM ? 500 : 503, rc == TM_ENOMEM ? "internal" : "store_unavailable",
                    "the queue cannot be read now", NULL);
        return;
    }
    if (record_shown(&c) != 0) {
        json_decref(c.items);
        json_decref(c.shown);
        return;
    }
    json_decref(c.shown);
    tm_sv_reply_value(r, 200, json_pack("{s:s,s:o}", "queue", name, "items", c.items));
}

/* POST /v1/queues/{name}/claim, body {"item": ID, "ttl": SECONDS} (both
 * optional): the item claimed, with its consumer. */
void tm_sv_queue_claim(tm_sv_req *r)
{
    const char *name = r->arg[0];
    json_t *b = tm_sv_json_object(r, 1);
    if (!b)
        return;
    json_t *item = json_object_get(b, "item"), *ttl = json_object_get(b, "ttl");
    if (item && !(json_is_integer(item) && json_integer_value(item) > 0)) {
        json_decref(b);
        tm_sv_error(r, 400, "invalid_request", "item: an item's id (a positive whole number)", "item");
        return;
    }
    if (ttl && !(json_is_integer(ttl) && json_integer_value(ttl) >= CLAIM_TTL_MIN &&
                 json_integer_value(ttl) <= CLAIM_TTL_MAX)) {
        json_decref(b);
        tm_sv_error(r, 400, "invalid_request", "ttl: seconds from 60 to 86400", "ttl");
        return;
    }
    int64_t id = item ? (int64_t)json_integer_value(item) : 0;
    int64_t secs = ttl ? (int64_t)json_integer_value(ttl) : CLAIM_TTL_DEFAULT;
    json_decref(b);
    if (queue_known(r, name) <= 0)
        return;
    char by[160];
    actor_of(r, by, sizeof by);
    tm_queue_claim_result res;
    struct tm_err e = {0};
    if (tm_queue_claim(r->w->store, r->w->sv->audit_key, name, id, by, (int64_t)time(NULL), secs, &res,
                       &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be written now", NULL);
        return;
    }
    if (!res.item && res.holder[0]) {
        char until[32], msg[300];
        tm_calendar_format_rfc3339(res.held_until, 0, until, sizeof until, NULL);
        snprintf(msg, sizeof msg, "item %lld is claimed by %s until %s", (long long)id, res.holder, until);
        tm_sv_error(r, 409, "claimed", msg, "item");
        return;
    }
    if (!res.item) {
        if (id)
            tm_sv_error(r, 404, "not_found", "no such open item in this queue", "item");
        else
            tm_sv_error(r, 404, "queue_empty", "no open item in this queue is free to claim", NULL);
        return;
    }
    reply_item(r, res.item, 1);
}

/* POST /v1/queues/{name}/items/{id}/close, body {"outcome": TEXT}: closed as
 * `tallyman queue close` closes it, by the caller; an item someone else
 * holds a claim on is theirs to close (409). */
void tm_sv_queue_close(tm_sv_req *r)
{
    const char *name = r->arg[0], *ids = r->arg[1];
    int64_t id = 0;
    if (strspn(ids, "0123456789") == strlen(ids) && strlen(ids) <= 18)
        id = strtoll(ids, NULL, 10);
    json_t *b = tm_sv_json_object(r, 1);
    if (!b)
        return;
    json_t *o = json_object_get(b, "outcome");
    if (o && !json_is_string(o)) {
        json_decref(b);
        tm_sv_error(r, 400, "invalid_request", "outcome: what came of it, as text", "outcome");
        return;
    }
    char outcome[64];
    snprintf(outcome, sizeof outcome, "%s", o ? json_string_value(o) : "");
    json_decref(b);
    char by[160], holder[160];
    actor_of(r, by, sizeof by);
    int found = 0;
    int64_t until = 0;
    struct tm_err e = {0};
    int64_t now = (int64_t)time(NULL);
    if (id > 0 && tm_store_queue_claim_get(r->w->store, name, id, now, &found, holder, sizeof holder,
                                           &until, &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    if (!found) {
        tm_sv_error(r, 404, "not_found", "no such open item in this queue", "id");
        return;
    }
    if (holder[0] && strcmp(holder, by) != 0) {
        char u[32], msg[300];
        tm_calendar_format_rfc3339(until, 0, u, sizeof u, NULL);
        snprintf(msg, sizeof msg, "item %lld is claimed by %s until %s", (long long)id, holder, u);
        tm_sv_error(r, 409, "claimed", msg, "id");
        return;
    }
    int closed = 0;
    if (tm_queue_close(r->w->store, r->w->sv->audit_key, id, by, outcome, now, &closed, &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be written now", NULL);
        return;
    }
    if (!closed) { /* closed by someone else between the two */
        tm_sv_error(r, 404, "not_found", "no such open item in this queue", "id");
        return;
    }
    reply_item(r, id, 0);
}
