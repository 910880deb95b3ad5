/*
 * tests/harness.h: the tiny C test harness used by every unit test.
 *
 * A test file defines tests with TEST(name) { ... } and is linked with
 * tests/run.c, which runs each test in its own forked child with a timeout
 * (a crash or a hang fails that test only) and ends with "N passed, N failed".
 * ASSERT_* macros print both values and the file:line, then fail the test.
 */
#ifndef TM_TESTS_HARNESS_H
#define TM_TESTS_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

typedef void (*tm_test_fn)(void);

struct tm_test_case {
    const char *name;
    tm_test_fn fn;
    const char *file;
};

void tm_test_register(const char *name, tm_test_fn fn, const char *file);

/* Where a test's store goes when the test does not care which database:
 * ":memory:" (SQLite), or, when TM_TEST_DB_URL names a PostgreSQL database
 * (`make test-pg`), a URL to a new, empty schema in it. Each call gives a
 * new store; the text is kept until the next call. */
const char *tm_test_store(void);
/* Ends a test early on PostgreSQL: for a test of what only SQLite lets a
 * row hold (text in an integer column, a NUL inside text). */
#define TM_TEST_SQLITE_ONLY()                                                   \
    do {                                                                        \
        const char *u_ = getenv("TM_TEST_DB_URL");                              \
        if (u_ && *u_)                                                          \
            return;                                                             \
    } while (0)

/* Registers a test at load time (constructor), so no test list is kept by hand. */
#define TEST(name)                                                              \
    static void test_##name(void);                                              \
    __attribute__((constructor)) static void register_##name(void)              \
    {                                                                           \
        tm_test_register(#name, test_##name, __FILE__);                         \
    }                                                                           \
    static void test_##name(void)

#define TM_FAIL_(...)                                                           \
    do {                                                                        \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                         \
        fprintf(stderr, __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                    \
        exit(1);                                                                \
    } while (0)

#define ASSERT(cond)                                                            \
    do {                                                                        \
        if (!(cond)) TM_FAIL_("assertion failed: %s", #cond);                   \
    } while (0)

#define ASSERT_EQ(a, b)                                                         \
    do {                                                                        \
        long long a_ = (long long)(a), b_ = (long long)(b);                     \
        if (a_ != b_) TM_FAIL_("%s == %s failed: %lld != %lld", #a, #b, a_, b_);\
    } while (0)

#define ASSERT_NE(a, b)                                                         \
    do {                                                                        \
        long long a_ = (long long)(a), b_ = (long long)(b);                     \
        if (a_ == b_) TM_FAIL_("%s != %s failed: both %lld", #a, #b, a_);       \
    } while (0)

#define ASSERT_OK(rc)                                                           \
    do {                                                                        \
        long long rc_ = (long long)(rc);                                        \
        if (rc_ != 0) TM_FAIL_("%s returned %lld, expected 0", #rc, rc_);       \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                     \
    do {                                                                        \
        const char *a_ = (a), *b_ = (b);                                        \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                    \
            TM_FAIL_("%s == %s failed: \"%s\" != \"%s\"", #a, #b,               \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");                   \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                            \
    do {                                                                        \
        const char *h_ = (hay), *n_ = (needle);                                 \
        if (h_ == NULL || strstr(h_, n_) == NULL)                               \
            TM_FAIL_("%s does not contain \"%s\": \"%s\"", #hay, n_,            \
                     h_ ? h_ : "(null)");                                       \
    } while (0)

#endif
