/*
 * tests/unit/test_totp.c: TOTP against the SHA-1 rows of RFC 6238 appendix B
 * (8 digits, as the RFC prints them) and their 6-digit truncations; the
 * window of one step either side; a code refused once its step is used;
 * base32 against the RFC 4648 section 10 vectors and round trips.
 */
#include "harness.h"

#include "totp.h"

static const uint8_t seed[] = "12345678901234567890";

TEST(rfc6238_sha1_vectors)
{
    static const struct {
        int64_t t;
        const char *code;
    } v[] = {
        {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
        {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char out[9];
        ASSERT_OK(tm_totp_code(seed, 20, tm_totp_step(v[i].t), 8, out));
        ASSERT_STR_EQ(out, v[i].code);
        /* Six digits are the last six of the same number. */
        ASSERT_OK(tm_totp_code(seed, 20, tm_totp_step(v[i].t), 6, out));
        ASSERT_STR_EQ(out, v[i].code + 2);
    }
}

TEST(window_is_one_step_either_side)
{
    char code[7];
    int64_t now = 1234567890;
    uint64_t s0 = tm_totp_step(now), got = 0;
    for (int d = -3; d <= 3; d++) {
        ASSERT_OK(tm_totp_code(seed, 20, s0 + (uint64_t)(int64_t)d, 6, code));
        int ok = tm_totp_verify(seed, 20, code, now, 0, &got);
        ASSERT_EQ(ok, d >= -1 && d <= 1);
        if (ok)
            ASSERT_EQ(got, s0 + (uint64_t)(int64_t)d);
    }
}

TEST(used_step_is_refused)
{
    char code[7];
    int64_t now = 2000000000;
    uint64_t s = tm_totp_step(now), got = 0;
    ASSERT_OK(tm_totp_code(seed, 20, s, 6, code));
    ASSERT_EQ(tm_totp_verify(seed, 20, code, now, 0, &got), 1);
    ASSERT_EQ(got, s);
    /* The same code again (its step is now the last used) is refused, and
     * so is the code of the step before. */
    ASSERT_EQ(tm_totp_verify(seed, 20, code, now, got, &got), 0);
    ASSERT_OK(tm_totp_code(seed, 20, s - 1, 6, code));
    ASSERT_EQ(tm_totp_verify(seed, 20, code, now, s, &got), 0);
    /* The next step's code is still good. */
    ASSERT_OK(tm_totp_code(seed, 20, s + 1, 6, code));
    ASSERT_EQ(tm_totp_verify(seed, 20, code, now, s, &got), 1);
}

TEST(malformed_codes_refused)
{
    const char *bad[] = {"", "12345", "1234567", "12345a", " 12345", "-12345", NULL};
    for (int i = 0; bad[i]; i++)
        ASSERT_EQ(tm_totp_verify(seed, 20, bad[i], 59, 0, NULL), 0);
    ASSERT_EQ(tm_totp_verify(seed, 20, NULL, 59, 0, NULL), 0);
}

TEST(base32_rfc4648_vectors)
{
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *out[] = {"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    for (int i = 0; i < 7; i++) {
        char enc[32];
        uint8_t dec[16];
        tm_base32_encode((const uint8_t *)in[i], strlen(in[i]), enc);
        ASSERT_STR_EQ(enc, out[i]);
        long n = tm_base32_decode(enc, dec, sizeof dec);
        ASSERT_EQ(n, (long)strlen(in[i]));
        ASSERT(memcmp(dec, in[i], (size_t)n) == 0);
    }
    uint8_t dec[16];
    ASSERT_EQ(tm_base32_decode("mzxw6ytboi======", dec, sizeof dec), 6);
    ASSERT_EQ(tm_base32_decode("MZ1W", dec, sizeof dec), -1);
    ASSERT_EQ(tm_base32_decode("MZXW6YTBOI", dec, 3), -1);
}
