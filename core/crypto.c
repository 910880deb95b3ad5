/*
 * core/crypto.c: OpenSSL-backed hashing and randomness (see crypto.h).
 */
#include "crypto.h"

#include "tm_status.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

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
