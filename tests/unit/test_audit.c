/*
 * tests/unit/test_audit.c: the hash-chained audit log: an intact chain
 * verifies, and a changed, removed, inserted or reordered record is named;
 * each record's hash keeps its documented layout.
 */
#include "harness.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit.h"
#include "crypto.h"
#include "store.h"
#include "store_int.h"

static const uint8_t KEY[TM_AUDIT_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                              17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static tm_store *fresh(int n)
{
    tm_store *s;
    struct tm_err e = {0};
    if (tm_store_open(tm_test_store(), &s, &e) != TM_OK)
        TM_FAIL_("open: %s", e.msg);
    ASSERT_EQ(tm_store_schema_version(s), TM_STORE_SCHEMA_VERSION);
    ASSERT_OK(tm_store_begin(s, &e));
    for (int i = 1; i <= n; i++) {
        char subject[32], details[64];
        snprintf(subject, sizeof subject, "debt:D%d", i % 7);
        snprintf(details, sizeof details, "{\"n\":%d,\"name\":\"J*** D***\"}", i);
        if (tm_audit_append(s, KEY, 1795392000 + i, "import", "debt.created", subject, details, &e) != TM_OK)
            TM_FAIL_("append: %s", e.msg);
    }
    ASSERT_OK(tm_store_commit(s, &e));
    return s;
}

static void sql(tm_store *s, const char *q)
{
    struct tm_err e = {0};
    if (tm__store_exec(s, q, &e) != TM_OK)
        TM_FAIL_("%s: %s", q, e.msg);
}

static tm_audit_report verify(tm_store *s, int want_rc)
{
    tm_audit_report r;
    struct tm_err e = {0};
    int rc = tm_audit_verify(s, KEY, &r, &e);
    if (rc != want_rc)
        TM_FAIL_("verify returned %d (want %d): %s %s", rc, want_rc, r.problem, e.msg);
    return r;
}

TEST(intact_chain_verifies)
{
    tm_store *s = fresh(100);
    tm_audit_report r = verify(s, TM_OK);
    ASSERT_EQ(r.records, 100);
    ASSERT_EQ(r.bad_seq, 0);
    tm_store_close(s);
}

TEST(empty_chain_verifies)
{
    tm_store *s = fresh(0);
    verify(s, TM_OK);
    tm_store_close(s);
}

TEST(changed_record_is_named)
{
    tm_store *s = fresh(100);
    sql(s, "UPDATE audit SET details = '{\"n\":50,\"name\":\"X\"}' WHERE seq = 50");
    tm_audit_report r = verify(s, TM_ECRYPTO);
    ASSERT_EQ(r.bad_seq, 50);
    ASSERT_CONTAINS(r.problem, "record 50 was changed");
    tm_store_close(s);
}

TEST(changed_time_or_actor_is_named)
{
    tm_store *s = fresh(20);
    sql(s, "UPDATE audit SET at = at + 1 WHERE seq = 7");
    ASSERT_EQ(verify(s, TM_ECRYPTO).bad_seq, 7);
    tm_store_close(s);
    s = fresh(20);
    sql(s, "UPDATE audit SET actor = 'someone' WHERE seq = 3");
    ASSERT_EQ(verify(s, TM_ECRYPTO).bad_seq, 3);
    tm_store_close(s);
}

TEST(removed_record_is_named)
{
    tm_store *s = fresh(100);
    sql(s, "DELETE FROM audit WHERE seq = 30");
    tm_audit_report r = verify(s, TM_ECRYPTO);
    ASSERT_EQ(r.bad_seq, 30);
    ASSERT_CONTAINS(r.problem, "removed");
    tm_store_close(s);
}

TEST(records_cut_from_the_end_are_named)
{
    tm_store *s = fresh(100);
    sql(s, "DELETE FROM audit WHERE seq > 97");
    tm_audit_report r = verify(s, TM_ECRYPTO);
    ASSERT_EQ(r.bad_seq, 98);
    ASSERT_CONTAINS(r.problem, "removed from the end");
    tm_store_close(s);
}

TEST(reordered_records_are_named)
{
    tm_store *s = fresh(100);
    /* Swap the contents of records 40 and 41 (seq numbers stay in place). */
    sql(s, "UPDATE audit SET seq = -40 WHERE seq = 40; UPDATE audit SET seq = 40 WHERE seq = 41; "
           "UPDATE audit SET seq = 41 WHERE seq = -40");
    tm_audit_report r = verify(s, TM_ECRYPTO);
    ASSERT_EQ(r.bad_seq, 40);
    tm_store_close(s);
}

TEST(inserted_record_is_named)
{
    tm_store *s = fresh(100);
    /* Make room after record 60 and forge one with a plausible hash. */
    sql(s, "UPDATE audit SET seq = seq + 1000 WHERE seq > 60; UPDATE audit SET seq = seq - 999 WHERE seq > 1000;"
           "INSERT INTO audit (seq, at, actor, action, subject, details, prev_hash, hash) "
           "SELECT 61, at, actor, 'payment.deleted', subject, details, hash, hash FROM audit WHERE seq = 60");
    tm_audit_report r = verify(s, TM_ECRYPTO);
    ASSERT_EQ(r.bad_seq, 61);
    tm_store_close(s);
}

TEST(forged_head_is_named)
{
    tm_store *s = fresh(10);
    sql(s, "UPDATE audit_head SET seq = 9");
    tm_audit_report r = verify(s, TM_ECRYPTO);
    ASSERT_CONTAINS(r.problem, "head");
    tm_store_close(s);
}

TEST(wrong_key_fails)
{
    tm_store *s = fresh(5);
    uint8_t other[TM_AUDIT_KEY_LEN] = {0};
    tm_audit_report r;
    struct tm_err e = {0};
    ASSERT_EQ(tm_audit_verify(s, other, &r, &e), TM_ECRYPTO);
    ASSERT_EQ(r.bad_seq, 1);
    tm_store_close(s);
}

TEST(export_filters)
{
    tm_store *s = fresh(20);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct tm_err e = {0};
    ASSERT_OK(tm_audit_export(s, f, 0, 0, "debt:D3", &e));
    fclose(f);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    ASSERT_EQ(lines, 3); /* 3, 10, 17 */
    ASSERT_CONTAINS(buf, "\"subject\":\"debt:D3\"");
    ASSERT_CONTAINS(buf, "\"details\":{\"n\":3,");
    free(buf);
    tm_store_close(s);
}

/* ---- Values compared exactly as stored (regressions: each of these passed
 * verify, the C string or the integer read hiding what was added). */

static void expect_broken_at(const char *tamper, int64_t seq, const char *problem)
{
    tm_store *s = fresh(10);
    sql(s, tamper);
    tm_audit_report r = verify(s, TM_ECRYPTO);
    if (r.bad_seq != seq || !strstr(r.problem, problem))
        TM_FAIL_("after \"%s\": broken at %lld (%s), want %lld (%s)", tamper, (long long)r.bad_seq,
                 r.problem, (long long)seq, problem);
    tm_store_close(s);
}

TEST(head_with_text_appended_is_broken)
{
    expect_broken_at("UPDATE audit_head SET mac = mac || 'x'", 10, "mac is 65 characters");
    expect_broken_at("UPDATE audit_head SET hash = hash || 'x'", 10, "hash is 65 characters");
    TM_TEST_SQLITE_ONLY(); /* PostgreSQL text cannot hold a NUL */
    expect_broken_at("UPDATE audit_head SET mac = mac || char(0) || 'x'", 10, "mac holds a NUL");
}

TEST(head_seq_not_an_integer_is_broken)
{
    TM_TEST_SQLITE_ONLY(); /* only SQLite stores any type in any column */
    expect_broken_at("UPDATE audit_head SET seq = seq || 'abc'", 10, "seq is stored as text");
    expect_broken_at("UPDATE audit_head SET seq = seq + 0.7", 10, "seq is stored as a real number");
}

TEST(record_time_not_an_integer_is_broken)
{
    TM_TEST_SQLITE_ONLY(); /* only SQLite stores any type in any column */
    expect_broken_at("UPDATE audit SET at = at || 'x' WHERE seq = 4", 4, "at is stored as text");
    expect_broken_at("UPDATE audit SET at = at + 0.9 WHERE seq = 4", 4, "at is stored as a real");
}

TEST(bytes_after_a_nul_are_broken)
{
    TM_TEST_SQLITE_ONLY(); /* only SQLite stores any type in any column */
    expect_broken_at("UPDATE audit SET details = details || char(0) || 'evil' WHERE seq = 6", 6,
                     "details holds a NUL byte");
    expect_broken_at("UPDATE audit SET actor = actor || char(0) || 'evil' WHERE seq = 2", 2,
                     "actor holds a NUL byte");
    expect_broken_at("UPDATE audit SET hash = hash || char(0) || 'x' WHERE seq = 10", 10,
                     "hash holds a NUL byte");
    expect_broken_at("UPDATE audit SET subject = CAST(subject AS BLOB) WHERE seq = 3", 3,
                     "subject is stored as a blob");
}

static const char one_debt[] =
    "INSERT INTO consumers (id, external_id, state, created_at, updated_at) VALUES (1, 'C1', 'MA', 0, 0);"
    "INSERT INTO debts (debt_id, consumer_id, balance_minor, placed_balance_minor, currency, "
    "created_at, updated_at) VALUES ('D1', 1, 100, 100, 'USD', 0, 0)";

TEST(emptied_log_of_a_store_with_data_is_broken)
{
    tm_store *s = fresh(5);
    sql(s, one_debt);
    sql(s, "DELETE FROM audit; DELETE FROM audit_head");
    tm_audit_report r = verify(s, TM_ECRYPTO);
    ASSERT_EQ(r.bad_seq, 1);
    ASSERT_CONTAINS(r.problem, "the audit log is empty, but the store holds 1 consumers, 1 debts");
    tm_store_close(s);
}

TEST(chain_shorter_than_its_debts_is_broken)
{
    /* A whole chain that records one debt created, put back in a store that
     * holds two: every record and the head verify, but the second debt's
     * record is missing. */
    tm_store *s = fresh(0);
    struct tm_err e = {0};
    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT_OK(tm_audit_append(s, KEY, 1795392001, "import", "account.created", "debt:D1", "{}", &e));
    ASSERT_OK(tm_store_commit(s, &e));
    sql(s, one_debt);
    ASSERT_EQ(verify(s, TM_OK).records, 1);
    sql(s, "INSERT INTO debts (debt_id, consumer_id, balance_minor, placed_balance_minor, currency, "
           "created_at, updated_at) VALUES ('D2', 1, 100, 100, 'USD', 0, 0)");
    tm_audit_report r = verify(s, TM_ECRYPTO);
    ASSERT_EQ(r.bad_seq, 2);
    ASSERT_CONTAINS(r.problem, "records 1 debts created, but the store holds 2");
    tm_store_close(s);
}

TEST(export_shows_bytes_after_a_nul)
{
    TM_TEST_SQLITE_ONLY(); /* only SQLite stores any type in any column */
    tm_store *s = fresh(3);
    sql(s, "UPDATE audit SET details = details || char(0) || 'evil', actor = actor || char(0) || "
           "'more' WHERE seq = 2");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct tm_err e = {0};
    ASSERT_EQ(tm_audit_export(s, f, 0, 0, NULL, &e), TM_ECRYPTO);
    fclose(f);
    ASSERT_EQ(strlen(buf), len); /* no raw NUL written */
    ASSERT_CONTAINS(buf, "\"actor\":\"import\\u0000more\"");
    ASSERT_CONTAINS(buf, "\\u0000evil\"");
    ASSERT_CONTAINS(buf, "\"malformed\":\"its actor holds a NUL byte");
    ASSERT_CONTAINS(buf, "\"seq\":3,"); /* the records after it are exported too */
    ASSERT_CONTAINS(e.msg, "audit record 2");
    free(buf);
    tm_store_close(s);
}

/* Regression (two writers on one store): a writer that appended in one
 * transaction must read the chain's tail again in the next, because another
 * process may have appended in between; a tail kept from before would reuse
 * a seq ("UNIQUE constraint failed: audit.seq") or fork the chain. */
TEST(writer_reads_the_tail_in_each_transaction)
{
    char path[] = "/tmp/tm-audit-XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    close(fd);
    struct tm_err e = {0};
    tm_store *a, *b;
    ASSERT_OK(tm_store_open(path, &a, &e));
    ASSERT_OK(tm_store_open(path, &b, &e));
    tm_audit_writer *w;
    ASSERT_OK(tm_audit_writer_open(a, KEY, &w, &e));
    for (int round = 0; round < 3; round++) {
        ASSERT_OK(tm_store_begin(a, &e));
        ASSERT_OK(tm_audit_write(w, 1795392000 + round, "cycle", "journey.step", "debt:D1", "{}", &e));
        ASSERT_OK(tm_audit_writer_flush(w, &e));
        ASSERT_OK(tm_store_commit(a, &e));
        /* Another process appends between two of the writer's transactions. */
        ASSERT_OK(tm_store_begin(b, &e));
        ASSERT_OK(tm_audit_append(b, KEY, 1795392100 + round, "event", "event.dispute", "debt:D1", "{}", &e));
        ASSERT_OK(tm_store_commit(b, &e));
    }
    ASSERT_OK(tm_store_begin(a, &e));
    if (tm_audit_write(w, 1795392200, "cycle", "journey.step", "debt:D1", "{}", &e) != TM_OK)
        TM_FAIL_("write after the other process appended: %s", e.msg);
    ASSERT_OK(tm_audit_writer_flush(w, &e));
    ASSERT_OK(tm_store_commit(a, &e));
    tm_audit_writer_close(w);
    tm_audit_report r = verify(a, TM_OK);
    ASSERT_EQ(r.records, 7);
    tm_store_close(a);
    tm_store_close(b);
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* A record written outside a transaction could race another writer between
 * reading the tail and appending: it is refused, and nothing is written. */
TEST(write_outside_a_transaction_is_refused)
{
    tm_store *s = fresh(3);
    struct tm_err e = {0};
    ASSERT_EQ(tm_audit_append(s, KEY, 1795392000, "x", "y", "z", "{}", &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "inside a transaction");
    tm_audit_report r = verify(s, TM_OK);
    ASSERT_EQ(r.records, 3);
    tm_store_close(s);
}

/* A rolled-back transaction leaves no head behind: the next transaction's
 * flush writes nothing until it has written records of its own. */
TEST(rolled_back_records_leave_no_head)
{
    tm_store *s = fresh(2);
    struct tm_err e = {0};
    tm_audit_writer *w;
    ASSERT_OK(tm_audit_writer_open(s, KEY, &w, &e));
    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT_OK(tm_audit_write(w, 1795392000, "x", "y", "z", "{}", &e));
    tm_store_rollback(s);
    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT_OK(tm_audit_writer_flush(w, &e));
    ASSERT_OK(tm_store_commit(s, &e));
    tm_audit_writer_close(w);
    tm_audit_report r = verify(s, TM_OK);
    ASSERT_EQ(r.records, 2);
    tm_store_close(s);
}

/* The sealed form of a record, computed here from its documented layout with OpenSSL's
 * one-shot HMAC: "seq|at|" then "len:field|" for actor, action, subject, details and the
 * previous hash. Chains written by earlier versions must still verify, so the writer may
 * change how it builds this text but never the text itself. */
static void expected_hash(const tm_audit_rec *r, char out[65])
{
    const char *fields[] = {r->actor, r->action, r->subject, r->details, r->prev_hash};
    size_t cap = 64;
    for (int i = 0; i < 5; i++)
        cap += strlen(fields[i]) + 24;
    char *buf = malloc(cap);
    size_t n = (size_t)snprintf(buf, cap, "%lld|%lld|", (long long)r->seq, (long long)r->at);
    for (int i = 0; i < 5; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%zu:%s|", strlen(fields[i]), fields[i]);
    uint8_t mac[32];
    unsigned ml = 0;
    HMAC(EVP_sha256(), KEY, sizeof KEY, (const uint8_t *)buf, n, mac, &ml);
    free(buf);
    tm_hex(mac, sizeof mac, out);
}

static int check_layout(void *ud, const tm_audit_rec *r)
{
    int *seen = ud;
    char want[65];
    expected_hash(r, want);
    if (strcmp(want, r->hash) != 0)
        TM_FAIL_("record %lld: hash %s, the documented layout gives %s", (long long)r->seq,
                 r->hash, want);
    (*seen)++;
    return 0;
}

TEST(record_hash_keeps_its_layout)
{
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(tm_test_store(), &s, &e));
    ASSERT_OK(tm_store_begin(s, &e));
    /* Times from 0 to the largest, empty fields, and details longer than the writer's stack
     * buffer (its heap path). */
    static const int64_t ats[] = {0, 7, 1795392000, 4102444800, INT64_MAX};
    char *big = malloc(5001);
    memset(big, 'd', 5000);
    big[5000] = '\0';
    for (int i = 0; i < 5; i++)
        ASSERT_OK(tm_audit_append(s, KEY, ats[i], i == 1 ? "" : "import", "debt.created",
                                  i == 2 ? "" : "debt:D1", i == 3 ? big : "{}", &e));
    ASSERT_OK(tm_store_commit(s, &e));
    free(big);
    int seen = 0;
    ASSERT_OK(tm_store_audit_scan(s, 0, 0, NULL, check_layout, &seen, &e));
    ASSERT_EQ(seen, 5);
    verify(s, TM_OK);
    tm_store_close(s);
}

static int count_actor(void *ud, const tm_audit_rec *r)
{
    (void)r;
    (*(int *)ud)++;
    return TM_OK;
}

/* The actor filter (audit export --actor) on either store: only that
 * actor's records, with the subject filter still applied; NULL is anyone. */
TEST(audit_scan_by_actor)
{
    tm_store *s = fresh(0);
    struct tm_err e = {0};
    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT_OK(tm_audit_append(s, KEY, 1795392001, "ann", "debt.viewed", "debt:D1", "{}", &e));
    ASSERT_OK(tm_audit_append(s, KEY, 1795392002, "bob", "debt.viewed", "debt:D1", "{}", &e));
    ASSERT_OK(tm_audit_append(s, KEY, 1795392003, "ann", "debt.viewed", "debt:D2", "{}", &e));
    ASSERT_OK(tm_store_commit(s, &e));
    int n = 0;
    ASSERT_OK(tm_store_audit_scan_actor(s, 0, 0, NULL, "ann", count_actor, &n, &e));
    ASSERT_EQ(n, 2);
    n = 0;
    ASSERT_OK(tm_store_audit_scan_actor(s, 0, 0, "debt:D1", "ann", count_actor, &n, &e));
    ASSERT_EQ(n, 1);
    n = 0;
    ASSERT_OK(tm_store_audit_scan_actor(s, 0, 0, NULL, NULL, count_actor, &n, &e));
    ASSERT_EQ(n, 3);
    n = 0;
    ASSERT_OK(tm_store_audit_scan_actor(s, 0, 0, NULL, "carol", count_actor, &n, &e));
    ASSERT_EQ(n, 0);
    tm_store_close(s);
}
