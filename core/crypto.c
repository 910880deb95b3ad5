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
