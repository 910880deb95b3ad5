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

/* Two members of one name: readers disagree on which wins (the first, the last), so the
 * text is refused, naming the member, at any depth and however the name is spelled. */
TEST(duplicate_members_refused)
{
    tm_json j;
    struct tm_err e = {0};
    const char *s = "{\"amount\":\"1.00\",\"debt_id\":\"D1\",\"amount\":\"900.00\"}";
    ASSERT_EQ(tm_json_scan(s, strlen(s), toks, 4096, &j, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "duplicate member 'amount'");
    const char *more[] = {"{\"a\":1,\"a\":1}", "{\"a\":{\"b\":1,\"b\":2}}", "[{\"x\":1,\"y\":2,\"x\":3}]",
                          "{\"a\\u0062\":1,\"ab\":2}", "{\"\\u00e9\":1,\"\xc3\xa9\":2}",
                          "{\"\":1,\"\":2}", NULL};
    for (int i = 0; more[i]; i++)
        if (scan(more[i], &j) != TM_EINVAL)
            TM_FAIL_("accepted duplicate members: %s", more[i]);
    /* Same names in different objects, or names that only look alike, are fine. */
    const char *fine[] = {"{\"a\":{\"a\":1},\"b\":{\"a\":2}}", "{\"a\":1,\"A\":2,\"a \":3}",
                          "[{\"x\":1},{\"x\":2}]", "{\"ab\":1,\"a\\u0063\":2}", NULL};
    for (int i = 0; fine[i]; i++)
        if (scan(fine[i], &j) != TM_OK)
            TM_FAIL_("refused distinct members: %s", fine[i]);
    /* A name that may be a card number is not repeated in the message. */
    memset(&e, 0, sizeof e);
    s = "{\"4111111111111111\":1,\"4111111111111111\":2}";
    ASSERT_EQ(tm_json_scan(s, strlen(s), toks, 4096, &j, &e), TM_EINVAL);
    ASSERT(strstr(e.msg, "4111") == NULL);
    ASSERT_CONTAINS(e.msg, "duplicate member name");
    /* Many members: each checked against all before it. */
    char big[40000];
    size_t n = 0;
    big[n++] = '{';
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "%s\"m%d\":%d", i ? "," : "", i, i);
    n += (size_t)snprintf(big + n, sizeof big - n, "}");
    ASSERT_OK(tm_json_scan(big, n, toks, 4096, &j, &e));
    n--;
    n += (size_t)snprintf(big + n, sizeof big - n, ",\"m1234\":0}");
    memset(&e, 0, sizeof e);
    ASSERT_EQ(tm_json_scan(big, n, toks, 4096, &j, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "'m1234'");
}

static int has_digits9(void *ud, const char *s, size_t n)
{
    (void)ud;
    for (size_t i = 0; i + 3 <= n; i++)
        if (memcmp(s + i, "999", 3) == 0)
            return 1;
    return 0;
}

/* Every name and value is offered, decoded, with the path to where it stands. */
TEST(find_text_names_the_path)
{
    tm_json j;
    char path[128];
    ASSERT_OK(scan("{\"id\":\"r1\",\"consumer\":{\"state\":\"MA\",\"flags\":[\"a\",\"x999\"]}}", &j));
    int t = tm_json_find_text(&j, NULL, has_digits9, NULL, path, sizeof path);
    ASSERT(t > 0);
    ASSERT_STR_EQ(path, "consumer.flags[1]");
    ASSERT_OK(scan("{\"a\":[{\"b\":1},{\"c\":\"\\u0039\\u0039\\u0039\"}]}", &j)); /* escaped */
    ASSERT(tm_json_find_text(&j, NULL, has_digits9, NULL, path, sizeof path) > 0);
    ASSERT_STR_EQ(path, "a[1].c");
    ASSERT_OK(scan("{\"n\":12999}", &j)); /* numbers as written */
    ASSERT(tm_json_find_text(&j, NULL, has_digits9, NULL, path, sizeof path) > 0);
    ASSERT_STR_EQ(path, "n");
    ASSERT_OK(scan("{\"x\":{\"k999\":1}}", &j)); /* a member name: not repeated */
    ASSERT(tm_json_find_text(&j, NULL, has_digits9, NULL, path, sizeof path) > 0);
    ASSERT_STR_EQ(path, "x (a member name)");
    ASSERT_OK(scan("{\"k999\":1}", &j));
    ASSERT(tm_json_find_text(&j, NULL, has_digits9, NULL, path, sizeof path) > 0);
    ASSERT_STR_EQ(path, "(a member name)");
    /* The top-level members named in `skip` are passed over; the same names deeper are not. */
    static const char *const skip[] = {"token", "card_number", NULL};
    ASSERT_OK(scan("{\"card_number\":\"999\",\"b\":\"1\"}", &j));
    ASSERT_EQ(tm_json_find_text(&j, skip, has_digits9, NULL, path, sizeof path), -1);
    ASSERT_STR_EQ(path, "");
    ASSERT_OK(scan("{\"o\":{\"card_number\":\"999\"}}", &j));
    ASSERT(tm_json_find_text(&j, skip, has_digits9, NULL, path, sizeof path) > 0);
    ASSERT_STR_EQ(path, "o.card_number");
    /* A long string is decoded in full; a tiny path buffer is truncated, not overrun. */
    char big[5000];
    memset(big, 'a', sizeof big);
    big[0] = '"';
    memcpy(big + 4000, "999", 3);
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    ASSERT_OK(scan(big, &j));
    ASSERT(tm_json_find_text(&j, NULL, has_digits9, NULL, path, 4) >= 0);
    ASSERT_STR_EQ(path, "(th");
    ASSERT_OK(scan("[1,2]", &j));
    ASSERT_EQ(tm_json_find_text(&j, NULL, has_digits9, NULL, NULL, 0), -1);
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
        json_t *v = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
        int theirs = v != NULL;
        json_decref(v);
        if (ours != theirs && !(ours && strstr(je.text, "too big")))
            TM_FAIL_("disagree (ours %d, jansson %d: %s) on: %s", ours, theirs, je.text, buf);
        agree++;
    }
    ASSERT_EQ(agree, 20000);
}
