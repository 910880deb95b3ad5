/*
 * tests/unit/test_sms.c: SMS encoding choice, unit counts and segmenting.
 *
 * Oracles are the TS 23.038 default alphabet written out by hand from the spec's table (every
 * one of the 128 basic positions and the 10 extension characters), the published limits
 * (160/153 septets, 70/67 UCS-2 units) and hand-worked boundary cases on both sides of each
 * limit, including the cases where keeping an escape or surrogate pair whole adds a segment.
 */
#include "harness.h"

#include "sms.h"

/* Text of `n` copies of the UTF-8 string `unit` followed by `tail`, in a static buffer. */
static char text_buf[8192];

static size_t rep(const char *unit, size_t n, const char *tail)
{
    size_t ul = strlen(unit), tl = strlen(tail), o = 0;
    ASSERT(ul * n + tl < sizeof text_buf);
    for (size_t i = 0; i < n; i++, o += ul)
        memcpy(text_buf + o, unit, ul);
    memcpy(text_buf + o, tail, tl);
    o += tl;
    text_buf[o] = '\0';
    return o;
}

/* Appends `n` copies of `unit` to text_buf of length `len`; returns the new length. */
static size_t more(size_t len, const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    ASSERT(len + ul * n < sizeof text_buf);
    for (size_t i = 0; i < n; i++, len += ul)
        memcpy(text_buf + len, unit, ul);
    text_buf[len] = '\0';
    return len;
}

static tm_sms_info measure(const char *s, size_t len)
{
    tm_sms_info info;
    memset(&info, 0xAB, sizeof info);
    struct tm_err err = {0};
    int rc = tm_sms_measure(s, len, &info, &err);
    if (rc != TM_OK)
        TM_FAIL_("tm_sms_measure failed: %d %s", rc, err.msg);
    return info;
}

#define ASSERT_SMS(info, enc, nunits, nseg, rem)                                                \
    do {                                                                                        \
        tm_sms_info i_ = (info);                                                                \
        ASSERT_EQ(i_.encoding, (enc));                                                          \
        ASSERT_EQ(i_.units, (nunits));                                                          \
        ASSERT_EQ(i_.segments, (nseg));                                                         \
        ASSERT_EQ(i_.remaining, (rem));                                                         \
    } while (0)

/* ---- The alphabet ------------------------------------------------------------------------ */

/* The 128 basic positions of TS 23.038 6.2.1 as Unicode, in code order (0x1B is the escape). */
static const uint32_t gsm_basic[128] = {
    0x40,   0xA3,   0x24,   0xA5,   0xE8,   0xE9,   0xF9,   0xEC,   /* @ £ $ ¥ è é ù ì */
    0xF2,   0xC7,   0x0A,   0xD8,   0xF8,   0x0D,   0xC5,   0xE5,   /* ò Ç LF Ø ø CR Å å */
    0x394,  0x5F,   0x3A6,  0x393,  0x39B,  0x3A9,  0x3A0,  0x3A8,  /* Δ _ Φ Γ Λ Ω Π Ψ */
    0x3A3,  0x398,  0x39E,  0,      0xC6,   0xE6,   0xDF,   0xC9,   /* Σ Θ Ξ ESC Æ æ ß É */
    0x20,   0x21,   0x22,   0x23,   0xA4,   0x25,   0x26,   0x27,   /* SP ! " # ¤ % & ' */
    0x28,   0x29,   0x2A,   0x2B,   0x2C,   0x2D,   0x2E,   0x2F,   /* ( ) * + , - . / */
    0x30,   0x31,   0x32,   0x33,   0x34,   0x35,   0x36,   0x37,   /* 0-7 */
    0x38,   0x39,   0x3A,   0x3B,   0x3C,   0x3D,   0x3E,   0x3F,   /* 8 9 : ; < = > ? */
    0xA1,   0x41,   0x42,   0x43,   0x44,   0x45,   0x46,   0x47,   /* ¡ A-G */
    0x48,   0x49,   0x4A,   0x4B,   0x4C,   0x4D,   0x4E,   0x4F,   /* H-O */
    0x50,   0x51,   0x52,   0x53,   0x54,   0x55,   0x56,   0x57,   /* P-W */
    0x58,   0x59,   0x5A,   0xC4,   0xD6,   0xD1,   0xDC,   0xA7,   /* X Y Z Ä Ö Ñ Ü § */
    0xBF,   0x61,   0x62,   0x63,   0x64,   0x65,   0x66,   0x67,   /* ¿ a-g */
    0x68,   0x69,   0x6A,   0x6B,   0x6C,   0x6D,   0x6E,   0x6F,   /* h-o */
    0x70,   0x71,   0x72,   0x73,   0x74,   0x75,   0x76,   0x77,   /* p-w */
    0x78,   0x79,   0x7A,   0xE4,   0xF6,   0xF1,   0xFC,   0xE0,   /* x y z ä ö ñ ü à */
};

/* The default extension table: FF ^ { } \ [ ~ ] | €. */
static const uint32_t gsm_ext[10] = {0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC};

static int in_list(uint32_t cp, const uint32_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == cp)
            return 1;
    return 0;
}

TEST(gsm7_table_exact)
{
    for (size_t i = 0; i < 128; i++)
        if (i != 0x1B)
            ASSERT_EQ(tm_sms_gsm7_septets(gsm_basic[i]), 1);
    for (size_t i = 0; i < 10; i++)
        ASSERT_EQ(tm_sms_gsm7_septets(gsm_ext[i]), 2);
    /* Nothing else below U+2100 (the euro sign is U+20AC) is in it. */
    size_t ones = 0, twos = 0;
    for (uint32_t cp = 0; cp < 0x2100; cp++) {
        int w = tm_sms_gsm7_septets(cp);
        int want = in_list(cp, gsm_ext, 10) ? 2 : (cp != 0 && in_list(cp, gsm_basic, 128)) ? 1 : 0;
        if (w != want)
            TM_FAIL_("U+%04X: got %d septets, want %d", (unsigned)cp, w, want);
        ones += w == 1;
        twos += w == 2;
    }
    ASSERT_EQ(ones, 127);
    ASSERT_EQ(twos, 10);
}

TEST(gsm7_table_spot_checks)
{
    /* Not in the alphabet, though they look like they might be. */
    ASSERT_EQ(tm_sms_gsm7_septets(0xE1), 0);   /* á */
    ASSERT_EQ(tm_sms_gsm7_septets(0xED), 0);   /* í */
    ASSERT_EQ(tm_sms_gsm7_septets(0xF3), 0);   /* ó */
    ASSERT_EQ(tm_sms_gsm7_septets(0xFA), 0);   /* ú */
    ASSERT_EQ(tm_sms_gsm7_septets(0xE7), 0);   /* ç (only Ç is) */
    ASSERT_EQ(tm_sms_gsm7_septets(0xEA), 0);   /* ê */
    ASSERT_EQ(tm_sms_gsm7_septets(0xC1), 0);   /* Á */
    ASSERT_EQ(tm_sms_gsm7_septets('`'), 0);
    ASSERT_EQ(tm_sms_gsm7_septets('\t'), 0);
    ASSERT_EQ(tm_sms_gsm7_septets(0), 0);
    ASSERT_EQ(tm_sms_gsm7_septets(0x1B), 0);   /* ESC is not a character */
    ASSERT_EQ(tm_sms_gsm7_septets(0x7F), 0);   /* DEL */
    ASSERT_EQ(tm_sms_gsm7_septets(0xA0), 0);   /* no-break space */
    ASSERT_EQ(tm_sms_gsm7_septets(0x3B1), 0);  /* Greek small alpha */
    ASSERT_EQ(tm_sms_gsm7_septets(0x391), 0);  /* Greek capital Alpha (Latin A is used) */
    ASSERT_EQ(tm_sms_gsm7_septets(0x1F600), 0);
    ASSERT_EQ(tm_sms_gsm7_septets(0x110000), 0);
    ASSERT_EQ(tm_sms_gsm7_septets(0xFFFFFFFFu), 0);
    /* In it. */
    ASSERT_EQ(tm_sms_gsm7_septets('@'), 1);
    ASSERT_EQ(tm_sms_gsm7_septets('$'), 1);
    ASSERT_EQ(tm_sms_gsm7_septets('_'), 1);
    ASSERT_EQ(tm_sms_gsm7_septets(0xC7), 1);   /* Ç */
    ASSERT_EQ(tm_sms_gsm7_septets(0x3A9), 1);  /* Ω */
    ASSERT_EQ(tm_sms_gsm7_septets(0x20AC), 2); /* € */
}

/* ---- GSM 7-bit counting ------------------------------------------------------------------ */

TEST(empty_is_one_segment)
{
    ASSERT_SMS(measure("", 0), TM_SMS_GSM7, 0, 1, 160);
    ASSERT_SMS(measure(NULL, 0), TM_SMS_GSM7, 0, 1, 160);
    ASSERT_EQ(measure("", 0).chars, 0);
}

TEST(gsm7_160_vs_161)
{
    ASSERT_SMS(measure(text_buf, rep("a", 159, "")), TM_SMS_GSM7, 159, 1, 1);
    tm_sms_info i = measure(text_buf, rep("a", 160, ""));
    ASSERT_SMS(i, TM_SMS_GSM7, 160, 1, 0);
    ASSERT_EQ(i.per_segment, 160);
    ASSERT_EQ(i.chars, 160);
    i = measure(text_buf, rep("a", 161, ""));
    ASSERT_SMS(i, TM_SMS_GSM7, 161, 2, 153 * 2 - 161);
    ASSERT_EQ(i.per_segment, 153);
}

TEST(gsm7_306_vs_307)
{
    ASSERT_SMS(measure(text_buf, rep("a", 306, "")), TM_SMS_GSM7, 306, 2, 0);
    ASSERT_SMS(measure(text_buf, rep("a", 307, "")), TM_SMS_GSM7, 307, 3, 152);
    ASSERT_SMS(measure(text_buf, rep("a", 459, "")), TM_SMS_GSM7, 459, 3, 0);
    ASSERT_SMS(measure(text_buf, rep("a", 460, "")), TM_SMS_GSM7, 460, 4, 152);
}

TEST(gsm7_extension_counts_two)
{
    ASSERT_SMS(measure("\xE2\x82\xAC", 3), TM_SMS_GSM7, 2, 1, 158); /* € */
    ASSERT_SMS(measure("{}", 2), TM_SMS_GSM7, 4, 1, 156);
    const char *all = "\f^{}\\[~]|\xE2\x82\xAC";
    tm_sms_info i = measure(all, strlen(all));
    ASSERT_SMS(i, TM_SMS_GSM7, 20, 1, 140);
    ASSERT_EQ(i.chars, 10);
    /* 80 euros are 160 septets, one message; 81 are 162 and need two segments of at most
     * 76 escape pairs (152 septets, since a 77th pair would need 154). */
    ASSERT_SMS(measure(text_buf, rep("\xE2\x82\xAC", 80, "")), TM_SMS_GSM7, 160, 1, 0);
    ASSERT_SMS(measure(text_buf, rep("\xE2\x82\xAC", 81, "")), TM_SMS_GSM7, 162, 2,
               153 - 10);
    /* 159 plain + one extension char is 161 septets: over the single limit. */
    ASSERT_SMS(measure(text_buf, rep("a", 159, "[")), TM_SMS_GSM7, 161, 2, 153 - 8);
    ASSERT_SMS(measure(text_buf, rep("a", 158, "[")), TM_SMS_GSM7, 160, 1, 0);
}

TEST(gsm7_escape_pair_not_split)
{
    /* 152 plain + € + 1 plain = 155 septets still fits one message: no segmenting at all. */
    size_t n = rep("a", 152, "\xE2\x82\xAC" "b");
    ASSERT_SMS(measure(text_buf, n), TM_SMS_GSM7, 155, 1, 5);
    /* 152 plain + € + 10 plain = 164 septets: the € would occupy septets 153-154 of segment
     * 1, so it moves whole to segment 2, which then holds € and 10 plain (12 septets). */
    n = rep("a", 152, "\xE2\x82\xAC");
    n = more(n, "b", 10);
    tm_sms_info i = measure(text_buf, n);
    ASSERT_SMS(i, TM_SMS_GSM7, 164, 2, 153 - 12);
    /* 152 + € + 151: segment 2 holds exactly 153 septets. */
    n = rep("a", 152, "\xE2\x82\xAC");
    n = more(n, "a", 151);
    ASSERT_SMS(measure(text_buf, n), TM_SMS_GSM7, 305, 2, 0);
    /* 152 + € + 152 is 306 septets, which would fit 2 x 153 if the pair could be split; since
     * it cannot, segment 2 overflows and a third is needed. */
    n = rep("a", 152, "\xE2\x82\xAC");
    n = more(n, "a", 152);
    ASSERT_SMS(measure(text_buf, n), TM_SMS_GSM7, 306, 3, 152);
    /* 151 + € ends segment 1 exactly at 153; 10 more plain start segment 2. */
    n = rep("a", 151, "\xE2\x82\xAC");
    n = more(n, "b", 10);
    ASSERT_SMS(measure(text_buf, n), TM_SMS_GSM7, 163, 2, 143);
}

TEST(gsm7_accents_and_greek)
{
    /* Spanish with only alphabet letters: ñ ¿ é ¡ are all in the basic table. */
    const char *s = "Se\xC3\xB1or, \xC2\xBFqu\xC3\xA9 tal? \xC2\xA1Pague hoy!";
    tm_sms_info i = measure(s, strlen(s));
    ASSERT_SMS(i, TM_SMS_GSM7, 28, 1, 132);
    ASSERT_EQ(i.chars, 28);
    /* German and Scandinavian letters of the table, and the Greek capitals. */
    s = "\xC3\x84\xC3\x96\xC3\x9C\xC3\xA4\xC3\xB6\xC3\xBC\xC3\x9F\xC3\x85\xC3\xA5\xC3\x98\xC3\xB8"
        "\xC3\x86\xC3\xA6\xCE\x94\xCE\xA6\xCE\x93\xCE\x9B\xCE\xA9\xCE\xA0\xCE\xA8\xCE\xA3\xCE\x98"
        "\xCE\x9E";
    ASSERT_SMS(measure(s, strlen(s)), TM_SMS_GSM7, 23, 1, 137);
    s = "@$_\xC2\xA3\xC2\xA5\xC2\xA4\xC2\xA7\r\n";
    ASSERT_SMS(measure(s, strlen(s)), TM_SMS_GSM7, 9, 1, 151);
}

/* ---- UCS-2 counting ---------------------------------------------------------------------- */

TEST(ucs2_spanish_not_in_alphabet)
{
    /* "¿Dónde está?" : ó and á are not in GSM-7, so the whole text goes UCS-2. */
    const char *s = "\xC2\xBF" "D\xC3\xB3nde est\xC3\xA1?";
    ASSERT_SMS(measure(s, strlen(s)), TM_SMS_UCS2, 12, 1, 58);
    ASSERT_SMS(measure("S\xC3\xAD", 3), TM_SMS_UCS2, 2, 1, 68);        /* Sí */
    ASSERT_SMS(measure("a\xC3\xBA", 3), TM_SMS_UCS2, 2, 1, 68);        /* aú */
    ASSERT_SMS(measure("Fran\xC3\xA7ois", 9), TM_SMS_UCS2, 8, 1, 62); /* ç */
    ASSERT_SMS(measure("a`b", 3), TM_SMS_UCS2, 3, 1, 67);
    ASSERT_SMS(measure("a\tb", 3), TM_SMS_UCS2, 3, 1, 67);
    ASSERT_SMS(measure("a\0b", 3), TM_SMS_UCS2, 3, 1, 67);
    /* In UCS-2 an extension character is one unit like any other. */
    ASSERT_SMS(measure("\xC3\xA1\xE2\x82\xAC{", 6), TM_SMS_UCS2, 3, 1, 67);
}

TEST(ucs2_70_vs_71)
{
    ASSERT_SMS(measure(text_buf, rep("\xC3\xA1", 70, "")), TM_SMS_UCS2, 70, 1, 0);
    tm_sms_info i = measure(text_buf, rep("\xC3\xA1", 71, ""));
    ASSERT_SMS(i, TM_SMS_UCS2, 71, 2, 67 * 2 - 71);
    ASSERT_EQ(i.per_segment, 67);
    /* One non-GSM char among 69 plain ones switches everything to UCS-2. */
    ASSERT_SMS(measure(text_buf, rep("a", 69, "\xD1\x8F")), TM_SMS_UCS2, 70, 1, 0); /* я */
    ASSERT_SMS(measure(text_buf, rep("a", 70, "\xD1\x8F")), TM_SMS_UCS2, 71, 2, 63);
    ASSERT_SMS(measure(text_buf, rep("\xC3\xA1", 134, "")), TM_SMS_UCS2, 134, 2, 0);
    ASSERT_SMS(measure(text_buf, rep("\xC3\xA1", 135, "")), TM_SMS_UCS2, 135, 3, 66);
}

TEST(ucs2_surrogate_pairs)
{
    const char *grin = "\xF0\x9F\x98\x80"; /* U+1F600 */
    tm_sms_info i = measure(grin, 4);
    ASSERT_SMS(i, TM_SMS_UCS2, 2, 1, 68);
    ASSERT_EQ(i.chars, 1);
    /* 35 emoji are 70 units, one message; 36 are 72 and, since 67 is odd, each segment can
     * hold only 33 of them (66 units). */
    ASSERT_SMS(measure(text_buf, rep(grin, 35, "")), TM_SMS_UCS2, 70, 1, 0);
    ASSERT_SMS(measure(text_buf, rep(grin, 36, "")), TM_SMS_UCS2, 72, 2, 67 - 6);
    ASSERT_SMS(measure(text_buf, rep(grin, 66, "")), TM_SMS_UCS2, 132, 2, 1);
    ASSERT_SMS(measure(text_buf, rep(grin, 67, "")), TM_SMS_UCS2, 134, 3, 65);
    /* 66 plain + emoji + 66 plain = 134 units, which would fit 2 x 67 if the pair could be
     * split: the emoji moves to segment 2, which then overflows into a third. */
    size_t n = rep("a", 66, grin);
    n = more(n, "a", 66);
    ASSERT_SMS(measure(text_buf, n), TM_SMS_UCS2, 134, 3, 66);
    /* 65 plain + emoji ends segment 1 at exactly 67 units. */
    n = rep("a", 65, grin);
    n = more(n, "a", 67);
    ASSERT_SMS(measure(text_buf, n), TM_SMS_UCS2, 134, 2, 0);
    /* The largest code point. */
    ASSERT_SMS(measure("\xF4\x8F\xBF\xBF", 4), TM_SMS_UCS2, 2, 1, 68);
    /* A BMP character in the 3-byte range is one unit. */
    ASSERT_SMS(measure("\xEF\xBF\xBD", 3), TM_SMS_UCS2, 1, 1, 69);
}

/* ---- Errors ------------------------------------------------------------------------------ */

static void expect_bad(const char *s, size_t len, const char *where)
{
    tm_sms_info info = {7, 7, 7, 7, 7, 7};
    struct tm_err err = {0};
    ASSERT_EQ(tm_sms_measure(s, len, &info, &err), TM_EINVAL);
    ASSERT_EQ(err.code, TM_EINVAL);
    ASSERT_CONTAINS(err.msg, where);
    ASSERT_EQ(info.units, 7); /* untouched */
}

TEST(invalid_utf8)
{
    expect_bad("ab\xC3", 3, "byte offset 2");             /* truncated */
    expect_bad("\xC0\xAF", 2, "byte offset 0");           /* overlong */
    expect_bad("abc\xED\xA0\x80", 6, "byte offset 3");    /* surrogate */
    expect_bad("\xF4\x90\x80\x80", 4, "byte offset 0");   /* past U+10FFFF */
    expect_bad("hello \x80 world", 13, "byte offset 6");  /* stray continuation */
    expect_bad("\xE2\x82\xAC\xE2\x82", 5, "byte offset 3");
    expect_bad("ok\xFF", 3, "byte offset 2");
    /* len is honoured: the bad byte outside it is never seen. */
    ASSERT_SMS(measure("ab\xC3", 2), TM_SMS_GSM7, 2, 1, 158);
}

TEST(null_arguments)
{
    tm_sms_info info;
    struct tm_err err = {0};
    ASSERT_EQ(tm_sms_measure("a", 1, NULL, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "out");
    ASSERT_EQ(tm_sms_measure(NULL, 1, &info, &err), TM_EINVAL);
    ASSERT_EQ(tm_sms_measure(NULL, 1, &info, NULL), TM_EINVAL);
}
