/*
 * tests/unit/test_store.c: store migrations and the journey archive
 * (core/store.h): a text is kept once under its hash and read back whole, an
 * unknown hash is "not found", bad input is refused, and migration 5 upgrades
 * a version-4 store that lacks its table and column; events and payment attempts keep their
 * content hash and origin (migration 9), the velocity window reads (after, until], and a late
 * event never moves a debt's last event back. Every status is an enum stored as the same text
 * as before, a text changed by hand reads as ..._OTHER, and a write of OTHER is refused.
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
    struct tm_err e = {0};
    if (tm__store_exec(s, q, &e) != TM_OK)
        TM_FAIL_("%s: %s", q, e.msg);
}

TEST(journey_text_kept_once_and_read_back)
{
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(tm_test_store(), &s, &e));
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
    ASSERT_OK(tm_store_open(tm_test_store(), &s, &e));
    one_debt(s);
    tm_hash16 h = H(7);
    ASSERT_OK(tm_store_event_add(s, "e1", "payment", 1, 200, "{}", TM_EVENT_APPLIED, &h, "f.jsonl:3", 5, &e));
    ASSERT_OK(tm_store_event_add(s, "e2", "payment", 1, 100, "{}", TM_EVENT_OUT_OF_ORDER, NULL, NULL, 5, &e));
    tm_event_ref r;
    int found = 0;
    ASSERT_OK(tm_store_event_find(s, "e1", &r, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_EQ(r.status, TM_EVENT_APPLIED);
    ASSERT_EQ(r.content.set, 1);
    ASSERT(memcmp(r.content.b, h.b, sizeof h.b) == 0);
    ASSERT_STR_EQ(r.origin, "f.jsonl:3");
    ASSERT_EQ(r.at, 200);
    ASSERT_OK(tm_store_event_find(s, "e2", &r, &found, &e));
    ASSERT_EQ(r.content.set, 0);
    ASSERT_STR_EQ(r.origin, "");
    ASSERT_OK(tm_store_event_set_applied(s, "e2", "{\"type\":\"payment\"}", 9, &e));
    ASSERT_OK(tm_store_event_find(s, "e2", &r, &found, &e));
    ASSERT_EQ(r.status, TM_EVENT_APPLIED);
    ASSERT_OK(tm_store_event_find(s, "nope", &r, &found, &e));
    ASSERT_EQ(found, 0);

    tm_debt_rec d;
    ASSERT_OK(tm_store_debt_touch(s, 1, 200, 5, &e));
    ASSERT_OK(tm_store_debt_touch(s, 1, 100, 6, &e));
    ASSERT_OK(tm_store_debt_find(s, "D1", &d, &found, &e));
    ASSERT_EQ(d.last_event_at, 200);

    tm_hash16 c1 = H(1), c2 = H(2);
    tm_pay_attempt a = {.key = "k1", .debt = 1, .token = "tok_x", .amount = 500, .at = 100,
                        .outcome = TM_ATTEMPT_TIMEOUT, .content = c1, .origin = "p.jsonl:1"};
    memcpy(a.currency, "USD", 4);
    ASSERT_OK(tm_store_pay_attempt_put(s, &a, &e));
    /* Writing the key again (the retry's outcome) keeps what the request was. */
    a.outcome = TM_ATTEMPT_APPROVED;
    a.content = c2;
    a.origin = "p.jsonl:9";
    ASSERT_OK(tm_store_pay_attempt_put(s, &a, &e));
    tm_pay_attempt got;
    ASSERT_OK(tm_store_pay_attempt_get(s, "k1", &got, &found, &e));
    ASSERT_EQ(got.outcome, TM_ATTEMPT_APPROVED);
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
    ASSERT_OK(tm_store_open(tm_test_store(), &s, &e));
    one_debt(s);
    const int64_t ats[] = {300, 100, 200, 400};
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        tm_pay_attempt a = {.key = key, .debt = 1, .token = "tok_x", .amount = 1, .at = ats[i],
                            .outcome = TM_ATTEMPT_APPROVED};
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

/* The text in column `col` of the first row of `q`, into out. */
static const char *sql_text(tm_store *s, const char *q, char *out, size_t cap)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(tm_store_sqlite(s), q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

/* Every status is one name, the text stores have always held (stores made by
 * earlier builds read the same), and reads back to its value; a name no build
 * writes is OTHER, named "other". */
TEST(status_names_are_the_stored_texts)
{
    static const char *const debt[] = {"open", "paid"};
    static const char *const dispute[] = {"none", "pending", "verified"};
    static const char *const event[] = {"applied", "out_of_order", "unknown_debt"};
    static const char *const promise[] = {"open", "kept", "partially_kept", "broken"};
    static const char *const outbox[] = {"planned", "ready", "sent", "failed", "skipped"};
    static const char *const queue[] = {"open", "closed"};
    static const char *const attempt[] = {"approved", "declined", "timeout"};
#define ROUND_TRIP(names, other, NAME, PARSE)                                                 \
    do {                                                                                     \
        ASSERT_EQ((int)(sizeof names / sizeof *names), (int)other);                          \
        for (int i = 0; i < (int)other; i++) {                                               \
            ASSERT_STR_EQ(NAME(i), names[i]);                                                \
            ASSERT_EQ((int)PARSE(names[i]), i);                                              \
        }                                                                                    \
        ASSERT_STR_EQ(NAME(other), "other");                                                 \
        ASSERT_STR_EQ(NAME(other + 7), "other");                                             \
        ASSERT_EQ(PARSE("other"), other);                                                    \
        ASSERT_EQ(PARSE("Open"), other);                                                     \
        ASSERT_EQ(PARSE(""), other);                                                         \
        ASSERT_EQ(PARSE(NULL), other);                                                       \
    } while (0)
    ROUND_TRIP(debt, TM_DEBT_OTHER, tm_store_debt_status_name, tm_store_debt_status_parse);
    ROUND_TRIP(dispute, TM_DEBT_DISPUTE_OTHER, tm_store_debt_dispute_name, tm_store_debt_dispute_parse);
    ROUND_TRIP(event, TM_EVENT_OTHER, tm_store_event_status_name, tm_store_event_status_parse);
    ROUND_TRIP(promise, TM_PROMISE_OTHER, tm_store_promise_status_name, tm_store_promise_status_parse);
    ROUND_TRIP(outbox, TM_OUTBOX_OTHER, tm_store_outbox_status_name, tm_store_outbox_status_parse);
    ROUND_TRIP(queue, TM_QUEUE_OTHER, tm_store_queue_status_name, tm_store_queue_status_parse);
    ROUND_TRIP(attempt, TM_ATTEMPT_OTHER, tm_store_attempt_outcome_name,
               tm_store_attempt_outcome_parse);
#undef ROUND_TRIP
}

/* A status goes into the tables as its name, a write of OTHER is refused with
 * nothing written, a row changed by hand reads as OTHER, and a debt whose
 * status this build does not know keeps it when its journey is written. */
TEST(statuses_stored_as_text_and_read_back)
{
    tm_store *s;
    struct tm_err e = {0};
    char v[64];
    ASSERT_OK(tm_store_open(":memory:", &s, &e));
    one_debt(s);
    ASSERT_OK(tm_store_event_add(s, "e1", "payment", 1, 100, "{}", TM_EVENT_UNKNOWN_DEBT, NULL, NULL, 5, &e));
    ASSERT_STR_EQ(sql_text(s, "SELECT status FROM events WHERE key = 'e1'", v, sizeof v), "unknown_debt");
    ASSERT_EQ(tm_store_event_add(s, "e2", "payment", 1, 100, "{}", TM_EVENT_OTHER, NULL, NULL, 5, &e),
              TM_EINVAL);
    ASSERT_STR_EQ(sql_text(s, "SELECT count(*) FROM events", v, sizeof v), "1");
    sql(s, "UPDATE events SET status = 'mislaid' WHERE key = 'e1'");
    tm_event_ref r;
    int found = 0;
    ASSERT_OK(tm_store_event_find(s, "e1", &r, &found, &e));
    ASSERT_EQ(r.status, TM_EVENT_OTHER);

    ASSERT_OK(tm_store_promise_add(s, 1, 500, "USD", "2026-01-10", 100, &e));
    ASSERT_OK(tm_store_promise_set(s, 1, TM_PROMISE_PARTIALLY_KEPT, &e));
    ASSERT_STR_EQ(sql_text(s, "SELECT status FROM promises", v, sizeof v), "partially_kept");
    ASSERT_EQ(tm_store_promise_set(s, 1, TM_PROMISE_OTHER, &e), TM_EINVAL);
    ASSERT_STR_EQ(sql_text(s, "SELECT status FROM promises", v, sizeof v), "partially_kept");

    ASSERT_OK(tm_store_debt_set_dispute(s, 1, TM_DEBT_DISPUTE_VERIFIED, &e));
    ASSERT_STR_EQ(sql_text(s, "SELECT dispute FROM debts", v, sizeof v), "verified");
    ASSERT_EQ(tm_store_debt_set_dispute(s, 1, TM_DEBT_DISPUTE_OTHER, &e), TM_EINVAL);

    tm_work_debt w;
    ASSERT_OK(tm_store_work_debt(s, 1, &w, &found, &e));
    ASSERT_EQ(w.status, TM_DEBT_OPEN);
    ASSERT_EQ(w.dispute, TM_DEBT_DISPUTE_VERIFIED);
    sql(s, "UPDATE debts SET status = 'frozen'");
    ASSERT_OK(tm_store_work_debt(s, 1, &w, &found, &e));
    ASSERT_EQ(w.status, TM_DEBT_OTHER);
    snprintf(w.journey, sizeof w.journey, "early");
    ASSERT_OK(tm_store_debt_set_journey(s, 1, &w, &e));
    ASSERT_STR_EQ(sql_text(s, "SELECT status || ',' || journey FROM debts", v, sizeof v), "frozen,early");
    w.status = TM_DEBT_PAID;
    ASSERT_OK(tm_store_debt_set_journey(s, 1, &w, &e));
    ASSERT_STR_EQ(sql_text(s, "SELECT status FROM debts", v, sizeof v), "paid");

    tm_outbox_rec o = {.key = "k1", .debt = 1, .channel = "sms", .template_id = "t", .send_at = 10};
    int added = 0;
    ASSERT_OK(tm_store_outbox_plan(s, &o, &added, &e));
    ASSERT_OK(tm_store_outbox_get(s, 1, &o, &found, &e));
    ASSERT_EQ(o.status, TM_OUTBOX_PLANNED);
    free(o.payload_owned);
    int64_t planned = -1, ready = -1;
    ASSERT_OK(tm_store_outbox_depth(s, &planned, &ready, &e));
    ASSERT_EQ(planned, 1);
    ASSERT_EQ(ready, 0);
    ASSERT_OK(tm_store_outbox_set(s, 1, TM_OUTBOX_SKIPPED, 10, "debt-paid", NULL, 0, &e));
    ASSERT_OK(tm_store_outbox_depth(s, &planned, &ready, &e));
    ASSERT_EQ(planned, 0);
    ASSERT_STR_EQ(sql_text(s, "SELECT status || ',' || blocked_by FROM outbox", v, sizeof v), "skipped,debt-paid");
    ASSERT_EQ(tm_store_outbox_set(s, 1, TM_OUTBOX_OTHER, 10, NULL, NULL, 0, &e), TM_EINVAL);
    ASSERT_OK(tm_store_outbox_get(s, 1, &o, &found, &e));
    ASSERT_EQ(o.status, TM_OUTBOX_SKIPPED);
    free(o.payload_owned);

    tm_pay_attempt a = {.key = "k1", .debt = 1, .token = "tok_x", .amount = 5, .at = 100,
                        .outcome = TM_ATTEMPT_DECLINED};
    memcpy(a.currency, "USD", 4);
    ASSERT_OK(tm_store_pay_attempt_put(s, &a, &e));
    ASSERT_STR_EQ(sql_text(s, "SELECT outcome FROM payment_attempts", v, sizeof v), "declined");
    a.outcome = TM_ATTEMPT_OTHER;
    ASSERT_EQ(tm_store_pay_attempt_put(s, &a, &e), TM_EINVAL);
    ASSERT_STR_EQ(sql_text(s, "SELECT outcome FROM payment_attempts", v, sizeof v), "declined");

    ASSERT_EQ(tm_store_consumer_put_set(s, 1, (enum tm_consumer_set)9, "x", &e), TM_EINVAL);
    ASSERT_OK(tm_store_consumer_put_set(s, 1, TM_CONSUMER_OPTOUT, "sms", &e));
    ASSERT_OK(tm_store_consumer_get_set(s, 1, TM_CONSUMER_OPTOUT, v, sizeof v, &e));
    ASSERT_STR_EQ(v, "sms");
    ASSERT_OK(tm_store_consumer_get_set(s, 1, TM_CONSUMER_FLAGS, v, sizeof v, &e));
    ASSERT_STR_EQ(v, "");
    tm_store_close(s);
}

/* Schema 11, delivery: a point marked bad stays bad only while it is the
 * point on file (a new phone or email is good again without anyone clearing
 * the mark); what the placement says about reaching the consumer is kept,
 * an absent value leaving the stored one; a contact names its message, and a
 * receipt sets the outcome of that contact only; an outbox row is found by
 * its key. */
TEST(delivery_marks_and_receipts)
{
    tm_store *s = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(":memory:", &s, &e));
    one_debt(s);
    tm_hash16 a = H(1), b = H(2);
    ASSERT_OK(tm_store_consumer_set_lookup(s, 1, TM_LOOKUP_PHONE, &a, &e));
    ASSERT_OK(tm_store_consumer_set_lookup(s, 1, TM_LOOKUP_EMAIL, &a, &e));
    tm_work_debt w;
    int found = 0;
    ASSERT_OK(tm_store_work_debt(s, 1, &w, &found, &e));
    ASSERT(found && w.has_phone && w.has_email && !w.has_address && !w.phone_bad && !w.email_bad);
    ASSERT_OK(tm_store_consumer_mark_bad(s, 1, TM_LOOKUP_PHONE, &e));
    ASSERT_OK(tm_store_work_debt(s, 1, &w, &found, &e));
    ASSERT(w.phone_bad && !w.email_bad);
    ASSERT_OK(tm_store_consumer_set_lookup(s, 1, TM_LOOKUP_PHONE, &b, &e)); /* changed */
    ASSERT_OK(tm_store_work_debt(s, 1, &w, &found, &e));
    ASSERT(!w.phone_bad);
    ASSERT_EQ(tm_store_consumer_mark_bad(s, 1, (enum tm_consumer_lookup)7, &e), TM_EINVAL);

    tm_consumer_contact c = {.has_address = 1, .consent_date = "2026-01-05", .consent_source = "web",
                             .preferred_channel = "sms"};
    ASSERT_OK(tm_store_consumer_set_contact(s, 1, &c, &e));
    tm_consumer_contact keep = {.has_address = -1, .consent_source = ""};
    ASSERT_OK(tm_store_consumer_set_contact(s, 1, &keep, &e));
    ASSERT_OK(tm_store_work_debt(s, 1, &w, &found, &e));
    ASSERT(w.has_address);
    ASSERT_STR_EQ(w.preferred_channel, "sms");
    char buf[64];
    ASSERT_STR_EQ(sql_text(s, "SELECT consent_date || '|' || consent_source FROM consumers", buf, sizeof buf),
                  "2026-01-05|web");

    ASSERT_OK(tm_store_contact_add_message(s, 1, "email", 100, "delivered", "work", NULL, "K1", &e));
    ASSERT_OK(tm_store_contact_add_message(s, 1, "email", 200, "delivered", NULL, "inbound", "K1", &e));
    int n = -1;
    ASSERT_OK(tm_store_contact_set_outcome(s, "K1", "failed", &n, &e));
    ASSERT_EQ(n, 1); /* the outbound contact, not the reply */
    ASSERT_STR_EQ(sql_text(s, "SELECT group_concat(outcome || ':' || place || ':' || direction, ' ') FROM "
                              "(SELECT * FROM contacts ORDER BY at)", buf, sizeof buf),
                  "failed:work:outbound delivered:personal:inbound");
    ASSERT_OK(tm_store_contact_set_outcome(s, "K2", "failed", &n, &e));
    ASSERT_EQ(n, 0);

    tm_outbox_rec o = {.debt = 1, .key = "D1:j:1:0", .channel = "sms", .template_id = "t", .payload = "{}",
                       .send_at = 5, .purpose = "collection", .journey_state = "s", .created_at = 5};
    ASSERT_OK(tm_store_outbox_plan(s, &o, NULL, &e));
    tm_outbox_rec got;
    ASSERT_OK(tm_store_outbox_find(s, "D1:j:1:0", &got, &found, &e));
    ASSERT(found);
    ASSERT_STR_EQ(got.channel, "sms");
    ASSERT_STR_EQ(got.debt_ref, "D1");
    ASSERT(got.id > 0);
    free(got.payload_owned);
    ASSERT_OK(tm_store_outbox_find(s, "nope", &got, &found, &e));
    ASSERT(!found);
    tm_store_close(s);
}
