/*
 * core/tmpl.c: the channel template renderer (see tmpl.h for the syntax and contracts).
 *
 * Design notes. One scanner, next_tok(), turns the template into literal-text and placeholder
 * tokens and keeps the line and column as it goes; tm_tmpl_check(), tm_tmpl_list() and
 * tm_tmpl_render() are all loops over it, so the three can never disagree about the syntax.
 * Placeholders cannot span lines and hold only ASCII before their first bad character, so a
 * position inside one is its opening column plus a byte distance. Rendering runs the check
 * first (no callback sees a broken template), then appends through one bounded writer that
 * measures each chunk, escaped size included, against max_out before it copies anything:
 * the cap is enforced before memory is spent, not after. Any failure truncates the output
 * back to where it started.
 */
#include "tmpl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* ---- Growable output buffer ---------------------------------------------------------------- */

int tm_tmpl_buf_append(tm_tmpl_buf *b, const char *s, size_t n, struct tm_err *err)
{
    if (b == NULL || (s == NULL && n > 0))
        return tm_err_set(err, TM_EINVAL, "tm_tmpl_buf_append: NULL argument");
    tm_buf_put(b, s, n);
    return tm_buf_done(b, "the rendered text", err);
}

void tm_tmpl_buf_free(tm_tmpl_buf *b)
{
    if (b == NULL)
        return;
    tm_buf_free(b);
    *b = (tm_buf)TM_BUF_INIT;
}

/* ---- Scanner ------------------------------------------------------------------------------- */

struct scan {
    const char *s;
    size_t len;
    size_t i;   /* next byte */
    int line;   /* of byte i */
    int column; /* of byte i */
};

enum { TOK_END, TOK_TEXT, TOK_REF };

struct tok {
    int kind;
    const char *text; /* TOK_TEXT: literal bytes to emit */
    size_t text_len;
    int line, column; /* TOK_TEXT: where the literal starts */
    tm_tmpl_ref ref;  /* TOK_REF */
};

/* Moves the scanner n bytes on, counting lines and characters (continuation bytes do not
 * start a character). */
static void advance(struct scan *sc, size_t n)
{
    for (size_t k = 0; k < n; k++, sc->i++) {
        unsigned char c = (unsigned char)sc->s[sc->i];
        if (c == '\n') {
            sc->line++;
            sc->column = 1;
        } else if ((c & 0xC0) != 0x80) {
            sc->column++;
        }
    }
}

static int at_open(const struct scan *sc, size_t p)
{
    return p + 1 < sc->len && sc->s[p] == '{' && sc->s[p + 1] == '{';
}

static int at_escape(const struct scan *sc, size_t p)
{
    return sc->s[p] == '\\' && at_open(sc, p + 1);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static int is_start(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

static int is_seg(char c) /* a character that may follow a '.' or continue a name */
{
    return is_start(c) || (c >= '0' && c <= '9');
}

/* Reports a bad character at byte p of a placeholder opened at `open` (column `col`). */
static int bad_char(const struct scan *sc, size_t open, int col, size_t p, const char *what,
                    struct tm_err *err)
{
    int c = (unsigned char)sc->s[p];
    int at = col + (int)(p - open);
    char shown[16];
    if (c > 0x20 && c < 0x7F) {
        shown[0] = '\'', shown[1] = (char)c, shown[2] = '\'', shown[3] = '\0';
    } else if (c >= 0x80) {
        /* The template is valid UTF-8 here, so the whole sequence is there. */
        int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        shown[0] = '\'';
        memcpy(shown + 1, sc->s + p, (size_t)n);
        shown[n + 1] = '\'';
        shown[n + 2] = '\0';
    } else {
        static const char hex[] = "0123456789ABCDEF";
        memcpy(shown, "U+00", 4);
        shown[4] = hex[c >> 4], shown[5] = hex[c & 15], shown[6] = '\0';
    }
    return tm_err_set(err, TM_EINVAL, "line %d, column %d: bad character %s in placeholder %s",
                      sc->line, at, shown, what);
}

/* Parses the placeholder whose "{{" is at sc->i into t->ref and moves past its "}}". */
static int parse_ref(struct scan *sc, struct tok *t, struct tm_err *err)
{
    const char *s = sc->s;
    size_t len = sc->len, open = sc->i, p = open + 2;
    int line = sc->line, col = sc->column;
    tm_tmpl_ref *r = &t->ref;
    memset(r, 0, sizeof *r);
    r->offset = open;
    r->line = line;
    r->column = col;

#define UNTERMINATED()                                                                          \
    tm_err_set(err, TM_EINVAL, "line %d, column %d: unterminated '{{' (no '}}' on its line)",   \
               line, col)

    while (p < len && is_ws(s[p]))
        p++;
    if (p >= len || s[p] == '\n' || s[p] == '\r')
        return UNTERMINATED();
    if (s[p] == '}' || s[p] == '|')
        return tm_err_set(err, TM_EINVAL, "line %d, column %d: empty placeholder name", line,
                          col);
    if (!is_start(s[p]))
        return bad_char(sc, open, col, p, "name", err);
    r->name = s + p;
    while (p < len && (is_seg(s[p]) || s[p] == '.')) {
        if (s[p] == '.' && (p + 1 >= len || !is_seg(s[p + 1])))
            return bad_char(sc, open, col, p, "name (empty path segment)", err);
        p++;
    }
    r->name_len = (size_t)(s + p - r->name);
    while (p < len && is_ws(s[p]))
        p++;
    if (p < len && s[p] == '|') {
        size_t bar = p++;
        while (p < len && is_ws(s[p]))
            p++;
        if (p >= len || s[p] == '\n' || s[p] == '\r')
            return UNTERMINATED();
        if (s[p] == '}')
            return tm_err_set(err, TM_EINVAL, "line %d, column %d: empty filter name", line,
                              col + (int)(bar - open));
        if (!is_start(s[p]))
            return bad_char(sc, open, col, p, "filter", err);
        r->filter = s + p;
        while (p < len && is_seg(s[p]))
            p++;
        r->filter_len = (size_t)(s + p - r->filter);
        while (p < len && is_ws(s[p]))
            p++;
    }
    if (p >= len || s[p] == '\n' || s[p] == '\r' || (s[p] == '}' && p + 1 >= len))
        return UNTERMINATED();
    if (s[p] != '}')
        return bad_char(sc, open, col, p, r->filter ? "after filter" : "name", err);
    if (s[p + 1] == '\n' || s[p + 1] == '\r')
        return UNTERMINATED();
    if (s[p + 1] != '}')
        return bad_char(sc, open, col, p + 1, "(a single '}')", err);
#undef UNTERMINATED
    t->kind = TOK_REF;
    advance(sc, p + 2 - open);
    return TM_OK;
}

/* The next token. The template has passed tm_utf8_valid(). */
static int next_tok(struct scan *sc, struct tok *t, struct tm_err *err)
{
    t->line = sc->line;
    t->column = sc->column;
    if (sc->i >= sc->len) {
        t->kind = TOK_END;
        return TM_OK;
    }
    if (at_escape(sc, sc->i)) {
        t->kind = TOK_TEXT;
        t->text = sc->s + sc->i + 1; /* the "{{" after the backslash */
        t->text_len = 2;
        advance(sc, 3);
        return TM_OK;
    }
    if (at_open(sc, sc->i))
        return parse_ref(sc, t, err);
    size_t j = sc->i + 1;
    while (j < sc->len && !at_open(sc, j) && !at_escape(sc, j))
        j++;
    t->kind = TOK_TEXT;
    t->text = sc->s + sc->i;
    t->text_len = j - sc->i;
    advance(sc, j - sc->i);
    return TM_OK;
}

/* Validates arguments and encoding and sets up a scanner. */
static int scan_init(struct scan *sc, const char *tmpl, size_t len, struct tm_err *err)
{
    if (tmpl == NULL && len > 0)
        return tm_err_set(err, TM_EINVAL, "template is NULL");
    sc->s = tmpl == NULL ? "" : tmpl;
    sc->len = len;
    sc->i = 0;
    sc->line = 1;
    sc->column = 1;
    size_t bad = 0;
    if (len > 0 && !tm_utf8_valid(tmpl, len, &bad)) {
        advance(sc, bad);
        return tm_err_set(err, TM_EINVAL, "line %d, column %d: invalid UTF-8 (byte offset %zu)",
                          sc->line, sc->column, bad);
    }
    return TM_OK;
}

int tm_tmpl_check(const char *tmpl, size_t len, struct tm_err *err)
{
    struct scan sc;
    int rc = scan_init(&sc, tmpl, len, err);
    struct tok t = {0};
    while (rc == TM_OK) {
        rc = next_tok(&sc, &t, err);
        if (t.kind == TOK_END)
            break;
    }
    return rc;
}

/* ---- Listing ------------------------------------------------------------------------------- */

static int seen_name(const tm_tmpl_ref *refs, size_t n, const tm_tmpl_ref *r)
{
    for (size_t k = 0; k < n; k++)
        if (refs[k].name_len == r->name_len && memcmp(refs[k].name, r->name, r->name_len) == 0)
            return 1;
    return 0;
}

int tm_tmpl_list(const char *tmpl, size_t len, unsigned flags, tm_tmpl_ref **refs, size_t *n,
                 struct tm_err *err)
{
    if (refs != NULL)
        *refs = NULL;
    if (n != NULL)
        *n = 0;
    if (refs == NULL || n == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_tmpl_list: NULL argument");
    if ((flags & ~TM_TMPL_LIST_UNIQUE) != 0)
        return tm_err_set(err, TM_EINVAL, "tm_tmpl_list: unknown flags 0x%x", flags);
    struct scan sc;
    int rc = scan_init(&sc, tmpl, len, err);
    if (rc != TM_OK)
        return rc;

    tm_tmpl_ref *arr = NULL;
    size_t cnt = 0, cap = 0;
    struct tok t = {0};
    for (;;) {
        rc = next_tok(&sc, &t, err);
        if (rc != TM_OK || t.kind == TOK_END)
            break;
        if (t.kind != TOK_REF)
            continue;
        if ((flags & TM_TMPL_LIST_UNIQUE) && seen_name(arr, cnt, &t.ref))
            continue;
        if (cnt == cap) {
            /* A placeholder takes at least 5 bytes, so cap never nears SIZE_MAX / sizeof. */
            size_t ncap = cap == 0 ? 8 : cap * 2;
            tm_tmpl_ref *p = realloc(arr, ncap * sizeof *arr);
            if (p == NULL) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory listing placeholders");
                break;
            }
            arr = p;
            cap = ncap;
        }
        arr[cnt++] = t.ref;
    }
    if (rc != TM_OK) {
        free(arr);
        return rc;
    }
    *refs = arr;
    *n = cnt;
    return TM_OK;
}

void tm_tmpl_list_free(tm_tmpl_ref *refs)
{
    free(refs);
}

/* ---- Rendering ----------------------------------------------------------------------------- */

struct writer {
    tm_tmpl_buf *out;
    size_t start;   /* out->len on entry */
    size_t max_out; /* bytes this render may append */
};

/* The escaped form of c in HTML mode, or NULL when c stands for itself. */
static const char *html_entity(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

/* Bytes the n bytes at s take once escaped (saturating at SIZE_MAX). */
static size_t escaped_len(const char *s, size_t n)
{
    size_t total = n;
    for (size_t k = 0; k < n; k++) {
        const char *e = html_entity(s[k]);
        if (e != NULL) {
            size_t extra = strlen(e) - 1;
            if (total > SIZE_MAX - extra)
                return SIZE_MAX;
            total += extra;
        }
    }
    return total;
}

/* Appends n bytes of s, escaped when `escape`, if they fit the budget. (line, column) and
 * `what` locate the chunk for the over-limit message. */
static int emit(struct writer *w, const char *s, size_t n, int escape, int line, int column,
                const char *what, struct tm_err *err)
{
    size_t need = escape ? escaped_len(s, n) : n;
    size_t used = w->out->len - w->start;
    if (need > w->max_out - used)
        return tm_err_set(err, TM_ELIMIT_MEM,
                          "line %d, column %d: output would exceed the %zu-byte limit (%s)",
                          line, column, w->max_out, what);
    if (!escape || need == n)
        return tm_tmpl_buf_append(w->out, s, n, err);
    /* Reserve once (so growth happens a single time), then copy runs between entities. */
    if (!tm_buf_room(w->out, need))
        return tm_buf_done(w->out, "the rendered text", err);
    int rc;
    size_t run = 0;
    for (size_t k = 0; k < n; k++) {
        const char *e = html_entity(s[k]);
        if (e == NULL)
            continue;
        rc = tm_tmpl_buf_append(w->out, s + run, k - run, err);
        if (rc == TM_OK)
            rc = tm_tmpl_buf_append(w->out, e, strlen(e), err);
        if (rc != TM_OK)
            return rc;
        run = k + 1;
    }
    return tm_tmpl_buf_append(w->out, s + run, n - run, err);
}

/* Shows a placeholder as "{{name}}" or "{{name|filter}}" in messages (names are ASCII). */
static void describe(const tm_tmpl_ref *r, char *buf, size_t size)
{
    int nl = r->name_len > 100 ? 100 : (int)r->name_len;
    int fl = r->filter_len > 60 ? 60 : (int)r->filter_len;
    if (r->filter != NULL)
        snprintf(buf, size, "{{%.*s|%.*s}}", nl, r->name, fl, r->filter);
    else
        snprintf(buf, size, "{{%.*s}}", nl, r->name);
}

static int render_ref(struct writer *w, const tm_tmpl_ref *r, int mode,
                      tm_tmpl_lookup_fn lookup, void *ud, struct tm_err *err)
{
    const char *text = NULL;
    size_t text_len = 0;
    struct tm_err cb = {0};
    char shown[180];
    int rc = lookup(ud, r, &text, &text_len, &cb);
    if (rc == TM_ENOENT) {
        describe(r, shown, sizeof shown);
        return tm_err_set(err, TM_ENOENT, "line %d, column %d: unknown placeholder %s%s%s",
                          r->line, r->column, shown, cb.msg[0] ? ": " : "", cb.msg);
    }
    if (rc != TM_OK) {
        describe(r, shown, sizeof shown);
        return tm_err_set(err, rc, "line %d, column %d: %s: %s", r->line, r->column, shown,
                          cb.msg[0] ? cb.msg : tm_strerror(rc));
    }
    if (text == NULL && text_len > 0) {
        describe(r, shown, sizeof shown);
        return tm_err_set(err, TM_EINVAL, "line %d, column %d: %s: lookup returned NULL text",
                          r->line, r->column, shown);
    }
    return emit(w, text, text_len, mode == TM_TMPL_HTML, r->line, r->column, "placeholder value",
                err);
}

int tm_tmpl_render(const char *tmpl, size_t len, int mode, tm_tmpl_lookup_fn lookup, void *ud,
                   size_t max_out, tm_tmpl_buf *out, struct tm_err *err)
{
    if (out == NULL || lookup == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_tmpl_render: NULL out or lookup");
    if (mode != TM_TMPL_TEXT && mode != TM_TMPL_HTML)
        return tm_err_set(err, TM_EINVAL, "tm_tmpl_render: bad mode %d", mode);
    int rc = tm_tmpl_check(tmpl, len, err);
    if (rc != TM_OK)
        return rc;

    struct writer w = {out, out->len, max_out};
    struct scan sc;
    rc = scan_init(&sc, tmpl, len, err);
    struct tok t = {0};
    while (rc == TM_OK) {
        rc = next_tok(&sc, &t, err);
        if (rc != TM_OK || t.kind == TOK_END)
            break;
        if (t.kind == TOK_TEXT)
            rc = emit(&w, t.text, t.text_len, 0, t.line, t.column, "template text", err);
        else
            rc = render_ref(&w, &t.ref, mode, lookup, ud, err);
    }
    if (rc != TM_OK) {
        tm_buf_truncate(out, w.start);
        return rc;
    }
    /* An empty render still leaves a NUL-terminated buffer. */
    return tm_tmpl_buf_append(out, NULL, 0, err);
}

size_t tm_tmpl_count(const char *s, size_t len)
{
    size_t n = 0, i = 0;
    while (s != NULL && i + 1 < len) {
        if (s[i] == '\\' && i + 2 < len && s[i + 1] == '{' && s[i + 2] == '{') {
            i += 3;
        } else if (s[i] == '{' && s[i + 1] == '{') {
            n++;
            i += 2;
        } else {
            i++;
        }
    }
    return n;
}

/* ---- Values as templates write them --------------------------------------------------------- */

static const char *const months_en[12] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};
static const char *const months_es[12] = {"enero",      "febrero", "marzo",     "abril",
                                          "mayo",       "junio",   "julio",     "agosto",
                                          "septiembre", "octubre", "noviembre", "diciembre"};

/* snprintf's result into buf: TM_OK, or TM_EINVAL (buf emptied) when it did not fit. */
static int fitted(int n, char *buf, size_t cap, struct tm_err *err)
{
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            buf[0] = '\0';
        return tm_err_set(err, TM_EINVAL, "buffer too small");
    }
    return TM_OK;
}

int tm_tmpl_format_date(tm_date d, int lang, char *buf, size_t cap, struct tm_err *err)
{
    if (buf == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_tmpl_format_date: NULL buffer");
    if (cap > 0)
        buf[0] = '\0';
    int rc = tm_calendar_date_check(d, err);
    if (rc != TM_OK)
        return rc;
    if (lang == TM_TMPL_ES)
        return fitted(snprintf(buf, cap, "%d de %s de %d", d.day, months_es[d.month - 1], d.year),
                      buf, cap, err);
    if (lang == TM_TMPL_EN)
        return fitted(snprintf(buf, cap, "%s %d, %d", months_en[d.month - 1], d.day, d.year), buf,
                      cap, err);
    return tm_err_set(err, TM_EINVAL, "unknown language %d", lang);
}

int tm_tmpl_format_time(int hour, int min, int lang, char *buf, size_t cap, struct tm_err *err)
{
    if (buf == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_tmpl_format_time: NULL buffer");
    if (cap > 0)
        buf[0] = '\0';
    if (hour < 0 || hour > 23 || min < 0 || min > 59)
        return tm_err_set(err, TM_EINVAL, "time of day %d:%02d out of range", hour, min);
    if (lang == TM_TMPL_ES)
        return fitted(snprintf(buf, cap, "%d:%02d", hour, min), buf, cap, err);
    if (lang == TM_TMPL_EN)
        return fitted(snprintf(buf, cap, "%d:%02d %s", hour % 12 == 0 ? 12 : hour % 12, min,
                               hour < 12 ? "AM" : "PM"),
                      buf, cap, err);
    return tm_err_set(err, TM_EINVAL, "unknown language %d", lang);
}

void tm_tmpl_ascii_case(char *s, size_t n, int upper)
{
    for (size_t i = 0; i < n; i++) {
        if (upper && s[i] >= 'a' && s[i] <= 'z')
            s[i] = (char)(s[i] - 'a' + 'A');
        else if (!upper && s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
    }
}
