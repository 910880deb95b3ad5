/*
 * core/hmac.c: HMAC-SHA256 over precomputed pad states (RFC 2104), using
 * OpenSSL's SHA-256 block functions. Those are deprecated in OpenSSL 3 in
 * favour of EVP, but EVP cannot copy a hash state without allocating, and an
 * audit record or a lookup hash would then cost several allocations; the
 * result is checked against EVP's HMAC in tests/unit/test_hmac.c.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "hmac.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= 128, "SHA256_CTX fits the saved state");

void tm_hmac_init(tm_hmac *h, const void *key, size_t keylen)
{
    uint8_t k[64] = {0};
    if (keylen > 64)
        SHA256(key, keylen, k);
    else if (keylen)
        memcpy(k, key, keylen);
    uint8_t pad[64];
    SHA256_CTX c;
    for (int which = 0; which < 2; which++) {
        for (int i = 0; i < 64; i++)
            pad[i] = (uint8_t)(k[i] ^ (which ? 0x5c : 0x36));
        SHA256_Init(&c);
        SHA256_Update(&c, pad, 64);
        memcpy(h->state[which], &c, sizeof c);
    }
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(&c, sizeof c);
    h->ready = 1;
}

void tm_hmac_mac(const tm_hmac *h, const void *data, size_t len, uint8_t out[32])
{
    SHA256_CTX c;
    uint8_t inner[32];
    memcpy(&c, h->state[0], sizeof c);
    SHA256_Update(&c, data, len);
    SHA256_Final(inner, &c);
    memcpy(&c, h->state[1], sizeof c);
    SHA256_Update(&c, inner, sizeof inner);
    SHA256_Final(out, &c);
}

void tm_hmac_wipe(tm_hmac *h)
{
    OPENSSL_cleanse(h, sizeof *h);
}
