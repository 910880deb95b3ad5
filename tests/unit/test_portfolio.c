/*
 * tests/unit/test_portfolio.c: key rotation's re-encryption (tm_portfolio_reencrypt) moves
 * every encrypted value in the store to the current key version, outbox payloads included,
 * and counts each kind. Regression for "keys rotate leaves the outbox's encrypted payloads on
 * the old key version".
 */
#include "harness.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "portfolio.h"
#include "store.h"
#include "store_int.h"

#define K1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define HK "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"

static tm_keys *keys_of(const char *text)
{
    char path[] = "/tmp/tm_portfolio.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        TM_FAIL_("cannot write a key file");
    close(fd);
    tm_keys *k = NULL;
    struct tm_err e = {0};
    if (tm_keys_load(path, &k, &e) != TM_OK)
        TM_FAIL_("load: %s", e.msg);
    unlink(path);
    return k;
}

/* One encrypted value as stored: where it is, its aad, its bytes. */
typedef struct blob {
    char where[64], aad[160];
    uint8_t *b;
    size_t n;
} blob;

/* Every encrypted value in the store: consumers' personal data, debts' attributes, and the
 * outbox payloads that have a key version (a planned row's payload is not encrypted). */
static size_t all_blobs(tm_store *s, blob *out, size_t cap)
{
    static const char sql[] =
        "SELECT 'consumer ' || id, 'consumer:' || external_id, pii FROM consumers WHERE pii IS NOT NULL "
        "UNION ALL SELECT 'debt ' || id, 'debt:' || debt_id, attributes FROM debts WHERE attributes IS NOT NULL "
        "UNION ALL SELECT 'outbox ' || id, 'outbox:' || idempotency_key, payload FROM outbox "
        "WHERE key_version IS NOT NULL";
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(tm_store_sqlite(s), sql, -1, &st, NULL), SQLITE_OK);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < cap) {
        snprintf(out[n].where, sizeof out[n].where, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(out[n].aad, sizeof out[n].aad, "%s", (const char *)sqlite3_column_text(st, 1));
        out[n].n = (size_t)sqlite3_column_bytes(st, 2);
        out[n].b = malloc(out[n].n);
        memcpy(out[n].b, sqlite3_column_blob(st, 2), out[n].n);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

static long long count(tm_store *s, const char *q)
{
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_prepare_v2(tm_store_sqlite(s), q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A ready outbox row for debt 1 whose rendered payload is encrypted under k's current key. */
static void ready_row(tm_store *s, const tm_keys *k, const char *key, const char *payload)
{
    struct tm_err e = {0};
    tm_outbox_rec o = {.key = key, .debt = 1, .channel = "email", .template_id = "t1",
                       .payload = "{}", .send_at = 1795392000, .created_at = 1795392000};
    int added = 0;
    ASSERT_OK(tm_store_outbox_plan(s, &o, &added, &e));
    ASSERT_EQ(added, 1);
    sqlite3_int64 id = sqlite3_last_insert_rowid(tm_store_sqlite(s));
    char aad[160];
    snprintf(aad, sizeof aad, "outbox:%s", key);
    uint8_t *b = NULL;
    size_t n = 0;
    ASSERT_OK(tm_keys_encrypt(k, payload, strlen(payload), aad, &b, &n, &e));
    ASSERT_OK(tm_store_outbox_ready(s, id, b, n, tm_keys_current(k), &e));
    free(b);
}

TEST(reencrypt_moves_every_kind_outbox_included)
{
    tm_keys *v1 = keys_of("v1 " K1 "\nhmac " HK "\n");
    tm_keys *v12 = keys_of("v1 " K1 "\nv2 " K2 "\nhmac " HK "\n"); /* after the rotation */
    tm_keys *v2 = keys_of("v2 " K2 "\nhmac " HK "\n");              /* v1 retired */
    tm_store *s = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(":memory:", &s, &e));
    static const char csv[] = "external_id,debt_id,first_name,state,balance,currency,tier\n"
                              "C1,D1,Zelda,MA,10.00,USD,gold\nC2,D2,Amy,TX,20.00,USD,\n"
                              "C3,D3,Bo,NY,30.00,USD,silver\n";
    FILE *in = fmemopen((void *)(uintptr_t)csv, sizeof csv - 1, "r");
    tm_import_opts o = {.name = "a.csv", .now = 1795392000};
    tm_import_stats ist;
    ASSERT_OK(tm_import_accounts(s, v1, in, &o, &ist, &e));
    fclose(in);
    ASSERT_OK(tm_store_begin(s, &e));
    ready_row(s, v1, "D1:early:1:email", "{\"text\":\"Dear Zelda Quintero, 12 Main St\"}");
    ready_row(s, v1, "D3:early:1:email", "{\"text\":\"Dear Bo\"}");
    tm_outbox_rec planned = {.key = "D2:early:1:sms", .debt = 2, .channel = "sms",
                             .template_id = "t2", .payload = "{\"offer\":1}",
                             .send_at = 1795392000, .created_at = 1795392000};
    ASSERT_OK(tm_store_outbox_plan(s, &planned, NULL, &e));
    ASSERT_OK(tm_store_commit(s, &e));

    blob before[16], after[16];
    size_t nb = all_blobs(s, before, 16);
    ASSERT_EQ(nb, 3 + 2 + 2); /* 3 consumers, 2 debts with attributes, 2 ready rows */

    tm_reencrypt_stats st = {0};
    ASSERT_OK(tm_portfolio_reencrypt(s, v12, 2, &st, &e)); /* batches of 2: several per kind */
    ASSERT_EQ(st.consumers, 3);
    ASSERT_EQ(st.debts, 2);
    ASSERT_EQ(st.outbox, 2);

    /* Nothing left on the old version, by column and by each blob's own header... */
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM consumers WHERE key_version <> 2"), 0);
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM outbox WHERE key_version IS NOT NULL AND key_version <> 2"), 0);
    size_t na = all_blobs(s, after, 16);
    ASSERT_EQ(na, nb);
    for (size_t i = 0; i < na; i++) {
        if (tm_keys_blob_version(after[i].b, after[i].n) != 2)
            TM_FAIL_("%s is still under key version %d", after[i].where,
                     tm_keys_blob_version(after[i].b, after[i].n));
        /* ...and everything decrypts without v1, to what it was. */
        char *p0 = NULL, *p1 = NULL;
        size_t l0 = 0, l1 = 0;
        ASSERT_STR_EQ(after[i].where, before[i].where);
        ASSERT_OK(tm_keys_decrypt(v1, before[i].b, before[i].n, before[i].aad, &p0, &l0, &e));
        if (tm_keys_decrypt(v2, after[i].b, after[i].n, after[i].aad, &p1, &l1, &e) != TM_OK)
            TM_FAIL_("%s does not decrypt under v2: %s", after[i].where, e.msg);
        ASSERT_EQ(l1, l0);
        ASSERT(memcmp(p0, p1, l0) == 0);
        free(p0);
        free(p1);
        free(before[i].b);
        free(after[i].b);
    }
    /* The planned row's payload is not ciphertext and is left as it is. */
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM outbox WHERE idempotency_key = 'D2:early:1:sms' AND "
                       "payload = '{\"offer\":1}' AND key_version IS NULL"),
              1);

    /* Run again: nothing is left to move. */
    ASSERT_OK(tm_portfolio_reencrypt(s, v12, 2, &st, &e));
    ASSERT_EQ(st.consumers + st.debts + st.outbox, 0);
    tm_store_close(s);
    tm_keys_free(v1);
    tm_keys_free(v12);
    tm_keys_free(v2);
}

TEST(reencrypt_names_a_value_that_does_not_decrypt)
{
    tm_keys *v1 = keys_of("v1 " K1 "\nhmac " HK "\n");
    tm_keys *v12 = keys_of("v1 " K1 "\nv2 " K2 "\nhmac " HK "\n");
    tm_store *s = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(":memory:", &s, &e));
    static const char csv[] = "external_id,debt_id,first_name,state,balance,currency\n"
                              "C1,D1,Zelda,MA,10.00,USD\n";
    FILE *in = fmemopen((void *)(uintptr_t)csv, sizeof csv - 1, "r");
    tm_import_opts o = {.name = "a.csv", .now = 1795392000};
    tm_import_stats ist;
    ASSERT_OK(tm_import_accounts(s, v1, in, &o, &ist, &e));
    fclose(in);
    ASSERT_OK(tm_store_begin(s, &e));
    ready_row(s, v1, "D1:early:1:email", "{\"text\":\"hello\"}");
    ASSERT_OK(tm_store_commit(s, &e));
    /* A payload moved to another row: its aad no longer matches. */
    char *m = NULL;
    sqlite3_exec(tm_store_sqlite(s), "UPDATE outbox SET idempotency_key = 'D1:other:1:email'", NULL,
                 NULL, &m);
    tm_reencrypt_stats st = {0};
    ASSERT_EQ(tm_portfolio_reencrypt(s, v12, 10, &st, &e), TM_ECRYPTO);
    ASSERT_CONTAINS(e.msg, "re-encrypting outbox:D1:other:1:email");
    ASSERT_EQ(st.consumers, 1); /* committed before the outbox pass */
    ASSERT_EQ(st.outbox, 0);
    ASSERT_EQ(count(s, "SELECT key_version FROM outbox"), 1); /* left as it was */
    tm_store_close(s);
    tm_keys_free(v1);
    tm_keys_free(v12);
}
