/*
 * tests/unit/test_store_both.c: what the store promises (core/store.h) that
 * one database could keep and the other lose, run on SQLite and, under
 * `make test-pg` (TM_TEST_DB_URL), on PostgreSQL: ciphertexts come back byte
 * for byte (NUL and high bytes included), a rollback writes nothing and
 * transactions nest, a write that replaces or ignores a row by its key does
 * so, every insert gets an id of its own (after rows were written with their
 * ids, too), and a store at a schema version newer than the build, a URL
 * that does not parse and a server that is not there are refused with the
 * reason.
 */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_int.h"

static tm_store *fresh(void)
{
    tm_store *s = NULL;
    struct tm_err e = {0};
    if (tm_store_open(tm_test_store(), &s, &e) != TM_OK)
        TM_FAIL_("open: %s", e.msg);
    return s;
}

static int64_t consumer(tm_store *s, const char *ext, const uint8_t *pii, size_t n)
{
    tm_consumer_rec c = {0};
    snprintf(c.external_id, sizeof c.external_id, "%s", ext);
    snprintf(c.state, sizeof c.state, "MA");
    c.pii = pii;
    c.pii_len = n;
    c.key_version = 1;
    struct tm_err e = {0};
    if (tm_store_consumer_put(s, &c, 100, &e) != TM_OK)
        TM_FAIL_("consumer_put: %s", e.msg);
    return c.id;
}

static int64_t debt(tm_store *s, int64_t cons, const char *id)
{
    tm_debt_rec d = {0};
    snprintf(d.debt_id, sizeof d.debt_id, "%s", id);
    d.consumer_id = cons;
    d.placed_balance = 1000;
    snprintf(d.currency, sizeof d.currency, "USD");
    d.days_past_due = -1;
    struct tm_err e = {0};
    if (tm_store_debt_put(s, &d, 100, &e) != TM_OK)
        TM_FAIL_("debt_put: %s", e.msg);
    return d.id;
}

TEST(ciphertext_bytes_come_back_exactly)
{
    tm_store *s = fresh();
    uint8_t all[512];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (uint8_t)(i * 7 + (i >> 8)); /* every byte value, NUL included */
    all[0] = 0;
    int64_t id = consumer(s, "C1", all, sizeof all);
    char ext[129];
    uint8_t *blob = NULL;
    size_t len = 0;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_consumer_pii(s, id, ext, &blob, &len, &e));
    ASSERT_STR_EQ(ext, "C1");
    ASSERT_EQ(len, sizeof all);
    ASSERT(memcmp(blob, all, len) == 0);
    free(blob);
    tm_store_close(s);
}

TEST(rollback_writes_nothing_and_transactions_nest)
{
    tm_store *s = fresh();
    struct tm_err e = {0};
    ASSERT_EQ(tm_store_tx_id(s), 0);
    ASSERT_OK(tm_store_begin(s, &e));
    uint64_t first = tm_store_tx_id(s);
    ASSERT(first != 0);
    consumer(s, "GONE", (const uint8_t *)"x", 1);
    tm_store_rollback(s);
    ASSERT_EQ(tm_store_tx_id(s), 0);
    tm_consumer_rec c;
    int found = 1;
    ASSERT_OK(tm_store_consumer_find(s, "GONE", &c, &found, &e));
    ASSERT_EQ(found, 0);

    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT(tm_store_tx_id(s) != first);
    ASSERT_OK(tm_store_begin(s, &e));
    consumer(s, "KEPT", (const uint8_t *)"y", 1);
    ASSERT_OK(tm_store_commit(s, &e)); /* inner: nothing yet */
    ASSERT(tm_store_tx_id(s) != 0);
    ASSERT_OK(tm_store_commit(s, &e));
    ASSERT_EQ(tm_store_commit(s, &e), TM_EINVAL);
    ASSERT_OK(tm_store_consumer_find(s, "KEPT", &c, &found, &e));
    ASSERT_EQ(found, 1);
    tm_store_close(s);
}

TEST(a_failed_statement_ends_the_transaction_with_nothing_written)
{
    tm_store *s = fresh();
    struct tm_err e = {0};
    int64_t c = consumer(s, "C1", (const uint8_t *)"x", 1);
    ASSERT_OK(tm_store_begin(s, &e));
    debt(s, c, "D1");
    tm_debt_rec d = {0};
    snprintf(d.debt_id, sizeof d.debt_id, "D2");
    d.consumer_id = 999999; /* no such consumer */
    snprintf(d.currency, sizeof d.currency, "USD");
    ASSERT_EQ(tm_store_debt_put(s, &d, 100, &e), TM_ESTORE);
    tm_store_rollback(s);
    tm_debt_rec out;
    int found = 1;
    ASSERT_OK(tm_store_debt_find(s, "D1", &out, &found, &e));
    ASSERT_EQ(found, 0);
    tm_store_close(s);
}

TEST(writes_by_key_replace_or_keep_the_row)
{
    tm_store *s = fresh();
    struct tm_err e = {0};
    int64_t v = 0;
    int found = 0;
    ASSERT_OK(tm_store_cycle_set(s, "day", 1, &e));
    ASSERT_OK(tm_store_cycle_set(s, "day", 2, &e));
    ASSERT_OK(tm_store_cycle_get(s, "day", &v, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_EQ(v, 2);

    /* The audit head: one row, replaced. */
    static const char H1[] = "1111111111111111111111111111111111111111111111111111111111111111";
    static const char H2[] = "2222222222222222222222222222222222222222222222222222222222222222";
    static const char M2[] = "3333333333333333333333333333333333333333333333333333333333333333";
    ASSERT_OK(tm_store_audit_set_head(s, 1, H1, H1, &e));
    ASSERT_OK(tm_store_audit_set_head(s, 2, H2, M2, &e));
    int present = 0;
    int64_t seq = 0;
    char hash[65], mac[65];
    ASSERT_OK(tm_store_audit_head(s, &present, &seq, hash, mac, &e));
    ASSERT_EQ(present, 1);
    ASSERT_EQ(seq, 2);
    ASSERT_STR_EQ(hash, H2);
    ASSERT_STR_EQ(mac, M2);

    /* Leases: put replaces the holder; renew and release only by the holder. */
    tm_lease l = {.pid = 10, .since = 5, .renewed = 5};
    snprintf(l.name, sizeof l.name, "cycle");
    snprintf(l.holder, sizeof l.holder, "a");
    snprintf(l.host, sizeof l.host, "h");
    ASSERT_OK(tm_store_lease_put(s, &l, &e));
    snprintf(l.holder, sizeof l.holder, "b");
    ASSERT_OK(tm_store_lease_put(s, &l, &e));
    tm_lease got;
    ASSERT_OK(tm_store_lease_get(s, "cycle", &got, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(got.holder, "b");
    int held = 1;
    ASSERT_OK(tm_store_lease_renew(s, "cycle", "a", 9, &held, &e));
    ASSERT_EQ(held, 0);
    ASSERT_OK(tm_store_lease_renew(s, "cycle", "b", 9, &held, &e));
    ASSERT_EQ(held, 1);
    ASSERT_OK(tm_store_lease_get(s, "cycle", &got, &found, &e));
    ASSERT_EQ(got.renewed, 9);
    ASSERT_OK(tm_store_lease_release(s, "cycle", "a", &e));
    ASSERT_OK(tm_store_lease_get(s, "cycle", &got, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_OK(tm_store_lease_release(s, "cycle", "b", &e));
    ASSERT_OK(tm_store_lease_get(s, "cycle", &got, &found, &e));
    ASSERT_EQ(found, 0);

    /* A planned message and a queue item keyed once. */
    int64_t d = debt(s, consumer(s, "C1", (const uint8_t *)"x", 1), "D1");
    tm_outbox_rec o = {.debt = d, .send_at = 50, .created_at = 40, .key = "D1:j:1:0",
                       .channel = "email", .template_id = "t", .purpose = "collection",
                       .journey_state = "s"};
    int added = 0;
    ASSERT_OK(tm_store_outbox_plan(s, &o, &added, &e));
    ASSERT_EQ(added, 1);
    ASSERT_OK(tm_store_outbox_plan(s, &o, &added, &e));
    ASSERT_EQ(added, 0);
    tm_queue_item q = {.debt = d, .at = 60, .key = "D1:j:1:q", .queue = "hardship",
                       .reason = "asked", .journey = "j", .journey_state = "s"};
    ASSERT_OK(tm_store_queue_add(s, &q, &added, &e));
    ASSERT_EQ(added, 1);
    ASSERT_OK(tm_store_queue_add(s, &q, &added, &e));
    ASSERT_EQ(added, 0);
    /* A claim holds the item from others until it expires; then a new claim
     * replaces it (INSERT OR REPLACE on the item). */
    int64_t claimed = 0, until = 0;
    char holder[65];
    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT_OK(tm_store_queue_claim(s, "hardship", 0, "ann", 100, 200, &claimed, holder, sizeof holder,
                                   &until, &e));
    ASSERT(claimed > 0);
    int64_t item = claimed;
    ASSERT_OK(tm_store_queue_claim(s, "hardship", item, "bob", 150, 250, &claimed, holder,
                                   sizeof holder, &until, &e));
    ASSERT_EQ(claimed, 0);
    ASSERT_STR_EQ(holder, "ann");
    ASSERT_EQ(until, 200);
    ASSERT_OK(tm_store_queue_claim(s, "hardship", item, "bob", 300, 400, &claimed, holder,
                                   sizeof holder, &until, &e));
    ASSERT_EQ(claimed, item);
    ASSERT_OK(tm_store_commit(s, &e));
    ASSERT_OK(tm_store_queue_claim_get(s, "hardship", item, 350, &found, holder, sizeof holder,
                                       &until, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(holder, "bob");
    ASSERT_EQ(until, 400);
    ASSERT_EQ(tm__store_query_int(s, "SELECT COUNT(*) FROM queue_claims"), 1);

    /* A score replaced, people added once, roles granted once. */
    ASSERT_OK(tm_store_score_set(s, d, "m", 0.25, NULL, 70, &e));
    ASSERT_OK(tm_store_score_set(s, d, "m", 0.5, "[\"r\"]", 71, &e));
    ASSERT_EQ(tm__store_query_int(s, "SELECT COUNT(*) FROM scores"), 1);
    ASSERT_EQ(tm__store_query_int(s, "SELECT at FROM scores"), 71);
    int64_t uid = 0;
    ASSERT_OK(tm_store_user_add(s, "ann", 1, &uid, &added, &e));
    ASSERT_EQ(added, 1);
    ASSERT_OK(tm_store_user_add(s, "ann", 1, &uid, &added, &e));
    ASSERT_EQ(added, 0);
    ASSERT_OK(tm_store_user_grant(s, uid, TM_ROLE_AUDITOR, "root", 2, &added, &e));
    ASSERT_EQ(added, 1);
    ASSERT_OK(tm_store_user_grant(s, uid, TM_ROLE_AUDITOR, "root", 2, &added, &e));
    ASSERT_EQ(added, 0);
    tm_user u;
    ASSERT_OK(tm_store_user_get(s, "ann", &u, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_EQ(u.roles, TM_ROLE_BIT(TM_ROLE_AUDITOR));
    tm_store_close(s);
}

TEST(rows_written_with_their_ids_do_not_take_the_next_ids)
{
    tm_store *s = fresh();
    struct tm_err e = {0};
    int64_t a = consumer(s, "C1", (const uint8_t *)"x", 1);
    ASSERT(a > 0);
    ASSERT_OK(tm__store_exec(s, "INSERT INTO consumers (id, external_id, state, created_at, "
                                "updated_at) VALUES (500, 'C500', 'TX', 0, 0)",
                             &e));
    int64_t b = consumer(s, "C2", (const uint8_t *)"y", 1);
    ASSERT(b > 500);
    ASSERT(debt(s, a, "D1") != debt(s, b, "D2"));
    tm_store_close(s);
}

TEST(key_checks_and_counts)
{
    tm_store *s = fresh();
    struct tm_err e = {0};
    static const char V[] = "abababababababababababababababababababababababababababababababab";
    ASSERT_OK(tm_store_key_check_put(s, 1, V, 5, &e));
    ASSERT_EQ(tm_store_key_check_put(s, 1, V, 6, &e), TM_ESTORE);
    char value[65];
    int found = 0, max = 0, count = 0;
    ASSERT_OK(tm_store_key_check_get(s, 1, value, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(value, V);
    ASSERT_OK(tm_store_key_check_max(s, &max, &count, &e));
    ASSERT_EQ(max, 1);
    ASSERT_EQ(count, 1);
    int64_t c = consumer(s, "C1", (const uint8_t *)"x", 1);
    debt(s, c, "D1");
    tm_store_counts n;
    ASSERT_OK(tm_store_count_data(s, &n, &e));
    ASSERT_EQ(n.consumers, 1);
    ASSERT_EQ(n.debts, 1);
    ASSERT_EQ(n.key_checks, 1);
    ASSERT_EQ(tm_store_schema_version(s), TM_STORE_SCHEMA_VERSION);
    tm_store_close(s);
}

TEST(a_store_newer_than_the_build_is_refused)
{
    const char *url = getenv("TM_TEST_DB_URL");
    char path[64] = "";
    char where[2048];
    if (url && *url) {
        snprintf(where, sizeof where, "%s", tm_test_store());
    } else {
        snprintf(path, sizeof path, "/tmp/tm-newer-XXXXXX");
        int fd = mkstemp(path);
        ASSERT(fd >= 0);
        close(fd);
        snprintf(where, sizeof where, "%s", path);
    }
    tm_store *s = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(where, &s, &e));
    ASSERT_OK(tm__store_exec(s,
                             tm_store_is_url(where)
                                 ? "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)"
                                 : "PRAGMA user_version = 999",
                             &e));
    tm_store_close(s);
    s = NULL;
    ASSERT_EQ(tm_store_open(where, &s, &e), TM_ESTORE);
    ASSERT(s == NULL);
    ASSERT_CONTAINS(e.msg, "schema version 999, newer than this tallyman");
    if (path[0])
        unlink(path);
}

TEST(urls_that_do_not_parse_or_lead_nowhere_are_refused)
{
    tm_store *s = NULL;
    struct tm_err e = {0};
    ASSERT_EQ(tm_store_open("postgresql://u@h/db?nonsense=1", &s, &e), TM_EINVAL);
    ASSERT(s == NULL);
    ASSERT_CONTAINS(e.msg, "not a PostgreSQL URL");
    /* No server listens on a socket folder that does not exist; the password
     * is never shown. */
    ASSERT_EQ(tm_store_open("postgresql://u:secret@/db?host=/nonexistent-tm-socket", &s, &e),
              TM_ESTORE);
    ASSERT(s == NULL);
    ASSERT_CONTAINS(e.msg, "cannot connect to the store");
    ASSERT(strstr(e.msg, "secret") == NULL);
    ASSERT_EQ(tm_store_is_url("postgres://x"), 1);
    ASSERT_EQ(tm_store_is_url("x.db"), 0);
}
