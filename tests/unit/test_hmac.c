/*
 * tests/unit/test_hmac.c: the prepared-key HMAC agrees with the HMAC-SHA-256 test
 * vectors of RFC 4231 (all seven cases) and with OpenSSL's one-shot HMAC for keys and
 * messages of many lengths, stays right when one prepared key is used from several
 * threads at once, and fails cleanly when it was never prepared.
 */
#include "harness.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>

#include "crypto.h"
#include "hmac.h"
#include "tm_status.h"

/* Decodes the hex string `hex` into `out`; returns the number of bytes. */
static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1)
            TM_FAIL_("bad hex in a test vector: %s", hex);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Fills `buf` with `n` copies of `byte`; returns buf. */
static uint8_t *fill(uint8_t *buf, uint8_t byte, size_t n)
{
    memset(buf, byte, n);
    return buf;
}

/* RFC 4231 section 4: each case's key, data and HMAC-SHA-256 (case 5 is truncated to
 * 128 bits, so only the first `maclen` bytes are compared). */
TEST(rfc4231_vectors)
{
    uint8_t k0b[20], kaa20[20], k0c[20], kaa131[131], dd[50], cd[50], k25[25];
    for (int i = 0; i < 25; i++)
        k25[i] = (uint8_t)(i + 1);
    static const char case7[] = "This is a test using a larger than block-size key and a larger "
                                "than block-size data. The key needs to be hashed before being "
                                "used by the HMAC algorithm.";
    struct {
        const void *key;
        size_t keylen;
        const void *data;
        size_t datalen;
        const char *mac;
    } cases[] = {
        {fill(k0b, 0x0b, 20), 20, "Hi There", 8,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", 4, "what do ya want for nothing?", 28,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {fill(kaa20, 0xaa, 20), 20, fill(dd, 0xdd, 50), 50,
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {k25, 25, fill(cd, 0xcd, 50), 50,
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {fill(k0c, 0x0c, 20), 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b"},
        {fill(kaa131, 0xaa, 131), 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {kaa131, 131, case7, sizeof case7 - 1,
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tm_hmac h;
        ASSERT_OK(tm_hmac_init(&h, cases[i].key, cases[i].keylen));
        uint8_t want[32], got[32];
        size_t maclen = unhex(cases[i].mac, want);
        /* Twice on one prepared key: the second MAC must start again from the key. */
        for (int round = 0; round < 2; round++) {
            ASSERT_OK(tm_hmac_mac(&h, cases[i].data, cases[i].datalen, got));
            if (memcmp(got, want, maclen) != 0)
                TM_FAIL_("RFC 4231 case %zu differs (round %d)", i + 1, round + 1);
        }
        tm_hmac_wipe(&h);
    }
}

TEST(agrees_with_openssl)
{
    uint8_t key[300], msg[300];
    for (int i = 0; i < 300; i++)
        key[i] = (uint8_t)(i * 7 + 1), msg[i] = (uint8_t)(i * 13 + 5);
    for (size_t kl = 0; kl <= 300; kl += 7) {
        tm_hmac h;
        ASSERT_OK(tm_hmac_init(&h, kl ? key : NULL, kl));
        for (size_t ml = 0; ml <= 300; ml += 11) {
            uint8_t a[32], b[32];
            unsigned bl = 0;
            ASSERT_OK(tm_hmac_mac(&h, ml ? msg : NULL, ml, a));
            HMAC(EVP_sha256(), key, (int)kl, msg, ml, b, &bl);
            ASSERT_EQ(bl, 32);
            if (memcmp(a, b, 32) != 0)
                TM_FAIL_("mismatch at key %zu, message %zu", kl, ml);
        }
        tm_hmac_wipe(&h);
    }
}

/* Threads that share one prepared key (a loaded tm_keys is used so): every MAC is right
 * whether the thread got the working context or had to copy the keyed one. */
struct shared_job {
    const tm_hmac *h;
    const uint8_t *key;
    int id;
    int wrong;
};

static void *shared_worker(void *arg)
{
    struct shared_job *j = arg;
    uint8_t msg[64];
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)(i % 64);
        for (size_t b = 0; b < len; b++)
            msg[b] = (uint8_t)(j->id * 31 + i + b);
        uint8_t a[32], b[32];
        unsigned bl = 0;
        if (tm_hmac_mac(j->h, msg, len, a) != TM_OK)
            j->wrong++;
        HMAC(EVP_sha256(), j->key, 32, msg, len, b, &bl);
        if (memcmp(a, b, 32) != 0)
            j->wrong++;
    }
    return NULL;
}

TEST(shared_by_threads_agrees_with_openssl)
{
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(200 - i);
    tm_hmac h;
    ASSERT_OK(tm_hmac_init(&h, key, sizeof key));
    enum { NT = 4 };
    pthread_t t[NT];
    struct shared_job jobs[NT];
    for (int i = 0; i < NT; i++) {
        jobs[i] = (struct shared_job){&h, key, i, 0};
        ASSERT_OK(pthread_create(&t[i], NULL, shared_worker, &jobs[i]));
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(jobs[i].wrong, 0);
    }
    tm_hmac_wipe(&h);
}

TEST(unprepared_key_fails_with_zero_output)
{
    tm_hmac h;
    memset(&h, 0, sizeof h);
    uint8_t out[32];
    memset(out, 0xee, sizeof out);
    ASSERT_EQ(tm_hmac_mac(&h, "x", 1, out), TM_EINVAL);
    for (int i = 0; i < 32; i++)
        ASSERT_EQ(out[i], 0);
    ASSERT_EQ(tm_hmac_init(&h, NULL, 5), TM_EINVAL);
    ASSERT_EQ(tm_hmac_mac(&h, "x", 1, out), TM_EINVAL);
    tm_hmac_wipe(&h); /* safe on a key never prepared */
    ASSERT_OK(tm_hmac_init(&h, "k", 1));
    tm_hmac_wipe(&h);
    tm_hmac_wipe(&h); /* and twice */
    ASSERT_EQ(tm_hmac_mac(&h, "x", 1, out), TM_EINVAL);
}
