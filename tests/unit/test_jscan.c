/*
 * tests/unit/test_jscan.c: the in-place JSON scanner, against jansson as the
 * oracle: the same texts are valid, strings decode to the same bytes, and
 * thousands of mutated request lines never crash it.
 */
#include "harness.h"

#include <jansson.h>

#include "jscan.h"

static tm_jtok toks[4096];

static int scan(const char *s, tm_json *j)
{
    struct tm_err e = {0};
    return tm_json_scan(s, strlen(s), toks, 4096, j, &e);
}

TEST(valid_values)
{
    tm_json j;
    const char *ok[] = {"{}", "[]", "0", "-0.5e+10", "\"x\"", "true", "null", " {\"a\" : [1, 2, {\"b\":null}] } ",
                        "\"\\u00e9\\ud83d\\ude00\\n\"", "[[[[]]]]", "1E5", "\"\xc3\xa9\""};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (scan(ok[i], &j) != TM_OK)
            TM_FAIL_("refused valid JSON: %s", ok[i]);
}

TEST(invalid_values)
{
    tm_json j;
    const char *bad[] = {"", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "tru",
                         "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00x\"", "\"a\x01\"", "[1 2]",
                         "{} {}", "\"\xff\"", "\"\xc3\"", "nul", "[\"\\u00zz\"]", "\"\\u0000\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (scan(bad[i], &j) == TM_OK)
            TM_FAIL_("accepted invalid JSON: %s", bad[i]);
}

TEST(lookups_and_decoding)
{
    tm_json j;
    const char *s = "{\"id\":\"r1\",\"n\":-42,\"a\\u0062\":\"\\u00e9\\ud83d\\ude00\",\"arr\":[1,{\"x\":2},3],\"z\":true}";
    ASSERT_OK(scan(s, &j));
    char buf[64];
    ASSERT_EQ(tm_json_str(&j, tm_json_get(&j, 0, "id"), buf, sizeof buf), 2);
    ASSERT_STR_EQ(buf, "r1");
    int64_t n;
    ASSERT_OK(tm_json_int(&j, tm_json_get(&j, 0, "n"), &n));
    ASSERT_EQ(n, -42);
    int v = tm_json_get(&j, 0, "ab"); /* the key was written with an escape */
    ASSERT(v >= 0);
    ASSERT(tm_json_str(&j, v, buf, sizeof buf) > 0);
    ASSERT_STR_EQ(buf, "\xc3\xa9\xf0\x9f\x98\x80");
    int arr = tm_json_get(&j, 0, "arr");
    ASSERT_EQ(j.tok[arr].count, 3);
    int second = (int)j.tok[arr + 1].next;
    ASSERT_EQ(j.tok[second].type, TM_J_OBJECT);
    ASSERT_EQ(j.tok[tm_json_get(&j, 0, "z")].type, TM_J_TRUE);
    ASSERT_EQ(tm_json_get(&j, 0, "missing"), -1);
    ASSERT_EQ(tm_json_get(&j, arr, "x"), -1); /* not an object */
}

/* Mutations of a request line: the scanner agrees with jansson on validity
 * (except number range, where jansson refuses big integers that are valid
 * JSON) and never crashes. */
TEST(differential_fuzz)
{
    const char *seed =
        "{\"id\":\"r1\",\"now\":\"2026-11-23T14:05:00Z\",\"channel\":\"call\",\"consumer\":{\"state\":\"MA\","
        "\"timezones\":[\"America/New_York\"],\"flags\":[\"attorney\"],\"consent\":{\"sms\":true},"
        "\"inconvenient\":[{\"days\":[\"sun\"]},{\"from\":\"12:00\",\"to\":\"13:00\"}]},"
        "\"debt\":{\"id\":\"D1\",\"time_barred\":false},\"message\":{\"optout_notice\":true},"
        "\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-20T15:00:00Z\",\"outcome\":\"attempt\"}]}";
    size_t n = strlen(seed);
    char buf[1024];
    unsigned long long r = 12345;
    const char alphabet[] = "{}[]\":,\\u0123456789abcdefxtrnl -.eE\xc3\xa9\xff";
    int agree = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, seed, n + 1);
        size_t len = n;
        int edits = 1 + (int)(r % 3);
        for (int k = 0; k < edits; k++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t pos = (size_t)(r >> 33) % len;
            int op = (int)((r >> 20) % 3);
            char ch = alphabet[(r >> 40) % (sizeof alphabet - 1)];
            if (op == 0) {
                buf[pos] = ch;
            } else if (op == 1 && len > 1) {
                memmove(buf + pos, buf + pos + 1, len - pos);
                len--;
            } else if (len + 1 < sizeof buf) {
                memmove(buf + pos + 1, buf + pos, len - pos + 1);
                buf[pos] = ch;
                len++;
            }
        }
        buf[len] = '\0';
        tm_json j;
        struct tm_err e = {0};
        int ours = tm_json_scan(buf, len, toks, 4096, &j, &e) == TM_OK;
        json_error_t je;
        json_t *v = json_loadb(buf, len, JSON_DECODE_ANY, &je);
        int theirs = v != NULL;
        json_decref(v);
        if (ours != theirs && !(ours && strstr(je.text, "too big")))
            TM_FAIL_("disagree (ours %d, jansson %d: %s) on: %s", ours, theirs, je.text, buf);
        agree++;
    }
    ASSERT_EQ(agree, 20000);
}
