/*
 * core/jscan.h: a validating JSON scanner that reads a text in place into a
 * flat array of tokens, with no allocation.
 *
 * Why not jansson here: `tallyman decide` reads hundreds of thousands of
 * request lines a second, and building a tree of objects for each line cost
 * more than judging it. The scanner checks the whole grammar (RFC 8259:
 * nesting, escapes, numbers, UTF-8 in strings) in one pass and leaves strings
 * where they are; lookups walk the tokens. jansson stays the JSON library for
 * everything else.
 *
 * Why not jansson for event, import and payment lines either (tallyman event,
 * import of JSON lines, tallyman pay), though speed is not the reason there:
 *   - Money is read from the number's text: "amount": 1533.52 is parsed as
 *     1533.52 exactly (tm_json_raw, then tm_parse_money). jansson keeps only
 *     the double, which cannot hold most amounts, and no text to go back to.
 *   - A card number is wiped where it was read: the scanner leaves the value
 *     in the caller's line, which is overwritten once it is tokenised
 *     (portfolio_events.c, wipe_value). jansson copies every string into
 *     blocks of its own and frees them unwiped.
 *   - An event's content hash is taken over its members as written, a
 *     number by its text (portfolio_events.c, event_content).
 *   - A member given twice is refused, naming it, as for decide requests: one
 *     line, one meaning (jansson keeps the last unless told to reject, and
 *     then names no member).
 * JSON text is written with jw.h, never by hand.
 */
#ifndef TM_JSCAN_H
#define TM_JSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

enum tm_jtype { TM_J_OBJECT = 1, TM_J_ARRAY, TM_J_STRING, TM_J_NUMBER, TM_J_TRUE, TM_J_FALSE,
                TM_J_NULL };

typedef struct tm_jtok {
    uint8_t type;     /* enum tm_jtype */
    uint8_t escaped;  /* a string holding backslash escapes */
    uint32_t start;   /* offset of the value (strings: after the opening quote) */
    uint32_t len;     /* bytes (strings: between the quotes, escapes undecoded;
                         objects and arrays: from the bracket that opens them to
                         the one that closes them, both included) */
    uint32_t next;    /* index of the first token after this value and all it holds */
    uint32_t count;   /* objects: members; arrays: elements; member names in
                         objects of 16 members or more: a hash of the name */
} tm_jtok;

typedef struct tm_json {
    const char *text;
    const tm_jtok *tok;
    int ntok;
} tm_json;

/* Scans `len` bytes of JSON text (one value, surrounded by optional white
 * space) into `toks` (room for `max`). An object's members follow it as
 * key, value pairs. On success fills *out and returns TM_OK; otherwise
 * TM_EINVAL with `err` saying what is wrong and at which column, or
 * TM_ENOMEM when the text has more than `max` tokens. Nesting deeper than 64
 * is refused, and so is an object that has two members of the same name
 * (after decoding escapes): JSON readers disagree on which one wins, so the
 * text has no one meaning ("duplicate member 'x' (column N)"; a name with 13
 * or more digits is not quoted). */
int tm_json_scan(const char *text, size_t len, tm_jtok *toks, int max, tm_json *out,
                 struct tm_err *err);

/* The value of member `key` of the object at token `obj`, or -1 (also when
 * `obj` is not an object). */
int tm_json_get(const tm_json *j, int obj, const char *key);

/* The token of the i-th element of the array at token `arr`; iterate with
 * `first = arr + 1`, `next = j->tok[i].next`. */

/* Copies the decoded string at token `i` into buf (NUL-terminated; cap >= 1).
 * Returns its length, or -1 when it is not a string, does not fit, or holds
 * a NUL character. */
int tm_json_str(const tm_json *j, int i, char *buf, size_t cap);

/* 1 when the string at token `i` equals `s` exactly. */
int tm_json_streq(const tm_json *j, int i, const char *s);

/* The number at token `i` as an integer: 0 on success, -1 when it is not an
 * integer (a fraction, an exponent, out of range, or not a number). */
int tm_json_int(const tm_json *j, int i, int64_t *out);

/* The JSON text of token `i` as it stands in the input (for echoing ids). */
const char *tm_json_raw(const tm_json *j, int i, size_t *len);

/* Returns nonzero when the `n` bytes at `s` are what tm_json_find_text() looks for. */
typedef int (*tm_json_text_fn)(void *ud, const char *s, size_t n);

/* Offers fn every text in the document, in order: each member name and each string value
 * (decoded) and each number (as written). Stops at the first text fn accepts and returns its
 * token, with `path` (cap bytes, may be NULL) naming where it stands: "consumer.city",
 * "history[2].at", "consumer (a member name)" (a name is not repeated, it may be the text
 * sought). The values of the top-level members named in `skip` (a NULL-terminated list; NULL:
 * none) are not offered. Returns
 * -1 when fn accepted none, -2 when out of memory. The buffer the strings were decoded into is
 * wiped before returning. */
int tm_json_find_text(const tm_json *j, const char *const *skip, tm_json_text_fn fn, void *ud,
                      char *path, size_t cap);

#endif
