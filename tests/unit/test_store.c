/*
 * tests/unit/test_store.c: store migrations and the journey archive
 * (core/store.h): a text is kept once under its hash and read back whole, an
 * unknown hash is "not found", bad input is refused, and migration 5 upgrades
 * a version-4 store that lacks its table and column; events and payment attempts keep their
 * content hash and origin (migration 9), the velocity window reads (after, until], and a late
 * event never moves a debt's last event back.
 */
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_int.h"

static const char HASH[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void sql(tm_store *s, const char *q)
{
    char *m = NULL;
    if (sqlite3_exec(tm_store_sqlite(s), q, NULL, NULL, &m) != SQLITE_OK)
        TM_FAIL_("%s: %s", q, m);
}

TEST(journey_text_kept_once_and_read_back)
{
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(":memory:", &s, &e));
    ASSERT_EQ(tm_store_schema_version(s), TM_STORE_SCHEMA_VERSION);
    tm_journey_text t = {.hash = HASH, .journey = "early", .version = 2,
                         .path = "strategies/early.lua", .text = "return 1\n", .len = 9};
    int is_new = 0;
    ASSERT_OK(tm_store_journey_archive(s, &t, 100, &is_new, &e));
    ASSERT_EQ(is_new, 1);
    /* The hash names the text: a second write changes nothing. */
    tm_journey_text again = t;
    again.path = "strategies/moved.lua";
    ASSERT_OK(tm_store_journey_archive(s, &again, 200, &is_new, &e));
    ASSERT_EQ(is_new, 0);

    tm_journey_text out;
    int found = 0;
    ASSERT_OK(tm_store_journey_text(s, HASH, &out, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(out.text, "return 1\n");
    ASSERT_EQ(out.len, 9);
    ASSERT_STR_EQ(out.journey, "early");
    ASSERT_STR_EQ(out.path, "strategies/early.lua");
    ASSERT_EQ(out.version, 2);
    free((void *)out.text);

    ASSERT_OK(tm_store_journey_text(s, "ffff", &out, &found, &e));
    ASSERT_EQ(found, 0);
    ASSERT(out.text == NULL);

    tm_journey_text bad = t;
    bad.hash = "abc";
    ASSERT_EQ(tm_store_journey_archive(s, &bad, 100, NULL, &e), TM_EINVAL);
    bad = t;
    bad.journey = "";
    ASSERT_EQ(tm_store_journey_archive(s, &bad, 100, NULL, &e), TM_EINVAL);
    tm_store_close(s);
}

/* A store made before migration 5 (no journey_texts, no debts.journey_hash)
 * is upgraded when opened, and a store that already has the column (an early
 * build) is upgraded too. */
TEST(migration_5_upgrades_a_version_4_store)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/tm-store-test-%d.db", (int)getpid());
    unlink(path);
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(path, &s, &e));
    sql(s, "DROP TABLE journey_texts; ALTER TABLE debts DROP COLUMN journey_hash; "
           "PRAGMA user_version = 4;");
    tm_store_close(s);
    ASSERT_OK(tm_store_open(path, &s, &e));
    ASSERT_EQ(tm_store_schema_version(s), TM_STORE_SCHEMA_VERSION);
    sql(s, "SELECT journey_hash FROM debts; SELECT hash FROM journey_texts;");
    sql(s, "DROP TABLE journey_texts; PRAGMA user_version = 4;");
    tm_store_close(s);
    ASSERT_OK(tm_store_open(path, &s, &e));
    ASSERT_EQ(tm_store_schema_version(s), TM_STORE_SCHEMA_VERSION);
    sql(s, "SELECT journey_hash FROM debts; SELECT hash FROM journey_texts;");
    tm_store_close(s);
    char wal[160];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
}

static void one_debt(tm_store *s)
{
    sql(s, "INSERT INTO consumers (id, external_id, state, created_at, updated_at) "
           "VALUES (1, 'C1', 'TX', 0, 0);"
           "INSERT INTO debts (id, debt_id, consumer_id, balance_minor, placed_balance_minor, "
           "currency, created_at, updated_at) VALUES (1, 'D1', 1, 1000, 1000, 'USD', 0, 0);");
}

static tm_hash16 H(uint8_t fill)
{
    tm_hash16 h;
    memset(h.b, fill, sizeof h.b);
    h.set = 1;
    return h;
}

/* An event and a card payment attempt remember what they were and where they came from, so a
 * key used again for something else can be told from a duplicate; rows without (stored before
 * schema 9) read as unknown. A late event never moves the debt's last event back. */
TEST(events_and_attempts_remember_their_content)
{
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(":memory:", &s, &e));
    one_debt(s);
    tm_hash16 h = H(7);
    ASSERT_OK(tm_store_event_add(s, "e1", "payment", 1, 200, "{}", "applied", &h, "f.jsonl:3", 5, &e));
    ASSERT_OK(tm_store_event_add(s, "e2", "payment", 1, 100, "{}", "out_of_order", NULL, NULL, 5, &e));
    tm_event_ref r;
    int found = 0;
    ASSERT_OK(tm_store_event_find(s, "e1", &r, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(r.status, "applied");
    ASSERT_EQ(r.content.set, 1);
    ASSERT(memcmp(r.content.b, h.b, sizeof h.b) == 0);
    ASSERT_STR_EQ(r.origin, "f.jsonl:3");
    ASSERT_EQ(r.at, 200);
    ASSERT_OK(tm_store_event_find(s, "e2", &r, &found, &e));
    ASSERT_EQ(r.content.set, 0);
    ASSERT_STR_EQ(r.origin, "");
    ASSERT_OK(tm_store_event_set_applied(s, "e2", "{\"type\":\"payment\"}", 9, &e));
    ASSERT_OK(tm_store_event_find(s, "e2", &r, &found, &e));
    ASSERT_STR_EQ(r.status, "applied");
    ASSERT_OK(tm_store_event_find(s, "nope", &r, &found, &e));
    ASSERT_EQ(found, 0);

    tm_debt_rec d;
    ASSERT_OK(tm_store_debt_touch(s, 1, 200, 5, &e));
    ASSERT_OK(tm_store_debt_touch(s, 1, 100, 6, &e));
    ASSERT_OK(tm_store_debt_find(s, "D1", &d, &found, &e));
    ASSERT_EQ(d.last_event_at, 200);

    tm_hash16 c1 = H(1), c2 = H(2);
    tm_pay_attempt a = {.key = "k1", .debt = 1, .token = "tok_x", .amount = 500, .at = 100,
                        .outcome = "timeout", .content = c1, .origin = "p.jsonl:1"};
    memcpy(a.currency, "USD", 4);
    ASSERT_OK(tm_store_pay_attempt_put(s, &a, &e));
    /* Writing the key again (the retry's outcome) keeps what the request was. */
    a.outcome = "approved";
    a.content = c2;
    a.origin = "p.jsonl:9";
    ASSERT_OK(tm_store_pay_attempt_put(s, &a, &e));
    tm_pay_attempt got;
    ASSERT_OK(tm_store_pay_attempt_get(s, "k1", &got, &found, &e));
    ASSERT_STR_EQ(got.outcome, "approved");
    ASSERT(memcmp(got.content.b, c1.b, sizeof c1.b) == 0);
    ASSERT_STR_EQ(got.origin, "p.jsonl:1");
    tm_store_close(s);
}

static int count_attempt(void *ud, const tm_pay_attempt *a)
{
    int64_t *sum = ud;
    *sum = *sum * 1000 + a->at;
    return TM_OK;
}

/* The velocity window before a request: attempts in (after, until], oldest first. */
TEST(pay_attempts_between_bounds)
{
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(":memory:", &s, &e));
    one_debt(s);
    const int64_t ats[] = {300, 100, 200, 400};
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        tm_pay_attempt a = {.key = key, .debt = 1, .token = "tok_x", .amount = 1, .at = ats[i],
                            .outcome = "approved"};
        memcpy(a.currency, "USD", 4);
        ASSERT_OK(tm_store_pay_attempt_put(s, &a, &e));
    }
    int64_t seen = 0;
    ASSERT_OK(tm_store_pay_attempts_between(s, 100, 300, count_attempt, &seen, &e));
    ASSERT_EQ(seen, 200300);
    seen = 0;
    ASSERT_OK(tm_store_pay_attempts_between(s, 400, 1000, count_attempt, &seen, &e));
    ASSERT_EQ(seen, 0);
    tm_store_close(s);
}

/* Migration 8 adds its columns where missing, so it runs again on a store that has them. */
TEST(migration_8_adds_content_columns)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/tm-store-test8-%d.db", (int)getpid());
    unlink(path);
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(path, &s, &e));
    sql(s, "ALTER TABLE events DROP COLUMN content_hash; ALTER TABLE events DROP COLUMN origin; "
           "ALTER TABLE payment_attempts DROP COLUMN content_hash; "
           "ALTER TABLE payment_attempts DROP COLUMN origin; PRAGMA user_version = 8;");
    tm_store_close(s);
    ASSERT_OK(tm_store_open(path, &s, &e));
    ASSERT_EQ(tm_store_schema_version(s), TM_STORE_SCHEMA_VERSION);
    sql(s, "SELECT content_hash, origin FROM events; SELECT content_hash, origin FROM payment_attempts;");
    sql(s, "PRAGMA user_version = 8;");
    tm_store_close(s);
    ASSERT_OK(tm_store_open(path, &s, &e));
    ASSERT_EQ(tm_store_schema_version(s), TM_STORE_SCHEMA_VERSION);
    tm_store_close(s);
    char wal[160];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
}
