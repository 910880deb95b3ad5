/*
 * core/jscan.c: the in-place JSON scanner (see jscan.h).
 *
 * A recursive-descent pass over the text: every value becomes one token, in
 * document order, and each token records where its subtree ends so lookups
 * can step over whole values. Nothing is copied or allocated; strings are
 * decoded only when asked for.
 */
#include "jscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "text.h"

#define MAX_DEPTH 64

typedef struct scanner {
    const char *s;
    size_t len, pos;
    tm_jtok *tok;
    int ntok, max;
    struct tm_err *err;
    int depth;
} scanner;

static int fail(scanner *sc, const char *what)
{
    return tm_err_set(sc->err, TM_EINVAL, "%s (column %zu)", what, sc->pos + 1);
}

static void skip_ws(scanner *sc)
{
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->pos++;
    }
}

static int new_tok(scanner *sc, int type)
{
    if (sc->ntok >= sc->max) {
        tm_err_set(sc->err, TM_ENOMEM, "too many values (more than %d)", sc->max);
        return -1;
    }
    tm_jtok *t = &sc->tok[sc->ntok];
    memset(t, 0, sizeof *t);
    t->type = (uint8_t)type;
    t->start = (uint32_t)sc->pos;
    return sc->ntok++;
}

static int read_u4(const char *p, unsigned *out)
{
    unsigned v = 0;
    *out = 0;
    for (int i = 0; i < 4; i++) {
        int h = tm_text_hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 0;
}

/* Decodes the unit at *pp, one raw byte or one escape (a surrogate pair is one), of a string
 * the scanner validated, into u; returns its byte count (1..4) and advances *pp. */
static size_t next_unit(const char **pp, char u[4])
{
    const char *p = *pp;
    if (*p != '\\') {
        u[0] = *p;
        *pp = p + 1;
        return 1;
    }
    char e = p[1];
    unsigned cp;
    p += 2;
    switch (e) {
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u': {
        read_u4(p, &cp);
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* validated: a low surrogate follows */
            unsigned lo;
            read_u4(p + 2, &lo);
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        break;
    }
    default: cp = (unsigned char)e; break;
    }
    *pp = p;
    if (cp < 0x80) {
        u[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The decoded bytes of one string token, one at a time. */
typedef struct str_iter {
    const char *p, *end;
    char u[4];
    size_t ui, un;
} str_iter;

static void iter_init(str_iter *it, const char *text, const tm_jtok *t)
{
    it->p = text + t->start;
    it->end = it->p + t->len;
    it->ui = it->un = 0;
}

/* The next decoded byte, or -1 at the end. */
static int iter_next(str_iter *it)
{
    if (it->ui == it->un) {
        if (it->p >= it->end)
            return -1;
        it->un = next_unit(&it->p, it->u);
        it->ui = 0;
    }
    return (unsigned char)it->u[it->ui++];
}

/* FNV-1a of the decoded string, for telling member names apart quickly. */
static uint32_t name_hash(const char *text, const tm_jtok *t)
{
    uint32_t h = 2166136261u;
    if (!t->escaped) {
        for (uint32_t i = 0; i < t->len; i++)
            h = (h ^ (unsigned char)text[t->start + i]) * 16777619u;
        return h;
    }
    str_iter it;
    iter_init(&it, text, t);
    for (int c; (c = iter_next(&it)) >= 0;)
        h = (h ^ (uint32_t)c) * 16777619u;
    return h;
}

static int same_string(const char *text, const tm_jtok *a, const tm_jtok *b)
{
    if (!a->escaped && !b->escaped)
        return a->len == b->len && memcmp(text + a->start, text + b->start, a->len) == 0;
    str_iter x, y;
    iter_init(&x, text, a);
    iter_init(&y, text, b);
    for (;;) {
        int c = iter_next(&x), d = iter_next(&y);
        if (c != d)
            return 0;
        if (c < 0)
            return 1;
    }
}

/* Refuses member name `kt` of the object at `obj` when an earlier member has the same
 * (decoded) name: readers would disagree on which value wins. */
static int check_duplicate(scanner *sc, int obj, int kt, uint32_t count)
{
    tm_jtok *key = &sc->tok[kt];
    /* Small objects (most) compare names directly; a hash of each name saves the comparisons
     * in big ones. */
    int hashed = count >= 16;
    if (hashed)
        key->count = name_hash(sc->s, key);
    if (count == 16) /* the object has just grown big: hash the names before */
        for (uint32_t m = 0, k = (uint32_t)obj + 1; m < count; m++, k = sc->tok[k + 1].next)
            sc->tok[k].count = name_hash(sc->s, &sc->tok[k]);
    int k = obj + 1;
    for (uint32_t m = 0; m < count; m++) {
        const tm_jtok *o = &sc->tok[k];
        int maybe = hashed ? o->count == key->count
                           : (o->escaped || key->escaped || o->len == key->len);
        if (maybe && same_string(sc->s, o, key)) {
            /* Name the member, printable and short; a name holding a long digit string (a card
             * number, say) is not repeated. */
            char name[68];
            size_t n = 0;
            int digits = 0;
            str_iter it;
            iter_init(&it, sc->s, key);
            for (int c; (c = iter_next(&it)) >= 0;) {
                digits += c >= '0' && c <= '9';
                if (n < 64)
                    name[n++] = c < 0x20 ? '?' : (char)c;
            }
            if (n == 64)
                memcpy(name + 61, "...", 3);
            name[n] = '\0';
            if (digits >= 13)
                return tm_err_set(sc->err, TM_EINVAL, "duplicate member name (column %zu)",
                                  (size_t)key->start);
            return tm_err_set(sc->err, TM_EINVAL, "duplicate member '%s' (column %zu)", name,
                              (size_t)key->start);
        }
        k = (int)sc->tok[k + 1].next;
    }
    return TM_OK;
}

static int scan_string(scanner *sc)
{
    int ti = new_tok(sc, TM_J_STRING);
    if (ti < 0)
        return TM_ENOMEM;
    sc->pos++; /* the opening quote */
    size_t start = sc->pos;
    int high = 0;
    for (;;) {
        if (sc->pos >= sc->len)
            return fail(sc, "unterminated string");
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(sc, "control character in a string");
        if (c == '\\') {
            sc->tok[ti].escaped = 1;
            if (sc->pos + 1 >= sc->len)
                return fail(sc, "unterminated string");
            char e = sc->s[sc->pos + 1];
            if (e == 'u') {
                unsigned u;
                if (sc->pos + 6 > sc->len || read_u4(sc->s + sc->pos + 2, &u) != 0)
                    return fail(sc, "invalid \\u escape");
                if (u >= 0xDC00 && u <= 0xDFFF) {
                    if (!high)
                        return fail(sc, "invalid \\u escape (lone low surrogate)");
                    high = 0;
                } else if (high) {
                    return fail(sc, "invalid \\u escape (lone high surrogate)");
                } else if (u >= 0xD800 && u <= 0xDBFF) {
                    high = 1;
                } else if (u == 0) {
                    return fail(sc, "\\u0000 is not allowed in strings");
                }
                sc->pos += 6;
                continue;
            }
            if (high)
                return fail(sc, "invalid \\u escape (lone high surrogate)");
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return fail(sc, "invalid escape in a string");
            sc->pos += 2;
            continue;
        }
        if (high)
            return fail(sc, "invalid \\u escape (lone high surrogate)");
        if (c >= 0x80) {
            /* Check the UTF-8 sequence that starts here. */
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (sc->pos + n > sc->len || !tm_utf8_valid(sc->s + sc->pos, n, NULL))
                return fail(sc, "invalid UTF-8 in a string");
            sc->pos += n;
            continue;
        }
        sc->pos++;
    }
    if (high)
        return fail(sc, "invalid \\u escape (lone high surrogate)");
    sc->tok[ti].start = (uint32_t)start;
    sc->tok[ti].len = (uint32_t)(sc->pos - start);
    sc->pos++; /* the closing quote */
    sc->tok[ti].next = (uint32_t)sc->ntok;
    return TM_OK;
}

static int digits(scanner *sc)
{
    size_t p = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
        sc->pos++;
    return sc->pos > p;
}

static int scan_number(scanner *sc)
{
    int ti = new_tok(sc, TM_J_NUMBER);
    if (ti < 0)
        return TM_ENOMEM;
    size_t start = sc->pos;
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos < sc->len && sc->s[sc->pos] == '0')
        sc->pos++;
    else if (!digits(sc))
        return fail(sc, "invalid number");
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!digits(sc))
            return fail(sc, "invalid number");
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (!digits(sc))
            return fail(sc, "invalid number");
    }
    sc->tok[ti].start = (uint32_t)start;
    sc->tok[ti].len = (uint32_t)(sc->pos - start);
    sc->tok[ti].next = (uint32_t)sc->ntok;
    return TM_OK;
}

static int scan_value(scanner *sc);

static int scan_literal(scanner *sc, const char *word, int type)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return fail(sc, "invalid value");
    int ti = new_tok(sc, type);
    if (ti < 0)
        return TM_ENOMEM;
    sc->tok[ti].len = (uint32_t)n;
    sc->pos += n;
    sc->tok[ti].next = (uint32_t)sc->ntok;
    return TM_OK;
}

static int scan_container(scanner *sc, int is_object)
{
    if (++sc->depth > MAX_DEPTH)
        return fail(sc, "nested too deep");
    int ti = new_tok(sc, is_object ? TM_J_OBJECT : TM_J_ARRAY);
    if (ti < 0)
        return TM_ENOMEM;
    char close = is_object ? '}' : ']';
    sc->pos++;
    skip_ws(sc);
    uint32_t count = 0;
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
    } else {
        for (;;) {
            int rc;
            if (is_object) {
                skip_ws(sc);
                if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
                    return fail(sc, "expected a member name in quotes");
                int kt = sc->ntok;
                if ((rc = scan_string(sc)) != TM_OK)
                    return rc;
                if ((rc = check_duplicate(sc, ti, kt, count)) != TM_OK)
                    return rc;
                skip_ws(sc);
                if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
                    return fail(sc, "expected ':'");
                sc->pos++;
            }
            if ((rc = scan_value(sc)) != TM_OK)
                return rc;
            count++;
            skip_ws(sc);
            if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
                sc->pos++;
                continue;
            }
            if (sc->pos < sc->len && sc->s[sc->pos] == close) {
                sc->pos++;
                break;
            }
            return fail(sc, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    sc->tok[ti].count = count;
    sc->tok[ti].len = (uint32_t)(sc->pos - sc->tok[ti].start);
    sc->tok[ti].next = (uint32_t)sc->ntok;
    sc->depth--;
    return TM_OK;
}

static int scan_value(scanner *sc)
{
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail(sc, "unexpected end of text");
    switch (sc->s[sc->pos]) {
    case '{':
        return scan_container(sc, 1);
    case '[':
        return scan_container(sc, 0);
    case '"':
        return scan_string(sc);
    case 't':
        return scan_literal(sc, "true", TM_J_TRUE);
    case 'f':
        return scan_literal(sc, "false", TM_J_FALSE);
    case 'n':
        return scan_literal(sc, "null", TM_J_NULL);
    default:
        if (sc->s[sc->pos] == '-' || (sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9'))
            return scan_number(sc);
        return fail(sc, "invalid value");
    }
}

int tm_json_scan(const char *text, size_t len, tm_jtok *toks, int max, tm_json *out,
                 struct tm_err *err)
{
    if (len > UINT32_MAX)
        return tm_err_set(err, TM_EINVAL, "text too long");
    scanner sc = {.s = text, .len = len, .tok = toks, .max = max, .err = err};
    int rc = scan_value(&sc);
    if (rc != TM_OK)
        return rc;
    skip_ws(&sc);
    if (sc.pos != sc.len)
        return fail(&sc, "text after the value");
    out->text = text;
    out->tok = toks;
    out->ntok = sc.ntok;
    return TM_OK;
}

/* Decodes the string token into buf; -1 when it does not fit. */
static int decode(const tm_json *j, const tm_jtok *t, char *buf, size_t cap)
{
    const char *p = j->text + t->start, *end = p + t->len;
    size_t n = 0;
    if (!t->escaped) {
        if (t->len + 1 > cap)
            return -1;
        memcpy(buf, p, t->len);
        buf[t->len] = '\0';
        return (int)t->len;
    }
    while (p < end) {
        char u[4];
        size_t k = next_unit(&p, u);
        if (n + k >= cap)
            return -1;
        memcpy(buf + n, u, k);
        n += k;
    }
    buf[n] = '\0';
    return (int)n;
}

int tm_json_str(const tm_json *j, int i, char *buf, size_t cap)
{
    if (i < 0 || i >= j->ntok || j->tok[i].type != TM_J_STRING || cap == 0)
        return -1;
    return decode(j, &j->tok[i], buf, cap);
}

int tm_json_streq(const tm_json *j, int i, const char *s)
{
    if (i < 0 || i >= j->ntok || j->tok[i].type != TM_J_STRING)
        return 0;
    const tm_jtok *t = &j->tok[i];
    size_t n = strlen(s);
    if (!t->escaped)
        return t->len == n && memcmp(j->text + t->start, s, n) == 0;
    char buf[256];
    int len = decode(j, t, buf, sizeof buf);
    return len >= 0 && (size_t)len == n && memcmp(buf, s, n) == 0;
}

int tm_json_get(const tm_json *j, int obj, const char *key)
{
    if (obj < 0 || obj >= j->ntok || j->tok[obj].type != TM_J_OBJECT)
        return -1;
    /* The key's length once, and a name of another length passed over
     * without a compare: requests are read by the hundred thousand. */
    size_t n = strlen(key);
    int k = obj + 1;
    for (uint32_t m = 0; m < j->tok[obj].count; m++) {
        int v = k + 1;
        const tm_jtok *t = &j->tok[k];
        if (t->escaped ? tm_json_streq(j, k, key)
                       : t->len == n && memcmp(j->text + t->start, key, n) == 0)
            return v;
        k = (int)j->tok[v].next;
    }
    return -1;
}

int tm_json_int(const tm_json *j, int i, int64_t *out)
{
    if (i < 0 || i >= j->ntok || j->tok[i].type != TM_J_NUMBER)
        return -1;
    const char *p = j->text + j->tok[i].start, *end = p + j->tok[i].len;
    int neg = 0;
    if (*p == '-')
        neg = 1, p++;
    uint64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1; /* a fraction or an exponent */
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_C(9223372036854775808) - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (!neg && v > INT64_MAX)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

const char *tm_json_raw(const tm_json *j, int i, size_t *len)
{
    const tm_jtok *t = &j->tok[i];
    if (t->type == TM_J_STRING) {
        *len = t->len + 2;
        return j->text + t->start - 1;
    }
    *len = t->len;
    return j->text + t->start;
}

/* ---- Walking every text ------------------------------------------------------------------- */

/* Appends n bytes of s to path (cap bytes) at `len`, truncating; returns the new length. A
 * control character is shown as '?', so the path prints on one line. */
static size_t path_put(char *path, size_t cap, size_t len, const char *s, size_t n)
{
    for (size_t i = 0; i < n && len + 1 < cap; i++)
        path[len++] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
    path[len] = '\0';
    return len;
}

/* Writes the path from token `node` down to token `target` (which lies within it); `name` is a
 * buffer for decoding member names (room for the longest). */
static void path_to(const tm_json *j, int node, int target, char *path, size_t cap, size_t len,
                    char *name)
{
    const tm_jtok *t = &j->tok[node];
    if (t->type == TM_J_OBJECT) {
        int k = node + 1;
        for (uint32_t m = 0; m < t->count; m++) {
            int v = k + 1;
            if (target == k) {
                static const char what[] = " (a member name)";
                if (len)
                    path_put(path, cap, len, what, sizeof what - 1);
                else
                    path_put(path, cap, 0, what + 1, sizeof what - 2);
                return;
            }
            if (target >= v && target < (int)j->tok[v].next) {
                int n = decode(j, &j->tok[k], name, (size_t)j->tok[k].len + 1);
                size_t l = len ? path_put(path, cap, len, ".", 1) : 0;
                l = path_put(path, cap, l, name, n > 0 ? (size_t)n : 0);
                path_to(j, v, target, path, cap, l, name);
                return;
            }
            k = (int)j->tok[v].next;
        }
    } else if (t->type == TM_J_ARRAY) {
        int e = node + 1;
        for (uint32_t m = 0; m < t->count; m++) {
            if (target >= e && target < (int)j->tok[e].next) {
                char idx[24];
                int n = snprintf(idx, sizeof idx, "[%u]", m);
                path_to(j, e, target, path, cap, path_put(path, cap, len, idx, (size_t)n), name);
                return;
            }
            e = (int)j->tok[e].next;
        }
    } else if (len == 0) {
        path_put(path, cap, 0, "(the value)", 11);
    }
}

int tm_json_find_text(const tm_json *j, const char *const *skip, tm_json_text_fn fn, void *ud,
                      char *path, size_t cap)
{
    if (path && cap)
        path[0] = '\0';
    if (j == NULL || fn == NULL || j->ntok <= 0)
        return -1;
    /* The values not offered: those of the named top-level members. */
    int from[8], to[8], nskip = 0;
    if (skip && j->tok[0].type == TM_J_OBJECT) {
        int k = 1;
        for (uint32_t m = 0; m < j->tok[0].count; m++) {
            int v = k + 1;
            for (int q = 0; skip[q] && nskip < 8; q++) {
                if (tm_json_streq(j, k, skip[q])) {
                    from[nskip] = v;
                    to[nskip++] = (int)j->tok[v].next;
                    break;
                }
            }
            k = (int)j->tok[v].next;
        }
    }
    size_t longest = 0;
    for (int i = 0; i < j->ntok; i++)
        if (j->tok[i].type == TM_J_STRING && j->tok[i].escaped && j->tok[i].len > longest)
            longest = j->tok[i].len;
    char stack[512];
    char *buf = stack;
    if (longest + 1 > sizeof stack && (buf = malloc(longest + 1)) == NULL)
        return -2;
    size_t used = 0; /* bytes of buf that held decoded text */
    int found = -1;
    /* Tokens are in document order: every name and value, one after another. */
    for (int i = 0; i < j->ntok && found < 0;) {
        int skipped = 0;
        for (int q = 0; q < nskip; q++)
            if (i == from[q]) {
                i = to[q];
                skipped = 1;
            }
        if (skipped)
            continue;
        const tm_jtok *t = &j->tok[i];
        if (t->type == TM_J_NUMBER || (t->type == TM_J_STRING && !t->escaped)) {
            if (fn(ud, j->text + t->start, t->len))
                found = i;
        } else if (t->type == TM_J_STRING) {
            int n = decode(j, t, buf, (size_t)t->len + 1);
            if (n >= 0 && (size_t)n > used)
                used = (size_t)n;
            if (n >= 0 && fn(ud, buf, (size_t)n))
                found = i;
        }
        i++;
    }
    if (found >= 0 && path && cap) {
        /* Names are decoded into buf for the path: room for the longest name. */
        size_t need = 0;
        for (int i = 0; i < j->ntok; i++)
            if (j->tok[i].type == TM_J_STRING && j->tok[i].len > need)
                need = j->tok[i].len;
        char *name = need + 1 <= sizeof stack && buf == stack ? stack : malloc(need + 1);
        if (name) {
            path_to(j, 0, found, path, cap, 0, name);
            if (name != stack) {
                OPENSSL_cleanse(name, need + 1);
                free(name);
            } else if (need + 1 > used) {
                used = need + 1;
            }
        }
    }
    /* The texts offered may be anything, a card number included: none stays behind. */
    OPENSSL_cleanse(buf, used);
    if (buf != stack)
        free(buf);
    return found;
}
