/*
 * core/hmac.c: HMAC-SHA256 with a prepared key (see hmac.h), through OpenSSL 3's
 * EVP_MAC interface. Setting the key hashes the inner and outer pads once; each MAC
 * then restarts a keyed context (EVP_MAC_init with no key goes back to the state
 * after the pads) rather than setting the key again. The result is checked against
 * RFC 4231 and against OpenSSL's one-shot HMAC in tests/unit/test_hmac.c.
 */
#include "hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tm_status.h"

struct tm_hmac_state {
    EVP_MAC_CTX *keyed;   /* key set, nothing hashed; only read after tm_hmac_init */
    EVP_MAC_CTX *work;    /* restarted for each MAC, under `lock` */
    pthread_mutex_t lock; /* a caller that finds it taken works on a copy of `keyed` */
};

/* Runs one MAC on `c`, which holds the key: restart, hash, finish. */
static int mac_on(EVP_MAC_CTX *c, const void *data, size_t len, uint8_t out[32])
{
    /* OpenSSL reads a NULL pointer as "no data" only with a zero length; pass a real
     * pointer anyway so an empty message needs no special case below it. */
    static const uint8_t empty = 0;
    size_t outlen = 0;
    if (EVP_MAC_init(c, NULL, 0, NULL) != 1 || EVP_MAC_update(c, data ? data : &empty, len) != 1 ||
        EVP_MAC_final(c, out, &outlen, 32) != 1 || outlen != 32)
        return TM_ECRYPTO;
    return TM_OK;
}

int tm_hmac_init(tm_hmac *h, const void *key, size_t keylen)
{
    /* An empty key is a valid HMAC key; OpenSSL takes a NULL key as "keep the old one". */
    static const uint8_t empty = 0;
    h->st = NULL;
    if (!key && keylen)
        return TM_EINVAL;
    struct tm_hmac_state *st = calloc(1, sizeof *st);
    if (!st)
        return TM_ENOMEM;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    int ok = mac != NULL && (st->keyed = EVP_MAC_CTX_new(mac)) != NULL &&
             EVP_MAC_init(st->keyed, key ? key : &empty, keylen, params) == 1 &&
             (st->work = EVP_MAC_CTX_dup(st->keyed)) != NULL &&
             pthread_mutex_init(&st->lock, NULL) == 0;
    EVP_MAC_free(mac); /* the contexts hold their own reference */
    if (!ok) {
        EVP_MAC_CTX_free(st->work);
        EVP_MAC_CTX_free(st->keyed);
        free(st);
        return TM_ECRYPTO;
    }
    h->st = st;
    return TM_OK;
}

int tm_hmac_mac(const tm_hmac *h, const void *data, size_t len, uint8_t out[32])
{
    struct tm_hmac_state *st = h->st;
    int rc = TM_EINVAL;
    if (st != NULL && pthread_mutex_trylock(&st->lock) == 0) {
        rc = mac_on(st->work, data, len, out);
        pthread_mutex_unlock(&st->lock);
    } else if (st != NULL) {
        /* Another thread is using the working context: copy the keyed one rather than wait.
         * The copy only reads `keyed`, which nothing changes after tm_hmac_init. */
        EVP_MAC_CTX *c = EVP_MAC_CTX_dup(st->keyed);
        rc = c ? mac_on(c, data, len, out) : TM_ECRYPTO;
        EVP_MAC_CTX_free(c);
    }
    if (rc != TM_OK)
        memset(out, 0, 32);
    return rc;
}

void tm_hmac_wipe(tm_hmac *h)
{
    struct tm_hmac_state *st = h->st;
    h->st = NULL;
    if (!st)
        return;
    /* Freeing a context clears the hash states it holds (OpenSSL wipes them on free). */
    EVP_MAC_CTX_free(st->work);
    EVP_MAC_CTX_free(st->keyed);
    pthread_mutex_destroy(&st->lock);
    OPENSSL_cleanse(st, sizeof *st);
    free(st);
}
