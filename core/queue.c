/*
 * core/queue.c: working the agent queues (queue.h).
 */
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "calendar.h"

json_t *tm_queue_item_json(const tm_queue_item *q)
{
    char since[32];
    tm_calendar_format_rfc3339(q->at, 0, since, sizeof since, NULL);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id", (json_int_t)q->id,
                          "queue", q->queue, "debt_id", q->debt_ref, "since", since, "journey",
                          q->journey, "state", q->journey_state, "reason", q->reason, "status",
                          tm_store_queue_status_name(q->status), "balance_minor",
                          (json_int_t)q->balance, "currency", q->currency);
    if (j && q->outcome[0])
        json_object_set_new(j, "outcome", json_string(q->outcome));
    if (j && q->closed_by[0])
        json_object_set_new(j, "closed_by", json_string(q->closed_by));
    return j;
}

/* Appends audit record `action` about queue item `id` with `details`, by `by`. */
static int audit_item(tm_store *s, const uint8_t akey[32], int64_t now, const char *by,
                      const char *action, int64_t id, json_t *details, struct tm_err *err)
{
    char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;
    json_decref(details);
    if (!text)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    char subject[64];
    snprintf(subject, sizeof subject, "queue:%lld", (long long)id);
    int rc = tm_audit_append(s, akey, now, by, action, subject, text, err);
    free(text);
    return rc;
}

int tm_queue_close(tm_store *s, const uint8_t akey[32], int64_t id, const char *by,
                   const char *outcome, int64_t now, int *closed, struct tm_err *err)
{
    *closed = 0;
    int rc = tm_store_begin(s, err);
    if (rc == TM_OK)
        rc = tm_store_queue_close(s, id, by, outcome, now, closed, err);
    if (rc == TM_OK && *closed)
        rc = audit_item(s, akey, now, by, "queue.closed", id,
                        json_pack("{s:I, s:s, s:s}", "item", (json_int_t)id, "by", by, "outcome",
                                  outcome),
                        err);
    if (rc == TM_OK)
        return tm_store_commit(s, err);
    tm_store_rollback(s);
    *closed = 0;
    return rc;
}

int tm_queue_claim(tm_store *s, const uint8_t akey[32], const char *queue, int64_t id,
                   const char *by, int64_t now, int64_t ttl, tm_queue_claim_result *res,
                   struct tm_err *err)
{
    memset(res, 0, sizeof *res);
    int rc = tm_store_begin(s, err);
    if (rc == TM_OK)
        rc = tm_store_queue_claim(s, queue, id, by, now, now + ttl, &res->item, res->holder,
                                  sizeof res->holder, &res->held_until, err);
    if (rc == TM_OK && res->item) {
        char until[32];
        tm_calendar_format_rfc3339(now + ttl, 0, until, sizeof until, NULL);
        rc = audit_item(s, akey, now, by, "queue.claimed", res->item,
                        json_pack("{s:I, s:s, s:s, s:s}", "item", (json_int_t)res->item, "queue",
                                  queue, "by", by, "until", until),
                        err);
    }
    if (rc == TM_OK)
        return tm_store_commit(s, err);
    tm_store_rollback(s);
    res->item = 0;
    return rc;
}

int tm_queue_consumer(tm_store *s, const tm_keys *keys, int64_t consumer, tm_contact_points *p,
                      struct tm_err *err)
{
    memset(p, 0, sizeof *p);
    char ext[129], aad[160];
    uint8_t *blob = NULL;
    size_t len = 0;
    int rc = tm_store_consumer_pii(s, consumer, ext, &blob, &len, err);
    if (rc != TM_OK || !blob)
        return rc;
    snprintf(aad, sizeof aad, "consumer:%s", ext);
    char *plain = NULL;
    size_t plen = 0;
    rc = tm_keys_decrypt(keys, blob, len, aad, &plain, &plen, err);
    free(blob);
    if (rc == TM_OK)
        tm_contact_points_read(plain, plen, NULL, p, NULL);
    if (plain) {
        OPENSSL_cleanse(plain, plen);
        free(plain);
    }
    return rc;
}
