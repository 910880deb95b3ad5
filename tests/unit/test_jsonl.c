/*
 * tests/unit/test_jsonl.c: the JSON-lines reader (core/jsonl.h): lines are
 * numbered from 1 with blank ones counted and skipped, CRLF and a missing
 * final newline are accepted, a NUL does not cut a line short, a line longer
 * than the limit is named and skipped to its end while reading goes on, and
 * a directory is an error, never an empty file.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonl.h"

/* A stream holding the n bytes of `text`, read from the start. */
static FILE *stream(const char *text, size_t n)
{
    FILE *f = tmpfile();
    if (!f || fwrite(text, 1, n, f) != n || fseek(f, 0, SEEK_SET) != 0)
        TM_FAIL_("tmpfile: cannot write %zu bytes", n);
    return f;
}

#define NEXT_LINE(r, want_no, want)                                                           \
    do {                                                                                     \
        char *l_;                                                                            \
        size_t n_;                                                                           \
        long no_;                                                                            \
        struct tm_err e_ = {0};                                                              \
        ASSERT_EQ(tm_jsonl_next((r), &l_, &n_, &no_, &e_), 1);                               \
        ASSERT_EQ(no_, (long)(want_no));                                                     \
        ASSERT_EQ(n_, strlen(want));                                                         \
        ASSERT_STR_EQ(l_, (want));                                                           \
    } while (0)

#define AT_END(r)                                                                            \
    do {                                                                                     \
        char *l_;                                                                            \
        size_t n_;                                                                           \
        long no_;                                                                            \
        struct tm_err e_ = {0};                                                              \
        ASSERT_EQ(tm_jsonl_next((r), &l_, &n_, &no_, &e_), 0);                               \
        ASSERT(l_ == NULL);                                                                  \
    } while (0)

TEST(blank_lines_are_counted_and_skipped)
{
    static const char text[] = "\n{\"a\":1}\n   \n\t \t\n\r\n{\"b\":2}\n\n";
    FILE *f = stream(text, sizeof text - 1);
    tm_jsonl *r;
    struct tm_err e = {0};
    ASSERT_OK(tm_jsonl_open(f, "in.jsonl", 0, &r, &e));
    ASSERT_EQ(tm_jsonl_lineno(r), 0);
    NEXT_LINE(r, 2, "{\"a\":1}");
    NEXT_LINE(r, 6, "{\"b\":2}");
    AT_END(r);
    ASSERT_EQ(tm_jsonl_lineno(r), 7);
    AT_END(r); /* and stays there */
    tm_jsonl_close(r);
    fclose(f);
}

TEST(crlf_and_a_missing_final_newline)
{
    static const char text[] = "{\"a\":1}\r\n {\"b\":2} \r\r\n{\"c\":3}";
    FILE *f = stream(text, sizeof text - 1);
    tm_jsonl *r;
    struct tm_err e = {0};
    ASSERT_OK(tm_jsonl_open(f, "in.jsonl", 0, &r, &e));
    NEXT_LINE(r, 1, "{\"a\":1}");
    NEXT_LINE(r, 2, " {\"b\":2} "); /* spaces are the parser's: only the line's end goes */
    NEXT_LINE(r, 3, "{\"c\":3}");
    AT_END(r);
    tm_jsonl_close(r);
    fclose(f);
}

TEST(a_nul_does_not_cut_a_line_short)
{
    static const char text[] = "{\"a\":\"x\0y\"}\n{\"b\":2}\n";
    FILE *f = stream(text, sizeof text - 1);
    tm_jsonl *r;
    struct tm_err e = {0};
    ASSERT_OK(tm_jsonl_open(f, "in.jsonl", 0, &r, &e));
    char *l;
    size_t n;
    long no;
    ASSERT_EQ(tm_jsonl_next(r, &l, &n, &no, &e), 1);
    ASSERT_EQ(no, 1);
    ASSERT_EQ(n, (size_t)11);
    ASSERT(memcmp(l, "{\"a\":\"x\0y\"}", 11) == 0);
    ASSERT_EQ(l[n], '\0');
    NEXT_LINE(r, 2, "{\"b\":2}");
    AT_END(r);
    tm_jsonl_close(r);
    fclose(f);
}

/* With a limit of 8 bytes: a line of 8 (CRLF or not) is read; one of 9 is
 * named, dropped and wiped, and the lines after it are read. */
TEST(a_line_too_long_is_named_and_skipped)
{
    static const char text[] = "12345678\r\n123456789\n{\"z\":1}\n"
                               "123456789012345678901234567890\n12345678";
    FILE *f = stream(text, sizeof text - 1);
    tm_jsonl *r;
    struct tm_err e = {0};
    ASSERT_OK(tm_jsonl_open(f, "big.jsonl", 8, &r, &e));
    NEXT_LINE(r, 1, "12345678");
    char *l = (char *)"not reset";
    size_t n;
    long no;
    ASSERT_EQ(tm_jsonl_next(r, &l, &n, &no, &e), TM_EINVAL);
    ASSERT(l == NULL);
    ASSERT_EQ(no, 2);
    ASSERT_STR_EQ(e.msg, "big.jsonl:2: line too long (more than 8 bytes)");
    ASSERT_STR_EQ(tm_jsonl_reason(r), "line too long (more than 8 bytes)");
    NEXT_LINE(r, 3, "{\"z\":1}");
    memset(&e, 0, sizeof e);
    ASSERT_EQ(tm_jsonl_next(r, &l, &n, &no, &e), TM_EINVAL);
    ASSERT_EQ(no, 4);
    ASSERT_STR_EQ(e.msg, "big.jsonl:4: line too long (more than 8 bytes)");
    NEXT_LINE(r, 5, "12345678");
    AT_END(r);
    tm_jsonl_close(r);
    fclose(f);
}

/* A line far longer than the limit, with no newline at all: named once, and
 * the reader never held more than the limit. */
TEST(a_huge_line_without_a_newline)
{
    size_t big = 3 * ((size_t)1 << 20);
    char *text = malloc(big);
    ASSERT(text != NULL);
    memset(text, 'x', big);
    FILE *f = stream(text, big);
    free(text);
    tm_jsonl *r;
    struct tm_err e = {0};
    ASSERT_OK(tm_jsonl_open(f, "huge.jsonl", 0, &r, &e));
    char *l;
    size_t n;
    long no;
    ASSERT_EQ(tm_jsonl_next(r, &l, &n, &no, &e), TM_EINVAL);
    ASSERT_EQ(no, 1);
    ASSERT_STR_EQ(e.msg, "huge.jsonl:1: line too long (more than 1048576 bytes)");
    AT_END(r);
    tm_jsonl_close(r);
    fclose(f);
}

TEST(a_directory_cannot_be_read)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/tm-jsonl-test-%d", (int)getpid());
    ASSERT_EQ(mkdir(dir, 0700), 0);
    FILE *f = fopen(dir, "r");
    ASSERT(f != NULL);
    tm_jsonl *r;
    struct tm_err e = {0};
    ASSERT_OK(tm_jsonl_open(f, "dir", 0, &r, &e));
    char *l;
    size_t n;
    long no;
    ASSERT_EQ(tm_jsonl_next(r, &l, &n, &no, &e), TM_EIO);
    ASSERT_STR_EQ(e.msg, "dir: cannot read: Is a directory");
    ASSERT_STR_EQ(tm_jsonl_reason(r), "cannot read: Is a directory");
    ASSERT_EQ(no, 0);
    AT_END(r);
    tm_jsonl_close(r);
    fclose(f);
    rmdir(dir);
}

TEST(an_empty_input)
{
    FILE *f = stream("", 0);
    tm_jsonl *r;
    struct tm_err e = {0};
    ASSERT_OK(tm_jsonl_open(f, "empty.jsonl", 0, &r, &e));
    AT_END(r);
    ASSERT_EQ(tm_jsonl_lineno(r), 0);
    ASSERT_STR_EQ(tm_jsonl_reason(r), "");
    tm_jsonl_close(r);
    tm_jsonl_close(NULL);
    fclose(f);
}
