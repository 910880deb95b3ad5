/*
 * tests/unit/test_crypto.c: the OpenSSL wrappers in core/crypto.
 *
 * Known-answer tests only where a published vector exists (FIPS 180-2 for SHA-256, RFC 4231
 * for HMAC-SHA256), so a wrong wrapper (key and data swapped, a length off by one, a NULL
 * key read as "no key") cannot pass by agreeing with itself.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto.h"
#include "tm_status.h"

/* HMAC-SHA256 of (key, data) as hex, asserting success. */
static void hmac_hex(const void *key, size_t keylen, const void *data, size_t len,
                     char out[TM_SHA256_HEX_LEN + 1])
{
    uint8_t md[TM_SHA256_LEN];
    ASSERT_OK(tm_hmac_sha256(key, keylen, data, len, md));
    tm_hex(md, sizeof md, out);
}

/* ---- SHA-256, hex, random (existing helpers) ---------------------------------------------- */

TEST(sha256_known_answers)
{
    char hex[TM_SHA256_HEX_LEN + 1];
    tm_sha256_hex("abc", 3, hex);
    ASSERT_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    tm_sha256_hex(NULL, 0, hex);
    ASSERT_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Expected values from Python's hashlib: int.from_bytes(sha256(key)[:8], "big") % 10000. */
TEST(sha256_bucket_known_answers)
{
    ASSERT_EQ(tm_sha256_bucket(NULL, 0), 1652);
    ASSERT_EQ(tm_sha256_bucket("abc", 3), 74);
    ASSERT_EQ(tm_sha256_bucket("early_stage:D000000042", 22), 2258);
}

TEST(hex_lower_case)
{
    const uint8_t b[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[9];
    tm_hex(b, sizeof b, out);
    ASSERT_STR_EQ(out, "000fa5ff");
    tm_hex(b, 0, out);
    ASSERT_STR_EQ(out, "");
}

TEST(random_bytes_differ)
{
    uint8_t a[32] = {0}, b[32] = {0};
    ASSERT_OK(tm_random_bytes(a, sizeof a));
    ASSERT_OK(tm_random_bytes(b, sizeof b));
    ASSERT(memcmp(a, b, sizeof a) != 0);
    ASSERT_OK(tm_random_bytes(a, 0));
}

static int cmp12(const void *a, const void *b) { return memcmp(a, b, 12); }

TEST(nonces_never_repeat_across_pool_refills)
{
    /* 3,000 nonces of 12 bytes: the pool is refilled several times. */
    enum { N = 3000 };
    uint8_t (*n)[12] = calloc(N, 12);
    ASSERT(n != NULL);
    for (int i = 0; i < N; i++)
        ASSERT_OK(tm_random_nonce(n[i], 12));
    qsort(n, N, 12, cmp12);
    for (int i = 1; i < N; i++)
        ASSERT(memcmp(n[i - 1], n[i], 12) != 0);
    free(n);
    /* Larger than the pool serves: still random. */
    uint8_t a[512], b[512];
    ASSERT_OK(tm_random_nonce(a, sizeof a));
    ASSERT_OK(tm_random_nonce(b, sizeof b));
    ASSERT(memcmp(a, b, sizeof a) != 0);
    ASSERT_OK(tm_random_nonce(a, 0));
    ASSERT_EQ(tm_random_nonce(NULL, 12), TM_EINVAL);
}

TEST(nonces_of_a_forked_child_differ_from_its_parents)
{
    /* The parent's pool is filled before the fork: a child reusing it would
     * encrypt with the parent's next nonces under the same key. */
    uint8_t first[12], parent[12], child[12];
    ASSERT_OK(tm_random_nonce(first, sizeof first));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        uint8_t c[12];
        int ok = tm_random_nonce(c, sizeof c) == TM_OK && write(fds[1], c, sizeof c) == (ssize_t)sizeof c;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    ASSERT_EQ(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_OK(tm_random_nonce(parent, sizeof parent));
    ASSERT(memcmp(parent, child, sizeof parent) != 0);
}

/* ---- HMAC-SHA256 -------------------------------------------------------------------------- */

/* RFC 4231 4.3, test case 2: a key shorter than the output ("Jefe"). */
TEST(hmac_rfc4231_case2)
{
    char hex[TM_SHA256_HEX_LEN + 1];
    const char *data = "what do ya want for nothing?";
    hmac_hex("Jefe", 4, data, strlen(data), hex);
    ASSERT_STR_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* RFC 4231 4.2, test case 1: 20 bytes of 0x0b. */
TEST(hmac_rfc4231_case1)
{
    uint8_t key[20];
    memset(key, 0x0b, sizeof key);
    char hex[TM_SHA256_HEX_LEN + 1];
    hmac_hex(key, sizeof key, "Hi There", 8, hex);
    ASSERT_STR_EQ(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

/* RFC 4231 4.7, test case 6: a 131-byte key, longer than the block, is hashed first. */
TEST(hmac_rfc4231_case6_long_key)
{
    uint8_t key[131];
    memset(key, 0xaa, sizeof key);
    const char *data = "Test Using Larger Than Block-Size Key - Hash Key First";
    char hex[TM_SHA256_HEX_LEN + 1];
    hmac_hex(key, sizeof key, data, strlen(data), hex);
    ASSERT_STR_EQ(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* Empty key and empty message, by NULL and by non-NULL pointer: HMAC-SHA256("", ""). */
TEST(hmac_empty_key_and_message)
{
    const char *want = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
    char hex[TM_SHA256_HEX_LEN + 1];
    hmac_hex(NULL, 0, NULL, 0, hex);
    ASSERT_STR_EQ(hex, want);
    hmac_hex("", 0, "", 0, hex);
    ASSERT_STR_EQ(hex, want);
}

TEST(hmac_rejects_bad_arguments_and_zeroes_output)
{
    uint8_t md[TM_SHA256_LEN], zero[TM_SHA256_LEN] = {0};
    memset(md, 0x55, sizeof md);
    ASSERT_EQ(tm_hmac_sha256(NULL, 4, "x", 1, md), TM_EINVAL);
    ASSERT(memcmp(md, zero, sizeof md) == 0);
    memset(md, 0x55, sizeof md);
    ASSERT_EQ(tm_hmac_sha256("k", 1, NULL, 3, md), TM_EINVAL);
    ASSERT(memcmp(md, zero, sizeof md) == 0);
    ASSERT_EQ(tm_hmac_sha256("k", 1, "x", 1, NULL), TM_EINVAL);
}

TEST(hmac_depends_on_key_and_data)
{
    char a[TM_SHA256_HEX_LEN + 1], b[TM_SHA256_HEX_LEN + 1], c[TM_SHA256_HEX_LEN + 1];
    hmac_hex("key1", 4, "data", 4, a);
    hmac_hex("key2", 4, "data", 4, b);
    hmac_hex("key1", 4, "datb", 4, c);
    ASSERT(strcmp(a, b) != 0);
    ASSERT(strcmp(a, c) != 0);
    hmac_hex("key1", 4, "data", 4, b);
    ASSERT_STR_EQ(a, b);
}

/* ---- Constant-time compare ---------------------------------------------------------------- */

TEST(ct_equal)
{
    uint8_t a[64], b[64];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = b[i] = (uint8_t)(i * 7);
    ASSERT_EQ(tm_ct_equal(a, b, sizeof a), 1);
    ASSERT_EQ(tm_ct_equal(NULL, NULL, 0), 1);
    ASSERT_EQ(tm_ct_equal(a, b, 0), 1);
    /* A difference in any byte, and in any bit of it, is seen. */
    for (size_t i = 0; i < sizeof a; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            ASSERT_EQ(tm_ct_equal(a, b, sizeof a), 0);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Only the first n bytes count. */
    b[10] ^= 1;
    ASSERT_EQ(tm_ct_equal(a, b, 10), 1);
    ASSERT_EQ(tm_ct_equal(a, b, 11), 0);
}
