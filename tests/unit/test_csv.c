/*
 * tests/unit/test_csv.c: the streaming CSV reader. Each case reads a small file and compares
 * a one-line-per-record dump ("LINE:field|field" or "LINE:E<code> <message>") with the
 * expected text; a seeded random round trip checks records that straddle read-buffer
 * refills against the fields that were written.
 */
#include "harness.h"

#include "csv.h"
#include "text.h"

/* A temporary file holding n bytes (NULs included), positioned at the start. */
static FILE *file_of(const char *data, size_t n)
{
    FILE *f = tmpfile();
    ASSERT(f != NULL);
    ASSERT_EQ(fwrite(data, 1, n, f), n);
    rewind(f);
    return f;
}

#define FILE_OF(lit) file_of((lit), sizeof(lit) - 1)

static char dump_buf[1 << 22]; /* room for the padding rows of the refill test */
static size_t dump_len;

static void put(const char *s, size_t n)
{
    ASSERT(dump_len + n < sizeof dump_buf);
    memcpy(dump_buf + dump_len, s, n);
    dump_len += n;
    dump_buf[dump_len] = '\0';
}

static void puts_(const char *s)
{
    put(s, strlen(s));
}

/* Reads every record of `f` and returns the dump. CR and LF in fields show as \r and \n. */
static const char *dump_file(FILE *f)
{
    struct tm_err err = {0};
    tm_csv *c = tm_csv_open(f, &err);
    ASSERT(c != NULL);
    dump_len = 0;
    dump_buf[0] = '\0';
    char line[700];
    for (int guard = 0; guard < 1000; guard++) {
        int rc = tm_csv_next(c, &err);
        if (rc == 0)
            break;
        if (rc < 0) {
            snprintf(line, sizeof line, "%ld:E%d %s\n", tm_csv_line(c), rc, err.msg);
            puts_(line);
            ASSERT_EQ(tm_csv_nfields(c), 0);
            if (rc == TM_EIO || rc == TM_ENOMEM)
                break;
            continue;
        }
        ASSERT_EQ(rc, 1);
        snprintf(line, sizeof line, "%ld:", tm_csv_line(c));
        puts_(line);
        for (int i = 0; i < tm_csv_nfields(c); i++) {
            size_t n;
            const char *s = tm_csv_field(c, i, &n);
            ASSERT(s != NULL);
            ASSERT_EQ(strlen(s), n); /* NUL-terminated, no NUL inside */
            if (i)
                puts_("|");
            for (size_t k = 0; k < n; k++) {
                if (s[k] == '\n')
                    puts_("\\n");
                else if (s[k] == '\r')
                    puts_("\\r");
                else
                    put(s + k, 1);
            }
        }
        puts_("\n");
    }
    ASSERT_EQ(tm_csv_next(c, &err), 0); /* end of file stays end of file */
    tm_csv_close(c);
    fclose(f);
    return dump_buf;
}

#define DUMP(lit) dump_file(FILE_OF(lit))

TEST(simple_records)
{
    ASSERT_STR_EQ(DUMP("a,b,c\n1,2,3\n"), "1:a|b|c\n2:1|2|3\n");
}

TEST(empty_file)
{
    ASSERT_STR_EQ(DUMP(""), "");
    ASSERT_STR_EQ(DUMP("\n\n\r\n\r"), "");
}

TEST(utf8_bom_is_skipped)
{
    ASSERT_STR_EQ(DUMP("\xEF\xBB\xBF" "id,x\n1,2\n"), "1:id|x\n2:1|2\n");
    /* Only at the very start: later it is an ordinary (valid) character. */
    ASSERT_STR_EQ(DUMP("a\n\xEF\xBB\xBF" "b\n"), "1:a\n2:\xEF\xBB\xBF" "b\n");
    ASSERT_STR_EQ(DUMP("\xEF\xBB\xBF"), "");
}

TEST(utf16_bom_is_fatal)
{
    struct tm_err err = {0};
    FILE *f = FILE_OF("\xFF\xFEi\0d\0\n\0");
    tm_csv *c = tm_csv_open(f, &err);
    ASSERT_EQ(tm_csv_next(c, &err), TM_EENCODING);
    ASSERT_CONTAINS(err.msg, "UTF-16");
    memset(&err, 0, sizeof err);
    ASSERT_EQ(tm_csv_next(c, &err), TM_EENCODING); /* sticky */
    ASSERT_CONTAINS(err.msg, "UTF-16");
    tm_csv_close(c);
    fclose(f);
}

TEST(crlf_and_lf_line_ends)
{
    ASSERT_STR_EQ(DUMP("a,b\r\nc,d\r\n"), "1:a|b\n2:c|d\n");
    ASSERT_STR_EQ(DUMP("a\r\nb\nc\r\n"), "1:a\n2:b\n3:c\n");
    /* A blank CRLF line between records is one line, skipped. */
    ASSERT_STR_EQ(DUMP("a\r\n\r\nb\r\n"), "1:a\n3:b\n");
}

TEST(lone_cr_ends_a_record)
{
    ASSERT_STR_EQ(DUMP("a,b\r"), "1:a|b\n");
    ASSERT_STR_EQ(DUMP("a,b\rc,d\r"), "1:a|b\n2:c|d\n");
    ASSERT_STR_EQ(DUMP("a,\r"), "1:a|\n");
    ASSERT_STR_EQ(DUMP("\"a\"\r"), "1:a\n");
    /* CR CR LF is a lone CR (one line) and a CRLF (the next): so b is on line 3. */
    ASSERT_STR_EQ(DUMP("a\r\r\nb\n"), "1:a\n3:b\n");
}

TEST(quoted_commas)
{
    ASSERT_STR_EQ(DUMP("\"a,b\",c\n\"1, 2, 3\"\n"), "1:a,b|c\n2:1, 2, 3\n");
    ASSERT_STR_EQ(DUMP("x,\"\",y\n"), "1:x||y\n");
}

TEST(doubled_quotes)
{
    ASSERT_STR_EQ(DUMP("\"say \"\"hi\"\"\",x\n"), "1:say \"hi\"|x\n");
    ASSERT_STR_EQ(DUMP("\"\"\"\"\n"), "1:\"\n");
    ASSERT_STR_EQ(DUMP("\"\"\"\"\"\",\"a\"\"\"\n"), "1:\"\"|a\"\n");
}

TEST(embedded_newlines_and_line_numbers)
{
    const char *d = DUMP("id,note\n"
                         "1,\"line one\nline two\r\nline three\"\n"
                         "2,x\n"
                         "3,\"a\rb\"\n"
                         "4,y\n");
    ASSERT_STR_EQ(d, "1:id|note\n"
                     "2:1|line one\\nline two\\r\\nline three\n"
                     "5:2|x\n"
                     "6:3|a\\rb\n"
                     "8:4|y\n");
}

TEST(final_record_without_newline)
{
    ASSERT_STR_EQ(DUMP("a,b\nc,d"), "1:a|b\n2:c|d\n");
    ASSERT_STR_EQ(DUMP("a,"), "1:a|\n");
    ASSERT_STR_EQ(DUMP("\"q\""), "1:q\n");
    ASSERT_STR_EQ(DUMP("\"q\","), "1:q|\n");
    ASSERT_STR_EQ(DUMP(","), "1:|\n");
}

TEST(empty_fields)
{
    ASSERT_STR_EQ(DUMP(",,\n"), "1:||\n");
    ASSERT_STR_EQ(DUMP("a,,b\n,x,\n"), "1:a||b\n2:|x|\n");
    ASSERT_STR_EQ(DUMP("\"\"\n"), "1:\n"); /* one empty field: a record, not a blank line */
    ASSERT_STR_EQ(DUMP(" \n"), "1: \n");   /* white space is data */
}

TEST(empty_lines_are_skipped)
{
    ASSERT_STR_EQ(DUMP("\n\na\n\n\nb\n\n"), "3:a\n6:b\n");
    ASSERT_STR_EQ(DUMP("\r\n\r\na\r\n\r\n"), "3:a\n");
}

TEST(unterminated_quote_at_eof)
{
    const char *d = DUMP("a,b\nc,\"unterminated\nmore,text\nand more\n");
    ASSERT_STR_EQ(d, "1:a|b\n2:E-5 line 2: field 2: unterminated quoted field: the file ends "
                     "inside it\n");
    ASSERT_STR_EQ(DUMP("\""), "1:E-5 line 1: field 1: unterminated quoted field: the file ends "
                              "inside it\n");
    /* The opening quote's line is named, not the line where the file ends. */
    d = DUMP("a\nb,c,\"x\n\n\n");
    ASSERT_CONTAINS(d, "2:E-5 line 2: field 3: unterminated");
}

TEST(quote_inside_unquoted_field)
{
    const char *d = DUMP("a,b\"c,d\nx,y\n");
    ASSERT_CONTAINS(d, "1:E-5 line 1: field 2: a quote inside an unquoted field");
    ASSERT_CONTAINS(d, "\n2:x|y\n");
    /* A space before the opening quote makes the field unquoted. */
    ASSERT_CONTAINS(DUMP("a, \"b\"\nz\n"), "1:E-5 line 1: field 2: a quote inside");
}

TEST(text_after_closing_quote)
{
    const char *d = DUMP("\"a\"b,c\nx\n");
    ASSERT_CONTAINS(d, "1:E-5 line 1: field 1: text after the closing quote");
    ASSERT_CONTAINS(d, "\n2:x\n");
    d = DUMP("ok,\"a\" ,c\nx\n");
    ASSERT_CONTAINS(d, "1:E-5 line 1: field 2: text after the closing quote");
    ASSERT_CONTAINS(d, "\n2:x\n");
}

TEST(resync_follows_quotes)
{
    /* The bad record holds a quoted field with a line break after the problem: its second
     * half must not come back as a record of its own. */
    const char *d = DUMP("h1,h2,h3\n"
                         "a\"b,\"q1\nq2,still quoted\",c\n"
                         "next,row,ok\n");
    ASSERT_STR_EQ(d, "1:h1|h2|h3\n"
                     "2:E-5 line 2: field 1: a quote inside an unquoted field (quote the whole "
                     "field and double the quotes in it)\n"
                     "4:next|row|ok\n");
    /* Several bad records in a row, each reported once, the good ones kept. */
    d = DUMP("1\n\"x\"y\"z\"\n2\na\"\"\"\n3\n");
    ASSERT_STR_EQ(d, "1:1\n"
                     "2:E-5 line 2: field 1: text after the closing quote (only a comma or a "
                     "line end may follow)\n"
                     "3:2\n"
                     "4:E-5 line 4: field 1: a quote inside an unquoted field (quote the whole "
                     "field and double the quotes in it)\n"
                     "5:3\n");
}

TEST(nul_bytes)
{
    FILE *f = FILE_OF("a,b\0c\nx\n\"q\0\"\ny\n");
    const char *d = dump_file(f);
    ASSERT_STR_EQ(d, "1:E-12 line 1: field 2: NUL byte\n"
                     "2:x\n"
                     "3:E-12 line 3: field 1: NUL byte\n"
                     "4:y\n");
}

TEST(invalid_utf8_names_field_and_line)
{
    const char *d = DUMP("ok,\xC3\x28,z\nx\n");
    ASSERT_STR_EQ(d, "1:E-12 line 1: field 2: invalid UTF-8 at byte 1\n2:x\n");
    /* A truncated sequence at the end of a field; an overlong form; a surrogate. */
    ASSERT_CONTAINS(DUMP("a,b\xC3\n"), "1:E-12 line 1: field 2: invalid UTF-8 at byte 2");
    ASSERT_CONTAINS(DUMP("\xC0\xAF\n"), "field 1: invalid UTF-8");
    ASSERT_CONTAINS(DUMP("\xED\xA0\x80\n"), "field 1: invalid UTF-8");
    ASSERT_CONTAINS(DUMP("\xFF\n"), "field 1: invalid UTF-8"); /* not a UTF-16 mark alone */
    /* Inside a multi-line quoted field, the physical line of the bad byte. */
    d = DUMP("h\n\"one\ntwo\r\nthr\x80\"\nnext\n");
    ASSERT_STR_EQ(d, "1:h\n2:E-12 line 4: field 1: invalid UTF-8 at byte 13\n5:next\n");
    /* Valid multi-byte text passes. */
    ASSERT_STR_EQ(DUMP("Jos\xC3\xA9,\xE6\x97\xA5\xE6\x9C\xAC,\xF0\x9F\x98\x80\n"),
                  "1:Jos\xC3\xA9|\xE6\x97\xA5\xE6\x9C\xAC|\xF0\x9F\x98\x80\n");
}

/* A file of `rows` records: field `big` of each is `len` copies of 'x' (quoted if asked). */
static FILE *big_field_file(size_t len, int quoted)
{
    size_t cap = len + 64;
    char *buf = malloc(cap);
    ASSERT(buf != NULL);
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "a,%s", quoted ? "\"" : "");
    memset(buf + n, 'x', len);
    n += len;
    n += (size_t)snprintf(buf + n, cap - n, "%s,b\nnext\n", quoted ? "\"" : "");
    FILE *f = file_of(buf, n);
    free(buf);
    return f;
}

TEST(very_long_field)
{
    struct tm_err err = {0};
    for (int quoted = 0; quoted <= 1; quoted++) {
        FILE *f = big_field_file(TM_CSV_MAX_FIELD, quoted); /* exactly at the limit */
        tm_csv *c = tm_csv_open(f, &err);
        ASSERT_EQ(tm_csv_next(c, &err), 1);
        size_t n;
        ASSERT(tm_csv_field(c, 1, &n) != NULL);
        ASSERT_EQ(n, TM_CSV_MAX_FIELD);
        ASSERT_EQ(tm_csv_nfields(c), 3);
        ASSERT_EQ(tm_csv_next(c, &err), 1);
        ASSERT_STR_EQ(tm_csv_field(c, 0, NULL), "next");
        tm_csv_close(c);
        fclose(f);

        f = big_field_file(TM_CSV_MAX_FIELD + 1, quoted); /* one byte over */
        c = tm_csv_open(f, &err);
        ASSERT_EQ(tm_csv_next(c, &err), TM_EINVAL);
        ASSERT_STR_EQ(err.msg, "line 1: field 2: longer than 65536 bytes");
        ASSERT_EQ(tm_csv_err_field(c), 1);
        ASSERT_EQ(tm_csv_line(c), 1);
        ASSERT_EQ(tm_csv_next(c, &err), 1);
        ASSERT_STR_EQ(tm_csv_field(c, 0, NULL), "next");
        ASSERT_EQ(tm_csv_line(c), 2);
        ASSERT_EQ(tm_csv_err_field(c), -1);
        ASSERT_EQ(tm_csv_next(c, &err), 0);
        tm_csv_close(c);
        fclose(f);
    }
}

TEST(field_count_limit)
{
    struct tm_err err = {0};
    for (int extra = 0; extra <= 1; extra++) {
        int nf = TM_CSV_MAX_FIELDS + extra;
        char *buf = malloc((size_t)nf * 2 + 16);
        size_t n = 0;
        for (int i = 0; i < nf; i++) {
            buf[n++] = 'f';
            buf[n++] = i + 1 < nf ? ',' : '\n';
        }
        memcpy(buf + n, "ok\n", 3);
        FILE *f = file_of(buf, n + 3);
        free(buf);
        tm_csv *c = tm_csv_open(f, &err);
        if (extra) {
            ASSERT_EQ(tm_csv_next(c, &err), TM_EINVAL);
            ASSERT_STR_EQ(err.msg, "line 1: more than 1024 fields");
            ASSERT_STR_EQ(tm_csv_err_reason(c), "more than 1024 fields");
            ASSERT_EQ(tm_csv_err_field(c), -1);
        } else {
            ASSERT_EQ(tm_csv_next(c, &err), 1);
            ASSERT_EQ(tm_csv_nfields(c), TM_CSV_MAX_FIELDS);
            ASSERT_STR_EQ(tm_csv_field(c, TM_CSV_MAX_FIELDS - 1, NULL), "f");
        }
        ASSERT_EQ(tm_csv_next(c, &err), 1);
        ASSERT_STR_EQ(tm_csv_field(c, 0, NULL), "ok");
        ASSERT_EQ(tm_csv_line(c), 2);
        tm_csv_close(c);
        fclose(f);
    }
}

TEST(record_size_limit)
{
    /* 20 fields of 60000 bytes: each under the field limit, together over 1 MiB. */
    size_t flen = 60000, nf = 20, cap = nf * (flen + 1) + 16;
    char *buf = malloc(cap);
    size_t n = 0;
    for (size_t i = 0; i < nf; i++) {
        memset(buf + n, 'y', flen);
        n += flen;
        buf[n++] = i + 1 < nf ? ',' : '\n';
    }
    memcpy(buf + n, "ok\n", 3);
    FILE *f = file_of(buf, n + 3);
    free(buf);
    struct tm_err err = {0};
    tm_csv *c = tm_csv_open(f, &err);
    ASSERT_EQ(tm_csv_next(c, &err), TM_EINVAL);
    ASSERT_STR_EQ(err.msg, "line 1: record longer than 1048576 bytes");
    ASSERT_EQ(tm_csv_next(c, &err), 1);
    ASSERT_STR_EQ(tm_csv_field(c, 0, NULL), "ok");
    tm_csv_close(c);
    fclose(f);
}

TEST(header_parsing)
{
    FILE *f = FILE_OF("\xEF\xBB\xBF" "debt_id,external_id,state,\"balance\",extra col\r\n"
                      "D1,C1,MA,12.50,kept\r\n"
                      "D2,C1,TX,0,\r\n");
    struct tm_err err = {0};
    tm_csv *c = tm_csv_open(f, &err);
    ASSERT_EQ(tm_csv_next(c, &err), 1);
    ASSERT_EQ(tm_csv_line(c), 1);
    int ext = tm_csv_field_index(c, "external_id");
    int bal = tm_csv_field_index(c, "balance");
    int st = tm_csv_field_index(c, "state");
    ASSERT_EQ(tm_csv_field_index(c, "debt_id"), 0); /* the BOM is not part of the name */
    ASSERT_EQ(ext, 1);
    ASSERT_EQ(st, 2);
    ASSERT_EQ(bal, 3);
    ASSERT_EQ(tm_csv_field_index(c, "extra col"), 4);
    ASSERT_EQ(tm_csv_field_index(c, "currency"), -1);
    ASSERT_EQ(tm_csv_field_index(c, "balanc"), -1);
    ASSERT_EQ(tm_csv_field_index(c, NULL), -1);
    ASSERT_EQ(tm_csv_next(c, &err), 1);
    ASSERT_STR_EQ(tm_csv_field(c, ext, NULL), "C1");
    ASSERT_STR_EQ(tm_csv_field(c, bal, NULL), "12.50");
    ASSERT_EQ(tm_csv_line(c), 2);
    ASSERT_EQ(tm_csv_next(c, &err), 1);
    ASSERT_STR_EQ(tm_csv_field(c, st, NULL), "TX");
    ASSERT_STR_EQ(tm_csv_field(c, 4, NULL), "");
    ASSERT_EQ(tm_csv_line(c), 3);
    ASSERT_EQ(tm_csv_next(c, &err), 0);
    tm_csv_close(c);
    fclose(f);
}

TEST(fmemopen_source)
{
    static const char text[] = "a,\"b\nc\"\nd\n";
    FILE *f = fmemopen((void *)(uintptr_t)text, sizeof text - 1, "r");
    ASSERT(f != NULL);
    ASSERT_STR_EQ(dump_file(f), "1:a|b\\nc\n3:d\n");
}

TEST(null_and_range_handling)
{
    struct tm_err err = {0};
    ASSERT(tm_csv_open(NULL, &err) == NULL);
    ASSERT_EQ(err.code, TM_EINVAL);
    ASSERT(tm_csv_open(NULL, NULL) == NULL);
    ASSERT_EQ(tm_csv_next(NULL, &err), TM_EINVAL);
    ASSERT_EQ(tm_csv_nfields(NULL), 0);
    ASSERT_EQ(tm_csv_line(NULL), 0);
    ASSERT_EQ(tm_csv_err_field(NULL), -1);
    ASSERT_EQ(tm_csv_field_index(NULL, "x"), -1);
    ASSERT_STR_EQ(tm_csv_err_reason(NULL), "");
    size_t n = 99;
    ASSERT(tm_csv_field(NULL, 0, &n) == NULL);
    ASSERT_EQ(n, 0);
    tm_csv_close(NULL);

    FILE *f = FILE_OF("a,b\n");
    tm_csv *c = tm_csv_open(f, NULL);
    ASSERT_EQ(tm_csv_line(c), 0);
    ASSERT_EQ(tm_csv_nfields(c), 0);
    ASSERT_EQ(tm_csv_next(c, NULL), 1); /* err may be NULL */
    n = 99;
    ASSERT(tm_csv_field(c, 2, &n) == NULL);
    ASSERT_EQ(n, 0);
    ASSERT(tm_csv_field(c, -1, NULL) == NULL);
    ASSERT_EQ(tm_csv_next(c, NULL), 0);
    ASSERT_EQ(tm_csv_nfields(c), 0);
    ASSERT_EQ(tm_csv_next(c, NULL), 0);
    tm_csv_close(c);
    fclose(f);
}

TEST(read_error_is_fatal)
{
    FILE *f = fopen("/dev/null", "w"); /* reading a write-only stream fails */
    ASSERT(f != NULL);
    struct tm_err err = {0};
    tm_csv *c = tm_csv_open(f, &err);
    ASSERT_EQ(tm_csv_next(c, &err), TM_EIO);
    ASSERT_CONTAINS(err.msg, "read error");
    memset(&err, 0, sizeof err);
    ASSERT_EQ(tm_csv_next(c, &err), TM_EIO);
    ASSERT_CONTAINS(err.msg, "read error");
    ASSERT_CONTAINS(tm_csv_err_reason(c), "read error");
    tm_csv_close(c);
    fclose(f);
}

/* Padding rows of 'p' so that the file reaches exactly `len` bytes; returns the rows. */
static int pad(char *buf, size_t len)
{
    int rows = 0;
    size_t n = 0;
    while (n < len) {
        size_t row = len - n > 1000 ? 1000 : len - n;
        if (len - n - row > 0 && len - n - row < 2)
            row -= 2; /* never leave a remainder too short for "p\n" */
        memset(buf + n, 'p', row - 1);
        buf[n + row - 1] = '\n';
        n += row;
        rows++;
    }
    return rows;
}

TEST(tokens_across_buffer_refills)
{
    /* Every delimiter of the tail lands on the refill boundary for one of the offsets. */
    static const char tail[] = "\"a\"\"b\"\r\n\"c,\r\nd\",e\r\r\n\n\"\"\r\nz";
    size_t tl = sizeof tail - 1;
    char *buf = malloc(TM_CSV_READ_BUFFER + 64);
    for (size_t k = 1; k <= tl + 1; k++) {
        size_t padlen = TM_CSV_READ_BUFFER - k;
        int rows = pad(buf, padlen);
        memcpy(buf + padlen, tail, tl);
        const char *d = dump_file(file_of(buf, padlen + tl));
        char want[256];
        long l = rows + 1;
        snprintf(want, sizeof want, "%ld:a\"b\n%ld:c,\\r\\nd|e\n%ld:\n%ld:z\n", l, l + 1, l + 5,
                 l + 6);
        /* Compare the last four records only: the padding rows come first. */
        const char *p = d + strlen(d);
        for (int nl = 0; p > d; p--)
            if (p[-1] == '\n' && ++nl == 5)
                break;
        if (strcmp(p, want) != 0)
            TM_FAIL_("offset %zu: got\n%s\nwant\n%s", k, p, want);
    }
    free(buf);
}

/* A small deterministic generator, so a failure can be replayed. */
static uint64_t rng_state = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

TEST(random_round_trip)
{
    /* Writes ~1.2 MB of random records (quoted or not, LF or CRLF, fields holding commas,
     * quotes, line breaks and UTF-8), then reads them back and compares fields and lines. */
    enum { NREC = 20000, MAXF = 12, MAXLEN = 40 };
    static const char *const atoms[] = {"a", "Z", "0", " ", ",", "\"", "\n", "\r\n", "\xC3\xA9",
                                        "\xF0\x9F\x98\x80", "-", "."};
    size_t cap = 4u << 20;
    char *file = malloc(cap);
    char *fields = malloc(cap); /* expected fields, NUL-separated */
    int *nf = malloc(NREC * sizeof *nf);
    long *lines = malloc(NREC * sizeof *lines);
    size_t fn = 0, en = 0;
    long line = 1;
    for (int r = 0; r < NREC; r++) {
        while (rnd(8) == 0) { /* blank lines, skipped by the reader */
            file[fn++] = '\n';
            line++;
        }
        lines[r] = line;
        nf[r] = 1 + (int)rnd(MAXF);
        for (int i = 0; i < nf[r]; i++) {
            char val[MAXLEN * 4 + 1];
            size_t vl = 0;
            int natoms = (int)rnd(MAXLEN / 4);
            int special = 0;
            for (int a = 0; a < natoms; a++) {
                const char *at = atoms[rnd(sizeof atoms / sizeof *atoms)];
                memcpy(val + vl, at, strlen(at));
                vl += strlen(at);
                special |= strpbrk(at, ",\"\r\n") != NULL;
            }
            /* A lone empty field would be a blank line: quote it. */
            int quote = special || rnd(4) == 0 || (nf[r] == 1 && vl == 0);
            if (i)
                file[fn++] = ',';
            if (quote)
                file[fn++] = '"';
            for (size_t k = 0; k < vl; k++) {
                if (val[k] == '"' && quote)
                    file[fn++] = '"';
                if (val[k] == '\n' || (val[k] == '\r' && val[k + 1] != '\n'))
                    line++;
                file[fn++] = val[k];
            }
            if (quote)
                file[fn++] = '"';
            memcpy(fields + en, val, vl);
            en += vl;
            fields[en++] = '\0';
        }
        if (r + 1 < NREC || rnd(2)) {
            if (rnd(2))
                file[fn++] = '\r';
            file[fn++] = '\n';
            line++;
        }
        ASSERT(fn + 4096 < cap);
    }
    ASSERT(fn > 3 * TM_CSV_READ_BUFFER);

    FILE *f = file_of(file, fn);
    struct tm_err err = {0};
    tm_csv *c = tm_csv_open(f, &err);
    size_t eo = 0;
    for (int r = 0; r < NREC; r++) {
        int rc = tm_csv_next(c, &err);
        if (rc != 1)
            TM_FAIL_("record %d: rc %d %s", r, rc, err.msg);
        ASSERT_EQ(tm_csv_line(c), lines[r]);
        ASSERT_EQ(tm_csv_nfields(c), nf[r]);
        for (int i = 0; i < nf[r]; i++) {
            size_t n;
            const char *s = tm_csv_field(c, i, &n);
            size_t want = strlen(fields + eo);
            if (n != want || memcmp(s, fields + eo, n) != 0)
                TM_FAIL_("record %d field %d differs", r, i);
            eo += want + 1;
        }
    }
    ASSERT_EQ(tm_csv_next(c, &err), 0);
    tm_csv_close(c);
    fclose(f);
    free(file);
    free(fields);
    free(nf);
    free(lines);
}

TEST(error_line_is_record_start)
{
    /* tm_csv_line() is where the bad record started; the message names the problem's line. */
    FILE *f = FILE_OF("ok\n\"multi\nline\"x,\nnext\n");
    struct tm_err err = {0};
    tm_csv *c = tm_csv_open(f, &err);
    ASSERT_EQ(tm_csv_next(c, &err), 1);
    ASSERT_EQ(tm_csv_next(c, &err), TM_ESYNTAX);
    ASSERT_EQ(tm_csv_line(c), 2);
    ASSERT_CONTAINS(err.msg, "line 3: field 1: text after the closing quote");
    ASSERT_EQ(tm_csv_err_field(c), 0);
    /* The bare reason, for "FILE:LINE: column: reason". */
    ASSERT_STR_EQ(tm_csv_err_reason(c), "text after the closing quote (only a comma or a line "
                                        "end may follow)");
    ASSERT_EQ(tm_csv_next(c, &err), 1);
    ASSERT_EQ(tm_csv_line(c), 4);
    ASSERT_STR_EQ(tm_csv_field(c, 0, NULL), "next");
    ASSERT_STR_EQ(tm_csv_err_reason(c), "");
    tm_csv_close(c);
    fclose(f);
}

/* ---- Differential test against a naive reference ---------------------------------------
 * The reference reads the whole text from memory one byte at a time, with the grammar of
 * csv.h written as plainly as possible. Random text from a small alphabet rich in quotes,
 * line ends, NULs and broken UTF-8 must give the same records, statuses, lines and fields
 * at fault, wherever the read-buffer refills fall. */

struct ref {
    const unsigned char *s;
    size_t n, pos;
    long line, rec_line;
    int prev_cr, bad, bad_field, nf;
    char *arena; /* the fields of one record, n + 1100 bytes */
    size_t used;
    char *fld[1100];
    size_t flen[1100];
};

static void ref_break(struct ref *r, unsigned char ch)
{
    if (ch == '\r')
        r->line++;
    else if (!r->prev_cr)
        r->line++;
    r->prev_cr = ch == '\r';
}

static void ref_bad(struct ref *r, int code)
{
    if (!r->bad) {
        r->bad = code;
        r->bad_field = r->nf;
    }
}

static int ref_next(struct ref *r)
{
    r->nf = 0;
    r->used = 0;
    r->bad = 0;
    r->bad_field = -1;
    while (r->pos < r->n && (r->s[r->pos] == '\r' || r->s[r->pos] == '\n'))
        ref_break(r, r->s[r->pos++]);
    if (r->pos == r->n)
        return 0;
    r->rec_line = r->line;
    for (;;) { /* one field per turn */
        ASSERT(r->nf < 1024);
        char *cur = r->arena + r->used;
        size_t cl = 0;
        int quoted = r->pos < r->n && r->s[r->pos] == '"', end_rec = 0;
        if (r->pos < r->n && quoted) {
            r->pos++;
            r->prev_cr = 0;
        }
        for (;;) {
            if (r->pos == r->n) {
                if (quoted == 1)
                    ref_bad(r, TM_ESYNTAX);
                end_rec = 1;
                break;
            }
            unsigned char ch = r->s[r->pos];
            if (quoted == 2) { /* just after a closing quote */
                if (ch == '"') {
                    cur[cl++] = '"';
                    r->pos++;
                    quoted = 1;
                    continue;
                }
                if (ch != ',' && ch != '\r' && ch != '\n') {
                    ref_bad(r, TM_ESYNTAX);
                    quoted = 0;
                    continue;
                }
                quoted = 0; /* the delimiter is handled below */
            }
            r->pos++;
            if (ch == '\r' || ch == '\n') {
                ref_break(r, ch);
                if (quoted) {
                    cur[cl++] = (char)ch;
                    continue;
                }
                end_rec = 1;
                break;
            }
            r->prev_cr = 0;
            if (ch == ',' && !quoted)
                break;
            if (ch == '"') {
                if (quoted)
                    quoted = 2;
                else
                    ref_bad(r, TM_ESYNTAX);
            } else if (ch == 0) {
                ref_bad(r, TM_EENCODING);
            } else {
                cur[cl++] = (char)ch;
            }
        }
        cur[cl] = '\0';
        r->used += cl + 1;
        r->fld[r->nf] = cur;
        r->flen[r->nf++] = cl;
        if (end_rec)
            break;
    }
    for (int i = 0; i < r->nf && !r->bad; i++) {
        size_t at;
        if (!tm_utf8_valid(r->fld[i], r->flen[i], &at)) {
            r->bad = TM_EENCODING;
            r->bad_field = i;
        }
    }
    return r->bad ? r->bad : 1;
}

TEST(differential_against_reference)
{
    static const char alphabet[] = "aaaaaaaabbbbcc  ,,,,\"\"\r\n\n\n\0\xC3\xA9\xA9\x80";
    size_t len = 3 * TM_CSV_READ_BUFFER / 2;
    unsigned char *text = malloc(len);
    for (int round = 0; round < 12; round++) {
        for (size_t i = 0; i < len; i++)
            text[i] = (unsigned char)alphabet[rnd(sizeof alphabet - 1)];
        size_t n = len - rnd(4096); /* vary where the file ends */
        FILE *f = file_of((const char *)text, n);
        struct tm_err err = {0};
        tm_csv *c = tm_csv_open(f, &err);
        struct ref r = {.s = text, .n = n, .line = 1};
        r.arena = malloc(n + 1100);
        for (int rec = 0;; rec++) {
            int want = ref_next(&r), got = tm_csv_next(c, &err);
            if (want != got)
                TM_FAIL_("round %d record %d: reference %d, reader %d (%s)", round, rec, want,
                         got, err.msg);
            if (got == 0)
                break;
            ASSERT_EQ(tm_csv_line(c), r.rec_line);
            if (got < 0) {
                ASSERT_EQ(tm_csv_err_field(c), r.bad_field);
                ASSERT(strncmp(err.msg, "line ", 5) == 0);
                continue;
            }
            ASSERT_EQ(tm_csv_nfields(c), r.nf);
            for (int i = 0; i < r.nf; i++) {
                size_t fl;
                const char *s = tm_csv_field(c, i, &fl);
                if (fl != r.flen[i] || memcmp(s, r.fld[i], fl) != 0)
                    TM_FAIL_("round %d record %d field %d differs", round, rec, i);
            }
        }
        free(r.arena);
        tm_csv_close(c);
        fclose(f);
    }
    free(text);
}
