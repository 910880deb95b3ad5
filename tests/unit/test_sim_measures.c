/*
 * tests/unit/test_sim_measures.c: the collection measures of `tallyman
 * simulate` (app/sim_measures.h) on a portfolio small enough to work out by
 * hand: the days-past-due buckets at their edges, money in minor units
 * (down to INT64_MIN), each measure's value for one strategy and for B
 * against A, the median days to resolution, and how values print.
 */
#include "harness.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_measures.h"

TEST(sim_bucket_edges)
{
    static const struct {
        int64_t dpd;
        int bucket;
    } cases[] = {{0, 0},   {1, 1},   {30, 1},  {31, 2},  {60, 2},  {61, 3},   {90, 3},
                 {91, 4},  {120, 4}, {121, 5}, {180, 5}, {181, 6}, {5000, 6}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ASSERT_EQ(tm_sim_bucket(cases[i].dpd), cases[i].bucket);
    ASSERT_STR_EQ(tm_sim_bucket_names[0], "current");
    ASSERT_STR_EQ(tm_sim_bucket_names[TM_SIM_NBUCKETS - 1], "180+");
}

TEST(sim_format_money)
{
    char b[48];
    tm_sim_format_money(b, sizeof b, 123456, 2);
    ASSERT_STR_EQ(b, "1234.56");
    tm_sim_format_money(b, sizeof b, -5, 2);
    ASSERT_STR_EQ(b, "-0.05");
    tm_sim_format_money(b, sizeof b, 7, 0);
    ASSERT_STR_EQ(b, "7");
    tm_sim_format_money(b, sizeof b, 1000, 3);
    ASSERT_STR_EQ(b, "1.000");
    tm_sim_format_money(b, sizeof b, INT64_MIN, 2);
    ASSERT_STR_EQ(b, "-92233720368547758.08");
}

/* Four debts, 100.00 placed each, over 10 days. */
static char ids[4][3] = {"D1", "D2", "D3", "D4"};
static tm_sim_debt debts[4] = {
    {.debt_id = ids[0], .placed = 10000, .start = 10000, .dpd = 0},
    {.debt_id = ids[1], .placed = 10000, .start = 10000, .dpd = 45},
    {.debt_id = ids[2], .placed = 10000, .start = 10000, .dpd = 200},
    {.debt_id = ids[3], .placed = 10000, .start = 8000, .dpd = -1},
};

static tm_simulation sim4(void)
{
    tm_simulation S;
    memset(&S, 0, sizeof S);
    S.d = debts;
    S.n = 4;
    S.exp = 2;
    S.days = 10;
    return S;
}

/* An arm's per-debt records, in arrays the test owns (resolved: the day
 * number + 1, or 0 when not resolved). */
typedef struct rec {
    int64_t collected[4], cost[4];
    int contacts[4], complaints[4], pdue[4], pkept[4], resolved[4];
    unsigned char rpc[4], optout[4], disputed[4];
} rec;

static tm_sim_arm arm_of(rec *r)
{
    tm_sim_arm A;
    memset(&A, 0, sizeof A);
    A.collected = r->collected;
    A.cost = r->cost;
    A.contacts = r->contacts;
    A.complaints = r->complaints;
    A.pdue = r->pdue;
    A.pkept = r->pkept;
    A.resolved = r->resolved;
    A.rpc = r->rpc;
    A.optout = r->optout;
    A.disputed = r->disputed;
    return A;
}

static int near(double a, double b) { return fabs(a - b) < 1e-9; }

TEST(sim_measures_of_one_strategy)
{
    tm_simulation S = sim4();
    /* D1 paid in full on day 3, D2 half, D3 nothing, D4 in full (8000) on day 5. */
    rec r = {.collected = {10000, 5000, 0, 8000},
             .cost = {1000000, 0, 2000000, 1000000}, /* millionths: 1.00, 0, 2.00, 1.00 */
             .contacts = {2, 3, 4, 1},
             .complaints = {0, 1, 0, 0},
             .pdue = {1, 1, 0, 0},
             .pkept = {1, 0, 0, 0},
             .resolved = {4, 0, 0, 6}, /* day number + 1 */
             .rpc = {1, 1, 0, 1},
             .optout = {0, 0, 1, 0}};
    tm_sim_arm A = arm_of(&r);
    tm_sim_kpi kp[TM_SIM_NKPI + 1];
    ASSERT_OK(tm_sim_measure(&S, &A, NULL, kp));
    ASSERT_STR_EQ(kp[0].name, "collected");
    ASSERT(near(kp[0].d.a, 23000)); /* a total, in minor units */
    ASSERT(near(kp[0].d.b, kp[0].d.a) && near(kp[0].d.diff, 0));
    ASSERT_EQ(kp[0].paired, 0);
    ASSERT(near(kp[1].d.a, 23000.0 / 40000)); /* recovery: of the placed balance */
    ASSERT(near(kp[2].d.a, 23000.0 / 38000)); /* liquidation: of the balance at the start */
    ASSERT(near(kp[3].d.a, 0.0));             /* cure: delinquent debts (D2, D3) paid in full */
    ASSERT(near(kp[4].d.a, 0.5));             /* paid in full: D1 and D4 */
    ASSERT(near(kp[5].d.a, 0.5));             /* promises kept: 1 of 2 due */
    ASSERT(near(kp[6].d.a, 0.75));            /* right-party contact */
    ASSERT(near(kp[7].d.a, 2.5));             /* contacts per debt */
    ASSERT(near(kp[8].d.a, 1) && near(kp[9].d.a, 1)); /* opt-outs, complaints: totals */
    ASSERT(near(kp[10].d.a, 400));            /* contact cost, minor units: 4.00 */
    ASSERT(near(kp[11].d.a, 400.0 / 23000));  /* cost to collect */
    ASSERT(near(kp[12].d.a, 5.0));            /* days to resolution, mean of 4 and 6 */
    ASSERT_STR_EQ(kp[TM_SIM_NKPI].name, "days to resolution (median)");
    ASSERT(near(kp[TM_SIM_NKPI].d.a, 5.0));
    ASSERT(isnan(kp[TM_SIM_NKPI].d.lo));
}

TEST(sim_measures_b_against_a)
{
    tm_simulation S = sim4();
    rec ra = {.collected = {10000, 5000, 0, 8000}, .resolved = {4, 0, 0, 6}};
    rec rb = {.collected = {10000, 10000, 1000, 8000}, .resolved = {2, 3, 0, 6}};
    tm_sim_arm A = arm_of(&ra), B = arm_of(&rb);
    tm_sim_kpi kp[TM_SIM_NKPI + 1];
    ASSERT_OK(tm_sim_measure(&S, &A, &B, kp));
    ASSERT_EQ(kp[0].paired, 1);
    ASSERT(near(kp[0].d.a, 23000) && near(kp[0].d.b, 29000) && near(kp[0].d.diff, 6000));
    /* The interval of a total is the per-debt interval times the debts. */
    ASSERT(kp[0].d.lo < 6000 && kp[0].d.hi > 6000);
    ASSERT(near((kp[0].d.lo + kp[0].d.hi) / 2, 6000));
    ASSERT(near(kp[4].d.b, 0.75));
    ASSERT(near(kp[TM_SIM_NKPI].d.b, 3.0)); /* median of 2, 3, 6 */
    ASSERT(near(kp[TM_SIM_NKPI].d.diff, kp[TM_SIM_NKPI].d.b - kp[TM_SIM_NKPI].d.a));
    ASSERT_EQ(kp[TM_SIM_NKPI].paired, 0);
    /* A strategy against itself differs by exactly nothing. */
    ASSERT_OK(tm_sim_measure(&S, &A, &A, kp));
    for (int k = 0; k < TM_SIM_NKPI; k++)
        ASSERT(isnan(kp[k].d.diff) || kp[k].d.diff == 0);
    ASSERT_EQ(kp[0].d.significant, 0);
}

TEST(sim_format_value)
{
    tm_simulation S = sim4();
    rec r = {.collected = {10000, 5000, 0, 8000}};
    tm_sim_arm A = arm_of(&r);
    tm_sim_kpi kp[TM_SIM_NKPI + 1];
    ASSERT_OK(tm_sim_measure(&S, &A, NULL, kp));
    char b[64];
    tm_sim_format_value(&S, b, sizeof b, kp[0].fmt, kp[0].d.a, 0); /* money */
    ASSERT_STR_EQ(b, "230.00");
    tm_sim_format_value(&S, b, sizeof b, kp[0].fmt, 1234.0, 1);
    ASSERT_STR_EQ(b, "+12.34");
    tm_sim_format_value(&S, b, sizeof b, kp[1].fmt, 0.575, 0); /* a percentage */
    ASSERT_STR_EQ(b, "57.50%");
    tm_sim_format_value(&S, b, sizeof b, kp[8].fmt, 3.0, 1); /* a count */
    ASSERT_STR_EQ(b, "+3");
    tm_sim_format_value(&S, b, sizeof b, kp[7].fmt, -0.25, 1); /* a number */
    ASSERT_STR_EQ(b, "-0.25");
    tm_sim_format_value(&S, b, sizeof b, kp[12].fmt, (double)NAN, 0);
    ASSERT_STR_EQ(b, "n/a");
}

TEST(sim_money_grouped_in_thousands)
{
    char b[64];
    tm_sim_group_thousands("1234567.89", b, sizeof b);
    ASSERT_STR_EQ(b, "1,234,567.89");
    tm_sim_group_thousands("-1000", b, sizeof b);
    ASSERT_STR_EQ(b, "-1,000");
    tm_sim_group_thousands("999.5", b, sizeof b);
    ASSERT_STR_EQ(b, "999.5");
    tm_sim_group_thousands("0.05", b, sizeof b);
    ASSERT_STR_EQ(b, "0.05");
}

TEST(sim_net_collected_after_cost_and_the_verdict)
{
    tm_simulation S = sim4();
    snprintf(S.currency, sizeof S.currency, "USD");
    /* costs in millionths of a dollar: 1.00 a debt */
    rec ra = {.collected = {10000, 5000, 0, 8000}, .cost = {1000000, 1000000, 1000000, 1000000}};
    rec rb = {.collected = {20000, 15000, 9000, 18000}, .cost = {2000000, 2000000, 2000000, 2000000}};
    tm_sim_arm A = arm_of(&ra), B = arm_of(&rb);
    tm_sim_kpi kp[TM_SIM_NKPI + 1];
    ASSERT_OK(tm_sim_measure(&S, &A, NULL, kp));
    ASSERT_STR_EQ(kp[TM_SIM_KPI_NET].name, "net collected after cost");
    ASSERT(near(kp[TM_SIM_KPI_NET].d.a, 23000 - 400)); /* a total, in minor units */
    char v[400];
    tm_sim_verdict(&S, kp, 0, v, sizeof v);
    ASSERT_STR_EQ(v, "verdict: A collects 226.00 USD net of contact cost over 10 days");
    ASSERT_OK(tm_sim_measure(&S, &A, &B, kp));
    ASSERT(near(kp[TM_SIM_KPI_NET].d.diff, (62000 - 800) - (23000 - 400)));
    ASSERT(kp[TM_SIM_KPI_NET].d.significant);
    tm_sim_verdict(&S, kp, 1, v, sizeof v);
    ASSERT_CONTAINS(v, "verdict: B is better: it collects 386.00 USD more than A net of contact cost (95% CI [");
    /* the other way round */
    ASSERT_OK(tm_sim_measure(&S, &B, &A, kp));
    tm_sim_verdict(&S, kp, 1, v, sizeof v);
    ASSERT_CONTAINS(v, "verdict: B is worse: it collects 386.00 USD less than A");
    /* the same arm twice: no difference */
    ASSERT_OK(tm_sim_measure(&S, &A, &A, kp));
    tm_sim_verdict(&S, kp, 1, v, sizeof v);
    ASSERT_CONTAINS(v, "verdict: no clear difference: B - A net of contact cost is 0.00 USD");
}
