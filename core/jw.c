/*
 * core/jw.c: the JSON writer (jw.h): commas, string escaping, numbers and
 * money, appended to a tm_buf.
 */
#include "jw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tm_jw_init(tm_jw *w, tm_buf *b, unsigned flags)
{
    w->b = b;
    w->flags = flags;
    w->comma = 0;
}

/* Before a name or a value: the comma after the value before it, if any. */
static inline void sep(tm_jw *w)
{
    if (w->comma)
        tm_buf_putc(w->b, ',');
}

void tm_jw_obj(tm_jw *w)
{
    sep(w);
    tm_buf_putc(w->b, '{');
    w->comma = 0;
}

void tm_jw_obj_end(tm_jw *w)
{
    tm_buf_putc(w->b, '}');
    w->comma = 1;
}

void tm_jw_arr(tm_jw *w)
{
    sep(w);
    tm_buf_putc(w->b, '[');
    w->comma = 0;
}

void tm_jw_arr_end(tm_jw *w)
{
    tm_buf_putc(w->b, ']');
    w->comma = 1;
}

static const char hex[] = "0123456789abcdef";

void tm_jw_escape(tm_buf *b, const char *s, size_t n, unsigned flags)
{
    int del = (flags & TM_JW_ESCAPE_DEL) != 0, shortesc = (flags & TM_JW_SHORT_ESCAPES) != 0;
    tm_buf_putc(b, '"');
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && !(c == 0x7f && del))
            continue;
        tm_buf_put(b, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') {
            e[1] = (char)c;
            tm_buf_put(b, e, 2);
            continue;
        }
        if (shortesc) {
            const char *two = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                            : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
            if (two) {
                tm_buf_put(b, two, 2);
                continue;
            }
        }
        tm_buf_put(b, e, 6);
    }
    tm_buf_put(b, s + run, n - run);
    tm_buf_putc(b, '"');
}

void tm_jw_key(tm_jw *w, const char *name) { tm_jw_keyn(w, name, strlen(name)); }

void tm_jw_keyn(tm_jw *w, const char *name, size_t n)
{
    sep(w);
    tm_jw_escape(w->b, name, n, w->flags);
    tm_buf_putc(w->b, ':');
    w->comma = 0;
}

void tm_jw_str(tm_jw *w, const char *s)
{
    if (!s) {
        tm_jw_null(w);
        return;
    }
    tm_jw_strn(w, s, strlen(s));
}

void tm_jw_strn(tm_jw *w, const char *s, size_t n)
{
    sep(w);
    tm_jw_escape(w->b, s, n, w->flags);
    w->comma = 1;
}

/* The decimal digits of v at the end of buf[24]; returns where they start. */
static char *digits(uint64_t v, char *end)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void tm_jw_int(tm_jw *w, int64_t v)
{
    sep(w);
    char buf[24], *end = buf + sizeof buf;
    char *p = digits(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, end);
    if (v < 0)
        *--p = '-';
    tm_buf_put(w->b, p, (size_t)(end - p));
    w->comma = 1;
}

void tm_jw_real(tm_jw *w, double d)
{
    if (d != d || d - d != 0) { /* NaN or an infinity */
        tm_jw_null(w);
        return;
    }
    char num[40];
    snprintf(num, sizeof num, "%.14g", d);
    if (strtod(num, NULL) != d)
        snprintf(num, sizeof num, "%.17g", d);
    if (!strpbrk(num, ".eE"))
        strcat(num, ".0");
    tm_jw_raw(w, num);
}

void tm_jw_bool(tm_jw *w, int v) { tm_jw_raw(w, v ? "true" : "false"); }

void tm_jw_null(tm_jw *w) { tm_jw_raw(w, "null"); }

void tm_jw_raw(tm_jw *w, const char *json) { tm_jw_rawn(w, json, strlen(json)); }

void tm_jw_rawn(tm_jw *w, const char *json, size_t n)
{
    sep(w);
    tm_buf_put(w->b, json, n);
    w->comma = 1;
}

int tm_jw_money_text(char *buf, size_t cap, int64_t minor, int exp)
{
    if (cap)
        buf[0] = '\0';
    if (exp < 0 || exp > 18)
        return -1;
    uint64_t scale = 1;
    for (int i = 0; i < exp; i++)
        scale *= 10;
    uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    char tmp[48], *end = tmp + sizeof tmp, *p = end;
    if (exp > 0) {
        uint64_t frac = m % scale;
        for (int i = 0; i < exp; i++) {
            *--p = (char)('0' + frac % 10);
            frac /= 10;
        }
        *--p = '.';
    }
    p = digits(m / scale, p);
    if (minor < 0)
        *--p = '-';
    size_t n = (size_t)(end - p);
    if (n + 1 > cap)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return (int)n;
}

void tm_jw_money(tm_jw *w, int64_t minor, int exp)
{
    char text[48];
    int n = tm_jw_money_text(text, sizeof text, minor, exp);
    tm_jw_strn(w, text, n < 0 ? 0 : (size_t)n);
}
