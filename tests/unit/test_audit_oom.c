/*
 * tests/unit/test_audit_oom.c: an audit export when memory runs out while a
 * record is written.
 *
 * The allocator of our own code (malloc and realloc as called from libtm.a;
 * not SQLite's or the C library's) is wrapped at link time (-Wl,--wrap, see
 * the Makefile) so the Nth allocation fails. The export is run once per
 * allocation it makes, with that one failing: it either succeeds with exactly
 * the reference text, or fails naming the record it could not write, having
 * written the records before it whole and nothing of that record or any
 * after. An export that wrote a record cut short (as one writing straight to
 * the stream would) shows here as text that is not a run of whole reference
 * lines. The stored records, not being written, must still verify.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "store.h"

/* ---- The failing allocator -------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);

static long alloc_count, fail_at; /* fail_at 0: no failure */
static int fired;

static int failing(void)
{
    if (fail_at == 0 || ++alloc_count != fail_at)
        return 0;
    fired = 1;
    return 1;
}

void *__wrap_malloc(size_t n) { return failing() ? NULL : __real_malloc(n); }
void *__wrap_realloc(void *p, size_t n) { return failing() ? NULL : __real_realloc(p, n); }

static void arm(long n)
{
    alloc_count = 0;
    fired = 0;
    fail_at = n;
}

static void disarm(void) { fail_at = 0; }

/* ---- The store -------------------------------------------------------------- */

static const uint8_t KEY[TM_AUDIT_KEY_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6,
                                              7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2};

#define NRECORDS 12

/* Records of growing size, so writing the later ones grows the line buffer
 * several times (from 256 bytes to past 8 KiB), each growth an allocation
 * that can fail in the middle of a record. */
static tm_store *store_with_records(void)
{
    tm_store *s;
    struct tm_err e = {0};
    if (tm_store_open(":memory:", &s, &e) != TM_OK)
        TM_FAIL_("open: %s", e.msg);
    ASSERT_OK(tm_store_begin(s, &e));
    for (int i = 1; i <= NRECORDS; i++) {
        size_t n = (size_t)40 << (i / 2);
        char *details = malloc(n + 64);
        ASSERT(details != NULL);
        int k = snprintf(details, n + 64, "{\"n\":%d,\"text\":\"", i);
        for (size_t j = 0; j < n; j++)
            details[k++] = (char)('a' + (i + (int)j) % 26);
        strcpy(details + k, "\"}");
        char subject[32];
        snprintf(subject, sizeof subject, "debt:D%d \"%d\"", i, i); /* escaped in the export */
        if (tm_audit_append(s, KEY, 1795392000 + i, "import", "debt.created", subject, details, &e) != TM_OK)
            TM_FAIL_("append: %s", e.msg);
        free(details);
    }
    ASSERT_OK(tm_store_commit(s, &e));
    return s;
}

/* The export as text; its status in *rc and its message in e. */
static char *export_text(tm_store *s, int *rc, struct tm_err *e, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    ASSERT(f != NULL);
    *rc = tm_audit_export(s, f, 0, 0, NULL, e);
    ASSERT_EQ(fclose(f), 0);
    return text;
}

static int count_lines(const char *s, size_t n)
{
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

TEST(a_record_that_cannot_be_written_is_not_written_at_all)
{
    tm_store *s = store_with_records();
    struct tm_err e = {0};
    int rc;
    size_t reflen;
    char *ref = export_text(s, &rc, &e, &reflen);
    ASSERT_OK(rc);
    ASSERT_EQ(count_lines(ref, reflen), NRECORDS);

    long runs = 0, failed = 0;
    for (long n = 1;; n++) {
        memset(&e, 0, sizeof e);
        size_t len;
        arm(n);
        char *got = export_text(s, &rc, &e, &len);
        disarm();
        runs++;
        if (!fired) {
            /* Past the last allocation: the whole export, as without failures. */
            ASSERT_OK(rc);
            ASSERT_EQ(len, reflen);
            ASSERT(memcmp(got, ref, len) == 0);
            free(got);
            break;
        }
        if (rc == TM_OK) {
            /* An allocation that could fail without harm: the same text. */
            ASSERT_EQ(len, reflen);
            ASSERT(memcmp(got, ref, len) == 0);
        } else {
            /* Whole records, the ones before the one named, and nothing more. */
            failed++;
            ASSERT_EQ(rc, TM_ENOMEM);
            const char *at = strstr(e.msg, "audit record ");
            if (!at)
                TM_FAIL_("allocation %ld: the error does not name the record: %s", n, e.msg);
            long seq = strtol(at + 13, NULL, 10);
            ASSERT(seq >= 1 && seq <= NRECORDS);
            ASSERT(len <= reflen);
            ASSERT(memcmp(got, ref, len) == 0);
            ASSERT(len == 0 || got[len - 1] == '\n');
            ASSERT_EQ(count_lines(got, len), (int)(seq - 1));
        }
        free(got);
        ASSERT(n < 1000);
    }
    /* The records grew the buffer more than once, and each growth failed once. */
    ASSERT(failed >= 4);
    fprintf(stderr, "audit export: each of its %ld allocations failed once, every failure clean\n",
            runs - 1);

    /* The log itself was only read: it still verifies, record for record. */
    tm_audit_report r;
    memset(&e, 0, sizeof e);
    ASSERT_OK(tm_audit_verify(s, KEY, &r, &e));
    free(ref);
    tm_store_close(s);
}
