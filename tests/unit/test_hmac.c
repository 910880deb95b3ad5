/*
 * tests/unit/test_hmac.c: the prepared-key HMAC agrees with RFC 4231 and with
 * OpenSSL's own HMAC for keys and messages of every length up to 300 bytes.
 */
#include "harness.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"
#include "hmac.h"

TEST(rfc4231_case2)
{
    tm_hmac h;
    tm_hmac_init(&h, "Jefe", 4);
    uint8_t out[32];
    const char *msg = "what do ya want for nothing?";
    tm_hmac_mac(&h, msg, strlen(msg), out);
    char hex[65];
    tm_hex(out, 32, hex);
    ASSERT_STR_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(agrees_with_openssl)
{
    uint8_t key[300], msg[300];
    for (int i = 0; i < 300; i++)
        key[i] = (uint8_t)(i * 7 + 1), msg[i] = (uint8_t)(i * 13 + 5);
    for (size_t kl = 0; kl <= 300; kl += 7) {
        tm_hmac h;
        tm_hmac_init(&h, key, kl);
        for (size_t ml = 0; ml <= 300; ml += 11) {
            uint8_t a[32], b[32];
            unsigned bl = 0;
            tm_hmac_mac(&h, msg, ml, a);
            HMAC(EVP_sha256(), key, (int)kl, msg, ml, b, &bl);
            if (memcmp(a, b, 32) != 0)
                TM_FAIL_("mismatch at key %zu, message %zu", kl, ml);
        }
    }
}
