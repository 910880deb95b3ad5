/*
 * tests/unit/test_tokens.c: the service's credentials (core/store.h, "Service
 * tokens") and the role table (app/access.h): a token is found by its hash
 * only, a name is never given twice, revoking keeps the first time and says
 * when there was no such token, the last use only moves forward; each role
 * grants what the table says and nothing else, and an admin may not approve
 * policy.
 */
#include "harness.h"

#include <string.h>

#include "access.h"
#include "store.h"

static const char H1[] = "1111111111111111111111111111111111111111111111111111111111111111";
static const char H2[] = "2222222222222222222222222222222222222222222222222222222222222222";

static int count_token(void *ud, const tm_token_rec *t)
{
    (void)t;
    (*(int *)ud)++;
    return TM_OK;
}

TEST(token_found_by_hash_revoked_and_touched)
{
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(tm_test_store(), &s, &e));
    ASSERT_OK(tm_store_token_add(s, "dialer1", H1, "dialer", 100, 0, &e));
    ASSERT_EQ(tm_store_token_add(s, "dialer1", H2, "admin", 100, 0, &e), TM_EEXIST);
    ASSERT_CONTAINS(e.msg, "'dialer1' exists already");
    tm_token_rec t;
    int found = 0;
    ASSERT_OK(tm_store_token_by_hash(s, H2, &t, &found, &e));
    ASSERT_EQ(found, 0);
    ASSERT_OK(tm_store_token_by_hash(s, H1, &t, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(t.name, "dialer1");
    ASSERT_STR_EQ(t.roles, "dialer");
    ASSERT_EQ(t.created, 100);
    ASSERT_EQ(t.expires, 0);
    ASSERT_EQ(t.revoked, 0);
    ASSERT_OK(tm_store_token_touch(s, t.id, 500, &e));
    ASSERT_OK(tm_store_token_touch(s, t.id, 400, &e)); /* never moves back */
    ASSERT_OK(tm_store_token_by_hash(s, H1, &t, &found, &e));
    ASSERT_EQ(t.last_used, 500);
    ASSERT_OK(tm_store_token_revoke(s, "nope", 600, &found, &e));
    ASSERT_EQ(found, 0);
    ASSERT_OK(tm_store_token_revoke(s, "dialer1", 600, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_OK(tm_store_token_revoke(s, "dialer1", 700, &found, &e));
    ASSERT_OK(tm_store_token_by_hash(s, H1, &t, &found, &e));
    ASSERT_EQ(t.revoked, 600);
    ASSERT_OK(tm_store_token_add(s, "ops", H2, "engineer", 100, 86500, &e));
    int n = 0;
    ASSERT_OK(tm_store_token_list(s, count_token, &n, &e));
    ASSERT_EQ(n, 2);
    tm_store_close(s);
}

TEST(roles_grant_what_the_table_says)
{
    tm_roles r;
    char bad[64];
    ASSERT_EQ(tm_access_roles_parse("dialer", &r, bad, sizeof bad), 0);
    ASSERT(tm_access_allows(r, TM_PERM_DECIDE));
    for (int p = 0; p < TM_PERM_COUNT; p++)
        if (p != TM_PERM_DECIDE)
            ASSERT(!tm_access_allows(r, (enum tm_perm)p));
    ASSERT_EQ(tm_access_roles_parse("integration", &r, bad, sizeof bad), 0);
    ASSERT(tm_access_allows(r, TM_PERM_EVENTS) && tm_access_allows(r, TM_PERM_ACCOUNTS) &&
           tm_access_allows(r, TM_PERM_PAYMENTS));
    ASSERT(!tm_access_allows(r, TM_PERM_DECIDE) && !tm_access_allows(r, TM_PERM_METRICS));
    ASSERT_EQ(tm_access_roles_parse("engineer", &r, bad, sizeof bad), 0);
    ASSERT(tm_access_allows(r, TM_PERM_METRICS) && !tm_access_allows(r, TM_PERM_DECIDE));
    ASSERT_EQ(tm_access_roles_parse("admin", &r, bad, sizeof bad), 0);
    /* Never policy approval, never personal data in clear, no queue work. */
    ASSERT(!tm_access_allows(r, TM_PERM_POLICY_APPROVE) && !tm_access_allows(r, TM_PERM_PII_READ));
    ASSERT(tm_access_allows(r, TM_PERM_USERS_ADMIN));
    ASSERT_EQ(tm_access_roles_parse("auditor", &r, bad, sizeof bad), 0);
    ASSERT(tm_access_allows(r, TM_PERM_AUDIT_READ) && !tm_access_allows(r, TM_PERM_PII_READ));
    ASSERT_EQ(tm_access_roles_parse("dialer,engineer", &r, bad, sizeof bad), 0);
    ASSERT(tm_access_allows(r, TM_PERM_DECIDE) && tm_access_allows(r, TM_PERM_METRICS));
    char text[64];
    tm_access_roles_format(r, text, sizeof text);
    ASSERT_STR_EQ(text, "dialer,engineer");
    ASSERT_EQ(tm_access_roles_parse("dialer,boss", &r, bad, sizeof bad), -1);
    ASSERT_STR_EQ(bad, "boss");
    ASSERT_EQ(tm_access_roles_parse("", &r, bad, sizeof bad), -1);
}

/* A personal token and a token's own rate limit read back the same from
 * either store (SQLite and, under `make test-pg`, PostgreSQL): the person it
 * acts for, no roles of its own, a rate set, changed and cleared with 0. */
TEST(personal_token_and_rate_limit_kept)
{
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(tm_test_store(), &s, &e));
    ASSERT_OK(tm_store_token_add_person(s, "ann-laptop", H1, "ann", 100, 0, &e));
    ASSERT_EQ(tm_store_token_add_person(s, "ann-laptop", H2, "ann", 100, 0, &e), TM_EEXIST);
    ASSERT_OK(tm_store_token_add(s, "dialer1", H2, "dialer", 100, 0, &e));
    tm_token_rec t;
    int found = 0;
    ASSERT_OK(tm_store_token_by_hash(s, H1, &t, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(t.person, "ann");
    ASSERT_STR_EQ(t.roles, "");
    ASSERT(t.rate_limit == 0.0);
    ASSERT_OK(tm_store_token_set_rate(s, "ann-laptop", 2.5, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_OK(tm_store_token_by_hash(s, H1, &t, &found, &e));
    ASSERT(t.rate_limit == 2.5);
    ASSERT_OK(tm_store_token_set_rate(s, "ann-laptop", 0, &found, &e));
    ASSERT_OK(tm_store_token_by_hash(s, H1, &t, &found, &e));
    ASSERT(t.rate_limit == 0.0);
    ASSERT_OK(tm_store_token_set_rate(s, "nope", 1, &found, &e));
    ASSERT_EQ(found, 0);
    ASSERT_OK(tm_store_token_by_hash(s, H2, &t, &found, &e));
    ASSERT_STR_EQ(t.person, "");
    ASSERT_STR_EQ(t.roles, "dialer");
    tm_store_close(s);
}
