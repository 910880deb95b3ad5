/*
 * core/buf.c: the growable byte buffer (buf.h): growth, failure, reading a
 * stream, handing the text over. The appends themselves are inline in buf.h.
 */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#define FIRST_CAP 256

void tm_buf_init(tm_buf *b, unsigned flags)
{
    *b = (tm_buf)TM_BUF_INIT;
    b->flags = flags;
}

void tm_buf_fixed(tm_buf *b, char *mem, size_t cap)
{
    *b = (tm_buf)TM_BUF_INIT;
    b->data = mem;
    b->cap = cap;
    b->fixed = 1;
    if (cap)
        mem[0] = '\0';
}

void tm_buf_limit(tm_buf *b, size_t max) { b->limit = max; }

static void wipe_free(tm_buf *b)
{
    if (b->data && !b->fixed) {
        if (b->flags & TM_BUF_SECRET)
            OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
}

/* Makes room for `n` more bytes and the NUL; 0 (and the buffer failed) when
 * it cannot. */
static int grow(tm_buf *b, size_t n)
{
    if (b->failed)
        return 0;
    if (b->data && n < b->cap - b->len)
        return 1;
    if (n > SIZE_MAX - 1 - b->len || (b->limit && b->len + n > b->limit) || b->fixed) {
        b->failed = b->fixed || b->limit ? TM_ELIMIT_MEM : TM_ENOMEM;
        return 0;
    }
    size_t need = b->len + n + 1;
    size_t cap = b->cap < FIRST_CAP ? FIRST_CAP : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Within a limit the block need not be larger than the limit allows, so
     * the inline path can never pass it. */
    if (b->limit && cap > b->limit + 1)
        cap = b->limit + 1;
    char *q;
    if (b->flags & TM_BUF_SECRET) {
        /* Not realloc(): it would free the old block unwiped. */
        q = malloc(cap);
        if (q && b->data) {
            memcpy(q, b->data, b->len + 1);
            OPENSSL_cleanse(b->data, b->cap);
            free(b->data);
        }
    } else {
        q = realloc(b->data, cap);
    }
    if (!q) {
        b->failed = TM_ENOMEM;
        return 0;
    }
    if (!b->data)
        q[0] = '\0';
    b->data = q;
    b->cap = cap;
    return 1;
}

void tm__buf_put(tm_buf *b, const void *s, size_t n)
{
    if (!grow(b, n))
        return;
    if (n) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    }
    b->data[b->len] = '\0';
}

void tm_buf_vprintf(tm_buf *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return;
    va_list again;
    va_copy(again, ap);
    size_t room = b->data ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    if (n < 0) {
        /* Only an encoding error or a text over INT_MAX bytes: neither fits a buffer. */
        if (b->data)
            b->data[b->len] = '\0';
        b->failed = TM_ENOMEM;
    } else if ((size_t)n < room) {
        b->len += (size_t)n;
    } else if (grow(b, (size_t)n)) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    } else if (b->data) {
        b->data[b->len] = '\0'; /* a first try may have written part of it */
    }
    va_end(again);
}

void tm_buf_printf(tm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *tm_buf_room(tm_buf *b, size_t n)
{
    return grow(b, n) ? b->data + b->len : NULL;
}

void tm_buf_advance(tm_buf *b, size_t n)
{
    if (b->failed || !b->data)
        return;
    b->len += n;
    b->data[b->len] = '\0';
}

int tm_buf_read(tm_buf *b, FILE *f)
{
    for (;;) {
        size_t room = b->data ? b->cap - b->len - 1 : 0;
        size_t want = b->fixed || room > 4096 ? room : 65536;
        if (b->limit && want > b->limit - b->len)
            want = b->limit - b->len;
        if (want == 0) {
            /* At the limit: the stream must end here. */
            int c = fgetc(f);
            if (c == EOF)
                return ferror(f) ? TM_EIO : TM_OK;
            b->failed = TM_ELIMIT_MEM;
            return b->failed;
        }
        char *p = tm_buf_room(b, want);
        if (!p)
            return b->failed;
        size_t got = fread(p, 1, want, f);
        tm_buf_advance(b, got);
        if (got < want)
            return ferror(f) ? TM_EIO : TM_OK;
    }
}

void tm_buf_truncate(tm_buf *b, size_t len)
{
    if (b->data && len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

int tm_buf_done(const tm_buf *b, const char *what, struct tm_err *err)
{
    if (b->failed == TM_ENOMEM)
        return tm_err_set(err, TM_ENOMEM, "out of memory writing %s", what);
    if (b->failed)
        return tm_err_set(err, b->failed, "%s is larger than %zu bytes", what,
                          b->fixed ? b->cap - 1 : b->limit);
    return TM_OK;
}

void tm_buf_reset(tm_buf *b)
{
    if (b->data) {
        if (b->flags & TM_BUF_SECRET)
            OPENSSL_cleanse(b->data, b->len);
        b->data[0] = '\0';
    }
    b->len = 0;
    b->failed = 0;
}

char *tm_buf_take(tm_buf *b, size_t *len)
{
    if (b->fixed)
        return NULL;
    if (!b->failed && !b->data)
        grow(b, 0);
    char *out = b->failed ? NULL : b->data;
    if (len)
        *len = out ? b->len : 0;
    if (!out)
        wipe_free(b);
    unsigned flags = b->flags;
    size_t limit = b->limit;
    tm_buf_init(b, flags);
    b->limit = limit;
    return out;
}

void tm_buf_free(tm_buf *b)
{
    if (!b)
        return;
    if (b->fixed) {
        tm_buf_reset(b);
        return;
    }
    wipe_free(b);
    unsigned flags = b->flags;
    size_t limit = b->limit;
    tm_buf_init(b, flags);
    b->limit = limit;
}
