/*
 * core/csv.c: the streaming RFC 4180 reader (see csv.h for the grammar and the contract).
 *
 * Design. Bytes come from the FILE in TM_CSV_READ_BUFFER blocks and go through a small state
 * machine (record start, field start, unquoted, quoted, quote seen). The machine copies field
 * bytes into one record buffer, unquoting as it goes, and ends each field with a NUL, so
 * callers get C strings with no allocation per field or per record: the record buffer only
 * grows, up to TM_CSV_MAX_RECORD, and is reused. Runs of ordinary bytes are found with a
 * class table and copied with one memcpy, which is what makes the reader fast; the switch on
 * the state runs once per delimiter, not once per byte.
 *
 * Errors. The first problem of a record is recorded (status, message, field) and the machine
 * keeps going in "skip" mode: it still follows the quoting rules but copies nothing and
 * checks no limit, until the record ends. So after a bad record the reader stands at the
 * start of the next one, and a quoted field with line breaks after the problem is not split
 * into fake rows. UTF-8 is checked once per good record over the whole buffer (the NUL
 * separators are valid UTF-8 and stop a sequence from spanning two fields).
 *
 * Line numbers. `line` is the physical line of the next unread byte. LF, CRLF and a lone CR
 * each end one line; a CR is counted when read and the LF of a CRLF is then not counted
 * again, which works across buffer refills because only the "last byte was CR" flag is
 * kept. A record that ends at the CR of a CRLF leaves the LF to the next call, which skips
 * it as an empty line without counting it.
 */
#include "csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define REC_INITIAL (64 * 1024)
/* Field data, one NUL per field and one spare byte. */
#define REC_CAP_MAX ((size_t)TM_CSV_MAX_RECORD + TM_CSV_MAX_FIELDS + 1)

enum { ST_RECORD, ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE };

/* Byte classes: SP_U bytes end a run inside an unquoted field, SP_Q inside a quoted one. */
enum { SP_U = 1, SP_Q = 2 };
static const unsigned char cls[256] = {
    [0] = SP_U | SP_Q, ['\n'] = SP_U | SP_Q, ['\r'] = SP_U | SP_Q, ['"'] = SP_U | SP_Q,
    [','] = SP_U,
};

struct tm_csv {
    FILE *f;
    unsigned char *buf; /* read buffer: bytes [pos, end) are unread */
    size_t pos, end;
    int eof;            /* fread() has returned 0 without an error */
    int started;        /* the byte order mark has been looked for */
    int dead;           /* sticky fatal status (TM_EIO, TM_ENOMEM, TM_EENCODING for UTF-16) */
    char dead_msg[256];

    char *rec;          /* the current record's fields, each followed by a NUL */
    size_t rec_len, rec_cap;
    uint32_t off[TM_CSV_MAX_FIELDS];
    uint32_t len[TM_CSV_MAX_FIELDS];
    int nfields;

    long line;          /* physical line of the next unread byte */
    long rec_line;      /* line where the current record started */
    int prev_cr;        /* the last byte read was a CR */

    size_t fstart;      /* offset in rec of the field being read */
    long fline;         /* line where that field started */
    int bad;            /* status of the first problem in this record, 0 while none */
    int err_field;
    char reason[256];   /* that problem, without the line and field */
};

static int die(tm_csv *c, struct tm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int die(tm_csv *c, struct tm_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->dead_msg, sizeof c->dead_msg, fmt, ap);
    va_end(ap);
    c->dead = code;
    c->nfields = 0;
    memcpy(c->reason, c->dead_msg, sizeof c->reason);
    return tm_err_set(err, code, "%s", c->dead_msg);
}

static void problem(tm_csv *c, struct tm_err *err, int code, long line, int field,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Records the first problem of the current record; later ones are consequences or noise. */
static void problem(tm_csv *c, struct tm_err *err, int code, long line, int field,
                    const char *fmt, ...)
{
    if (c->bad)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    c->bad = code;
    c->err_field = field;
    if (field >= 0)
        tm_err_set(err, code, "line %ld: field %d: %s", line, field + 1, c->reason);
    else
        tm_err_set(err, code, "line %ld: %s", line, c->reason);
}

tm_csv *tm_csv_open(FILE *f, struct tm_err *err)
{
    if (!f) {
        tm_err_set(err, TM_EINVAL, "csv: no file");
        return NULL;
    }
    tm_csv *c = calloc(1, sizeof *c);
    if (c) {
        c->buf = malloc(TM_CSV_READ_BUFFER);
        c->rec = malloc(REC_INITIAL);
    }
    if (!c || !c->buf || !c->rec) {
        tm_csv_close(c);
        tm_err_set(err, TM_ENOMEM, "csv: out of memory");
        return NULL;
    }
    c->f = f;
    c->rec_cap = REC_INITIAL;
    c->line = 1;
    c->err_field = -1;
    return c;
}

void tm_csv_close(tm_csv *c)
{
    if (!c)
        return;
    free(c->buf);
    free(c->rec);
    free(c);
}

/* Refills the read buffer. 1: bytes available; 0: end of file; < 0: fatal read error. */
static int fill(tm_csv *c, struct tm_err *err)
{
    if (c->eof)
        return 0;
    size_t n = fread(c->buf, 1, TM_CSV_READ_BUFFER, c->f);
    c->pos = 0;
    c->end = n;
    if (n > 0)
        return 1;
    if (ferror(c->f))
        return die(c, err, TM_EIO, "line %ld: read error: %s", c->line, strerror(errno));
    c->eof = 1;
    return 0;
}

/* Makes room for `need` bytes in the record buffer. Callers have checked the limits, so
 * `need` never exceeds REC_CAP_MAX. Not a tm_buf (buf.h): the record is fields at offsets
 * with per-field and per-record limits that reject the record and go on, and a failed
 * growth ends the reading at once (die()), naming the line. */
static int grow(tm_csv *c, size_t need, struct tm_err *err)
{
    size_t cap = c->rec_cap;
    while (cap < need)
        cap *= 2;
    if (cap > REC_CAP_MAX)
        cap = REC_CAP_MAX;
    char *p = realloc(c->rec, cap);
    if (!p)
        return die(c, err, TM_ENOMEM, "line %ld: out of memory for a record", c->rec_line);
    c->rec = p;
    c->rec_cap = cap;
    return TM_OK;
}

/* Appends n bytes to the field being read. TM_OK also when a limit is hit (that is a problem
 * of the record, not of the reader); < 0 only for a fatal error. */
static inline int append(tm_csv *c, const unsigned char *s, size_t n, struct tm_err *err)
{
    if (c->bad)
        return TM_OK;
    if (c->rec_len - c->fstart + n > TM_CSV_MAX_FIELD) {
        problem(c, err, TM_EINVAL, c->fline, c->nfields, "longer than %d bytes",
                TM_CSV_MAX_FIELD);
        return TM_OK;
    }
    if (c->rec_len - (size_t)c->nfields + n > TM_CSV_MAX_RECORD) {
        problem(c, err, TM_EINVAL, c->rec_line, -1, "record longer than %d bytes",
                TM_CSV_MAX_RECORD);
        return TM_OK;
    }
    if (c->rec_len + n + 1 > c->rec_cap && grow(c, c->rec_len + n + 1, err) < 0)
        return c->dead;
    memcpy(c->rec + c->rec_len, s, n);
    c->rec_len += n;
    return TM_OK;
}

static inline void count_break(tm_csv *c, unsigned char ch)
{
    if (ch == '\r') {
        c->line++;
        c->prev_cr = 1;
    } else {
        if (!c->prev_cr)
            c->line++;
        c->prev_cr = 0;
    }
}

static inline void begin_field(tm_csv *c, struct tm_err *err)
{
    if (c->nfields >= TM_CSV_MAX_FIELDS)
        problem(c, err, TM_EINVAL, c->line, -1, "more than %d fields", TM_CSV_MAX_FIELDS);
    c->fstart = c->rec_len;
    c->fline = c->line;
}

static inline int end_field(tm_csv *c, struct tm_err *err)
{
    if (c->bad)
        return TM_OK;
    if (c->rec_len + 1 > c->rec_cap && grow(c, c->rec_len + 1, err) < 0)
        return c->dead;
    c->off[c->nfields] = (uint32_t)c->fstart;
    c->len[c->nfields] = (uint32_t)(c->rec_len - c->fstart);
    c->rec[c->rec_len++] = '\0';
    c->nfields++;
    return TM_OK;
}

/* Counts the line breaks in the first n bytes of the record, as count_break() does. */
static long breaks_in(const char *s, size_t n)
{
    long k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')))
            k++;
    return k;
}

/* 1 when the n bytes at s are all ASCII: checked a word at a time, because nearly every
 * portfolio record is, and tm_utf8_valid() goes a byte at a time. */
static int all_ascii(const char *s, size_t n)
{
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return (acc & UINT64_C(0x8080808080808080)) == 0;
}

static int finish_record(tm_csv *c, struct tm_err *err)
{
    if (!c->bad && !all_ascii(c->rec, c->rec_len)) {
        size_t at;
        if (!tm_utf8_valid(c->rec, c->rec_len, &at)) {
            int f = 0;
            while (f + 1 < c->nfields && c->off[f + 1] <= at)
                f++;
            problem(c, err, TM_EENCODING, c->rec_line + breaks_in(c->rec, at), f,
                    "invalid UTF-8 at byte %zu", at - c->off[f] + 1);
        }
    }
    if (c->bad) {
        c->nfields = 0;
        return c->bad;
    }
    c->err_field = -1;
    return 1;
}

/* The end of the file in state `st`. */
static int at_eof(tm_csv *c, int st, struct tm_err *err)
{
    switch (st) {
    case ST_RECORD:
        c->nfields = 0;
        return 0;
    case ST_QUOTED:
        problem(c, err, TM_ESYNTAX, c->fline, c->nfields,
                "unterminated quoted field: the file ends inside it");
        return finish_record(c, err);
    case ST_FIELD: /* after a comma: one more, empty, field */
        begin_field(c, err);
        /* fall through */
    default: /* inside an unquoted field, after a closing quote */
        if (end_field(c, err) < 0)
            return c->dead;
        return finish_record(c, err);
    }
}

/* Skips a UTF-8 byte order mark; refuses UTF-16, whose every record would be garbage. */
static int start(tm_csv *c, struct tm_err *err)
{
    c->started = 1;
    int rc = fill(c, err);
    if (rc <= 0)
        return rc;
    const unsigned char *b = c->buf;
    if (c->end >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
        c->pos = 3;
    else if (c->end >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
        return die(c, err, TM_EENCODING,
                   "line 1: the file is UTF-16 (byte order mark %02X %02X); save it as UTF-8",
                   b[0], b[1]);
    return TM_OK;
}

int tm_csv_next(tm_csv *c, struct tm_err *err)
{
    if (!c)
        return tm_err_set(err, TM_EINVAL, "csv: no reader");
    if (c->dead)
        return tm_err_set(err, c->dead, "%s", c->dead_msg);
    if (!c->started) {
        int rc = start(c, err);
        if (rc < 0)
            return rc;
    }
    c->nfields = 0;
    c->rec_len = 0;
    c->bad = 0;
    c->err_field = -1;
    c->reason[0] = '\0';
    int st = ST_RECORD;
    for (;;) {
        if (c->pos == c->end) {
            int rc = fill(c, err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return at_eof(c, st, err);
        }
        unsigned char ch;
        switch (st) {
        case ST_RECORD:
            ch = c->buf[c->pos];
            if (ch == '\n' || ch == '\r') { /* an empty line */
                c->pos++;
                count_break(c, ch);
                continue;
            }
            c->rec_line = c->line;
            st = ST_FIELD;
            /* fall through */
        case ST_FIELD:
            begin_field(c, err);
            if (c->buf[c->pos] == '"') {
                c->pos++;
                c->prev_cr = 0;
                st = ST_QUOTED;
            } else {
                st = ST_UNQUOTED;
            }
            continue;
        case ST_UNQUOTED:
        case ST_QUOTED: {
            const unsigned char *p = c->buf + c->pos, *e = c->buf + c->end, *q = p;
            const unsigned char stop = st == ST_UNQUOTED ? SP_U : SP_Q;
            while (q < e && !(cls[*q] & stop))
                q++;
            if (q > p) {
                if (append(c, p, (size_t)(q - p), err) < 0)
                    return c->dead;
                c->prev_cr = 0;
                c->pos += (size_t)(q - p);
                if (q == e)
                    continue;
            }
            ch = *q;
            c->pos++;
            if (ch == '\r' || ch == '\n') {
                count_break(c, ch);
                if (st == ST_QUOTED) {
                    if (append(c, &ch, 1, err) < 0)
                        return c->dead;
                    continue;
                }
                if (end_field(c, err) < 0)
                    return c->dead;
                return finish_record(c, err);
            }
            c->prev_cr = 0;
            if (ch == ',') { /* only in an unquoted field */
                if (end_field(c, err) < 0)
                    return c->dead;
                st = ST_FIELD;
            } else if (ch == '"') {
                if (st == ST_QUOTED)
                    st = ST_QUOTE;
                else
                    problem(c, err, TM_ESYNTAX, c->line, c->nfields,
                            "a quote inside an unquoted field (quote the whole field and "
                            "double the quotes in it)");
            } else { /* NUL */
                problem(c, err, TM_EENCODING, c->line, c->nfields, "NUL byte");
            }
            continue;
        }
        case ST_QUOTE:
            ch = c->buf[c->pos];
            if (ch == '"') { /* a doubled quote stands for one */
                c->pos++;
                if (append(c, &ch, 1, err) < 0)
                    return c->dead;
                st = ST_QUOTED;
            } else if (ch == ',') {
                c->pos++;
                if (end_field(c, err) < 0)
                    return c->dead;
                st = ST_FIELD;
            } else if (ch == '\r' || ch == '\n') {
                c->pos++;
                count_break(c, ch);
                if (end_field(c, err) < 0)
                    return c->dead;
                return finish_record(c, err);
            } else {
                /* Not consumed: the unquoted state skips it along with the rest. */
                problem(c, err, TM_ESYNTAX, c->line, c->nfields,
                        "text after the closing quote (only a comma or a line end may follow)");
                st = ST_UNQUOTED;
            }
            continue;
        }
    }
}

int tm_csv_nfields(const tm_csv *c)
{
    return c ? c->nfields : 0;
}

const char *tm_csv_field(const tm_csv *c, int i, size_t *len)
{
    if (!c || i < 0 || i >= c->nfields) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = c->len[i];
    return c->rec + c->off[i];
}

int tm_csv_field_index(const tm_csv *c, const char *name)
{
    if (!c || !name)
        return -1;
    size_t n = strlen(name);
    for (int i = 0; i < c->nfields; i++)
        if (c->len[i] == n && memcmp(c->rec + c->off[i], name, n) == 0)
            return i;
    return -1;
}

long tm_csv_line(const tm_csv *c)
{
    return c ? c->rec_line : 0;
}

int tm_csv_err_field(const tm_csv *c)
{
    return c ? c->err_field : -1;
}

const char *tm_csv_err_reason(const tm_csv *c)
{
    return c ? c->reason : "";
}
