/*
 * app/cycle_dispatch.c: phase 5 of the daily cycle (cycle_int.h). Workers
 * decrypt and send a chunk of ready messages (one at a time through an
 * adapter that is not safe to share); the caller's thread makes the chunk
 * durable with one flush, then marks it sent. A crash before the mark sends
 * nothing twice: the rerun finds each spooled file (or the receiver's key)
 * and records it as already sent.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cycle_int.h"
#include "jw.h"
#include "stopat.h"

/* Messages per dispatch chunk: each chunk ends with one sync of the spool's
 * file system, which waits for the disk, so chunks are larger here. */
#define SEND_CHUNK 2048

typedef struct send_item {
    tm_outbox_rec o;
    char debt_id[129];
    int unreadable;
    int send_rc;          /* tm_adapter_send's return */
    tm_send_result sr;
    char msg[600];
} send_item;

typedef struct send_job {
    run *r;
    send_item *items;
    size_t n;
    int newest; /* the highest key version of the messages read */
    pthread_mutex_t *lock; /* NULL when the adapter may be shared */
    atomic_int *refused;   /* set when the receiver's certificate did not verify */
} send_job;

static void send_fn(void *ctx, int worker, size_t i)
{
    (void)worker;
    send_job *j = ctx;
    run *r = j->r;
    send_item *it = &j->items[i];
    tm_outbox_rec *o = &it->o;
    char aad[300];
    snprintf(aad, sizeof aad, "outbox:%s", o->key);
    char *plain = NULL;
    size_t plen = 0;
    json_t *msg = NULL;
    struct tm_err e = {0};
    if (!o->payload_owned ||
        tm_keys_decrypt(r->keys, (const uint8_t *)o->payload_owned, o->payload_len, aad, &plain, &plen,
                        &e) != TM_OK ||
        !(msg = json_loadb(plain, plen, 0, NULL))) {
        it->unreadable = 1;
        snprintf(it->msg, sizeof it->msg, "%.500s", e.msg[0] ? e.msg : "not JSON");
    } else if (!json_string_value(json_object_get(msg, "to")) ||
               !json_string_value(json_object_get(msg, "to"))[0]) {
        /* Rendered without a recipient (before recipients were resolved):
         * nothing goes to an empty address. */
        it->unreadable = 1;
        snprintf(it->msg, sizeof it->msg, "the message has no recipient");
    } else {
        tm_message m = {.key = o->key, .channel = o->channel, .debt_id = it->debt_id,
                        .template_id = o->template_id,
                        .language = json_string_value(json_object_get(msg, "language")),
                        .to = json_string_value(json_object_get(msg, "to")),
                        .subject = json_string_value(json_object_get(msg, "subject")),
                        .text = json_string_value(json_object_get(msg, "text")),
                        .html = json_string_value(json_object_get(msg, "html")),
                        .send_at = o->send_at};
        /* A receiver whose certificate does not verify will refuse every
         * message alike: after the first, the rest stay ready for a later
         * run instead of each making a handshake. */
        if (j->lock)
            pthread_mutex_lock(j->lock);
        if (atomic_load(j->refused)) {
            it->send_rc = TM_ECRYPTO;
            it->msg[0] = '\0';
        } else {
            it->send_rc = tm_adapter_send(r->out, &m, &it->sr, &e);
            if (it->send_rc != TM_OK)
                snprintf(it->msg, sizeof it->msg, "%.500s", e.msg);
            if (it->send_rc == TM_ECRYPTO)
                atomic_store(j->refused, 1);
        }
        if (j->lock)
            pthread_mutex_unlock(j->lock);
    }
    json_decref(msg);
    if (plain) {
        OPENSSL_cleanse(plain, plen);
        free(plain);
    }
}

static void send_job_clear(send_job *j)
{
    for (size_t i = 0; i < j->n; i++)
        free(j->items[i].o.payload_owned);
    j->n = 0;
    j->newest = 0;
}

static int load_sends(run *r, send_job *j, const int64_t *ids, size_t n, struct tm_err *err)
{
    send_job_clear(j);
    for (size_t i = 0; i < n; i++) {
        send_item *it = &j->items[j->n];
        memset(it, 0, sizeof *it);
        int found = 0;
        int rc = tm_store_outbox_get(r->s, ids[i], &it->o, &found, err);
        if (rc == TM_OK && found) {
            found = it->o.debt_ref[0] != '\0';
            snprintf(it->debt_id, sizeof it->debt_id, "%s", it->o.debt_ref);
        }
        if (rc != TM_OK || !found || it->o.status != TM_OUTBOX_READY) {
            free(it->o.payload_owned);
            if (rc != TM_OK) {
                send_job_clear(j);
                return rc;
            }
            continue;
        }
        int v = tm_keys_blob_version((const uint8_t *)it->o.payload_owned, it->o.payload_len);
        j->newest = v > j->newest ? v : j->newest;
        j->n++;
    }
    return TM_OK;
}

static int write_sends(run *r, send_job *j, struct tm_err *err)
{
    struct tm_err fe = {0};
    int durable = tm_adapter_flush(r->out, &fe) == TM_OK;
    if (!durable)
        tm__cycle_report(r, "dispatch: %s (the batch stays ready and is sent again)", fe.msg);
    int rc = TM_OK;
    for (size_t i = 0; i < j->n && rc == TM_OK; i++) {
        send_item *it = &j->items[i];
        tm_outbox_rec *o = &it->o;
        if (it->unreadable) {
            tm__cycle_report(r, "debt %s: outbox %s: the stored message cannot be read: %s", it->debt_id, o->key,
                   it->msg);
            r->st->failed++;
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_FAILED, o->send_at, "unreadable", NULL, 0, err);
        } else if (it->send_rc != TM_OK || !durable) {
            if (it->send_rc != TM_OK && it->msg[0])
                tm__cycle_report(r, "debt %s: outbox %s: %s", it->debt_id, o->key, it->msg);
            r->st->retry++;
        } else if (it->sr.outcome == TM_SEND_SENT || it->sr.outcome == TM_SEND_DUPLICATE) {
            if (it->sr.outcome == TM_SEND_SENT) {
                r->st->sent++;
                tm__cycle_count_channel(r->st, o->channel);
            } else {
                r->st->duplicates++;
            }
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_SENT, o->send_at, NULL, NULL, o->send_at, err);
            if (rc == TM_OK) {
                char subject[160];
                snprintf(subject, sizeof subject, "debt:%s", it->debt_id);
                tm_buf db = TM_BUF_INIT;
                tm_jw jw;
                tm_jw_init(&jw, &db, 0);
                tm_jw_obj(&jw);
                tm_jw_key(&jw, "key");
                tm_jw_str(&jw, o->key);
                tm_jw_key(&jw, "channel");
                tm_jw_str(&jw, o->channel);
                tm_jw_key(&jw, "template");
                tm_jw_str(&jw, o->template_id);
                tm_jw_key(&jw, "outcome");
                tm_jw_str(&jw, it->sr.outcome == TM_SEND_SENT ? "sent" : "already sent");
                tm_jw_obj_end(&jw);
                rc = tm_buf_done(&db, "the message's audit record", err);
                if (rc == TM_OK)
                    rc = tm_audit_write(r->audit, o->send_at, "cycle", "outbox.sent", subject, db.data, err);
                tm_buf_free(&db);
            }
            tm_stopat("run.sent"); /* run: after each message spooled and marked sent, uncommitted */
        } else if (it->sr.outcome == TM_SEND_RETRY) {
            r->st->retry++;
        } else {
            r->st->failed++;
            tm__cycle_report(r, "debt %s: outbox %s: %s", it->debt_id, o->key, it->sr.detail);
            rc = tm_store_outbox_set(r->s, o->id, TM_OUTBOX_FAILED, o->send_at, NULL, NULL, 0, err);
        }
        if (rc == TM_OK)
            rc = tm__cycle_tx_step(r, err);
    }
    return rc;
}

int tm__cycle_dispatch(run *r, struct tm_err *err)
{
    if (!r->out)
        return TM_OK;
    int64_t *ids = NULL;
    size_t n = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    atomic_int refused;
    atomic_init(&refused, 0);
    send_job jobs[2] = {{.r = r}, {.r = r}};
    for (int k = 0; k < 2; k++) {
        jobs[k].lock = tm_adapter_concurrent(r->out) ? NULL : &lock;
        jobs[k].refused = &refused;
    }
    jobs[0].items = malloc(SEND_CHUNK * sizeof *jobs[0].items);
    jobs[1].items = malloc(SEND_CHUNK * sizeof *jobs[1].items);
    int rc = jobs[0].items && jobs[1].items ? tm_store_work_ready(r->s, &ids, &n, err)
                                            : tm_err_set(err, TM_ENOMEM, "out of memory");
    tm_adapter_batch(r->out, 1);
    if (rc == TM_OK)
        rc = tm__cycle_tx_begin(r, err);
    size_t nchunks = (n + SEND_CHUNK - 1) / SEND_CHUNK;
    if (rc == TM_OK && nchunks) {
        rc = load_sends(r, &jobs[0], ids, n < SEND_CHUNK ? n : SEND_CHUNK, err);
        if (rc == TM_OK)
            rc = tm__cycle_keys_for(r, jobs[0].newest, err);
        if (rc == TM_OK)
            tm_pool_submit(r->pool, send_fn, &jobs[0], jobs[0].n);
    }
    for (size_t k = 0; k < nchunks && rc == TM_OK; k++) {
        tm__cycle_progress(r, "dispatch", (long)(k * SEND_CHUNK), (long)n);
        send_job *cur = &jobs[k % 2], *nxt = &jobs[(k + 1) % 2];
        size_t at = (k + 1) * SEND_CHUNK;
        if (k + 1 < nchunks)
            rc = load_sends(r, nxt, ids + at, n - at < SEND_CHUNK ? n - at : SEND_CHUNK, err);
        tm_pool_wait(r->pool);
        if (rc == TM_OK && k + 1 < nchunks)
            rc = tm__cycle_keys_for(r, nxt->newest, err);
        if (rc == TM_OK && k + 1 < nchunks)
            tm_pool_submit(r->pool, send_fn, nxt, nxt->n);
        if (rc == TM_OK)
            rc = write_sends(r, cur, err);
    }
    tm_pool_wait(r->pool);
    r->st->receiver_refused = atomic_load(&refused);
    if (r->st->receiver_refused)
        tm__cycle_report(r, "dispatch: the receiver's certificate did not verify: %ld messages stay ready "
                  "for a later run", r->st->retry);
    /* What a failed run left written but unmarked is found again by the rerun. */
    tm_adapter_flush(r->out, NULL);
    tm_adapter_batch(r->out, 0);
    tm__cycle_progress(r, "dispatch", (long)n, (long)n);
    if (rc == TM_OK)
        rc = tm__cycle_tx_commit(r, err);
    for (int k = 0; k < 2; k++) {
        if (jobs[k].items)
            send_job_clear(&jobs[k]);
        free(jobs[k].items);
    }
    free(ids);
    return rc;
}
