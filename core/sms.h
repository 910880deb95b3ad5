/*
 * core/sms.h: SMS length counting for channel templates (3GPP TS 23.038 / 23.040).
 *
 * Decides whether UTF-8 text can be sent in the GSM 7-bit default alphabet or needs UCS-2,
 * and how many units and segments it takes, so templates can be linted and priced before a
 * message is queued. No national language shift tables are used: the sender always uses the
 * default alphabet and its default extension table. Depends on core/text (UTF-8 validation).
 * Functions are pure and thread-safe.
 */
#ifndef TM_SMS_H
#define TM_SMS_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

enum tm_sms_encoding {
    TM_SMS_GSM7 = 1, /* GSM 7-bit default alphabet; units are septets */
    TM_SMS_UCS2 = 2  /* UCS-2 (UTF-16 on the wire); units are UTF-16 code units */
};

/* Per-segment limits, in units of the encoding. */
#define TM_SMS_GSM7_SINGLE 160 /* septets in a message sent as one segment */
#define TM_SMS_GSM7_MULTI 153  /* septets per segment of a concatenated message */
#define TM_SMS_UCS2_SINGLE 70  /* UTF-16 units in a message sent as one segment */
#define TM_SMS_UCS2_MULTI 67   /* UTF-16 units per segment of a concatenated message */

typedef struct tm_sms_info {
    int encoding;       /* TM_SMS_GSM7 or TM_SMS_UCS2 */
    size_t chars;       /* Unicode code points in the text */
    size_t units;       /* septets (GSM7, extension characters count 2) or UTF-16 code units
                         * (UCS2, characters outside the BMP count 2) */
    size_t segments;    /* >= 1: an empty text is still one (empty) message */
    size_t per_segment; /* the limit that applied: 160/153 septets or 70/67 units */
    size_t remaining;   /* units still free in the last segment before another is needed */
} tm_sms_info;

/* Septets that code point `cp` takes in the GSM 7-bit default alphabet: 1 for a character of
 * the basic table (LF and CR included), 2 for one of the extension table reached through the
 * escape code (form feed, ^ { } \ [ ] ~ | and the euro sign), 0 for anything else (the text
 * then needs UCS-2). The table is the one in TS 23.038 section 6.2.1. Its only accented or
 * non-ASCII Latin letters are à ä å Ä Å æ Æ Ç é É è ì ñ Ñ ò ö Ö ø Ø ß ù ü Ü (Ç is the capital:
 * lower-case ç is not in it), plus £ ¥ ¤ § ¡ ¿ and the Greek capitals Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ.
 * So á í ó ú ç ê â are 0, as are TAB, NUL and the backtick; @ $ _ are 1. */
int tm_sms_gsm7_septets(uint32_t cp);

/* Measures the `len` bytes of UTF-8 at `text` (NULs count as characters; `text` may be NULL
 * only when len is 0) and fills *out.
 *
 * The encoding is GSM7 when every character is in the basic or extension table, else UCS2.
 * A text of at most 160 septets (70 units) is one segment. A longer one is cut into segments
 * of at most 153 septets (67 units), filled in order, and a character is never split across
 * two segments: an escape pair (an extension character) or a surrogate pair that would
 * straddle a boundary moves whole to the next segment, which can add a segment, e.g. 152
 * plain characters then a euro sign: the euro opens segment 2. The empty text is GSM7, 0
 * units, 1 segment (remaining 160). There is no upper bound on segments: carriers and the
 * 8-bit concatenation reference cap a message at 255, which the caller may check.
 *
 * TM_EINVAL for a NULL out, a NULL text with len > 0, or invalid UTF-8 (overlong forms,
 * surrogates, truncated sequences, values past U+10FFFF): the message names the byte offset
 * of the first bad byte. *out is written only on success. */
int tm_sms_measure(const char *text, size_t len, tm_sms_info *out, struct tm_err *err);

#endif
