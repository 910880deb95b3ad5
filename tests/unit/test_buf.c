/*
 * tests/unit/test_buf.c: the growable buffer (core/buf.h) and the JSON
 * writer on it when memory runs out.
 *
 * The allocator of our own code is wrapped at link time (-Wl,--wrap, see the
 * Makefile) so the Nth allocation fails: a failed growth must be kept (every
 * later append a no-op, even once memory is back), reported once at the end,
 * and a failed buffer must never hand over its cut-short text. free is
 * wrapped too, to see that a TM_BUF_SECRET buffer wipes the blocks it gives
 * back.
 */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jw.h"

/* ---- The failing allocator -------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

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

/* A block watched as it is freed: its first `watch_len` bytes are copied out. */
static void *watch;
static size_t watch_len;
static unsigned char seen[1 << 16];
static int seen_freed;

void __wrap_free(void *p)
{
    if (p && p == watch) {
        memcpy(seen, p, watch_len);
        seen_freed = 1;
    }
    __real_free(p);
}

static void arm(long n)
{
    alloc_count = 0;
    fired = 0;
    fail_at = n;
}

static void disarm(void) { fail_at = 0; }

/* ---- Growth ----------------------------------------------------------------- */

TEST(appends_grow_and_stay_terminated)
{
    tm_buf b = TM_BUF_INIT;
    ASSERT(b.data == NULL);
    char want[5000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        char piece[8];
        int k = snprintf(piece, sizeof piece, "%d,", i % 97);
        tm_buf_put(&b, piece, (size_t)k);
        memcpy(want + n, piece, (size_t)k);
        n += (size_t)k;
        ASSERT_EQ(b.len, n);
        ASSERT_EQ(b.data[b.len], 0);
    }
    want[n] = '\0';
    tm_buf_putc(&b, 'x');
    tm_buf_puts(&b, "yz");
    tm_buf_put(&b, NULL, 0);
    strcat(want, "xyz");
    ASSERT_STR_EQ(b.data, want);
    ASSERT_EQ(tm_buf_failed(&b), 0);
    ASSERT_OK(tm_buf_done(&b, "a list", NULL));
    tm_buf_free(&b);
    ASSERT(b.data == NULL);
    ASSERT_EQ(b.len, 0);
}

TEST(printf_formats_whole_texts_across_growth)
{
    tm_buf b = TM_BUF_INIT;
    tm_buf_printf(&b, "%s", "");
    ASSERT(b.data != NULL);
    ASSERT_STR_EQ(b.data, "");
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 5; i++)
        tm_buf_printf(&b, "[%d:%s]", i, big);
    ASSERT_EQ(b.len, 5 * (sizeof big - 1 + 4));
    ASSERT_EQ(b.data[0], '[');
    ASSERT_EQ(b.data[b.len - 1], ']');
    ASSERT_EQ(strlen(b.data), b.len);
    tm_buf_free(&b);
}

TEST(room_and_advance)
{
    tm_buf b = TM_BUF_INIT;
    tm_buf_puts(&b, "ab");
    char *p = tm_buf_room(&b, 10000);
    ASSERT(p == b.data + 2);
    memcpy(p, "cdef", 4);
    tm_buf_advance(&b, 4);
    ASSERT_STR_EQ(b.data, "abcdef");
    tm_buf_truncate(&b, 3);
    ASSERT_STR_EQ(b.data, "abc");
    tm_buf_truncate(&b, 10); /* past the end: nothing */
    ASSERT_STR_EQ(b.data, "abc");
    tm_buf_free(&b);
}

TEST(take_hands_the_text_over)
{
    tm_buf b = TM_BUF_INIT;
    size_t n = 99;
    char *s = tm_buf_take(&b, &n);
    ASSERT_STR_EQ(s, "");
    ASSERT_EQ(n, 0);
    free(s);
    tm_buf_limit(&b, 10);
    tm_buf_puts(&b, "hello");
    s = tm_buf_take(&b, &n);
    ASSERT_STR_EQ(s, "hello");
    ASSERT_EQ(n, 5);
    free(s);
    /* Empty again, with its limit. */
    ASSERT(b.data == NULL);
    ASSERT_EQ(b.limit, 10);
    tm_buf_puts(&b, "0123456789!");
    ASSERT_EQ(tm_buf_failed(&b), TM_ELIMIT_MEM);
    ASSERT(tm_buf_take(&b, &n) == NULL);
    ASSERT_EQ(n, 0);
    ASSERT(b.data == NULL);
}

/* ---- Limits and fixed arrays ------------------------------------------------ */

TEST(limit_is_exact_and_sticky)
{
    tm_buf b = TM_BUF_INIT;
    tm_buf_limit(&b, 1000);
    for (int i = 0; i < 1000; i++)
        tm_buf_putc(&b, 'a'); /* the inline path too must stop at the limit */
    ASSERT_EQ(b.len, 1000);
    ASSERT_EQ(tm_buf_failed(&b), 0);
    tm_buf_putc(&b, 'b');
    ASSERT_EQ(tm_buf_failed(&b), TM_ELIMIT_MEM);
    ASSERT_EQ(b.len, 1000);
    tm_buf_limit(&b, 0); /* even with room again, nothing more is taken */
    tm_buf_puts(&b, "more");
    tm_buf_printf(&b, "%d", 5);
    ASSERT(tm_buf_room(&b, 1) == NULL);
    ASSERT_EQ(b.len, 1000);
    struct tm_err e = {0};
    tm_buf_limit(&b, 1000);
    ASSERT_EQ(tm_buf_done(&b, "the results", &e), TM_ELIMIT_MEM);
    ASSERT_STR_EQ(e.msg, "the results is larger than 1000 bytes");
    tm_buf_reset(&b);
    ASSERT_EQ(tm_buf_failed(&b), 0);
    ASSERT_EQ(b.len, 0);
    tm_buf_puts(&b, "ok");
    ASSERT_STR_EQ(b.data, "ok");
    tm_buf_free(&b);
}

TEST(fixed_array_never_grows)
{
    char mem[8];
    tm_buf b;
    tm_buf_fixed(&b, mem, sizeof mem);
    tm_buf_puts(&b, "1234567");
    ASSERT_EQ(tm_buf_failed(&b), 0);
    ASSERT_STR_EQ(mem, "1234567");
    tm_buf_putc(&b, '8');
    ASSERT_EQ(tm_buf_failed(&b), TM_ELIMIT_MEM);
    ASSERT_STR_EQ(mem, "1234567");
    struct tm_err e = {0};
    ASSERT_EQ(tm_buf_done(&b, "a decision", &e), TM_ELIMIT_MEM);
    ASSERT_STR_EQ(e.msg, "a decision is larger than 7 bytes");
    ASSERT(tm_buf_take(&b, NULL) == NULL);
    tm_buf_free(&b); /* empties it; the array is the caller's */
    ASSERT(b.data == mem);
    tm_buf_printf(&b, "%s", "abcdefghij");
    ASSERT_EQ(tm_buf_failed(&b), TM_ELIMIT_MEM);
    ASSERT_STR_EQ(mem, ""); /* the cut-short printf is taken back */
}

TEST(read_takes_a_whole_stream)
{
    FILE *f = tmpfile();
    ASSERT(f != NULL);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "%05d\n", i);
    long size = ftell(f);
    rewind(f);
    tm_buf b = TM_BUF_INIT;
    tm_buf_puts(&b, ">");
    ASSERT_OK(tm_buf_read(&b, f));
    ASSERT_EQ(b.len, size + 1);
    ASSERT(memcmp(b.data + b.len - 6, "19999\n", 6) == 0);
    tm_buf_free(&b);
    /* Exactly at the limit is fine; a byte over is not. */
    rewind(f);
    tm_buf_limit(&b, (size_t)size);
    ASSERT_OK(tm_buf_read(&b, f));
    ASSERT_EQ(b.len, size);
    tm_buf_free(&b);
    rewind(f);
    tm_buf_limit(&b, (size_t)size - 1);
    ASSERT_EQ(tm_buf_read(&b, f), TM_ELIMIT_MEM);
    tm_buf_free(&b);
    fclose(f);
}

/* ---- Out of memory ---------------------------------------------------------- */

TEST(failed_growth_is_sticky_and_reported_once)
{
    tm_buf b = TM_BUF_INIT;
    tm_buf_puts(&b, "kept");
    arm(1); /* the next growth fails */
    char big[1000];
    memset(big, 'x', sizeof big);
    tm_buf_put(&b, big, sizeof big);
    ASSERT(fired);
    disarm();
    ASSERT_EQ(tm_buf_failed(&b), TM_ENOMEM);
    /* Memory is back, but nothing more is taken: the text would have a hole. */
    tm_buf_put(&b, big, sizeof big);
    tm_buf_puts(&b, "tail");
    tm_buf_putc(&b, '!');
    tm_buf_printf(&b, "%d", 42);
    ASSERT(tm_buf_room(&b, 10) == NULL);
    ASSERT_EQ(tm_buf_read(&b, stdin), TM_ENOMEM);
    ASSERT_STR_EQ(b.data, "kept");
    struct tm_err e = {0};
    ASSERT_EQ(tm_buf_done(&b, "a personal-data record", &e), TM_ENOMEM);
    ASSERT_STR_EQ(e.msg, "out of memory writing a personal-data record");
    ASSERT(tm_buf_take(&b, NULL) == NULL);
    ASSERT(b.data == NULL);
}

TEST(first_allocation_failing)
{
    tm_buf b = TM_BUF_INIT;
    arm(1);
    tm_buf_printf(&b, "%s", "x");
    disarm();
    ASSERT_EQ(tm_buf_failed(&b), TM_ENOMEM);
    ASSERT(b.data == NULL);
    tm_buf_puts(&b, "y");
    ASSERT(b.data == NULL);
    ASSERT(tm_buf_take(&b, NULL) == NULL);
    /* take itself needs a block for an empty text */
    tm_buf_reset(&b);
    arm(1);
    ASSERT(tm_buf_take(&b, NULL) == NULL);
    disarm();
}

/* A record as the importers write it: several members, escaped strings, numbers, a nested
 * array. */
static void write_record(tm_buf *b)
{
    tm_jw w;
    tm_jw_init(&w, b, 0);
    tm_jw_obj(&w);
    tm_jw_key(&w, "first_name");
    tm_jw_str(&w, "Zo\xc3\xab \"Q\"");
    tm_jw_key(&w, "address1");
    char addr[700];
    memset(addr, 'a', sizeof addr - 1);
    addr[sizeof addr - 1] = '\0';
    tm_jw_str(&w, addr);
    tm_jw_key(&w, "balance");
    tm_jw_money(&w, 123456, 2);
    tm_jw_key(&w, "tags");
    tm_jw_arr(&w);
    for (int i = 0; i < 40; i++) {
        char t[16];
        snprintf(t, sizeof t, "tag\t%d", i);
        tm_jw_str(&w, t);
    }
    tm_jw_arr_end(&w);
    tm_jw_key(&w, "seq");
    tm_jw_int(&w, INT64_MIN);
    tm_jw_obj_end(&w);
}

TEST(writer_out_of_memory_at_every_allocation)
{
    tm_buf ref = TM_BUF_INIT;
    write_record(&ref);
    ASSERT_OK(tm_buf_done(&ref, "a record", NULL));
    ASSERT_EQ(ref.data[0], '{');
    ASSERT_EQ(ref.data[ref.len - 1], '}');
    int failures = 0;
    for (long n = 1;; n++) {
        tm_buf b = TM_BUF_INIT;
        tm_buf_puts(&b, "[prefix]");
        arm(n);
        write_record(&b);
        char *text = tm_buf_take(&b, NULL);
        int hit = fired;
        disarm();
        if (!hit) {
            ASSERT(text != NULL);
            ASSERT_STR_EQ(text + 8, ref.data);
            free(text);
            break;
        }
        /* A failure anywhere gives no text at all, never a cut-short one. */
        ASSERT(text == NULL);
        failures++;
    }
    ASSERT(failures >= 2); /* the record grew the buffer more than once */
    tm_buf_free(&ref);
}

/* ---- Secrets ---------------------------------------------------------------- */

TEST(secret_buffer_wipes_what_it_gives_back)
{
    tm_buf b;
    tm_buf_init(&b, TM_BUF_SECRET);
    tm_buf_puts(&b, "4111111111111111");
    /* Grows: the old block must be wiped before it is freed. */
    watch = b.data;
    watch_len = b.cap;
    seen_freed = 0;
    char pad[1000];
    memset(pad, 'p', sizeof pad);
    tm_buf_put(&b, pad, sizeof pad);
    ASSERT(seen_freed);
    for (size_t i = 0; i < watch_len; i++)
        ASSERT_EQ(seen[i], 0);
    ASSERT(memcmp(b.data, "4111111111111111ppp", 19) == 0);
    /* And when it is freed. */
    watch = b.data;
    watch_len = b.cap;
    seen_freed = 0;
    tm_buf_free(&b);
    ASSERT(seen_freed);
    for (size_t i = 0; i < watch_len; i++)
        ASSERT_EQ(seen[i], 0);
    ASSERT_EQ(b.flags, TM_BUF_SECRET);
    watch = NULL;
}
