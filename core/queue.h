/*
 * core/queue.h: working the agent queues (the debts journeys hand to people,
 * j:queue): an item as JSON, claiming one to work and closing it with its
 * outcome, each audited; and the consumer's personal data for the one who
 * works it. `tallyman queue` and the service's /v1/queues routes both go
 * through here.
 */
#ifndef TM_QUEUE_H
#define TM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "contact.h"
#include "keys.h"
#include "store.h"
#include "tm_status.h"

/* Item `q` as a new JSON object (NULL when out of memory): id, queue,
 * debt_id, since (RFC 3339), journey, state, reason, status, balance_minor,
 * currency, and once closed outcome and closed_by. No personal data. */
json_t *tm_queue_item_json(const tm_queue_item *q);

/* Closes open item `id` as worked by `by` with `outcome` (may be ""), at
 * `now`, and audits it (queue.closed, actor `by`), in one transaction.
 * *closed 0 when there is no such open item (nothing written). TM_OK, or the
 * store's error (nothing written). */
int tm_queue_close(tm_store *s, const uint8_t akey[32], int64_t id, const char *by,
                   const char *outcome, int64_t now, int *closed, struct tm_err *err);

/* What tm_queue_claim did. */
typedef struct tm_queue_claim_result {
    int64_t item;      /* the item claimed; 0 when none */
    char holder[160];  /* a named item held by another: who ("" otherwise) */
    int64_t held_until;
} tm_queue_claim_result;

/* Claims item `id` of `queue` (0: the oldest open one no one holds) for
 * `by` from `now` for `ttl` seconds, and audits it (queue.claimed), in one
 * transaction (store.h, tm_store_queue_claim, says which items may be
 * taken). TM_OK with res->item 0 when none could be claimed. */
int tm_queue_claim(tm_store *s, const uint8_t akey[32], const char *queue, int64_t id,
                   const char *by, int64_t now, int64_t ttl, tm_queue_claim_result *res,
                   struct tm_err *err);

/* The contact points of consumer `consumer` (row id), decrypted with `keys`
 * into *p (zeroed first; the decrypted text is wiped). TM_OK; TM_ECRYPTO
 * when the data does not decrypt; the store's error. The caller wipes *p. */
int tm_queue_consumer(tm_store *s, const tm_keys *keys, int64_t consumer, tm_contact_points *p,
                      struct tm_err *err);

#endif
