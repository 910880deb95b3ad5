/*
 * core/jsonl.c: the JSON-lines reader (jsonl.h). One growing buffer holds
 * the line being read, never more than max_line + 2 bytes; a longer line is
 * read on to its end without being kept, so one line without a newline
 * cannot make the reader hold a whole file.
 */
#include "jsonl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct tm_jsonl {
    FILE *in;
    const char *name;
    size_t max;     /* the longest line kept, in bytes */
    char *buf;
    size_t cap;
    long lineno;
    int done;       /* the end, a read error or out of memory was met: nothing more */
    char reason[128];
};

int tm_jsonl_open(FILE *in, const char *name, size_t max_line, tm_jsonl **out,
                  struct tm_err *err)
{
    *out = NULL;
    tm_jsonl *r = calloc(1, sizeof *r);
    if (!r)
        return tm_err_set(err, TM_ENOMEM, "%s: out of memory", name);
    r->in = in;
    r->name = name;
    r->max = max_line ? max_line : TM_JSONL_LINE_MAX;
    *out = r;
    return TM_OK;
}

/* Room for n + 2 bytes (a byte more and the NUL), within max + 2. Not a
 * tm_buf (buf.h): a line past the limit is kept to max + 1 bytes and the
 * rest only counted, so the reader can name it and go on, and a failed
 * growth ends the reading at once (oom()) rather than later; this is the
 * read loop of `tallyman decide`, tuned as it is. */
static int grow(tm_jsonl *r, size_t n)
{
    if (n + 2 <= r->cap)
        return 1;
    size_t cap = r->cap ? r->cap * 2 : 256;
    while (cap < n + 2)
        cap *= 2;
    if (cap > r->max + 2)
        cap = r->max + 2;
    char *q = realloc(r->buf, cap);
    if (!q)
        return 0;
    r->buf = q;
    r->cap = cap;
    return 1;
}

/* Appends k bytes of the line to the buffer, up to max + 1 in all (a CR
 * before the newline does not count against the limit): *over is set when
 * the line is longer. 0 when the buffer cannot grow. */
static int put(tm_jsonl *r, size_t *n, const char *s, size_t k, int *over)
{
    if (*n + k > r->max + 1) {
        *over = 1;
        return 1;
    }
    if (!grow(r, *n + k - 1))
        return 0;
    memcpy(r->buf + *n, s, k);
    *n += k;
    return 1;
}

static int oom(tm_jsonl *r, long *lineno, struct tm_err *err)
{
    r->done = 1;
    *lineno = r->lineno + 1;
    snprintf(r->reason, sizeof r->reason, "out of memory");
    return tm_err_set(err, TM_ENOMEM, "%s:%ld: out of memory", r->name, *lineno);
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

int tm_jsonl_next(tm_jsonl *r, char **line, size_t *len, long *lineno, struct tm_err *err)
{
    *line = NULL;
    *len = 0;
    *lineno = r->lineno;
    while (!r->done) {
        /* One line: up to max + 1 bytes are kept (a CR before the newline
         * does not count against the limit); the rest only counted. */
        size_t n = 0;
        int over = 0, c;
        FILE *in = r->in;
        /* Bytes go through a small local array first: stores to it cannot
         * touch the stream, so the compiler keeps stdio's pointers in
         * registers (a store through r->buf could alias them). */
        char chunk[256];
        size_t k = 0;
        while ((c = getc_unlocked(in)) != EOF && c != '\n') {
            chunk[k++] = (char)c;
            if (k == sizeof chunk) {
                if (!put(r, &n, chunk, k, &over)) {
                    OPENSSL_cleanse(chunk, sizeof chunk);
                    return oom(r, lineno, err);
                }
                k = 0;
                if (over) {
                    while ((c = getc_unlocked(in)) != EOF && c != '\n') {
                    }
                    break;
                }
            }
        }
        int grown = over || !k || put(r, &n, chunk, k, &over);
        OPENSSL_cleanse(chunk, sizeof chunk); /* no copy of the line is left behind */
        if (!grown)
            return oom(r, lineno, err);
        if (c == EOF) {
            int e = errno;
            r->done = 1;
            if (ferror(r->in)) {
                if (n)
                    OPENSSL_cleanse(r->buf, n);
                snprintf(r->reason, sizeof r->reason, "cannot read: %s", strerror(e));
                return tm_err_set(err, TM_EIO, "%s: %s", r->name, r->reason);
            }
            if (n == 0 && !over)
                return 0; /* the end (or a final newline before it) */
        }
        *lineno = ++r->lineno;
        while (n && r->buf[n - 1] == '\r')
            n--;
        if (over || n > r->max) {
            if (n)
                OPENSSL_cleanse(r->buf, n);
            snprintf(r->reason, sizeof r->reason, "line too long (more than %zu bytes)", r->max);
            return tm_err_set(err, TM_EINVAL, "%s:%ld: %s", r->name, r->lineno, r->reason);
        }
        if (n == 0 || blank(r->buf, n))
            continue;
        r->buf[n] = '\0';
        *line = r->buf;
        *len = n;
        return 1;
    }
    return 0;
}

const char *tm_jsonl_reason(const tm_jsonl *r) { return r->reason; }

long tm_jsonl_lineno(const tm_jsonl *r) { return r->lineno; }

void tm_jsonl_close(tm_jsonl *r)
{
    if (!r)
        return;
    if (r->buf) {
        OPENSSL_cleanse(r->buf, r->cap);
        free(r->buf);
    }
    free(r);
}
