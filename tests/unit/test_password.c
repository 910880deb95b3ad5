/*
 * tests/unit/test_password.c: Argon2id hashes verify the password they were
 * made from and nothing else; each hash has its own salt; a new password is
 * refused when short, the name, common (in any case) or holding a control
 * character; generated passwords pass the checks.
 */
#include "harness.h"

#include "password.h"

TEST(hash_then_verify)
{
    char h1[TM_PASSWORD_HASH_CAP], h2[TM_PASSWORD_HASH_CAP];
    struct tm_err e = {0};
    ASSERT_OK(tm_password_hash("correct horse battery", h1, sizeof h1, &e));
    ASSERT_OK(tm_password_hash("correct horse battery", h2, sizeof h2, &e));
    ASSERT(strncmp(h1, "$argon2id$v=19$", 15) == 0);
    /* A salt of its own: the same password hashes differently. */
    ASSERT(strcmp(h1, h2) != 0);
    ASSERT_EQ(tm_password_verify(h1, "correct horse battery"), 1);
    ASSERT_EQ(tm_password_verify(h2, "correct horse battery"), 1);
    ASSERT_EQ(tm_password_verify(h1, "correct horse batterx"), 0);
    ASSERT_EQ(tm_password_verify(h1, "correct horse battery "), 0);
    ASSERT_EQ(tm_password_verify(h1, ""), 0);
    ASSERT_EQ(tm_password_verify("", "correct horse battery"), 0);
    ASSERT_EQ(tm_password_verify(NULL, "x"), 0);
    ASSERT_EQ(tm_password_verify("$argon2id$garbage", "correct horse battery"), 0);
}

TEST(acceptable)
{
    struct tm_err e = {0};
    ASSERT_EQ(tm_password_acceptable("short", "ann", &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "at least 12");
    ASSERT_EQ(tm_password_acceptable("annabelle-lee", "Annabelle-Lee", &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "name");
    ASSERT_EQ(tm_password_acceptable("Password1234", "ann", &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "common");
    ASSERT_EQ(tm_password_acceptable("QWERTYUIOP123", "ann", &e), TM_EINVAL);
    ASSERT_EQ(tm_password_acceptable("123456789012", "ann", &e), TM_EINVAL);
    ASSERT_EQ(tm_password_acceptable("tab\there-is-long", "ann", &e), TM_EINVAL);
    ASSERT_OK(tm_password_acceptable("violet kettle on the moor", "ann", &e));
    ASSERT_EQ(tm_password_is_common("LetMein2024"), 1);
    ASSERT_EQ(tm_password_is_common("violet kettle on the moor"), 0);
}

TEST(generated_passwords_pass)
{
    struct tm_err e = {0};
    char a[21], b[21];
    ASSERT_OK(tm_password_generate(a, 20));
    ASSERT_OK(tm_password_generate(b, 20));
    ASSERT_EQ(strlen(a), 20u);
    ASSERT(strcmp(a, b) != 0);
    ASSERT_OK(tm_password_acceptable(a, "ann", &e));
    ASSERT_EQ(tm_password_generate(a, 5), TM_EINVAL);
}
