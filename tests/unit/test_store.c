/*
 * tests/unit/test_store.c: store migrations and the journey archive
 * (core/store.h): a text is kept once under its hash and read back whole, an
 * unknown hash is "not found", bad input is refused, and migration 5 upgrades
 * a version-4 store that lacks its table and column.
 */
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

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
