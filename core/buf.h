/*
 * core/buf.h: the growable byte buffer text is built in, in every layer.
 *
 * A failed growth is sticky and never silent. When memory runs out (or the
 * buffer would pass its limit, or a fixed array is full) the buffer records
 * why, drops that append and every later one, and keeps what it held; the
 * caller checks once, when the text is complete, with tm_buf_failed() or
 * tm_buf_done(), and then throws the text away rather than use a cut-short
 * one. tm_buf_take() refuses a failed buffer. So a writer can append a whole
 * record without a check per call and still never store half of it.
 *
 * The text is NUL-terminated after every append that succeeded (data is
 * NULL until the first one). Appending is inline while there is room; the
 * growth (doubling, from 256 bytes) is out of line. Depends on tm_status.h
 * only (and OpenSSL's cleanse for TM_BUF_SECRET).
 */
#ifndef TM_BUF_H
#define TM_BUF_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tm_status.h"

/* Flags (tm_buf_init). */
enum {
    /* The buffer holds secrets (key files, personal data before encryption):
     * a growth copies into a new block and wipes the old one, and
     * tm_buf_free()/tm_buf_reset() wipe what was held, rather than leave it
     * in freed memory. */
    TM_BUF_SECRET = 1
};

typedef struct tm_buf {
    char *data;   /* the text, NUL-terminated; NULL until the first append */
    size_t len;   /* bytes held, the NUL not counted */
    size_t cap;   /* bytes allocated (or the fixed array's size); len < cap once data is set */
    size_t limit; /* the most len may reach (0: no limit) */
    int failed;   /* 0, TM_ENOMEM (a growth failed) or TM_ELIMIT_MEM (past the limit, or
                     the fixed array is full) */
    unsigned flags;
    int fixed;    /* data is the caller's array: it never grows and is not freed */
} tm_buf;

/* An empty buffer without flags or limit, for `tm_buf b = TM_BUF_INIT;`. */
#define TM_BUF_INIT {NULL, 0, 0, 0, 0, 0u, 0}

/* An empty buffer with `flags` (0 or TM_BUF_SECRET) and no limit. Allocates
 * nothing. */
void tm_buf_init(tm_buf *b, unsigned flags);

/* A buffer over the caller's array `mem` of `cap` bytes (cap >= 1): appends
 * that would not leave room for the NUL fail with TM_ELIMIT_MEM. Starts
 * empty (mem[0] is set to NUL). tm_buf_free() does not free `mem`. */
void tm_buf_fixed(tm_buf *b, char *mem, size_t cap);

/* Caps what the buffer may hold at `max` bytes (0: no cap): an append that
 * would pass it fails the buffer with TM_ELIMIT_MEM. */
void tm_buf_limit(tm_buf *b, size_t max);

/* The slow path of tm_buf_put() (growth and failure); not for callers. */
void tm__buf_put(tm_buf *b, const void *s, size_t n);

/* Appends the `n` bytes at `s` (s may be NULL when n is 0). On a failed
 * growth, or when the buffer has failed before, appends nothing. */
static inline void tm_buf_put(tm_buf *b, const void *s, size_t n)
{
    if (n < b->cap - b->len && !b->failed) {
        if (n) {
            memcpy(b->data + b->len, s, n);
            b->len += n;
        }
        b->data[b->len] = '\0';
    } else {
        tm__buf_put(b, s, n);
    }
}

/* Appends the NUL-terminated string `s`. */
static inline void tm_buf_puts(tm_buf *b, const char *s) { tm_buf_put(b, s, strlen(s)); }

/* Appends one byte. */
static inline void tm_buf_putc(tm_buf *b, char c)
{
    if (b->cap - b->len > 1 && !b->failed) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
    } else {
        tm__buf_put(b, &c, 1);
    }
}

/* Appends printf-style text (formatted whole: never cut short). */
void tm_buf_printf(tm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tm_buf_vprintf(tm_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Room for `n` more bytes: a pointer to where they go (the caller writes up
 * to n bytes there, then calls tm_buf_advance with how many it wrote), or
 * NULL when the buffer failed (now or before). */
char *tm_buf_room(tm_buf *b, size_t n);

/* Counts `n` bytes written into the room tm_buf_room() gave (n no more than
 * it was asked for) and NUL-terminates. */
void tm_buf_advance(tm_buf *b, size_t n);

/* Appends everything left to read from `f`. TM_OK at its end; TM_EIO when
 * reading fails (what was read stays appended); TM_ENOMEM or TM_ELIMIT_MEM
 * when the buffer failed (the rest of the stream is not read). */
int tm_buf_read(tm_buf *b, FILE *f);

/* Cuts the text back to its first `len` bytes (len <= b->len); the failure
 * flag is unchanged. For taking back a part written for something that was
 * then refused. */
void tm_buf_truncate(tm_buf *b, size_t len);

/* 0 while every append succeeded; otherwise why the first one failed
 * (TM_ENOMEM or TM_ELIMIT_MEM). */
static inline int tm_buf_failed(const tm_buf *b) { return b->failed; }

/* TM_OK when the text was built whole; otherwise the failure's code, with
 * `err` saying "out of memory writing WHAT" or "WHAT is larger than N bytes"
 * (N the limit, or the fixed array's room). */
int tm_buf_done(const tm_buf *b, const char *what, struct tm_err *err);

/* Empties the buffer, keeping its memory (wiped first when TM_BUF_SECRET),
 * its flags and its limit, and clears the failure. */
void tm_buf_reset(tm_buf *b);

/* Hands the text over: returns it (caller frees with free(); an empty text
 * is "" in a block of its own) with its length in *len (may be NULL), and
 * leaves the buffer empty as by tm_buf_init with the same flags and limit.
 * NULL when the buffer failed or memory runs out: the buffer is then freed.
 * Not for a fixed buffer (returns NULL). */
char *tm_buf_take(tm_buf *b, size_t *len);

/* Frees the memory (wiped first when TM_BUF_SECRET; not a fixed array) and
 * leaves the buffer empty, with its flags and limit. NULL is a no-op. */
void tm_buf_free(tm_buf *b);

#endif
