/*
 * core/tmpl.h: the channel template renderer (SMS, email and letter bodies).
 *
 * A template is UTF-8 text with placeholders. The renderer parses it, asks a caller-supplied
 * lookup callback for the text of each placeholder and appends literal text and values to a
 * growable buffer, HTML-escaping the values in HTML mode. It knows nothing about debtors or
 * accounts: names and filters mean whatever the callback makes of them. Output is bounded by
 * a max_out argument so neither a hostile template nor a hostile value can exhaust memory.
 * Also the value formats templates use (long dates and short times in English and Spanish).
 * Depends on core/text (UTF-8 validation) and core/calendar (dates). Thread-safe: no global
 * state.
 *
 * Syntax, in one place:
 *   {{name}}           a placeholder: the lookup callback supplies its text
 *   {{name|filter}}    the same, with a filter name passed through to the callback
 *   \{{                a literal "{{" (the backslash is dropped); a backslash anywhere else,
 *                      and a "}}" outside a placeholder, are ordinary text
 * - name is [a-z_][a-z0-9_.]*, a dotted path ("debtor.first_name", "items.0.amount") with no
 *   empty segment: "a..b" and "a." are refused. filter is [a-z_][a-z0-9_]*.
 * - Spaces and tabs may surround the name, the '|' and the filter: {{ debtor.name | upper }}.
 * - A placeholder must close on the line it opens: a line end before "}}" makes it
 *   unterminated.
 * - The template must be valid UTF-8.
 * Errors name a 1-based line and column; the column counts characters (UTF-8 sequences, a tab
 * is one) from the start of the line, so it matches what an editor shows.
 */
#ifndef TM_TMPL_H
#define TM_TMPL_H

#include <stddef.h>

#include "buf.h"
#include "calendar.h"
#include "tm_status.h"

/* ---- Growable output buffer ---------------------------------------------------------------- */

/* The output buffer is the one growable buffer (buf.h), under the name the renderer's callers
 * have always used. Zero-initialise it (TM_TMPL_BUF_INIT); after any successful append `data`
 * is NUL-terminated at `len` (the NUL is not counted). `data` is NULL until the first growth.
 * Release with tm_tmpl_buf_free(). */
typedef tm_buf tm_tmpl_buf;

#define TM_TMPL_BUF_INIT TM_BUF_INIT

/* Appends the n bytes at s (NULs allowed; s may be NULL when n is 0) and keeps data
 * NUL-terminated. TM_EINVAL for a NULL b or a NULL s with n > 0; TM_ENOMEM (also for a size
 * that would overflow), in which case b holds what it held, and, the failure being sticky
 * (buf.h), every later append fails too until the buffer is freed or reset. */
int tm_tmpl_buf_append(tm_tmpl_buf *b, const char *s, size_t n, struct tm_err *err);

/* Frees b->data and zeroes *b. NULL is a no-op. */
void tm_tmpl_buf_free(tm_tmpl_buf *b);

/* ---- Placeholders --------------------------------------------------------------------------- */

/* One placeholder occurrence. name/filter point into the template (borrowed: valid while the
 * template is) and are not NUL-terminated; filter is NULL with filter_len 0 when absent. */
typedef struct tm_tmpl_ref {
    const char *name;
    size_t name_len;
    const char *filter;
    size_t filter_len;
    size_t offset; /* byte offset of the opening "{{" */
    int line;      /* 1-based line of the opening "{{" */
    int column;    /* 1-based column (characters) of the opening "{{" */
} tm_tmpl_ref;

/* Parse check. TM_OK when `tmpl` (len bytes; NULL only with len 0) is a well-formed template.
 * TM_EINVAL otherwise, with a message "line L, column C: ..." for the first problem:
 *   - invalid UTF-8 (position of the first bad byte);
 *   - an unterminated "{{" (position of the "{{"): end of text or a line end before "}}";
 *   - an empty name, "{{}}" or "{{|f}}" (position of the "{{"), or an empty filter, "{{a|}}"
 *     (position of the '|');
 *   - a bad character in a name, filter or between them and "}}", an empty path segment
 *     included (position of that character, which the message quotes). */
int tm_tmpl_check(const char *tmpl, size_t len, struct tm_err *err);

/* Flag for tm_tmpl_list(): keep only the first occurrence of each name (filters ignored). */
#define TM_TMPL_LIST_UNIQUE 1u

/* Lists the placeholders of a template in order of appearance, for lint (names unknown to a
 * channel, filters it does not offer). *refs gets a malloc'ed array of *n entries, owned by
 * the caller and released with tm_tmpl_list_free(); it is NULL when *n is 0. Entries borrow
 * from tmpl. flags is 0 or TM_TMPL_LIST_UNIQUE. Errors: those of tm_tmpl_check(); TM_EINVAL
 * for NULL refs/n or unknown flags; TM_ENOMEM. On failure *refs is NULL and *n is 0 (when
 * they are not NULL). */
int tm_tmpl_list(const char *tmpl, size_t len, unsigned flags, tm_tmpl_ref **refs, size_t *n,
                 struct tm_err *err);

/* Frees an array from tm_tmpl_list(). NULL is a no-op. */
void tm_tmpl_list_free(tm_tmpl_ref *refs);

/* Placeholder occurrences in `tmpl` (len bytes; NULL only with len 0), counted as the scanner
 * finds them in a well-formed template: "\{{" is text, every other "{{" opens one. One pass,
 * no allocation, no checking: a caller bounds its work by the count before anything else. */
size_t tm_tmpl_count(const char *tmpl, size_t len);

/* ---- Rendering ------------------------------------------------------------------------------ */

enum tm_tmpl_mode {
    TM_TMPL_TEXT = 0, /* values are inserted as they are (SMS, plain-text email, letters) */
    TM_TMPL_HTML = 1  /* values are HTML-escaped: & < > " ' become &amp; &lt; &gt; &quot;
                       * &#39;. Literal template text is not escaped (it is the author's
                       * markup). Safe for element content and quoted attribute values; not
                       * for URLs, <script> or <style> contexts, which templates must avoid. */
};

/* The lookup callback. Called once per placeholder occurrence, in order, with `ref`
 * describing it. On TM_OK it sets *text and *text_len to the value (text may be NULL only with
 * text_len 0); the bytes are copied before the next call, so they need stay valid only until
 * the callback is called again or tm_tmpl_render() returns (a callback that formats values
 * can keep them in a tm_tmpl_buf in its ud). It returns TM_ENOENT for a name it does not
 * know, and any other TM_E* code (TM_EINVAL for an unknown filter, say) with err filled to
 * fail the render. */
typedef int (*tm_tmpl_lookup_fn)(void *ud, const tm_tmpl_ref *ref, const char **text,
                                 size_t *text_len, struct tm_err *err);

/* A sane max_out for message bodies: 1 MiB. */
#define TM_TMPL_MAX_OUT_DEFAULT ((size_t)1 << 20)

/* Renders `tmpl` (len bytes; NULL only with len 0) in `mode`, appending to *out (existing
 * content is kept). At most max_out bytes (the NUL not counted) are appended: pass
 * TM_TMPL_MAX_OUT_DEFAULT, or SIZE_MAX for no limit. The template is fully checked before
 * the first callback, so a syntax error never calls `lookup`. Values are copied byte for byte
 * (escaped in HTML mode); the renderer does not validate their encoding.
 * Errors (out is then restored to its length on entry, still NUL-terminated, so no partial
 * output is left behind):
 *   - TM_EINVAL: NULL out or lookup, NULL tmpl with len > 0, a bad mode, a template
 *     tm_tmpl_check() refuses (same message), or a callback that returned TM_OK with a NULL
 *     text and text_len > 0;
 *   - TM_ENOENT: the callback does not know a name ("line L, column C: unknown placeholder
 *     {{name}}");
 *   - TM_ELIMIT_MEM: the output would exceed max_out (message names the limit and the
 *     position of the literal text or placeholder that crossed it);
 *   - TM_ENOMEM;
 *   - any other code the callback returns, with its message prefixed by the position and
 *     the placeholder. */
int tm_tmpl_render(const char *tmpl, size_t len, int mode, tm_tmpl_lookup_fn lookup, void *ud,
                   size_t max_out, tm_tmpl_buf *out, struct tm_err *err);

/* ---- Values as templates write them --------------------------------------------------------- */

/* Languages the value formats below know. */
enum tm_tmpl_lang { TM_TMPL_EN = 0, TM_TMPL_ES = 1 };

/* Buffer size that always fits tm_tmpl_format_date() and tm_tmpl_format_time() output. */
#define TM_TMPL_VALUE_MAX 64

/* Writes `d` in CLDR's long date pattern for `lang`: "November 23, 2026" (en), "23 de
 * noviembre de 2026" (es). TM_EINVAL for an invalid date, an unknown language or a buffer
 * too small (buf then holds "" when cap > 0). */
int tm_tmpl_format_date(tm_date d, int lang, char *buf, size_t cap, struct tm_err *err);

/* Writes a time of day in CLDR's short time pattern for `lang`: "3:05 PM" (en, 12-hour; noon
 * is 12:00 PM, midnight 12:00 AM), "15:05" (es). TM_EINVAL for an hour outside 0-23, a minute
 * outside 0-59, an unknown language or a buffer too small (buf then holds "" when cap > 0). */
int tm_tmpl_format_time(int hour, int min, int lang, char *buf, size_t cap, struct tm_err *err);

/* Maps the ASCII letters of s[0..n) to upper case (upper = 1) or lower case (0) in place;
 * other bytes, UTF-8 sequences included, are left as they are. */
void tm_tmpl_ascii_case(char *s, size_t n, int upper);

#endif
