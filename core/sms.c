/*
 * core/sms.c: SMS length counting (see sms.h for the contracts).
 *
 * Design notes. The text is validated once with tm_utf8_valid() (so the error offset matches
 * every other UTF-8 check in tallyman), then decoded a second time without checks. Each code
 * point gets a width in both encodings (GSM7 septets, UTF-16 units); the GSM7 total is kept
 * only while every character has a GSM7 width. Segmenting is a greedy fill in which a
 * character of width 2 that does not fit the room left opens the next segment, which is
 * exactly the rule that an escape or surrogate pair must not be split. The basic table is a
 * sorted list of the non-ASCII code points plus an ASCII bitmap, both written out from the
 * 128-entry table in TS 23.038 section 6.2.1.
 */
#include "sms.h"

#include "text.h"

/* ASCII characters of the basic table (0x20..0x7E minus ` [ \ ] ^ { | } ~, plus LF and CR). */
static int ascii_basic(unsigned c)
{
    if (c == '\n' || c == '\r')
        return 1;
    if (c < 0x20 || c > 0x7E)
        return 0;
    switch (c) {
    case '`': case '[': case '\\': case ']': case '^': case '{': case '|': case '}': case '~':
        return 0;
    default:
        return 1;
    }
}

/* Non-ASCII code points of the basic table, ascending, with their GSM 7-bit code (comment). */
static const uint16_t basic_high[] = {
    0x00A1, /* 0x40 inverted exclamation mark */
    0x00A3, /* 0x01 pound sign */
    0x00A4, /* 0x24 currency sign */
    0x00A5, /* 0x03 yen sign */
    0x00A7, /* 0x5F section sign */
    0x00BF, /* 0x60 inverted question mark */
    0x00C4, /* 0x5B A diaeresis */
    0x00C5, /* 0x0E A ring */
    0x00C6, /* 0x1C AE */
    0x00C7, /* 0x09 C cedilla (capital) */
    0x00C9, /* 0x1F E acute */
    0x00D1, /* 0x5D N tilde */
    0x00D6, /* 0x5C O diaeresis */
    0x00D8, /* 0x0B O stroke */
    0x00DC, /* 0x5E U diaeresis */
    0x00DF, /* 0x1E sharp s */
    0x00E0, /* 0x7F a grave */
    0x00E4, /* 0x7B a diaeresis */
    0x00E5, /* 0x0F a ring */
    0x00E6, /* 0x1D ae */
    0x00E8, /* 0x04 e grave */
    0x00E9, /* 0x05 e acute */
    0x00EC, /* 0x07 i grave */
    0x00F1, /* 0x7D n tilde */
    0x00F2, /* 0x08 o grave */
    0x00F6, /* 0x7C o diaeresis */
    0x00F8, /* 0x0C o stroke */
    0x00F9, /* 0x06 u grave */
    0x00FC, /* 0x7E u diaeresis */
    0x0393, /* 0x13 Gamma */
    0x0394, /* 0x10 Delta */
    0x0398, /* 0x19 Theta */
    0x039B, /* 0x14 Lambda */
    0x039E, /* 0x1A Xi */
    0x03A0, /* 0x16 Pi */
    0x03A3, /* 0x18 Sigma */
    0x03A6, /* 0x12 Phi */
    0x03A8, /* 0x17 Psi */
    0x03A9, /* 0x15 Omega */
};

int tm_sms_gsm7_septets(uint32_t cp)
{
    if (cp < 0x80) {
        if (ascii_basic(cp))
            return 1;
        switch (cp) {
        case 0x0C: /* form feed, escape + 0x0A */
        case '^': case '{': case '}': case '\\': case '[': case '~': case ']': case '|':
            return 2;
        default:
            return 0;
        }
    }
    if (cp == 0x20AC) /* euro sign, escape + 0x65 */
        return 2;
    size_t lo = 0, hi = sizeof basic_high / sizeof basic_high[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (basic_high[mid] == cp)
            return 1;
        if (basic_high[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Decodes the code point at s[*i] of text already known to be valid UTF-8; advances *i. */
static uint32_t decode(const unsigned char *s, size_t *i)
{
    unsigned c = s[*i];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        n = 0, cp = c;
    else if ((c & 0xE0) == 0xC0)
        n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        n = 2, cp = c & 0x0F;
    else
        n = 3, cp = c & 0x07;
    for (size_t k = 1; k <= n; k++)
        cp = (cp << 6) | (s[*i + k] & 0x3F);
    *i += n + 1;
    return cp;
}

/* A greedy segment fill: characters are added in order, each whole, to the last segment. */
struct fill {
    size_t segments;
    size_t used; /* units in the current (last) segment */
};

static void fill_add(struct fill *f, size_t width, size_t limit)
{
    if (f->used + width > limit) {
        f->segments++;
        f->used = 0;
    }
    f->used += width;
}

int tm_sms_measure(const char *text, size_t len, tm_sms_info *out, struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_sms_measure: out is NULL");
    if (text == NULL && len > 0)
        return tm_err_set(err, TM_EINVAL, "tm_sms_measure: text is NULL");
    size_t bad = 0;
    if (len > 0 && !tm_utf8_valid(text, len, &bad))
        return tm_err_set(err, TM_EINVAL, "invalid UTF-8 at byte offset %zu", bad);

    const unsigned char *s = (const unsigned char *)text;
    size_t chars = 0, septets = 0, u16 = 0;
    int gsm = 1;
    for (size_t i = 0; i < len;) {
        uint32_t cp = decode(s, &i);
        chars++;
        u16 += cp > 0xFFFF ? 2 : 1;
        if (gsm) {
            int w = tm_sms_gsm7_septets(cp);
            if (w == 0)
                gsm = 0;
            septets += (size_t)w;
        }
    }

    tm_sms_info info = {0};
    info.chars = chars;
    info.encoding = gsm ? TM_SMS_GSM7 : TM_SMS_UCS2;
    info.units = gsm ? septets : u16;
    size_t single = gsm ? TM_SMS_GSM7_SINGLE : TM_SMS_UCS2_SINGLE;
    size_t multi = gsm ? TM_SMS_GSM7_MULTI : TM_SMS_UCS2_MULTI;
    if (info.units <= single) {
        info.segments = 1;
        info.per_segment = single;
        info.remaining = single - info.units;
    } else {
        /* Second pass: fill segments character by character so no pair is split. */
        struct fill f = {1, 0};
        for (size_t i = 0; i < len;) {
            uint32_t cp = decode(s, &i);
            size_t w = gsm ? (size_t)tm_sms_gsm7_septets(cp) : (cp > 0xFFFF ? 2u : 1u);
            fill_add(&f, w, multi);
        }
        info.segments = f.segments;
        info.per_segment = multi;
        info.remaining = multi - f.used;
    }
    *out = info;
    return TM_OK;
}
