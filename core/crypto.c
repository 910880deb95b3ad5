/*
 * core/crypto.c: OpenSSL-backed hashing, HMAC, constant-time comparison and randomness
 * (see crypto.h).
 */
#include "crypto.h"

#include "tm_status.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <pthread.h>
#include <string.h>

void tm_sha256(const void *data, size_t len, uint8_t out[TM_SHA256_LEN])
{
    static const uint8_t empty = 0;
    SHA256(data ? data : &empty, len, out);
}

void tm_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

void tm_sha256_hex(const void *data, size_t len, char out[TM_SHA256_HEX_LEN + 1])
{
    uint8_t md[TM_SHA256_LEN];
    tm_sha256(data, len, md);
    tm_hex(md, sizeof md, out);
}

int tm_random_bytes(void *out, size_t len)
{
    if (len > (size_t)INT32_MAX)
        return TM_EINVAL;
    return RAND_bytes(out, (int)len) == 1 ? TM_OK : TM_ECRYPTO;
}

/* Nonces come from a pool per thread, filled 4 KiB at a time: one call into
 * the generator (its locks and fork check) serves hundreds of encryptions,
 * and an import or an onboarding day encrypts once per row or message. A
 * byte handed out is wiped from the pool, so no nonce is given twice; a
 * child process empties the pool it inherited (pthread_atfork), or parent
 * and child would draw the same nonces under the same key. */
#define NONCE_POOL 4096

static _Thread_local struct {
    uint8_t b[NONCE_POOL];
    size_t left; /* the unused bytes are the last `left` of b */
} nonce_pool;
static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;

static void nonce_pool_forked(void)
{
    OPENSSL_cleanse(nonce_pool.b, sizeof nonce_pool.b);
    nonce_pool.left = 0;
}

static void nonce_pool_init(void) { pthread_atfork(NULL, NULL, nonce_pool_forked); }

int tm_random_nonce(void *out, size_t len)
{
    if (!out && len)
        return TM_EINVAL;
    if (len > NONCE_POOL / 16)
        return tm_random_bytes(out, len);
    pthread_once(&nonce_once, nonce_pool_init);
    if (nonce_pool.left < len) {
        if (RAND_bytes(nonce_pool.b, NONCE_POOL) != 1) {
            nonce_pool.left = 0;
            return TM_ECRYPTO;
        }
        nonce_pool.left = NONCE_POOL;
    }
    uint8_t *from = nonce_pool.b + (NONCE_POOL - nonce_pool.left);
    memcpy(out, from, len);
    memset(from, 0, len);
    nonce_pool.left -= len;
    return TM_OK;
}

int tm_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   uint8_t out[TM_SHA256_LEN])
{
    /* OpenSSL treats a NULL key as "no key given" rather than as an empty key, so an empty
     * key or message is passed as a pointer to a byte that is never read. */
    static const uint8_t empty = 0;
    if (!out)
        return TM_EINVAL;
    memset(out, 0, TM_SHA256_LEN);
    if ((!key && keylen) || (!data && len) || keylen > (size_t)INT32_MAX)
        return TM_EINVAL;
    unsigned int mdlen = 0;
    if (!HMAC(EVP_sha256(), key ? key : &empty, (int)keylen, data ? data : &empty, len, out,
              &mdlen) ||
        mdlen != TM_SHA256_LEN) {
        OPENSSL_cleanse(out, TM_SHA256_LEN);
        return TM_ECRYPTO;
    }
    return TM_OK;
}

int tm_ct_equal(const void *a, const void *b, size_t n)
{
    if (n == 0)
        return 1;
    return CRYPTO_memcmp(a, b, n) == 0;
}

uint32_t tm_sha256_bucket(const void *key, size_t len)
{
    uint8_t h[TM_SHA256_LEN];
    tm_sha256(key, len, h);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return (uint32_t)(v % 10000);
}
