/*
 * tests/unit/test_store_govern.c: who may change what runs, in the store
 * (core/store.h, "Who may change what runs"): users and roles; a generation
 * kept whole and read back byte for byte, each text once; approvals that
 * make it approved only when every role it needs has approved; one active
 * generation; rollback stepping back along the activations, and refusing
 * when there is nothing to go back to.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

#define H(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static tm_store *open_mem(void)
{
    tm_store *s;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(tm_test_store(), &s, &e));
    return s;
}

TEST(users_and_roles)
{
    tm_store *s = open_mem();
    struct tm_err e = {0};
    int64_t n = -1, id = 0, id2 = 0;
    int added = 0, found = 0;
    ASSERT_OK(tm_store_user_count(s, &n, &e));
    ASSERT_EQ(n, 0);
    ASSERT_OK(tm_store_user_add(s, "alice", 100, &id, &added, &e));
    ASSERT_EQ(added, 1);
    ASSERT_OK(tm_store_user_add(s, "alice", 200, &id2, &added, &e));
    ASSERT_EQ(added, 0);
    ASSERT_EQ(id2, id);
    ASSERT_EQ(tm_store_user_add(s, "", 100, NULL, NULL, &e), TM_EINVAL);
    ASSERT_OK(tm_store_user_grant(s, id, TM_ROLE_COMPLIANCE, "root", 100, &added, &e));
    ASSERT_EQ(added, 1);
    ASSERT_OK(tm_store_user_grant(s, id, TM_ROLE_COMPLIANCE, "root", 100, &added, &e));
    ASSERT_EQ(added, 0);
    ASSERT_OK(tm_store_user_grant(s, id, TM_ROLE_ADMIN, "root", 100, &added, &e));
    ASSERT_EQ(tm_store_user_grant(s, id, TM_ROLE_OTHER, "root", 100, &added, &e), TM_EINVAL);
    tm_user u;
    ASSERT_OK(tm_store_user_get(s, "alice", &u, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_EQ(u.roles, TM_ROLE_BIT(TM_ROLE_COMPLIANCE) | TM_ROLE_BIT(TM_ROLE_ADMIN));
    ASSERT_EQ(u.created_at, 100);
    int removed = 0;
    ASSERT_OK(tm_store_user_revoke(s, id, TM_ROLE_ADMIN, &removed, &e));
    ASSERT_EQ(removed, 1);
    ASSERT_OK(tm_store_user_revoke(s, id, TM_ROLE_ADMIN, &removed, &e));
    ASSERT_EQ(removed, 0);
    ASSERT_OK(tm_store_user_get(s, "alice", &u, &found, &e));
    ASSERT_EQ(u.roles, TM_ROLE_BIT(TM_ROLE_COMPLIANCE));
    ASSERT_OK(tm_store_user_get(s, "bob", &u, &found, &e));
    ASSERT_EQ(found, 0);
    ASSERT_STR_EQ(tm_store_role_name(TM_ROLE_STRATEGY), "strategy");
    ASSERT_EQ(tm_store_role_parse("auditor"), TM_ROLE_AUDITOR);
    ASSERT_EQ(tm_store_role_parse("root"), TM_ROLE_OTHER);
    tm_store_close(s);
}

static int count_gen(void *ud, const tm_generation *g)
{
    (void)g;
    (*(int *)ud)++;
    return TM_OK;
}

/* Proposes a generation of two files; the second file's text is `b`. */
static int64_t propose(tm_store *s, const char *hash, const char *sha_b, const char *b,
                       unsigned needs)
{
    struct tm_err e = {0};
    tm_store_file files[2] = {
        {.path = "regulations/a.lua", .sha256 = H("a"), .text = "return 1\n", .len = 9},
        {.path = "strategies/b.lua", .sha256 = sha_b, .text = b, .len = strlen(b)},
    };
    tm_generation g = {.needs = needs, .proposed_at = 1000};
    snprintf(g.hash, sizeof g.hash, "%s", hash);
    snprintf(g.proposed_by, sizeof g.proposed_by, "alice");
    snprintf(g.source, sizeof g.source, "scripts");
    int64_t id = 0;
    ASSERT_OK(tm_store_gen_propose(s, &g, files, 2, "+ a rule", &id, &e));
    return id;
}

TEST(generation_kept_whole)
{
    tm_store *s = open_mem();
    struct tm_err e = {0};
    const unsigned both = TM_ROLE_BIT(TM_ROLE_COMPLIANCE) | TM_ROLE_BIT(TM_ROLE_STRATEGY);
    int64_t g1 = propose(s, H("1"), H("b"), "return {b = 1}\n", both);
    int64_t g2 = propose(s, H("2"), H("c"), "return {b = 2}\0tail", both);
    ASSERT(g1 > 0 && g2 > g1);
    /* The same hash again is refused by the store. */
    tm_store_file f = {.path = "x.lua", .sha256 = H("d"), .text = "", .len = 0};
    tm_generation dup = {.needs = both, .proposed_at = 1};
    snprintf(dup.hash, sizeof dup.hash, "%s", H("1"));
    snprintf(dup.proposed_by, sizeof dup.proposed_by, "bob");
    ASSERT_EQ(tm_store_gen_propose(s, &dup, &f, 1, NULL, NULL, &e), TM_ESTORE);

    tm_store_file *files = NULL;
    size_t n = 0;
    ASSERT_OK(tm_store_gen_files(s, g2, &files, &n, &e));
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(files[0].path, "regulations/a.lua");
    ASSERT_STR_EQ(files[1].sha256, H("c"));
    ASSERT_EQ(files[1].len, strlen("return {b = 2}"));
    tm_store_files_free(files, n);
    /* regulations/a.lua is kept once for both generations. */
    tm_generation g;
    int found = 0;
    ASSERT_OK(tm_store_gen_get(s, H("1"), &g, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_EQ(g.id, g1);
    ASSERT_EQ(g.status, TM_GEN_PROPOSED);
    ASSERT_EQ(g.needs, both);
    ASSERT_EQ(g.files, 2);
    ASSERT_STR_EQ(g.proposed_by, "alice");
    char *diff = NULL;
    ASSERT_OK(tm_store_gen_diff(s, g1, &diff, &e));
    ASSERT_STR_EQ(diff, "+ a rule");
    free(diff);
    /* A prefix names a generation; too short, not hex or ambiguous is refused. */
    ASSERT_OK(tm_store_gen_get(s, "2222", &g, &found, &e));
    ASSERT_EQ(g.id, g2);
    ASSERT_EQ(tm_store_gen_get(s, "22", &g, &found, &e), TM_EINVAL);
    ASSERT_EQ(tm_store_gen_get(s, "zzzz", &g, &found, &e), TM_EINVAL);
    ASSERT_OK(tm_store_gen_get(s, "3333", &g, &found, &e));
    ASSERT_EQ(found, 0);
    int count = 0;
    ASSERT_OK(tm_store_gen_list(s, count_gen, &count, &e));
    ASSERT_EQ(count, 2);
    tm_store_close(s);
}

TEST(approval_activation_and_rollback)
{
    tm_store *s = open_mem();
    struct tm_err e = {0};
    const unsigned C = TM_ROLE_BIT(TM_ROLE_COMPLIANCE), S = TM_ROLE_BIT(TM_ROLE_STRATEGY);
    int64_t g1 = propose(s, H("1"), H("b"), "b1", C | S);
    int64_t g2 = propose(s, H("2"), H("c"), "b2", S);
    int64_t g3 = propose(s, H("3"), H("d"), "b3", C);
    tm_generation g;
    int found = 0, done = 0;
    /* Not approved: not activated. */
    ASSERT_EQ(tm_store_gen_activate(s, g1, "carol", 2000, &e), TM_EINVAL);
    ASSERT_OK(tm_store_gen_approve(s, g1, "bob", C, 2000, &g, &e));
    ASSERT_EQ(g.status, TM_GEN_PROPOSED); /* the strategy role has not approved yet */
    ASSERT_EQ(g.approved, C);
    ASSERT_EQ(tm_store_gen_approve(s, g1, "bob", C, 2000, &g, &e), TM_EINVAL);
    ASSERT_EQ(tm_store_gen_approve(s, g2, "bob", C, 2000, &g, &e), TM_EINVAL); /* not needed */
    ASSERT_OK(tm_store_gen_approve(s, g1, "dan", S, 2100, &g, &e));
    ASSERT_EQ(g.status, TM_GEN_APPROVED);
    ASSERT_EQ(g.approved_at, 2100);
    ASSERT_OK(tm_store_gen_approve(s, g2, "dan", S, 2100, NULL, &e));
    ASSERT_OK(tm_store_gen_approve(s, g3, "bob", C, 2100, NULL, &e));
    ASSERT_EQ(tm_store_gen_approve(s, g3, "bob", C, 2100, NULL, &e), TM_EINVAL); /* approved */

    /* Nothing active yet, nothing to roll back. */
    ASSERT_OK(tm_store_gen_active(s, &g, &found, &e));
    ASSERT_EQ(found, 0);
    ASSERT_OK(tm_store_gen_rollback(s, "carol", 2200, &g, &done, &e));
    ASSERT_EQ(done, 0);

    ASSERT_OK(tm_store_gen_activate(s, g1, "carol", 3000, &e));
    ASSERT_EQ(tm_store_gen_activate(s, g1, "carol", 3000, &e), TM_EINVAL); /* active already */
    ASSERT_OK(tm_store_gen_rollback(s, "carol", 3050, &g, &done, &e));
    ASSERT_EQ(done, 0); /* the first activation has nothing before it */
    ASSERT_OK(tm_store_gen_activate(s, g2, "carol", 3100, &e));
    ASSERT_OK(tm_store_gen_activate(s, g3, "carol", 3200, &e));
    ASSERT_OK(tm_store_gen_active(s, &g, &found, &e));
    ASSERT_EQ(g.id, g3);
    ASSERT_STR_EQ(g.activated_by, "carol");
    ASSERT_EQ(g.activated_at, 3200);
    ASSERT_OK(tm_store_gen_get(s, H("1"), &g, &found, &e));
    ASSERT_EQ(g.status, TM_GEN_RETIRED);
    ASSERT_EQ(g.retired_at, 3100);

    /* Rolling back twice steps back twice: g3 -> g2 -> g1, then no further. */
    ASSERT_OK(tm_store_gen_rollback(s, "erin", 3300, &g, &done, &e));
    ASSERT_EQ(done, 1);
    ASSERT_EQ(g.id, g2);
    ASSERT_EQ(g.status, TM_GEN_ACTIVE);
    ASSERT_OK(tm_store_gen_rollback(s, "erin", 3400, &g, &done, &e));
    ASSERT_EQ(done, 1);
    ASSERT_EQ(g.id, g1);
    ASSERT_OK(tm_store_gen_rollback(s, "erin", 3500, &g, &done, &e));
    ASSERT_EQ(done, 0);
    ASSERT_OK(tm_store_gen_active(s, &g, &found, &e));
    ASSERT_EQ(g.id, g1);
    ASSERT_STR_EQ(g.activated_by, "erin");
    /* A retired generation was approved: it may be activated again. */
    ASSERT_OK(tm_store_gen_activate(s, g3, "carol", 3600, &e));
    ASSERT_OK(tm_store_gen_get(s, H("2"), &g, &found, &e));
    ASSERT_EQ(g.status, TM_GEN_RETIRED);
    tm_store_close(s);
}

/* What the service reads every 250 ms to follow activations: the active
 * hash alone, "" when none, following activation and rollback at once. */
TEST(active_hash_follows_activation_and_rollback)
{
    tm_store *s = open_mem();
    struct tm_err e = {0};
    const unsigned S = TM_ROLE_BIT(TM_ROLE_STRATEGY);
    int64_t g1 = propose(s, H("1"), H("b"), "b1", S);
    int64_t g2 = propose(s, H("2"), H("c"), "b2", S);
    ASSERT_OK(tm_store_gen_approve(s, g1, "dan", S, 1, NULL, &e));
    ASSERT_OK(tm_store_gen_approve(s, g2, "dan", S, 1, NULL, &e));
    char hash[65] = "x";
    int found = 1;
    ASSERT_OK(tm_store_gen_active_hash(s, hash, &found, &e));
    ASSERT_EQ(found, 0);
    ASSERT_STR_EQ(hash, "");
    ASSERT_OK(tm_store_gen_activate(s, g1, "carol", 2, &e));
    ASSERT_OK(tm_store_gen_active_hash(s, hash, &found, &e));
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(hash, H("1"));
    ASSERT_OK(tm_store_gen_activate(s, g2, "carol", 3, &e));
    ASSERT_OK(tm_store_gen_active_hash(s, hash, &found, &e));
    ASSERT_STR_EQ(hash, H("2"));
    int done = 0;
    ASSERT_OK(tm_store_gen_rollback(s, "carol", 4, NULL, &done, &e));
    ASSERT_EQ(done, 1);
    ASSERT_OK(tm_store_gen_active_hash(s, hash, &found, &e));
    ASSERT_STR_EQ(hash, H("1"));
    /* The read is the active row's index, not a scan of the table (SQLite's
     * plan; PostgreSQL's planner may rightly scan a table of two rows). */
    if (tm_store_sqlite(s)) {
        sqlite3_stmt *st = NULL;
        ASSERT(sqlite3_prepare_v2(tm_store_sqlite(s), "EXPLAIN QUERY PLAN SELECT hash FROM "
                                  "script_generations WHERE status = 'active'", -1, &st, NULL) ==
               SQLITE_OK);
        ASSERT(sqlite3_step(st) == SQLITE_ROW);
        ASSERT(strstr((const char *)sqlite3_column_text(st, 3), "script_generations_one_active"));
        sqlite3_finalize(st);
    }
    tm_store_close(s);
}

TEST(one_active_generation_enforced_by_the_schema)
{
    tm_store *s = open_mem();
    struct tm_err e = {0};
    int64_t g1 = propose(s, H("1"), H("b"), "b1", TM_ROLE_BIT(TM_ROLE_STRATEGY));
    (void)propose(s, H("2"), H("c"), "b2", TM_ROLE_BIT(TM_ROLE_STRATEGY));
    ASSERT_OK(tm_store_gen_approve(s, g1, "dan", TM_ROLE_BIT(TM_ROLE_STRATEGY), 1, NULL, &e));
    ASSERT_OK(tm_store_gen_activate(s, g1, "carol", 2, &e));
    /* A second active row is refused by the unique index, whatever writes it. */
    ASSERT(sqlite3_exec(tm_store_sqlite(s), "UPDATE script_generations SET status = 'active'",
                        NULL, NULL, NULL) != SQLITE_OK);
    tm_generation g;
    int found = 0;
    ASSERT_OK(tm_store_gen_active(s, &g, &found, &e));
    ASSERT_EQ(g.id, g1);
    tm_store_close(s);
}
