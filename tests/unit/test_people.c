/*
 * tests/unit/test_people.c: people's credentials and sessions in the store
 * (core/store.h, "People's credentials and sessions"): a password set clears
 * failures and the lock; a TOTP step is taken once and never moved back;
 * sessions found by their hash with the person's roles, ended by logout and
 * by disabling the person; and the role table (app/access.c) agrees with the
 * store's roles: every person role of the table is one the store keeps, and
 * machine roles are refused for people.
 */
#include "harness.h"

#include <string.h>

#include "access.h"
#include "store.h"

#define H64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static tm_store *open_with(const char *name, int64_t *id)
{
    tm_store *s;
    struct tm_err e = {0};
    int added = 0;
    ASSERT_OK(tm_store_open(tm_test_store(), &s, &e));
    ASSERT_OK(tm_store_user_add(s, name, 100, id, &added, &e));
    ASSERT_OK(tm_store_user_grant(s, *id, TM_ROLE_AGENT, "root", 100, &added, &e));
    return s;
}

TEST(password_and_lock)
{
    int64_t id;
    tm_store *s = open_with("ann", &id);
    struct tm_err e = {0};
    tm_user_auth u;
    int found = 0;
    ASSERT_OK(tm_store_user_auth_get(s, "ann", &u, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(u.password_hash, "");
    ASSERT_EQ(u.totp_len, 0u);
    ASSERT_EQ(u.roles, TM_ROLE_BIT(TM_ROLE_AGENT));
    ASSERT_OK(tm_store_user_login_state(s, id, 5, 1000, 1900, 0, &e));
    ASSERT_OK(tm_store_user_auth_get(s, "ann", &u, &found, &e));
    ASSERT_EQ(u.failed, 5);
    ASSERT_EQ(u.locked_until, 1900);
    ASSERT_OK(tm_store_user_set_password(s, id, "$argon2id$x", 1200, &e));
    ASSERT_OK(tm_store_user_auth_get(s, "ann", &u, &found, &e));
    ASSERT_STR_EQ(u.password_hash, "$argon2id$x");
    ASSERT_EQ(u.failed, 0);
    ASSERT_EQ(u.locked_until, 0);
    ASSERT_OK(tm_store_user_auth_get(s, "nobody", &u, &found, &e));
    ASSERT_EQ(found, 0);
    tm_store_close(s);
}

TEST(totp_step_taken_once)
{
    int64_t id;
    tm_store *s = open_with("ann", &id);
    struct tm_err e = {0};
    uint8_t blob[40];
    memset(blob, 7, sizeof blob);
    ASSERT_OK(tm_store_user_set_totp(s, id, blob, sizeof blob, &e));
    int taken = 0;
    ASSERT_OK(tm_store_user_totp_use(s, id, 1000, &taken, &e));
    ASSERT_EQ(taken, 1);
    ASSERT_OK(tm_store_user_totp_use(s, id, 1000, &taken, &e));
    ASSERT_EQ(taken, 0);
    ASSERT_OK(tm_store_user_totp_use(s, id, 999, &taken, &e));
    ASSERT_EQ(taken, 0);
    ASSERT_OK(tm_store_user_totp_use(s, id, 1001, &taken, &e));
    ASSERT_EQ(taken, 1);
    tm_user_auth u;
    int found;
    ASSERT_OK(tm_store_user_auth_get(s, "ann", &u, &found, &e));
    ASSERT_EQ(u.totp_len, sizeof blob);
    ASSERT(memcmp(u.totp, blob, sizeof blob) == 0);
    ASSERT_EQ(u.totp_last_step, 1001);
    /* A new enrollment forgets the steps used. */
    ASSERT_OK(tm_store_user_set_totp(s, id, blob, sizeof blob, &e));
    ASSERT_OK(tm_store_user_totp_use(s, id, 5, &taken, &e));
    ASSERT_EQ(taken, 1);
    uint8_t big[300] = {0};
    ASSERT_EQ(tm_store_user_set_totp(s, id, big, sizeof big, &e), TM_EINVAL);
    tm_store_close(s);
}

TEST(sessions)
{
    int64_t id;
    tm_store *s = open_with("ann", &id);
    struct tm_err e = {0};
    ASSERT_OK(tm_store_session_add(s, H64("a"), id, H64("c"), 1000, 2000, &e));
    tm_session_rec x;
    int found = 0;
    ASSERT_OK(tm_store_session_by_hash(s, H64("a"), &x, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(x.user, "ann");
    ASSERT_STR_EQ(x.csrf_hash, H64("c"));
    ASSERT_EQ(x.roles, TM_ROLE_BIT(TM_ROLE_AGENT));
    ASSERT_EQ(x.last_seen, 1000);
    ASSERT_EQ(x.expires, 2000);
    ASSERT_EQ(x.ended, 0);
    ASSERT_OK(tm_store_session_touch(s, x.id, 1500, &e));
    ASSERT_OK(tm_store_session_touch(s, x.id, 1200, &e)); /* never back */
    ASSERT_OK(tm_store_session_by_hash(s, H64("a"), &x, &found, &e));
    ASSERT_EQ(x.last_seen, 1500);
    ASSERT_OK(tm_store_session_by_hash(s, H64("b"), &x, &found, &e));
    ASSERT_EQ(found, 0);
    /* Logout ends one session; disabling the person ends them all. */
    ASSERT_OK(tm_store_session_add(s, H64("b"), id, H64("d"), 1000, 2000, &e));
    ASSERT_OK(tm_store_session_by_hash(s, H64("a"), &x, &found, &e));
    ASSERT_OK(tm_store_session_end(s, x.id, 1600, &e));
    ASSERT_OK(tm_store_session_end(s, x.id, 1700, &e));
    ASSERT_OK(tm_store_session_by_hash(s, H64("a"), &x, &found, &e));
    ASSERT_EQ(x.ended, 1600);
    ASSERT_OK(tm_store_user_set_disabled(s, id, 1800, &e));
    ASSERT_OK(tm_store_session_by_hash(s, H64("b"), &x, &found, &e));
    ASSERT_EQ(x.ended, 1800);
    ASSERT_EQ(x.user_disabled, 1800);
    ASSERT_OK(tm_store_user_set_disabled(s, id, 0, &e));
    ASSERT_OK(tm_store_session_by_hash(s, H64("b"), &x, &found, &e));
    ASSERT_EQ(x.user_disabled, 0);
    ASSERT_EQ(x.ended, 1800); /* enabling again does not bring a session back */
    tm_store_close(s);
}

TEST(role_table_agrees_with_the_store)
{
    int people = 0;
    for (int i = 0; tm_access_role_name(i); i++) {
        const char *n = tm_access_role_name(i);
        enum tm_role r = tm_store_role_parse(n);
        if (tm_access_role_is_person(i)) {
            people++;
            /* Every role a person may hold is one the store keeps, and maps
             * to exactly this role of the table and back. */
            ASSERT_NE(r, TM_ROLE_OTHER);
            ASSERT_EQ(tm_access_of_person(TM_ROLE_BIT(r)), 1u << i);
            ASSERT_EQ(tm_access_to_person(1u << i), TM_ROLE_BIT(r));
        } else {
            unsigned out = 0;
            char bad[64];
            ASSERT_EQ(tm_access_person_roles_parse(n, &out, bad, sizeof bad), -2);
            ASSERT_STR_EQ(bad, n);
        }
    }
    ASSERT_EQ(people, TM_ROLE_OTHER);
    unsigned out = 0;
    char bad[64];
    ASSERT_EQ(tm_access_person_roles_parse("compliance,auditor", &out, bad, sizeof bad), 0);
    ASSERT_EQ(out, TM_ROLE_BIT(TM_ROLE_COMPLIANCE) | TM_ROLE_BIT(TM_ROLE_AUDITOR));
    ASSERT_EQ(tm_access_person_roles_parse("boss", &out, bad, sizeof bad), -1);
    /* Least privilege where the issue names it: an admin never approves
     * policy, an auditor never sees personal data in clear, a dialer only
     * decides. */
    tm_roles admin, auditor, dialer;
    ASSERT_EQ(tm_access_roles_parse("admin", &admin, bad, sizeof bad), 0);
    ASSERT_EQ(tm_access_roles_parse("auditor", &auditor, bad, sizeof bad), 0);
    ASSERT_EQ(tm_access_roles_parse("dialer", &dialer, bad, sizeof bad), 0);
    ASSERT_EQ(tm_access_allows(admin, TM_PERM_POLICY_APPROVE), 0);
    ASSERT_EQ(tm_access_allows(auditor, TM_PERM_PII_READ), 0);
    for (int p = 0; p < TM_PERM_COUNT; p++)
        ASSERT_EQ(tm_access_allows(dialer, (enum tm_perm)p), p == TM_PERM_DECIDE);
}
