/*
 * tests/unit/test_jw.c: the JSON writer (core/jw.h): the exact bytes of
 * values, commas and escapes, and jansson as the oracle that what it writes
 * reads back as what was written (random strings, numbers, nesting).
 */
#include "harness.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jw.h"
#include "text.h"

TEST(values_and_commas)
{
    tm_buf b = TM_BUF_INIT;
    tm_jw w;
    tm_jw_init(&w, &b, 0);
    tm_jw_obj(&w);
    tm_jw_key(&w, "id");
    tm_jw_raw(&w, "\"req-1\"");
    tm_jw_key(&w, "allow");
    tm_jw_bool(&w, 0);
    tm_jw_key(&w, "blocked_by");
    tm_jw_arr(&w);
    tm_jw_obj(&w);
    tm_jw_key(&w, "rule");
    tm_jw_str(&w, "US-FED/x");
    tm_jw_key(&w, "next");
    tm_jw_null(&w);
    tm_jw_obj_end(&w);
    tm_jw_obj(&w);
    tm_jw_obj_end(&w);
    tm_jw_arr(&w);
    tm_jw_arr_end(&w);
    tm_jw_arr_end(&w);
    tm_jw_key(&w, "n");
    tm_jw_int(&w, -42);
    tm_jw_key(&w, "missing");
    tm_jw_str(&w, NULL);
    tm_jw_key(&w, "ok");
    tm_jw_bool(&w, 7);
    tm_jw_obj_end(&w);
    ASSERT_STR_EQ(b.data, "{\"id\":\"req-1\",\"allow\":false,\"blocked_by\":[{\"rule\":\"US-FED/x\","
                          "\"next\":null},{},[]],\"n\":-42,\"missing\":null,\"ok\":true}");
    /* Values at the top level are separated too (a caller writes lines itself). */
    tm_buf_reset(&b);
    tm_jw_init(&w, &b, 0);
    tm_jw_int(&w, 1);
    tm_jw_str(&w, "a");
    tm_jw_rawn(&w, "[2]xyz", 3);
    ASSERT_STR_EQ(b.data, "1,\"a\",[2]");
    tm_buf_free(&b);
}

TEST(writer_appends_after_what_the_buffer_holds)
{
    tm_buf b = TM_BUF_INIT;
    tm_buf_puts(&b, "line: ");
    tm_jw w;
    tm_jw_init(&w, &b, 0);
    tm_jw_arr(&w);
    tm_jw_int(&w, 0);
    tm_jw_arr_end(&w);
    ASSERT_STR_EQ(b.data, "line: [0]");
    tm_buf_free(&b);
}

static char *esc(const char *s, size_t n, unsigned flags)
{
    tm_buf b = TM_BUF_INIT;
    tm_jw_escape(&b, s, n, flags);
    return tm_buf_take(&b, NULL);
}

TEST(escapes_as_the_program_always_wrote_them)
{
    /* The plain style: decide lines, audit records, personal data. */
    const char in[] = "a\"b\\c\n\r\t\b\f\x01\x1f\x7f \xc3\xa9 \xff\xfe/";
    char *s = esc(in, sizeof in - 1, 0);
    ASSERT_STR_EQ(s, "\"a\\\"b\\\\c\\u000a\\u000d\\u0009\\u0008\\u000c\\u0001\\u001f\x7f "
                     "\xc3\xa9 \xff\xfe/\"");
    free(s);
    /* NUL bytes are kept, as \u0000 (an audit export leaves nothing out). */
    s = esc("x\0y", 3, 0);
    ASSERT_STR_EQ(s, "\"x\\u0000y\"");
    free(s);
    /* The readable style of script results. */
    s = esc(in, sizeof in - 1, TM_JW_SHORT_ESCAPES | TM_JW_ESCAPE_DEL);
    ASSERT_STR_EQ(s, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f \xc3\xa9 \xff\xfe/\"");
    free(s);
    s = esc("", 0, 0);
    ASSERT_STR_EQ(s, "\"\"");
    free(s);
    /* Member names are escaped like values. */
    tm_buf b = TM_BUF_INIT;
    tm_jw w;
    tm_jw_init(&w, &b, TM_JW_SHORT_ESCAPES);
    tm_jw_obj(&w);
    tm_jw_key(&w, "a\"\n");
    tm_jw_strn(&w, "\0", 1);
    tm_jw_keyn(&w, "k\0", 2); /* a Lua table's key may hold a NUL */
    tm_jw_int(&w, 1);
    tm_jw_obj_end(&w);
    ASSERT_STR_EQ(b.data, "{\"a\\\"\\n\":\"\\u0000\",\"k\\u0000\":1}");
    tm_buf_free(&b);
}

TEST(integers)
{
    const struct {
        int64_t v;
        const char *text;
    } c[] = {{0, "0"}, {7, "7"}, {-1, "-1"}, {1000000, "1000000"},
             {INT64_MAX, "9223372036854775807"}, {INT64_MIN, "-9223372036854775808"}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        tm_buf b = TM_BUF_INIT;
        tm_jw w;
        tm_jw_init(&w, &b, 0);
        tm_jw_int(&w, c[i].v);
        ASSERT_STR_EQ(b.data, c[i].text);
        tm_buf_free(&b);
    }
}

TEST(reals_read_back_exactly)
{
    const struct {
        double d;
        const char *text;
    } c[] = {{0.1, "0.1"}, {2.5, "2.5"}, {1e300, "1e+300"}, {9007199254740992.0, "9007199254740992.0"},
             {-0.0, "-0.0"}, {3.0, "3.0"}, {1.0 / 3, "0.33333333333333331"}, {NAN, "null"},
             {INFINITY, "null"}, {-INFINITY, "null"}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        tm_buf b = TM_BUF_INIT;
        tm_jw w;
        tm_jw_init(&w, &b, 0);
        tm_jw_real(&w, c[i].d);
        ASSERT_STR_EQ(b.data, c[i].text);
        tm_buf_free(&b);
    }
    /* Random doubles: the text is JSON and reads back as the same double. */
    unsigned long long x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        tm_buf b = TM_BUF_INIT;
        tm_jw w;
        tm_jw_init(&w, &b, 0);
        tm_jw_real(&w, d);
        json_error_t je;
        json_t *j = json_loads(b.data, JSON_DECODE_ANY, &je);
        if (!j || !json_is_real(j) || json_real_value(j) != d)
            TM_FAIL_("%s does not read back as %.17g", b.data, d);
        json_decref(j);
        tm_buf_free(&b);
    }
}

/* The text tallyman's simulated events carried money in before the writer had it. */
static void money_reference(char *buf, size_t cap, int64_t minor, int exp)
{
    int64_t scale = 1;
    for (int i = 0; i < exp; i++)
        scale *= 10;
    const char *sign = minor < 0 ? "-" : "";
    uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    if (exp == 0)
        snprintf(buf, cap, "%s%llu", sign, (unsigned long long)m);
    else
        snprintf(buf, cap, "%s%llu.%0*llu", sign, (unsigned long long)(m / (uint64_t)scale), exp,
                 (unsigned long long)(m % (uint64_t)scale));
}

TEST(money_in_major_units)
{
    char t[32];
    ASSERT_EQ(tm_jw_money_text(t, sizeof t, 153352, 2), 7);
    ASSERT_STR_EQ(t, "1533.52");
    tm_jw_money_text(t, sizeof t, -5, 2);
    ASSERT_STR_EQ(t, "-0.05");
    tm_jw_money_text(t, sizeof t, 1000, 0);
    ASSERT_STR_EQ(t, "1000");
    tm_jw_money_text(t, sizeof t, 12345, 3);
    ASSERT_STR_EQ(t, "12.345");
    tm_jw_money_text(t, sizeof t, INT64_MIN, 2);
    ASSERT_STR_EQ(t, "-92233720368547758.08");
    ASSERT_EQ(tm_jw_money_text(t, sizeof t, INT64_MIN, 18), 21);
    ASSERT_STR_EQ(t, "-9.223372036854775808");
    ASSERT_EQ(tm_jw_money_text(t, 5, 153352, 2), -1);
    ASSERT_STR_EQ(t, "");
    ASSERT_EQ(tm_jw_money_text(t, sizeof t, 1, 19), -1);
    ASSERT_EQ(tm_jw_money_text(t, sizeof t, 1, -1), -1);
    unsigned long long x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t minor = (int64_t)x >> (x % 60);
        int exp = (int)(x % 5);
        char want[48];
        money_reference(want, sizeof want, minor, exp);
        ASSERT_EQ(tm_jw_money_text(t, sizeof t, minor, exp), (int)strlen(want));
        ASSERT_STR_EQ(t, want);
    }
    tm_buf b = TM_BUF_INIT;
    tm_jw w;
    tm_jw_init(&w, &b, 0);
    tm_jw_obj(&w);
    tm_jw_key(&w, "amount");
    tm_jw_money(&w, 2500, 2);
    tm_jw_obj_end(&w);
    ASSERT_STR_EQ(b.data, "{\"amount\":\"25.00\"}");
    tm_buf_free(&b);
}

/* Random text of valid UTF-8 (controls, quotes, backslashes, two- to four-byte characters). */
static size_t random_utf8(unsigned long long *x, char *out, size_t cap)
{
    size_t n = 0;
    while (n + 4 < cap) {
        *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
        unsigned long long r = *x;
        if (r % 17 == 0)
            break;
        unsigned cp;
        switch (r % 5) {
        case 0: cp = (unsigned)(r >> 8) % 0x20; break;
        case 1: cp = "\"\\/\x7f"[(r >> 8) % 4]; break;
        case 2: cp = 0x20 + (unsigned)(r >> 8) % 0x5f; break;
        case 3: cp = 0x80 + (unsigned)(r >> 8) % 0xd780; break; /* below the surrogates */
        default: cp = 0x10000 + (unsigned)(r >> 8) % 0x100000; break;
        }
        if (cp == 0)
            cp = 1; /* jansson's strings stop at NUL by default */
        if (cp < 0x80) {
            out[n++] = (char)cp;
        } else if (cp < 0x800) {
            out[n++] = (char)(0xc0 | cp >> 6);
            out[n++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[n++] = (char)(0xe0 | cp >> 12);
            out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
            out[n++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[n++] = (char)(0xf0 | cp >> 18);
            out[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
            out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
            out[n++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    return n;
}

TEST(jansson_reads_back_what_was_written)
{
    unsigned long long x = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 3000; round++) {
        unsigned flags = (unsigned)round % 4;
        char s[3][80];
        size_t n[3];
        for (int k = 0; k < 3; k++) {
            n[k] = random_utf8(&x, s[k], sizeof s[k]);
            ASSERT(tm_utf8_valid(s[k], n[k], NULL));
        }
        tm_buf b = TM_BUF_INIT;
        tm_jw w;
        tm_jw_init(&w, &b, flags);
        tm_jw_obj(&w);
        tm_jw_key(&w, "k");
        tm_jw_strn(&w, s[0], n[0]);
        tm_jw_key(&w, "a");
        tm_jw_arr(&w);
        tm_jw_strn(&w, s[1], n[1]);
        tm_jw_int(&w, (int64_t)x);
        tm_jw_obj(&w);
        tm_jw_obj_end(&w);
        tm_jw_arr_end(&w);
        /* A member name of random text too (different from "k" and "a"). */
        char name[90] = "n";
        memcpy(name + 1, s[2], n[2]);
        name[n[2] + 1] = '\0';
        tm_jw_key(&w, name);
        tm_jw_bool(&w, 1);
        tm_jw_obj_end(&w);
        ASSERT_OK(tm_buf_done(&b, "a record", NULL));
        json_error_t je;
        json_t *j = json_loadb(b.data, b.len, 0, &je);
        if (!j)
            TM_FAIL_("jansson refuses %s: %s", b.data, je.text);
        json_t *k = json_object_get(j, "k"), *a = json_object_get(j, "a");
        ASSERT(json_is_string(k) && json_string_length(k) == n[0] &&
               memcmp(json_string_value(k), s[0], n[0]) == 0);
        ASSERT(json_is_array(a) && json_array_size(a) == 3);
        json_t *a0 = json_array_get(a, 0);
        ASSERT(json_string_length(a0) == n[1] && memcmp(json_string_value(a0), s[1], n[1]) == 0);
        ASSERT_EQ(json_integer_value(json_array_get(a, 1)), (int64_t)x);
        ASSERT(json_is_true(json_object_get(j, name)));
        json_decref(j);
        tm_buf_free(&b);
    }
}

TEST(a_full_fixed_buffer_fails_the_whole_text)
{
    char mem[16];
    tm_buf b;
    tm_buf_fixed(&b, mem, sizeof mem);
    tm_jw w;
    tm_jw_init(&w, &b, 0);
    tm_jw_obj(&w);
    tm_jw_key(&w, "reason");
    tm_jw_str(&w, "a reason too long for the array");
    tm_jw_obj_end(&w);
    ASSERT_EQ(tm_buf_failed(&b), TM_ELIMIT_MEM);
    ASSERT_STR_EQ(mem, "{\"reason\":\""); /* cut short: the caller throws it away */
}
