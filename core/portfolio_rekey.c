/*
 * core/portfolio_rekey.c: key rotation (portfolio.h, tm_portfolio_reencrypt):
 * re-encrypt in batches. Every column that holds ciphertext is
 * a kind here: consumers' personal data and outbox payloads (found by their
 * key_version column) and debts' attributes (whose version is in the blob
 * only, so every debt is visited in id order).
 */
#include "portfolio.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

enum { RK_CONSUMERS, RK_DEBTS, RK_OUTBOX, RK_KINDS };

typedef struct rekey {
    tm_store *s;
    const tm_keys *keys;
    int kind;
    long done[RK_KINDS];
    struct tm_err *err;
} rekey;

static int rekey_one(void *ud, int64_t id, const char *bound_to, const uint8_t *blob, size_t len)
{
    rekey *r = ud;
    int cur = tm_keys_current(r->keys);
    /* A consumer's or an outbox row's version is also in its row, which the
     * scan goes by, so those are always rewritten (else a mismatch would come
     * back on every scan). */
    if (r->kind == RK_DEBTS && tm_keys_blob_version(blob, len) == cur)
        return TM_OK;
    char *plain = NULL;
    size_t plen = 0;
    uint8_t *nb = NULL;
    size_t nl = 0;
    int rc = tm_keys_decrypt(r->keys, blob, len, bound_to, &plain, &plen, r->err);
    if (rc == TM_OK)
        rc = tm_keys_encrypt(r->keys, plain, plen, bound_to, &nb, &nl, r->err);
    if (plain) {
        OPENSSL_cleanse(plain, plen);
        free(plain);
    }
    if (rc == TM_OK) {
        if (r->kind == RK_DEBTS)
            rc = tm_store_debt_set_attributes(r->s, id, nb, nl, r->err);
        else if (r->kind == RK_OUTBOX)
            rc = tm_store_outbox_set_payload(r->s, id, nb, nl, cur, r->err);
        else
            rc = tm_store_consumer_set_pii(r->s, id, nb, nl, NULL, cur, 0, r->err);
    } else if (r->err) {
        /* Say which record, so it can be looked at. */
        char why[sizeof r->err->msg];
        snprintf(why, sizeof why, "%s", r->err->msg);
        tm_err_set(r->err, rc, "re-encrypting %s: %.400s", bound_to, why);
    }
    free(nb);
    if (rc == TM_OK)
        r->done[r->kind]++;
    return rc;
}

int tm_portfolio_reencrypt(tm_store *s, const tm_keys *keys, int batch, tm_reencrypt_stats *st,
                           struct tm_err *err)
{
    rekey r = {.s = s, .keys = keys, .err = err};
    if (batch <= 0)
        batch = 1000;
    int cur = tm_keys_current(keys);
    int64_t after = 0;
    int rc = TM_OK;
    for (r.kind = 0; rc == TM_OK && r.kind < RK_KINDS; r.kind++) {
        for (;;) {
            int seen = 0;
            long before = r.done[r.kind];
            rc = tm_store_begin(s, err);
            if (rc == TM_OK) {
                if (r.kind == RK_CONSUMERS)
                    rc = tm_store_scan_stale_pii(s, cur, batch, rekey_one, &r, &seen, err);
                else if (r.kind == RK_DEBTS)
                    rc = tm_store_scan_attributes(s, &after, batch, rekey_one, &r, &seen, err);
                else
                    rc = tm_store_scan_stale_outbox(s, cur, batch, rekey_one, &r, &seen, err);
            }
            if (rc == TM_OK)
                rc = tm_store_commit(s, err);
            if (rc != TM_OK) {
                tm_store_rollback(s);
                r.done[r.kind] = before; /* that batch is undone */
                break;
            }
            if (seen < batch)
                break;
        }
    }
    st->consumers = r.done[RK_CONSUMERS];
    st->debts = r.done[RK_DEBTS];
    st->outbox = r.done[RK_OUTBOX];
    return rc;
}
