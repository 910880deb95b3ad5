/*
 * core/text.c: UTF-8 validation, line numbering, "did you mean" and where
 * a field is written in a script (see text.h).
 */
#include "text.h"

#include <stdint.h>
#include <string.h>

int tm_utf8_valid(const char *str, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            goto invalid;
        }
        if (len - i <= n)
            goto invalid;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto invalid;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* Overlong forms, UTF-16 surrogates and values past Unicode are invalid. */
        if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            goto invalid;
        i += n + 1;
    }
    return 1;
invalid:
    if (bad)
        *bad = i;
    return 0;
}

int tm_text_line_of(const char *s, size_t len, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        if (s[i] == '\n')
            line++;
    return line;
}

int tm_text_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Optimal string alignment distance (Damerau-Levenshtein without repeated
 * edits of one substring), capped at `cap + 1`. */
static int edit_distance(const char *a, const char *b, int cap)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63)
        return cap + 1;
    if (la - lb > cap || lb - la > cap)
        return cap + 1;
    int d[64][64];
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int j = 0; j <= lb; j++)
        d[0][j] = j;
    for (int i = 1; i <= la; i++) {
        for (int j = 1; j <= lb; j++) {
            int cost = lower(a[i - 1]) != lower(b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

int tm_text_nearest(const char *word, const char *const *names)
{
    if (word == NULL || names == NULL)
        return -1;
    size_t n = strlen(word);
    int cap = n <= 4 ? 1 : n <= 8 ? 2 : 3;
    int best = -1, best_d = cap + 1;
    for (int i = 0; names[i]; i++) {
        if (strcmp(word, names[i]) == 0)
            return -1;
        int dist = edit_distance(word, names[i], cap);
        if (dist < best_d) {
            best_d = dist;
            best = i;
        }
    }
    return best;
}

const char *tm_text_nearest_name(const char *word, size_t len, const char *const *cands)
{
    char w[64];
    if (word == NULL || cands == NULL || len == 0 || len >= sizeof w)
        return NULL;
    memcpy(w, word, len);
    w[len] = '\0';
    int i = tm_text_nearest(w, cands);
    /* A request's field is told apart from a guess: no more than half the
     * word may change. */
    if (i < 0 || (size_t)edit_distance(w, cands[i], 3) * 2 >= len)
        return NULL;
    return cands[i];
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether `key` is assigned at p (p points at the key's first byte, or at
 * the '[' of a bracketed key); `line_start` bounds the look behind. */
static int assigned_at(const char *p, const char *end, const char *line_start, const char *key,
                       size_t kl)
{
    const char *after;
    if (*p == '[') {
        const char *q = p + 1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= end || (*q != '"' && *q != '\''))
            return 0;
        char quote = *q++;
        if ((size_t)(end - q) < kl + 1 || memcmp(q, key, kl) != 0 || q[kl] != quote)
            return 0;
        q += kl + 1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= end || *q != ']')
            return 0;
        after = q + 1;
    } else {
        if ((size_t)(end - p) < kl || memcmp(p, key, kl) != 0)
            return 0;
        if (p > line_start && (is_name_char(p[-1]) || p[-1] == '.' || p[-1] == ':'))
            return 0;
        after = p + kl;
        if (after < end && is_name_char(*after))
            return 0;
    }
    while (after < end && (*after == ' ' || *after == '\t'))
        after++;
    return after < end && *after == '=' && (after + 1 >= end || after[1] != '=');
}

int tm_text_key_line(const char *s, size_t len, int from, const char *key)
{
    if (s == NULL || key == NULL || *key == '\0')
        return 0;
    size_t kl = strlen(key);
    const char *end = s + len;
    int line = 1;
    for (const char *ls = s; ls < end; line++) {
        const char *le = memchr(ls, '\n', (size_t)(end - ls));
        if (le == NULL)
            le = end;
        if (line >= from) {
            char quote = 0;
            for (const char *p = ls; p < le; p++) {
                if (quote) {
                    if (*p == '\\')
                        p++;
                    else if (*p == quote)
                        quote = 0;
                    continue;
                }
                if (*p == '-' && p + 1 < le && p[1] == '-')
                    break; /* a comment to the end of the line */
                if (*p == '[' && assigned_at(p, le, ls, key, kl))
                    return line;
                if (*p == '"' || *p == '\'') {
                    quote = *p;
                    continue;
                }
                if (*p == key[0] && assigned_at(p, le, ls, key, kl))
                    return line;
            }
        }
        ls = le + 1;
    }
    return 0;
}
