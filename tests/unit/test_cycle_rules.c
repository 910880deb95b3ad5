/*
 * tests/unit/test_cycle_rules.c: blocked-by-rule lists (run, simulate's text
 * and HTML report) are listed in one order: the rule that blocked most
 * first, ties by rule id, whatever order the rules were first met in.
 */
#include "harness.h"

#include "cycle.h"

static void add(tm_cycle_stats *st, const char *rule, long n)
{
    snprintf(st->by_rule[st->nrules].rule, sizeof st->by_rule[0].rule, "%s", rule);
    st->by_rule[st->nrules++].count = n;
}

TEST(blocked_by_rule_lists_most_first_ties_by_id)
{
    tm_cycle_stats st;
    memset(&st, 0, sizeof st);
    add(&st, "US-NY/email-consent", 14);
    add(&st, "US-FED/inconvenient-time", 3);
    add(&st, "US-FED-ALL/tcpa-sms-consent", 180);
    add(&st, "US-CA/call-frequency", 14);
    add(&st, "US-AA/x", 3);
    int order[TM_CYCLE_MAX_RULES];
    tm_cycle_rules_order(&st, order);
    const char *want[] = {"US-FED-ALL/tcpa-sms-consent", "US-CA/call-frequency", "US-NY/email-consent",
                          "US-AA/x", "US-FED/inconvenient-time"};
    for (int i = 0; i < 5; i++)
        ASSERT_STR_EQ(st.by_rule[order[i]].rule, want[i]);
}

TEST(an_empty_list_is_fine)
{
    tm_cycle_stats st;
    memset(&st, 0, sizeof st);
    int order[TM_CYCLE_MAX_RULES];
    tm_cycle_rules_order(&st, order);
    ASSERT_EQ(st.nrules, 0);
}
