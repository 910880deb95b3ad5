/*
 * tests/unit/test_keycheck.c: a store knows its keys. Another store's key file, a newly made
 * one, or an older copy missing the current version is refused before anything is written; a
 * store from before check values adopts its own key file only when its data confirms it.
 * Regressions for "a wrong key file is used to write" (another store's key overwrote personal
 * data and broke the audit chain for good).
 */
#include "harness.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "keycheck.h"
#include "keys.h"
#include "portfolio.h"
#include "store.h"
#include "store_int.h"

/* Known keys: K1, K2 encryption keys; HA, HB two lookup keys. */
#define K1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define K9 "909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define HA "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
#define HB "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"

/* A key set from the text of a key file (written to a private file, loaded, removed). */
static tm_keys *keys_of(const char *text)
{
    char path[] = "/tmp/tm_keycheck.XXXXXX";
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

static tm_store *fresh(void)
{
    tm_store *s = NULL;
    struct tm_err e = {0};
    if (tm_store_open(tm_test_store(), &s, &e) != TM_OK)
        TM_FAIL_("open: %s", e.msg);
    return s;
}

static int check(tm_store *s, const tm_keys *k, int record, struct tm_err *e)
{
    memset(e, 0, sizeof *e);
    return tm_keycheck(s, k, "k.key", "t.db", record, 1795392000, e);
}

static long long count(tm_store *s, const char *q)
{
    return tm__store_query_int(s, q);
}

/* Accounts imported through the library, which records no check values: the store is then
 * like one written before they existed (personal data, attributes, an audit chain). */
static void import_some(tm_store *s, const tm_keys *k)
{
    static const char csv[] = "external_id,debt_id,first_name,state,balance,currency,tier\n"
                              "C1,D1,Zelda,MA,10.00,USD,gold\nC2,D2,Amy,TX,20.00,USD,\n";
    FILE *in = fmemopen((void *)(uintptr_t)csv, sizeof csv - 1, "r");
    tm_import_opts o = {.name = "a.csv", .now = 1795392000};
    tm_import_stats st;
    struct tm_err e = {0};
    if (tm_import_accounts(s, k, in, &o, &st, &e) != TM_OK || st.accepted != 2)
        TM_FAIL_("import: %s", e.msg);
    fclose(in);
}

TEST(first_use_records_the_keys)
{
    tm_store *s = fresh();
    tm_keys *a = keys_of("v1 " K1 "\nhmac " HA "\n");
    struct tm_err e;
    ASSERT_OK(check(s, a, 1, &e));
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks"), 2); /* v1 and the lookup key */
    /* The check values are not the keys, nor anything with a key's bytes in it. */
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks WHERE check_value LIKE '%0001020304%' OR "
                       "check_value LIKE '%4041424344%'"),
              0);
    ASSERT_OK(check(s, a, 1, &e)); /* and the same file is accepted again */
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks"), 2);
    tm_keys_free(a);
    tm_store_close(s);
}

TEST(another_stores_key_file_is_refused)
{
    tm_store *s = fresh();
    tm_keys *a = keys_of("v1 " K1 "\nhmac " HA "\n");
    tm_keys *b = keys_of("v1 " K9 "\nhmac " HB "\n");
    struct tm_err e;
    ASSERT_OK(check(s, a, 1, &e));
    ASSERT_EQ(check(s, b, 1, &e), TM_ECRYPTO);
    ASSERT_STR_EQ(e.msg, "key file k.key does not belong to store t.db: key version 1 does not match");
    ASSERT_EQ(check(s, b, 0, &e), TM_ECRYPTO); /* reading with it too */
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks"), 2);
    /* The same v1 with another lookup key is not the store's file either. */
    tm_keys *c = keys_of("v1 " K1 "\nhmac " HB "\n");
    ASSERT_EQ(check(s, c, 1, &e), TM_ECRYPTO);
    ASSERT_CONTAINS(e.msg, "its hmac (lookup) key does not match");
    tm_keys_free(a);
    tm_keys_free(b);
    tm_keys_free(c);
    tm_store_close(s);
}

TEST(new_versions_are_learnt_and_old_copies_refused)
{
    tm_store *s = fresh();
    tm_keys *a1 = keys_of("v1 " K1 "\nhmac " HA "\n");
    tm_keys *a2 = keys_of("v1 " K1 "\nv2 " K2 "\nhmac " HA "\n");
    tm_keys *retired = keys_of("v2 " K2 "\nhmac " HA "\n");
    struct tm_err e;
    ASSERT_OK(check(s, a1, 1, &e));
    ASSERT_OK(check(s, a2, 0, &e)); /* reading records nothing */
    ASSERT_EQ(count(s, "SELECT MAX(version) FROM key_checks"), 1);
    ASSERT_OK(check(s, a2, 1, &e)); /* the rotated file: v2 is learnt */
    ASSERT_EQ(count(s, "SELECT MAX(version) FROM key_checks"), 2);
    ASSERT_OK(check(s, retired, 1, &e)); /* v1 retired from the file: fine */
    /* A copy of the file from before the rotation would write under the old key. */
    ASSERT_EQ(check(s, a1, 1, &e), TM_ENOENT);
    ASSERT_CONTAINS(e.msg, "key file k.key lacks key version 2, which store t.db uses");
    ASSERT_OK(check(s, a1, 0, &e)); /* reading with it is fine: the audit key is the same */
    /* A second v2 that is not the store's. */
    tm_keys *other2 = keys_of("v1 " K1 "\nv2 " K9 "\nhmac " HA "\n");
    ASSERT_EQ(check(s, other2, 1, &e), TM_ECRYPTO);
    ASSERT_CONTAINS(e.msg, "key version 2 does not match");
    tm_keys_free(a1);
    tm_keys_free(a2);
    tm_keys_free(retired);
    tm_keys_free(other2);
    tm_store_close(s);
}

TEST(a_store_from_before_check_values_adopts_its_own_key_only)
{
    tm_keys *a = keys_of("v1 " K1 "\nhmac " HA "\n");
    tm_keys *b = keys_of("v1 " K9 "\nhmac " HB "\n");
    /* Same lookup key (so the audit chain verifies) but another v1: the personal data
     * written under the store's v1 does not decrypt. */
    tm_keys *mixed = keys_of("v1 " K9 "\nhmac " HA "\n");
    /* The store's keys but without the version its data uses. */
    tm_keys *older = keys_of("v1 " K1 "\nhmac " HA "\n");
    tm_keys *a2 = keys_of("v1 " K1 "\nv2 " K2 "\nhmac " HA "\n");
    tm_store *s = fresh();
    import_some(s, a2); /* data under v2 */
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks"), 0);
    struct tm_err e;
    ASSERT_EQ(check(s, b, 1, &e), TM_ECRYPTO);
    ASSERT_CONTAINS(e.msg, "its hmac (lookup) key does not match");
    ASSERT_EQ(check(s, older, 1, &e), TM_ENOENT);
    ASSERT_CONTAINS(e.msg, "lacks key version 2");
    tm_keys *mixed2 = keys_of("v1 " K1 "\nv2 " K9 "\nhmac " HA "\n");
    ASSERT_EQ(check(s, mixed2, 1, &e), TM_ECRYPTO);
    ASSERT_CONTAINS(e.msg, "key version 2 does not match");
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks"), 0); /* nothing recorded by refusals */
    ASSERT_OK(check(s, a2, 0, &e));                           /* reading records nothing */
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks"), 0);
    ASSERT_OK(check(s, a2, 1, &e));
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks"), 3); /* v1, v2, lookup key */
    tm_store_close(s);

    s = fresh();
    import_some(s, a); /* data under v1 */
    ASSERT_EQ(check(s, mixed, 1, &e), TM_ECRYPTO);
    ASSERT_CONTAINS(e.msg, "key version 1 does not match");
    ASSERT_OK(check(s, a, 1, &e));
    tm_store_close(s);
    tm_keys_free(a);
    tm_keys_free(b);
    tm_keys_free(mixed);
    tm_keys_free(mixed2);
    tm_keys_free(older);
    tm_keys_free(a2);
}

TEST(a_store_with_data_and_nothing_to_check_against_is_refused)
{
    tm_keys *a = keys_of("v1 " K1 "\nhmac " HA "\n");
    tm_store *s = fresh();
    import_some(s, a);
    struct tm_err e;
    ASSERT_OK(tm__store_exec(s, "DELETE FROM audit; DELETE FROM audit_head", &e));
    ASSERT_EQ(check(s, a, 1, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "cannot tell whether key file k.key belongs to store t.db");
    ASSERT_EQ(count(s, "SELECT COUNT(*) FROM key_checks"), 0);
    int in_use = 0;
    ASSERT_OK(tm_keycheck_store_in_use(s, &in_use, &e));
    ASSERT_EQ(in_use, 1);
    tm_store_close(s);
    s = fresh();
    ASSERT_OK(tm_keycheck_store_in_use(s, &in_use, &e));
    ASSERT_EQ(in_use, 0);
    tm_store_close(s);
    tm_keys_free(a);
}

TEST(check_values_are_pinned)
{
    /* Stored in databases, so they must never change: HMAC-SHA256 under the key of
     * "tallyman key check value v1", computed independently with Python's hmac module. */
    tm_keys *a = keys_of("v1 " K1 "\nhmac " HA "\n");
    char out[65];
    ASSERT_OK(tm_keys_check_value(a, 1, out));
    ASSERT_STR_EQ(out, "3f6836ac7b05baa5facd3e24ef9eac9d6a45548115e7c0392607abc90504712d");
    ASSERT_OK(tm_keys_check_value(a, 0, out));
    ASSERT_STR_EQ(out, "affed297eb8ee51ffcedf07583f8545999188d9898a468d1c2ba3781b219b1db");
    ASSERT_EQ(tm_keys_check_value(a, 2, out), TM_ENOENT);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(tm_keys_version_at(a, 0), 1);
    ASSERT_EQ(tm_keys_version_at(a, 1), -1);
    tm_keys_free(a);
}
