/*
 * tests/unit/test_portfolio_oom.c: imports and events when memory runs out.
 *
 * The allocator of our own code (malloc, calloc, realloc, strdup, strndup as
 * called from libtm.a and this file; not SQLite's, OpenSSL's or jansson's)
 * is wrapped at link time (-Wl,--wrap, see the Makefile) so the Nth
 * allocation fails. An import and an event file are run once per allocation
 * they make, with that one failing: each run either fails with an error and
 * leaves the store as it was, or succeeds with exactly what a run without
 * failures stores. A record cut short for want of memory and then encrypted
 * and stored (a record buffer that drops text silently, as portfolio.c once
 * had), or a duplicate debt let through
 * because the table of ids seen could not grow, shows here as a success
 * that differs from the reference.
 */
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "keys.h"
#include "portfolio.h"
#include "store.h"
#include "store_int.h"

/* ---- The failing allocator -------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

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
void *__wrap_calloc(size_t n, size_t size) { return failing() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return failing() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return failing() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return failing() ? NULL : __real_strndup(s, n); }

static void arm(long n)
{
    alloc_count = 0;
    fired = 0;
    fail_at = n;
}

static void disarm(void) { fail_at = 0; }

/* ---- Stores and what they hold ---------------------------------------------- */

static char dir[64];
static tm_keys *keys;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/tm-oom-%d", (int)getpid());
    char cmd[256], kpath[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    ASSERT_EQ(system(cmd), 0);
    snprintf(kpath, sizeof kpath, "%s/k.key", dir);
    struct tm_err e = {0};
    if (tm_keys_create(kpath, &keys, &e) != TM_OK)
        TM_FAIL_("keys: %s", e.msg);
}

static void teardown(void)
{
    tm_keys_free(keys);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

static tm_store *open_store(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tm_store *s;
    struct tm_err e = {0};
    if (tm_store_open(path, &s, &e) != TM_OK)
        TM_FAIL_("open %s: %s", path, e.msg);
    return s;
}

static void copy_store(const char *from, const char *to)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd %s && rm -f %s %s-wal %s-shm && cp %s %s", dir, to, to, to, from, to);
    ASSERT_EQ(system(cmd), 0);
}

static void decrypted(sqlite3_stmt *st, int col, const char *aad, FILE *out)
{
    const void *b = sqlite3_column_blob(st, col);
    if (!b) {
        fputs("NULL", out);
        return;
    }
    char *plain = NULL;
    size_t n = 0;
    struct tm_err e = {0};
    if (tm_keys_decrypt(keys, b, (size_t)sqlite3_column_bytes(st, col), aad, &plain, &n, &e) != TM_OK)
        TM_FAIL_("decrypt %s: %s", aad, e.msg);
    fwrite(plain, 1, n, out);
    free(plain);
}

/* Everything the import and events store, personal data decrypted; and the
 * audit chain verified. */
static char *contents(tm_store *s)
{
    sqlite3 *db = tm_store_sqlite(s);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ASSERT(out != NULL);
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT external_id, state, flags, consent, optout, hex(pii_hash), "
                                 "hex(phone_hash), pii FROM consumers ORDER BY external_id",
                                 -1, &st, NULL),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char aad[200];
        snprintf(aad, sizeof aad, "consumer:%s", (const char *)sqlite3_column_text(st, 0));
        for (int i = 0; i < 7; i++)
            fprintf(out, "%s|", sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "");
        decrypted(st, 7, aad, out);
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT d.debt_id, c.external_id, balance_minor, placed_balance_minor, "
                                 "dispute, days_past_due, attributes FROM debts d JOIN consumers c ON "
                                 "c.id = d.consumer_id ORDER BY d.debt_id",
                                 -1, &st, NULL),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char aad[200];
        snprintf(aad, sizeof aad, "debt:%s", (const char *)sqlite3_column_text(st, 0));
        for (int i = 0; i < 6; i++)
            fprintf(out, "%s|", sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "");
        decrypted(st, 6, aad, out);
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT key, type, status, payload FROM events ORDER BY key; ", -1, &st,
                                 NULL),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(out, "%s|%s|%s|%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT action, subject, details FROM audit ORDER BY seq", -1, &st, NULL),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(out, "%s|%s|%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    fclose(out);
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    tm_audit_report rep;
    struct tm_err e = {0};
    if (tm_audit_verify(s, akey, &rep, &e) != TM_OK)
        TM_FAIL_("audit chain: %s %s", rep.problem, e.msg);
    return text;
}

/* A field of `n` characters, to make the record outgrow the first buffer. */
static void longtext(char *out, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(c + (char)(i % 26));
    out[n] = '\0';
}

typedef int (*op_fn)(tm_store *s, FILE *in, struct tm_err *err);

static int op_import(tm_store *s, FILE *in, struct tm_err *err)
{
    tm_import_opts o = {.name = "a.csv", .now = 1795392000};
    tm_import_stats st;
    return tm_import_accounts(s, keys, in, &o, &st, err);
}

static int op_events(tm_store *s, FILE *in, struct tm_err *err)
{
    tm_import_opts o = {.name = "e.jsonl", .now = 1795392000};
    tm_event_stats st;
    return tm_apply_events(s, keys, in, &o, &st, err);
}

/* Runs `op` on `input` over copies of `base`, once per allocation it makes,
 * with that allocation failing. */
static void fail_each_allocation(const char *base, op_fn op, const char *input, const char *label)
{
    struct tm_err e = {0};
    copy_store(base, "ref.db");
    tm_store *s = open_store("ref.db");
    char *before = contents(s);
    FILE *in = fmemopen((void *)input, strlen(input), "rb");
    if (op(s, in, &e) != TM_OK)
        TM_FAIL_("%s without failures: %s", label, e.msg);
    fclose(in);
    char *ref = contents(s);
    tm_store_close(s);
    ASSERT(strcmp(before, ref) != 0);
    long failures = 0;
    for (long n = 1;; n++) {
        copy_store(base, "w.db");
        s = open_store("w.db");
        in = fmemopen((void *)input, strlen(input), "rb");
        memset(&e, 0, sizeof e);
        arm(n);
        int rc = op(s, in, &e);
        disarm();
        fclose(in);
        char *got = contents(s);
        tm_store_close(s);
        if (!fired) {
            ASSERT_EQ(rc, TM_OK);
            ASSERT_STR_EQ(got, ref);
            free(got);
            break;
        }
        failures++;
        if (rc == TM_OK && strcmp(got, ref) != 0)
            TM_FAIL_("%s, allocation %ld failing: reported success, but stored something else:\n%s\n"
                     "wanted:\n%s",
                     label, n, got, ref);
        if (rc != TM_OK && strcmp(got, before) != 0)
            TM_FAIL_("%s, allocation %ld failing (%s): the store is half written:\n%s", label, n, e.msg, got);
        free(got);
    }
    ASSERT(failures >= 3);
    fprintf(stderr, "%s: each of its %ld allocations failed once, every failure clean\n", label, failures);
    free(before);
    free(ref);
}

TEST(import_fails_cleanly_when_any_allocation_fails)
{
    setup();
    tm_store *s = open_store("empty.db");
    tm_store_close(s);
    /* Personal data and extra columns longer than the first buffer (512
     * bytes), so building them must grow it; D1 twice (the second is
     * rejected, whatever the memory). */
    char name[701], note[901], csv[4096];
    longtext(name, 700, 'a');
    longtext(note, 900, 'A');
    snprintf(csv, sizeof csv,
             "external_id,debt_id,first_name,last_name,state,balance,currency,phone,note\n"
             "C1,D1,%s,Lee,MA,100.00,USD,+16175550101,%s\n"
             "C2,D2,Bob,Ray,TX,200.00,USD,+12145550102,short\n"
             "C3,D1,Cy,Fox,PA,300.00,USD,+12155550103,dup\n",
             name, note);
    fail_each_allocation("empty.db", op_import, csv, "import");
    teardown();
}

TEST(events_fail_cleanly_when_any_allocation_fails)
{
    setup();
    char name[701], csv[2048];
    longtext(name, 700, 'a');
    snprintf(csv, sizeof csv,
             "external_id,debt_id,first_name,last_name,state,balance,currency\n"
             "C1,D1,%s,Lee,MA,100.00,USD\n"
             "C2,D2,Bob,Ray,TX,200.00,USD\n",
             name);
    tm_store *s = open_store("base.db");
    FILE *in = fmemopen(csv, strlen(csv), "rb");
    struct tm_err e = {0};
    if (op_import(s, in, &e) != TM_OK)
        TM_FAIL_("import: %s", e.msg);
    fclose(in);
    tm_store_close(s);
    /* An address change on the consumer with the long name: the personal
     * data is decrypted, edited and encrypted again, and outgrows the first
     * buffer. */
    char street[201], events[2048];
    longtext(street, 200, 'a');
    snprintf(events, sizeof events,
             "{\"key\":\"a1\",\"type\":\"address_change\",\"debt_id\":\"D1\",\"at\":\"2026-11-20T10:00:00Z\","
             "\"address1\":\"%s\",\"city\":\"Boston\",\"state\":\"MA\",\"zip\":\"02101\"}\n"
             "{\"key\":\"p1\",\"type\":\"payment\",\"debt_id\":\"D2\",\"at\":\"2026-11-20T10:00:00Z\","
             "\"amount\":\"50.00\"}\n"
             "{\"key\":\"c1\",\"type\":\"cease\",\"debt_id\":\"D1\",\"at\":\"2026-11-21T10:00:00Z\"}\n",
             street);
    fail_each_allocation("base.db", op_events, events, "events");
    teardown();
}
