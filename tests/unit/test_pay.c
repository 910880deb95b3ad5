/*
 * tests/unit/test_pay.c: money, installment plans, settlement authority, promises to pay,
 * payment application, card/ABA checks, tokenisation, velocity and the test gateway.
 *
 * Oracles are independent of the code under test: public processor test card numbers, the
 * published ABA example 021000021, the 2026 federal holiday calendar (Thanksgiving Nov 26) and
 * hand-worked month lengths. Every rule is checked on both sides of its boundary.
 */
#include "harness.h"

#include "pay.h"

#include <unistd.h>

static tm_money M(int64_t minor, const char *cur)
{
    tm_money m = {minor, {0}};
    memcpy(m.currency, cur, 4);
    return m;
}

static tm_date D(int y, int m, int d)
{
    return (tm_date){y, m, d};
}

#define ASSERT_DATE(got, y, m, d)                                                               \
    do {                                                                                        \
        tm_date g_ = (got);                                                                     \
        if (g_.year != (y) || g_.month != (m) || g_.day != (d))                                 \
            TM_FAIL_("%s: got %04d-%02d-%02d, want %04d-%02d-%02d", #got, g_.year, g_.month,     \
                     g_.day, (y), (m), (d));                                                    \
    } while (0)

/* ---- Money ------------------------------------------------------------------------------- */

TEST(money_add_sub)
{
    tm_money r;
    struct tm_err err = {0};
    ASSERT_OK(tm_money_add(M(150, "USD"), M(275, "USD"), &r, NULL));
    ASSERT_EQ(r.minor, 425);
    ASSERT_STR_EQ(r.currency, "USD");
    ASSERT_OK(tm_money_sub(M(150, "USD"), M(275, "USD"), &r, NULL));
    ASSERT_EQ(r.minor, -125);
    ASSERT_EQ(tm_money_add(M(1, "USD"), M(1, "EUR"), &r, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "mismatch");
    ASSERT_EQ(tm_money_sub(M(1, "USD"), M(1, "EUR"), &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_add(M(1, "usd"), M(1, "usd"), &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_add(M(1, "XAU"), M(1, "XAU"), &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_add(M(1, "USD"), M(1, "USD"), NULL, NULL), TM_EINVAL);
}

TEST(money_overflow)
{
    tm_money r = M(7, "USD");
    ASSERT_OK(tm_money_add(M(INT64_MAX - 1, "USD"), M(1, "USD"), &r, NULL));
    ASSERT_EQ(r.minor, INT64_MAX);
    r = M(7, "USD");
    ASSERT_EQ(tm_money_add(M(INT64_MAX, "USD"), M(1, "USD"), &r, NULL), TM_EINVAL);
    ASSERT_EQ(r.minor, 7); /* untouched on failure */
    ASSERT_OK(tm_money_sub(M(INT64_MIN + 1, "USD"), M(1, "USD"), &r, NULL));
    ASSERT_EQ(tm_money_sub(M(INT64_MIN, "USD"), M(1, "USD"), &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_sub(M(0, "USD"), M(INT64_MIN, "USD"), &r, NULL), TM_EINVAL);
}

/* Oracle for tm_money_percent: the exact product in 128 bits, rounded half away
 * from zero by comparing twice the remainder with the divisor. */
static int64_t percent_oracle(int64_t minor, int64_t bps)
{
    __int128 p = (__int128)minor * bps;
    __int128 a = p < 0 ? -p : p;
    __int128 q = a / 10000;
    if ((a % 10000) * 2 >= 10000)
        q++;
    return (int64_t)(p < 0 ? -q : q);
}

TEST(money_percent)
{
    int64_t r = 7;
    struct tm_err err = {0};
    /* Hand-worked: 60% of 1234.56 is 740.736 -> 740.74; half a cent rounds away from zero. */
    ASSERT_OK(tm_money_percent(123456, 6000, &r, NULL));
    ASSERT_EQ(r, 74074);
    ASSERT_OK(tm_money_percent(1, 5000, &r, NULL));
    ASSERT_EQ(r, 1);
    ASSERT_OK(tm_money_percent(-1, 5000, &r, NULL));
    ASSERT_EQ(r, -1);
    ASSERT_OK(tm_money_percent(1, 4999, &r, NULL));
    ASSERT_EQ(r, 0);
    ASSERT_OK(tm_money_percent(-1, 4999, &r, NULL));
    ASSERT_EQ(r, 0);
    ASSERT_OK(tm_money_percent(500, 0, &r, NULL));
    ASSERT_EQ(r, 0);
    ASSERT_OK(tm_money_percent(500, TM_MONEY_BPS_MAX, &r, NULL));
    ASSERT_EQ(r, 50000);
    /* Against the oracle, on both sides of every rounding boundary and at the range ends. */
    const int64_t amounts[] = {0, 1, -1, 3, 9999, -9999, 10000, 12345, -12345, 99995, 1000001,
                               TM_MONEY_PERCENT_MAX, -TM_MONEY_PERCENT_MAX,
                               TM_MONEY_PERCENT_MAX - 1, 4611686018427};
    const int64_t bpss[] = {0, 1, 2, 4999, 5000, 5001, 3333, 6667, 10000, 15000, 999999,
                            TM_MONEY_BPS_MAX};
    for (size_t i = 0; i < sizeof amounts / sizeof *amounts; i++)
        for (size_t k = 0; k < sizeof bpss / sizeof *bpss; k++) {
            ASSERT_OK(tm_money_percent(amounts[i], bpss[k], &r, NULL));
            ASSERT_EQ(r, percent_oracle(amounts[i], bpss[k]));
        }
    /* Refusals leave *out alone and say which argument is out of range. */
    r = 7;
    ASSERT_EQ(tm_money_percent(100, -1, &r, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "basis points");
    ASSERT_EQ(tm_money_percent(100, TM_MONEY_BPS_MAX + 1, &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_percent(TM_MONEY_PERCENT_MAX + 1, 1, &r, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "amount");
    ASSERT_EQ(tm_money_percent(-TM_MONEY_PERCENT_MAX - 1, 1, &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_percent(INT64_MIN, 1, &r, NULL), TM_EINVAL);
    ASSERT_EQ(r, 7);
    ASSERT_EQ(tm_money_percent(1, 1, NULL, NULL), TM_EINVAL);
}

TEST(money_format)
{
    char b[TM_MONEY_FMT_MAX];
    ASSERT_OK(tm_money_format(M(123456, "USD"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "1,234.56 USD");
    ASSERT_OK(tm_money_format(M(5, "USD"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "0.05 USD");
    ASSERT_OK(tm_money_format(M(0, "USD"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "0.00 USD");
    ASSERT_OK(tm_money_format(M(-99999, "USD"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "-999.99 USD");
    ASSERT_OK(tm_money_format(M(100000, "USD"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "1,000.00 USD");
    ASSERT_OK(tm_money_format(M(1000, "JPY"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "1,000 JPY");
    ASSERT_OK(tm_money_format(M(999, "JPY"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "999 JPY");
    ASSERT_OK(tm_money_format(M(1234567, "KWD"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "1,234.567 KWD");
    ASSERT_OK(tm_money_format(M(INT64_MIN, "USD"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "-92,233,720,368,547,758.08 USD");
    ASSERT_OK(tm_money_format(M(INT64_MAX, "JPY"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "9,223,372,036,854,775,807 JPY");
    /* "1,234.56 USD" is 12 chars: 13 bytes fit, 12 do not. */
    ASSERT_OK(tm_money_format(M(123456, "USD"), b, 13, NULL));
    ASSERT_EQ(tm_money_format(M(123456, "USD"), b, 12, NULL), TM_EINVAL);
    ASSERT_STR_EQ(b, "");
    ASSERT_EQ(tm_money_format(M(1, "ZZZ"), b, sizeof b, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_format(M(1, "USD"), NULL, 10, NULL), TM_EINVAL);
}

TEST(money_parse)
{
    tm_money m;
    ASSERT_OK(tm_money_parse("1234.56", "USD", 0, &m, NULL));
    ASSERT_EQ(m.minor, 123456);
    ASSERT_STR_EQ(m.currency, "USD");
    ASSERT_OK(tm_money_parse("12.5", "USD", 0, &m, NULL));
    ASSERT_EQ(m.minor, 1250);
    ASSERT_OK(tm_money_parse("100", "JPY", 0, &m, NULL));
    ASSERT_EQ(m.minor, 100);
    ASSERT_EQ(tm_money_parse("100.0", "JPY", 0, &m, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_parse("12.345", "USD", 0, &m, NULL), TM_EINVAL);
    ASSERT_OK(tm_money_parse("12.345", "KWD", 0, &m, NULL));
    ASSERT_EQ(m.minor, 12345);
    ASSERT_EQ(tm_money_parse("-1.00", "USD", 0, &m, NULL), TM_EINVAL);
    ASSERT_OK(tm_money_parse("-1.00", "USD", TM_MONEY_ALLOW_NEGATIVE, &m, NULL));
    ASSERT_EQ(m.minor, -100);
    ASSERT_EQ(tm_money_parse("1,234.56", "USD", 0, &m, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_parse("1", "USDX", 0, &m, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_parse("1", "XXX", 0, &m, NULL), TM_EINVAL);
    ASSERT_EQ(tm_money_parse(NULL, "USD", 0, &m, NULL), TM_EINVAL);

    /* Format and parse agree (without the separators and code). */
    char b[TM_MONEY_FMT_MAX];
    ASSERT_OK(tm_money_format(M(98765, "USD"), b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "987.65 USD");
    b[6] = '\0';
    ASSERT_OK(tm_money_parse(b, "USD", 0, &m, NULL));
    ASSERT_EQ(m.minor, 98765);
}

/* ---- Installment plans ------------------------------------------------------------------- */

static tm_pay_installment I(int y, int m, int d, int64_t minor)
{
    tm_pay_installment i = {D(y, m, d), M(minor, "USD")};
    return i;
}

TEST(plan_check_fields)
{
    struct tm_err err = {0};
    tm_pay_installment ok[] = {I(2026, 1, 1, 500), I(2026, 2, 1, 500)};
    ASSERT_OK(tm_pay_plan_check(M(1000, "USD"), ok, 2, &err));
    /* A plan tm_pay_plan made passes its own check. */
    tm_pay_installment made[TM_PAY_PLAN_MAX];
    ASSERT_OK(tm_pay_plan(M(100001, "USD"), 7, TM_PAY_MONTHLY, D(2026, 1, 31), 1, made,
                          TM_PAY_PLAN_MAX, NULL));
    ASSERT_OK(tm_pay_plan_check(M(100001, "USD"), made, 7, NULL));
    ASSERT_EQ(tm_pay_plan_check(M(1001, "USD"), ok, 2, &err), TM_EINVAL);
    ASSERT_STR_EQ(err.msg, "installments: add up to 10.00 USD, not the total 10.01 USD");
    ASSERT_EQ(tm_pay_plan_check(M(0, "USD"), ok, 2, &err), TM_EINVAL);
    ASSERT_STR_EQ(err.msg, "total: must be more than zero");
    ASSERT_EQ(tm_pay_plan_check(M(1000, "USD"), NULL, 0, &err), TM_EINVAL);
    ASSERT_STR_EQ(err.msg, "installments: 0 installments, expected 1 to 120");
    ASSERT_EQ(tm_pay_plan_check(M(1000, "USD"), NULL, TM_PAY_PLAN_MAX + 1, &err), TM_EINVAL);
    ASSERT_STR_EQ(err.msg, "installments: 121 installments, expected 1 to 120");
    tm_pay_installment zero[] = {I(2026, 1, 1, 1000), I(2026, 2, 1, 0)};
    ASSERT_EQ(tm_pay_plan_check(M(1000, "USD"), zero, 2, &err), TM_EINVAL);
    ASSERT_STR_EQ(err.msg, "installments[2].amount: must be more than zero");
    tm_pay_installment same[] = {I(2026, 1, 1, 500), I(2026, 1, 1, 500)};
    ASSERT_EQ(tm_pay_plan_check(M(1000, "USD"), same, 2, &err), TM_EINVAL);
    ASSERT_STR_EQ(err.msg, "installments[2].due: 2026-01-01 is not after the installment before");
    tm_pay_installment big[] = {I(2026, 1, 1, INT64_MAX), I(2026, 2, 1, 1)};
    ASSERT_EQ(tm_pay_plan_check(M(1000, "USD"), big, 2, &err), TM_EINVAL);
    ASSERT_STR_EQ(err.msg, "installments[2].amount: the sum overflows");
    ASSERT_EQ(tm_pay_plan_check(M(1000, "usd"), ok, 2, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "currency");
    ASSERT_EQ(tm_pay_plan_check(M(1000, "USD"), NULL, 2, NULL), TM_EINVAL);
}

TEST(plan_sums_exactly)
{
    tm_pay_installment p[TM_PAY_PLAN_MAX];
    for (int64_t total = 1; total <= 10000; total++) {
        for (int count = 1; count <= 24; count++) {
            if (tm_pay_plan(M(total, "USD"), count, TM_PAY_MONTHLY, D(2026, 1, 15), 0, p,
                            TM_PAY_PLAN_MAX, NULL) != TM_OK)
                TM_FAIL_("plan %lld / %d failed", (long long)total, count);
            int64_t sum = 0;
            for (int i = 0; i < count; i++) {
                sum += p[i].amount.minor;
                /* Even split, remainder only on the last one. */
                int64_t want = total / count + (i == count - 1 ? total % count : 0);
                if (p[i].amount.minor != want)
                    TM_FAIL_("plan %lld / %d: #%d is %lld", (long long)total, count, i,
                             (long long)p[i].amount.minor);
            }
            if (sum != total)
                TM_FAIL_("plan %lld / %d sums to %lld", (long long)total, count, (long long)sum);
        }
    }
    /* Large totals and the maximum count. */
    ASSERT_OK(tm_pay_plan(M(INT64_MAX, "USD"), 120, TM_PAY_WEEKLY, D(2026, 1, 5), 0, p,
                          TM_PAY_PLAN_MAX, NULL));
    int64_t sum = 0;
    for (int i = 0; i < 120; i++)
        ASSERT(!__builtin_add_overflow(sum, p[i].amount.minor, &sum));
    ASSERT_EQ(sum, INT64_MAX);
    ASSERT_STR_EQ(p[119].amount.currency, "USD");
}

TEST(plan_remainder_on_last)
{
    tm_pay_installment p[3];
    ASSERT_OK(tm_pay_plan(M(1000, "USD"), 3, TM_PAY_WEEKLY, D(2026, 3, 2), 0, p, 3, NULL));
    ASSERT_EQ(p[0].amount.minor, 333);
    ASSERT_EQ(p[1].amount.minor, 333);
    ASSERT_EQ(p[2].amount.minor, 334);
    /* Fewer minor units than installments: leading zeros, everything on the last. */
    ASSERT_OK(tm_pay_plan(M(2, "USD"), 3, TM_PAY_WEEKLY, D(2026, 3, 2), 0, p, 3, NULL));
    ASSERT_EQ(p[0].amount.minor, 0);
    ASSERT_EQ(p[2].amount.minor, 2);
}

TEST(plan_validation)
{
    tm_pay_installment p[TM_PAY_PLAN_MAX + 1];
    tm_date first = D(2026, 3, 2);
    struct tm_err err = {0};
    ASSERT_OK(tm_pay_plan(M(100, "USD"), 1, TM_PAY_WEEKLY, first, 0, p, 1, NULL));
    ASSERT_OK(tm_pay_plan(M(1000, "USD"), 120, TM_PAY_MONTHLY, first, 0, p, 120, NULL));
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 0, TM_PAY_WEEKLY, first, 0, p, 121, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "1..120");
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 121, TM_PAY_WEEKLY, first, 0, p, 121, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 5, TM_PAY_WEEKLY, first, 0, p, 4, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(0, "USD"), 1, TM_PAY_WEEKLY, first, 0, p, 1, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(-5, "USD"), 1, TM_PAY_WEEKLY, first, 0, p, 1, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 1, 0, first, 0, p, 1, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 1, 4, first, 0, p, 1, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 1, TM_PAY_WEEKLY, first, 2, p, 1, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 1, TM_PAY_WEEKLY, D(2026, 2, 29), 0, p, 1, NULL),
              TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(100, "BAD"), 1, TM_PAY_WEEKLY, first, 0, p, 1, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 1, TM_PAY_WEEKLY, first, 0, NULL, 1, NULL), TM_EINVAL);
    /* A plan running past 9999 fails and leaves out untouched. */
    p[0].amount.minor = 42;
    ASSERT_EQ(tm_pay_plan(M(100, "USD"), 3, TM_PAY_MONTHLY, D(9999, 11, 1), 0, p, 3, NULL),
              TM_EINVAL);
    ASSERT_EQ(p[0].amount.minor, 42);
    ASSERT_OK(tm_pay_plan(M(100, "USD"), 2, TM_PAY_MONTHLY, D(9999, 11, 1), 0, p, 3, NULL));
}

TEST(plan_weekly_biweekly_dates)
{
    tm_pay_installment p[4];
    ASSERT_OK(tm_pay_plan(M(400, "USD"), 4, TM_PAY_WEEKLY, D(2026, 12, 17), 0, p, 4, NULL));
    ASSERT_DATE(p[0].due, 2026, 12, 17);
    ASSERT_DATE(p[1].due, 2026, 12, 24);
    ASSERT_DATE(p[2].due, 2026, 12, 31);
    ASSERT_DATE(p[3].due, 2027, 1, 7);
    ASSERT_OK(tm_pay_plan(M(400, "USD"), 3, TM_PAY_BIWEEKLY, D(2026, 2, 20), 0, p, 4, NULL));
    ASSERT_DATE(p[1].due, 2026, 3, 6);
    ASSERT_DATE(p[2].due, 2026, 3, 20);
}

TEST(plan_monthly_month_end_anchor)
{
    tm_pay_installment p[13];
    ASSERT_OK(tm_pay_plan(M(1300, "USD"), 13, TM_PAY_MONTHLY, D(2024, 1, 31), 0, p, 13, NULL));
    ASSERT_DATE(p[0].due, 2024, 1, 31);
    ASSERT_DATE(p[1].due, 2024, 2, 29); /* leap year */
    ASSERT_DATE(p[2].due, 2024, 3, 31); /* back to the anchor */
    ASSERT_DATE(p[3].due, 2024, 4, 30);
    ASSERT_DATE(p[4].due, 2024, 5, 31);
    ASSERT_DATE(p[11].due, 2024, 12, 31);
    ASSERT_DATE(p[12].due, 2025, 1, 31);
    ASSERT_OK(tm_pay_plan(M(300, "USD"), 3, TM_PAY_MONTHLY, D(2026, 1, 31), 0, p, 13, NULL));
    ASSERT_DATE(p[1].due, 2026, 2, 28);
    ASSERT_DATE(p[2].due, 2026, 3, 31);
    ASSERT_OK(tm_pay_plan(M(300, "USD"), 3, TM_PAY_MONTHLY, D(2026, 11, 30), 0, p, 13, NULL));
    ASSERT_DATE(p[1].due, 2026, 12, 30);
    ASSERT_DATE(p[2].due, 2027, 1, 30);
    ASSERT_OK(tm_pay_plan(M(300, "USD"), 3, TM_PAY_MONTHLY, D(2026, 5, 15), 0, p, 13, NULL));
    ASSERT_DATE(p[1].due, 2026, 6, 15);
    ASSERT_DATE(p[2].due, 2026, 7, 15);
}

TEST(plan_business_day_adjust)
{
    tm_pay_installment p[3];
    /* Thursday 2026-11-19 weekly: 11-26 is Thanksgiving, moved to Friday 11-27; the next
     * date stays on its Thursday. */
    ASSERT_OK(tm_pay_plan(M(300, "USD"), 3, TM_PAY_WEEKLY, D(2026, 11, 19), 1, p, 3, NULL));
    ASSERT_DATE(p[0].due, 2026, 11, 19);
    ASSERT_DATE(p[1].due, 2026, 11, 27);
    ASSERT_DATE(p[2].due, 2026, 12, 3);
    /* Without adjustment the holiday stays. */
    ASSERT_OK(tm_pay_plan(M(300, "USD"), 3, TM_PAY_WEEKLY, D(2026, 11, 19), 0, p, 3, NULL));
    ASSERT_DATE(p[1].due, 2026, 11, 26);
    /* Weekends: Saturday 2026-11-21 moves to Monday 11-23. */
    ASSERT_OK(tm_pay_plan(M(300, "USD"), 1, TM_PAY_WEEKLY, D(2026, 11, 21), 1, p, 3, NULL));
    ASSERT_DATE(p[0].due, 2026, 11, 23);
    /* Monthly on the 31st with adjustment: Sat 2026-01-31 -> Mon 02-02, Sat 02-28 -> Mon 03-02,
     * and March still returns to Tuesday 03-31 (the anchor is not moved). */
    ASSERT_OK(tm_pay_plan(M(300, "USD"), 3, TM_PAY_MONTHLY, D(2026, 1, 31), 1, p, 3, NULL));
    ASSERT_DATE(p[0].due, 2026, 2, 2);
    ASSERT_DATE(p[1].due, 2026, 3, 2);
    ASSERT_DATE(p[2].due, 2026, 3, 31);
    /* Christmas Friday 2026-12-25 -> Monday 12-28. */
    ASSERT_OK(tm_pay_plan(M(300, "USD"), 1, TM_PAY_MONTHLY, D(2026, 12, 25), 1, p, 3, NULL));
    ASSERT_DATE(p[0].due, 2026, 12, 28);
    /* Business-day rules need years 1971-9999. */
    ASSERT_EQ(tm_pay_plan(M(300, "USD"), 1, TM_PAY_WEEKLY, D(1960, 1, 4), 0, p, 3, NULL),
              TM_EINVAL);
}

/* ---- Settlement authority ---------------------------------------------------------------- */

static const tm_pay_settle_rule rules[] = {
    {TM_PAY_ROLE_AGENT, NULL, NULL, 7000},      /* agents: 70% */
    {TM_PAY_ROLE_SUPERVISOR, NULL, NULL, 5000}, /* supervisors: 50% */
    {TM_PAY_ROLE_ANY, "NY", NULL, 6000},        /* New York debts: at least 60% for anyone */
    {TM_PAY_ROLE_AGENT, NULL, "acme", 8000},    /* creditor acme: agents 80% */
    {TM_PAY_ROLE_SUPERVISOR, "CA", "acme", 5500},
};

static tm_pay_settle_limits L(const char *state, const char *creditor)
{
    return (tm_pay_settle_limits){rules, sizeof rules / sizeof rules[0], state, creditor, 0};
}

TEST(settlement_minimum_boundary)
{
    tm_pay_settle_limits lim = L("MA", "other");
    tm_pay_decision d;
    /* Agent, 70% of 1000.00 = 700.00 exactly: allowed; 699.99: needs an override. */
    ASSERT_OK(tm_pay_settlement_check(M(100000, "USD"), M(70000, "USD"), &lim, TM_PAY_ROLE_AGENT,
                                      0, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
    ASSERT_EQ(d.overridden, 0);
    ASSERT_EQ(d.min_bps, 7000);
    ASSERT_OK(tm_pay_settlement_check(M(100000, "USD"), M(69999, "USD"), &lim, TM_PAY_ROLE_AGENT,
                                      0, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_NEEDS_OVERRIDE);
    ASSERT_CONTAINS(d.reason, "override");
    /* Non-round balance: 70% of 333 = 233.1 cents; 234 meets it, 233 does not. */
    ASSERT_OK(tm_pay_settlement_check(M(333, "USD"), M(234, "USD"), &lim, TM_PAY_ROLE_AGENT, 0,
                                      &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
    ASSERT_OK(tm_pay_settlement_check(M(333, "USD"), M(233, "USD"), &lim, TM_PAY_ROLE_AGENT, 0,
                                      &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_NEEDS_OVERRIDE);
    /* Huge balances do not overflow: 70% of INT64_MAX. */
    int64_t big = INT64_MAX;
    int64_t need = (int64_t)((__int128)big * 7000 / 10000) + 1; /* ceil, as 7000*big % 10000 != 0 */
    ASSERT_OK(tm_pay_settlement_check(M(big, "USD"), M(need, "USD"), &lim, TM_PAY_ROLE_AGENT, 0,
                                      &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
    ASSERT_OK(tm_pay_settlement_check(M(big, "USD"), M(need - 1, "USD"), &lim, TM_PAY_ROLE_AGENT,
                                      0, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_NEEDS_OVERRIDE);
    /* An offer above the balance is fine. */
    ASSERT_OK(tm_pay_settlement_check(M(100, "USD"), M(150, "USD"), &lim, TM_PAY_ROLE_AGENT, 0,
                                      &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
}

TEST(settlement_strictest_rule)
{
    tm_pay_decision d;
    tm_pay_settle_limits ny = L("NY", NULL);
    /* Supervisor in NY: max(50%, 60%) = 60%. */
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(6000, "USD"), &ny,
                                      TM_PAY_ROLE_SUPERVISOR, 0, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
    ASSERT_EQ(d.min_bps, 6000);
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(5999, "USD"), &ny,
                                      TM_PAY_ROLE_SUPERVISOR, 0, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_NEEDS_OVERRIDE);
    /* Agent on an acme debt: 80%, the creditor rule beats the role rule. */
    tm_pay_settle_limits acme = L("MA", "acme");
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(7999, "USD"), &acme, TM_PAY_ROLE_AGENT,
                                      0, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_NEEDS_OVERRIDE);
    ASSERT_EQ(d.min_bps, 8000);
    /* The CA+acme rule needs both fields to match. */
    tm_pay_settle_limits ca_acme = L("CA", "acme"), ca = L("CA", "zeta");
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(5000, "USD"), &ca_acme,
                                      TM_PAY_ROLE_SUPERVISOR, 0, &d, NULL));
    ASSERT_EQ(d.min_bps, 5500);
    ASSERT_EQ(d.verdict, TM_PAY_NEEDS_OVERRIDE);
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(5000, "USD"), &ca,
                                      TM_PAY_ROLE_SUPERVISOR, 0, &d, NULL));
    ASSERT_EQ(d.min_bps, 5000);
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
    /* An unknown debt state does not match a state rule. */
    tm_pay_settle_limits none = L(NULL, NULL);
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(5000, "USD"), &none,
                                      TM_PAY_ROLE_SUPERVISOR, 0, &d, NULL));
    ASSERT_EQ(d.min_bps, 5000);
    /* A role without any rule has no authority. */
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(10000, "USD"), &none,
                                      TM_PAY_ROLE_MANAGER, 0, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_REFUSED);
    ASSERT_EQ(d.min_bps, -1);
    ASSERT_CONTAINS(d.reason, "no settlement authority");
}

TEST(settlement_override_only_supervisor)
{
    tm_pay_settle_limits lim = L("MA", NULL);
    tm_pay_decision d;
    /* A supervisor below their 50% minimum with an override: allowed, flagged for audit. */
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(4000, "USD"), &lim,
                                      TM_PAY_ROLE_SUPERVISOR, 1, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
    ASSERT_EQ(d.overridden, 1);
    ASSERT_CONTAINS(d.reason, "override");
    /* The override flag is not set when the offer met the minimum anyway. */
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(5000, "USD"), &lim,
                                      TM_PAY_ROLE_SUPERVISOR, 1, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
    ASSERT_EQ(d.overridden, 0);
    /* An agent cannot override; nor can a manager. */
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(6000, "USD"), &lim, TM_PAY_ROLE_AGENT,
                                      1, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_REFUSED);
    ASSERT_EQ(d.overridden, 0);
    ASSERT_CONTAINS(d.reason, "only a supervisor");
    tm_pay_settle_rule mgr[] = {{TM_PAY_ROLE_MANAGER, NULL, NULL, 9000}};
    tm_pay_settle_limits ml = {mgr, 1, NULL, NULL, 0};
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(6000, "USD"), &ml, TM_PAY_ROLE_MANAGER,
                                      1, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_REFUSED);
    /* The hard floor holds even against an override: 30% floor, 29.99% refused, 30% allowed. */
    lim.floor_bps = 3000;
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(2999, "USD"), &lim,
                                      TM_PAY_ROLE_SUPERVISOR, 1, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_REFUSED);
    ASSERT_EQ(d.overridden, 0);
    ASSERT_CONTAINS(d.reason, "floor");
    ASSERT_OK(tm_pay_settlement_check(M(10000, "USD"), M(3000, "USD"), &lim,
                                      TM_PAY_ROLE_SUPERVISOR, 1, &d, NULL));
    ASSERT_EQ(d.verdict, TM_PAY_ALLOWED);
    ASSERT_EQ(d.overridden, 1);
}

TEST(settlement_validation)
{
    tm_pay_settle_limits lim = L("MA", NULL);
    tm_pay_decision d;
    ASSERT_EQ(tm_pay_settlement_check(M(0, "USD"), M(1, "USD"), &lim, 0, 0, &d, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(0, "USD"), &lim, 0, 0, &d, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(5, "EUR"), &lim, 0, 0, &d, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(5, "USD"), &lim, 0, 2, &d, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(5, "USD"), NULL, 0, 0, &d, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(5, "USD"), &lim, 0, 0, NULL, NULL),
              TM_EINVAL);
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(5, "USD"), &lim, TM_PAY_ROLE_ANY, 0, &d,
                                      NULL), TM_EINVAL);
    tm_pay_settle_rule bad[] = {{TM_PAY_ROLE_AGENT, NULL, NULL, 10001}};
    tm_pay_settle_limits bl = {bad, 1, NULL, NULL, 0};
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(5, "USD"), &bl, 0, 0, &d, NULL), TM_EINVAL);
    tm_pay_settle_limits nl = {NULL, 1, NULL, NULL, 0};
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(5, "USD"), &nl, 0, 0, &d, NULL), TM_EINVAL);
    lim.floor_bps = -1;
    ASSERT_EQ(tm_pay_settlement_check(M(10, "USD"), M(5, "USD"), &lim, 0, 0, &d, NULL), TM_EINVAL);
}

/* ---- Promises to pay --------------------------------------------------------------------- */

TEST(promise_states_at_grace_boundary)
{
    /* 100.00 due 2026-12-01 with 3 grace days: the deadline is 12-04. */
    tm_pay_promise pr = {M(10000, "USD"), D(2026, 12, 1), 3};
    int st;
    int64_t paid;
    /* No payment: open through 12-04, broken from 12-05. */
    ASSERT_OK(tm_pay_promise_status(&pr, NULL, 0, D(2026, 12, 4), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_OPEN);
    ASSERT_OK(tm_pay_promise_status(&pr, NULL, 0, D(2026, 12, 5), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_BROKEN);
    ASSERT_EQ(paid, 0);

    /* Paid in full on the last grace day: kept. One day later: does not count. */
    tm_pay_payment on_time[] = {{M(10000, "USD"), D(2026, 12, 4)}};
    ASSERT_OK(tm_pay_promise_status(&pr, on_time, 1, D(2026, 12, 4), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_KEPT);
    ASSERT_OK(tm_pay_promise_status(&pr, on_time, 1, D(2027, 1, 1), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_KEPT);
    tm_pay_payment late[] = {{M(10000, "USD"), D(2026, 12, 5)}};
    ASSERT_OK(tm_pay_promise_status(&pr, late, 1, D(2026, 12, 5), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_BROKEN);
    ASSERT_EQ(paid, 0);

    /* Split payments summing to the amount: kept; one cent short: partially kept after the
     * grace, still open within it. */
    tm_pay_payment split[] = {{M(4000, "USD"), D(2026, 11, 20)}, {M(6000, "USD"), D(2026, 12, 2)}};
    ASSERT_OK(tm_pay_promise_status(&pr, split, 2, D(2026, 12, 10), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_KEPT);
    ASSERT_EQ(paid, 10000);
    tm_pay_payment short_[] = {{M(4000, "USD"), D(2026, 11, 20)}, {M(5999, "USD"), D(2026, 12, 4)}};
    ASSERT_OK(tm_pay_promise_status(&pr, short_, 2, D(2026, 12, 4), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_OPEN);
    ASSERT_OK(tm_pay_promise_status(&pr, short_, 2, D(2026, 12, 5), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_PARTIALLY_KEPT);
    ASSERT_EQ(paid, 9999);

    /* Kept early, before the due date. */
    tm_pay_payment early[] = {{M(10000, "USD"), D(2026, 11, 2)}};
    ASSERT_OK(tm_pay_promise_status(&pr, early, 1, D(2026, 11, 2), &st, NULL, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_KEPT);
    /* A payment dated after today has not happened yet. */
    ASSERT_OK(tm_pay_promise_status(&pr, on_time, 1, D(2026, 12, 3), &st, &paid, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_OPEN);
    ASSERT_EQ(paid, 0);

    /* Zero grace: the due date itself is the deadline. */
    tm_pay_promise pr0 = {M(500, "USD"), D(2026, 12, 31), 0};
    ASSERT_OK(tm_pay_promise_status(&pr0, NULL, 0, D(2026, 12, 31), &st, NULL, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_OPEN);
    ASSERT_OK(tm_pay_promise_status(&pr0, NULL, 0, D(2027, 1, 1), &st, NULL, NULL));
    ASSERT_EQ(st, TM_PAY_PROMISE_BROKEN);
}

TEST(promise_validation)
{
    tm_pay_promise pr = {M(10000, "USD"), D(2026, 12, 1), 3};
    int st;
    tm_pay_payment eur[] = {{M(100, "EUR"), D(2026, 12, 1)}};
    tm_pay_payment neg[] = {{M(-100, "USD"), D(2026, 12, 1)}};
    tm_pay_payment baddate[] = {{M(100, "USD"), D(2026, 2, 30)}};
    ASSERT_EQ(tm_pay_promise_status(&pr, eur, 1, D(2026, 12, 1), &st, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_promise_status(&pr, neg, 1, D(2026, 12, 1), &st, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_promise_status(&pr, baddate, 1, D(2026, 12, 1), &st, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_promise_status(&pr, NULL, 1, D(2026, 12, 1), &st, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_promise_status(&pr, NULL, 0, D(2026, 12, 1), NULL, NULL, NULL), TM_EINVAL);
    pr.grace_days = -1;
    ASSERT_EQ(tm_pay_promise_status(&pr, NULL, 0, D(2026, 12, 1), &st, NULL, NULL), TM_EINVAL);
    pr.grace_days = 0;
    pr.amount.minor = 0;
    ASSERT_EQ(tm_pay_promise_status(&pr, NULL, 0, D(2026, 12, 1), &st, NULL, NULL), TM_EINVAL);
    tm_pay_promise big = {M(INT64_MAX, "USD"), D(2026, 12, 1), 0};
    tm_pay_payment two[] = {{M(INT64_MAX, "USD"), D(2026, 11, 1)}, {M(1, "USD"), D(2026, 11, 1)}};
    ASSERT_EQ(tm_pay_promise_status(&big, two, 2, D(2026, 12, 1), &st, NULL, NULL), TM_EINVAL);
}

/* ---- Payment application ----------------------------------------------------------------- */

TEST(apply_order)
{
    tm_pay_buckets in = {1000, 2000, 50000}, out;
    int64_t over = -1;
    /* Covers fees only partly. */
    ASSERT_OK(tm_pay_apply(M(600, "USD"), &in, &out, &over, NULL));
    ASSERT_EQ(out.fees, 400);
    ASSERT_EQ(out.interest, 2000);
    ASSERT_EQ(out.principal, 50000);
    ASSERT_EQ(over, 0);
    /* Fees exactly, then one cent into interest. */
    ASSERT_OK(tm_pay_apply(M(1000, "USD"), &in, &out, &over, NULL));
    ASSERT_EQ(out.fees, 0);
    ASSERT_EQ(out.interest, 2000);
    ASSERT_OK(tm_pay_apply(M(1001, "USD"), &in, &out, &over, NULL));
    ASSERT_EQ(out.interest, 1999);
    ASSERT_EQ(out.principal, 50000);
    /* Fees and interest, then principal. */
    ASSERT_OK(tm_pay_apply(M(3500, "USD"), &in, &out, &over, NULL));
    ASSERT_EQ(out.fees, 0);
    ASSERT_EQ(out.interest, 0);
    ASSERT_EQ(out.principal, 49500);
    ASSERT_EQ(over, 0);
    /* Exactly everything, then one cent more. */
    ASSERT_OK(tm_pay_apply(M(53000, "USD"), &in, &out, &over, NULL));
    ASSERT_EQ(out.principal, 0);
    ASSERT_EQ(over, 0);
    ASSERT_OK(tm_pay_apply(M(53001, "USD"), &in, &out, &over, NULL));
    ASSERT_EQ(out.principal, 0);
    ASSERT_EQ(over, 1);
    /* In place, and zero. */
    tm_pay_buckets b = {5, 5, 5};
    ASSERT_OK(tm_pay_apply(M(7, "USD"), &b, &b, NULL, NULL));
    ASSERT_EQ(b.fees, 0);
    ASSERT_EQ(b.interest, 3);
    ASSERT_OK(tm_pay_apply(M(0, "USD"), &b, &b, &over, NULL));
    ASSERT_EQ(b.interest, 3);
    ASSERT_EQ(over, 0);
}

TEST(apply_validation)
{
    tm_pay_buckets in = {1, 1, 1}, out = {9, 9, 9};
    ASSERT_EQ(tm_pay_apply(M(-1, "USD"), &in, &out, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(out.fees, 9);
    tm_pay_buckets neg = {0, -1, 0};
    ASSERT_EQ(tm_pay_apply(M(1, "USD"), &neg, &out, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_apply(M(1, "QQQ"), &in, &out, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_apply(M(1, "USD"), NULL, &out, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_apply(M(1, "USD"), &in, NULL, NULL, NULL), TM_EINVAL);
}

/* ---- Instrument checks ------------------------------------------------------------------- */

TEST(luhn)
{
    ASSERT(tm_pay_luhn_valid("4242424242424242"));
    ASSERT(!tm_pay_luhn_valid("4242424242424241"));
    ASSERT(tm_pay_luhn_valid("79927398713"));
    ASSERT(!tm_pay_luhn_valid("79927398710"));
    ASSERT(tm_pay_luhn_valid("0"));
    ASSERT(!tm_pay_luhn_valid(""));
    ASSERT(!tm_pay_luhn_valid(NULL));
    ASSERT(!tm_pay_luhn_valid("4242 4242"));
}

TEST(card_known_test_numbers)
{
    static const struct {
        const char *pan;
        int brand;
    } ok[] = {
        {"4242424242424242", TM_PAY_BRAND_VISA},
        {"4000056655665556", TM_PAY_BRAND_VISA},
        {"4222222222222", TM_PAY_BRAND_VISA},
        {"378282246310005", TM_PAY_BRAND_AMEX},
        {"371449635398431", TM_PAY_BRAND_AMEX},
        {"6011111111111117", TM_PAY_BRAND_DISCOVER},
        {"5555555555554444", TM_PAY_BRAND_MASTERCARD},
        {"2223003122003222", TM_PAY_BRAND_MASTERCARD},
        {"4242 4242 4242 4242", TM_PAY_BRAND_VISA},
        {"3782-822463-10005", TM_PAY_BRAND_AMEX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int brand = -1;
        struct tm_err err = {0};
        if (tm_pay_card_check(ok[i].pan, &brand, &err) != TM_OK)
            TM_FAIL_("case %zu refused: %s", i, err.msg);
        ASSERT_EQ(brand, ok[i].brand);
    }
    int brand = -1;
    struct tm_err err = {0};
    ASSERT_EQ(tm_pay_card_check("4242424242424241", &brand, &err), TM_EINVAL);
    ASSERT_EQ(brand, TM_PAY_BRAND_UNKNOWN);
    ASSERT_CONTAINS(err.msg, "Luhn");
    /* Reasons never quote the number. */
    ASSERT(strstr(err.msg, "4242") == NULL);
    ASSERT_EQ(tm_pay_card_check("378282246310006", &brand, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_card_check("4242.4242.4242.4242", &brand, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_card_check("4242a42424242424", &brand, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_card_check("", &brand, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_card_check(NULL, &brand, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_card_check("42424242424242424242", &brand, NULL), TM_EINVAL); /* 20 */
    ASSERT_OK(tm_pay_card_check("4242424242424242", NULL, NULL));
    ASSERT_STR_EQ(tm_pay_brand_name(TM_PAY_BRAND_MASTERCARD), "mastercard");
    ASSERT_STR_EQ(tm_pay_brand_name(99), "unknown");
    ASSERT_STR_EQ(tm_pay_brand_name(-1), "unknown");
}

/* Builds a Luhn-valid number of `len` digits starting with `prefix`, zero-padded. */
static void make_card(const char *prefix, int len, char out[32])
{
    int n = (int)strlen(prefix);
    memcpy(out, prefix, (size_t)n);
    for (int i = n; i < len - 1; i++)
        out[i] = '0';
    for (char c = '0'; c <= '9'; c++) {
        out[len - 1] = c;
        out[len] = '\0';
        if (tm_pay_luhn_valid(out))
            return;
    }
    TM_FAIL_("no check digit for %s", prefix);
}

static int brand_of(const char *prefix, int len)
{
    char pan[32];
    make_card(prefix, len, pan);
    int brand = -1;
    if (tm_pay_card_check(pan, &brand, NULL) != TM_OK)
        return TM_PAY_BRAND_UNKNOWN;
    return brand;
}

TEST(card_brand_ranges_and_lengths)
{
    /* Visa: 13/16/19 only. */
    ASSERT_EQ(brand_of("4", 13), TM_PAY_BRAND_VISA);
    ASSERT_EQ(brand_of("4", 16), TM_PAY_BRAND_VISA);
    ASSERT_EQ(brand_of("4", 19), TM_PAY_BRAND_VISA);
    ASSERT_EQ(brand_of("4", 15), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("4", 12), TM_PAY_BRAND_UNKNOWN);
    /* Mastercard: 51-55, 2221-2720, 16 digits. */
    ASSERT_EQ(brand_of("50", 16), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("51", 16), TM_PAY_BRAND_MASTERCARD);
    ASSERT_EQ(brand_of("55", 16), TM_PAY_BRAND_MASTERCARD);
    ASSERT_EQ(brand_of("56", 16), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("55", 19), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("2220", 16), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("2221", 16), TM_PAY_BRAND_MASTERCARD);
    ASSERT_EQ(brand_of("2720", 16), TM_PAY_BRAND_MASTERCARD);
    ASSERT_EQ(brand_of("2721", 16), TM_PAY_BRAND_UNKNOWN);
    /* Amex: 34/37, 15 digits. */
    ASSERT_EQ(brand_of("34", 15), TM_PAY_BRAND_AMEX);
    ASSERT_EQ(brand_of("37", 15), TM_PAY_BRAND_AMEX);
    ASSERT_EQ(brand_of("35", 15), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("34", 16), TM_PAY_BRAND_UNKNOWN);
    /* Discover: 6011, 622126-622925, 644-649, 65; 16 or 19 digits. */
    ASSERT_EQ(brand_of("6011", 16), TM_PAY_BRAND_DISCOVER);
    ASSERT_EQ(brand_of("6011", 19), TM_PAY_BRAND_DISCOVER);
    ASSERT_EQ(brand_of("6011", 15), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("6012", 16), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("622125", 16), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("622126", 16), TM_PAY_BRAND_DISCOVER);
    ASSERT_EQ(brand_of("622925", 16), TM_PAY_BRAND_DISCOVER);
    ASSERT_EQ(brand_of("622926", 16), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("643", 16), TM_PAY_BRAND_UNKNOWN);
    ASSERT_EQ(brand_of("644", 16), TM_PAY_BRAND_DISCOVER);
    ASSERT_EQ(brand_of("649", 16), TM_PAY_BRAND_DISCOVER);
    ASSERT_EQ(brand_of("65", 16), TM_PAY_BRAND_DISCOVER);
    ASSERT_EQ(brand_of("66", 16), TM_PAY_BRAND_UNKNOWN);
}

TEST(aba)
{
    struct tm_err err = {0};
    ASSERT_OK(tm_pay_aba_check("021000021", NULL)); /* JPMorgan Chase, NY */
    ASSERT_OK(tm_pay_aba_check("011000015", NULL)); /* Federal Reserve Bank of Boston */
    ASSERT_EQ(tm_pay_aba_check("021000022", &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "checksum");
    ASSERT_EQ(tm_pay_aba_check("02100002", NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_aba_check("0210000210", NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_aba_check("02100002a", NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_aba_check("", NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_aba_check(NULL, NULL), TM_EINVAL);
}

/* ---- Tokenisation ------------------------------------------------------------------------ */

static tm_keys *test_keys(char dir[64])
{
    snprintf(dir, 64, "/tmp/tm_pay.XXXXXX");
    if (!mkdtemp(dir))
        TM_FAIL_("mkdtemp failed");
    char path[96];
    snprintf(path, sizeof path, "%s/k.key", dir);
    tm_keys *k = NULL;
    struct tm_err err = {0};
    if (tm_keys_create(path, &k, &err) != TM_OK)
        TM_FAIL_("tm_keys_create: %s", err.msg);
    unlink(path);
    rmdir(dir);
    return k;
}

TEST(tokenize_deterministic_and_pan_free)
{
    char dir[64];
    tm_keys *k = test_keys(dir);
    char t1[TM_PAY_TOKEN_LEN], t2[TM_PAY_TOKEN_LEN], t3[TM_PAY_TOKEN_LEN];
    ASSERT_OK(tm_pay_tokenize(k, "4242424242424242", t1, NULL));
    ASSERT_OK(tm_pay_tokenize(k, "4242 4242 4242 4242", t2, NULL));
    ASSERT_STR_EQ(t1, t2); /* same card, same token, separators or not */
    ASSERT_EQ(strlen(t1), 4 + 24 + 1 + 4 + 1 + 4);
    ASSERT(strncmp(t1, "tok_", 4) == 0);
    for (int i = 4; i < 28; i++)
        ASSERT((t1[i] >= '0' && t1[i] <= '9') || (t1[i] >= 'a' && t1[i] <= 'f'));
    ASSERT_STR_EQ(t1 + 28, "_4242_visa");
    ASSERT(strstr(t1, "4242424242424242") == NULL);
    ASSERT(strstr(t1, "424242424242") == NULL); /* not even the first twelve */

    /* Another card differs; brand and last four come through. */
    ASSERT_OK(tm_pay_tokenize(k, "5555555555554444", t3, NULL));
    ASSERT(strcmp(t1, t3) != 0);
    ASSERT_CONTAINS(t3, "_4444_mastercard");
    ASSERT_OK(tm_pay_tokenize(k, "378282246310005", t3, NULL));
    ASSERT_CONTAINS(t3, "_0005_amex");
    ASSERT_OK(tm_pay_tokenize(k, "6011111111111117", t3, NULL));
    ASSERT_CONTAINS(t3, "_1117_discover");

    /* The id is the keyed lookup hash of the tagged PAN and the mac the keyed hash of the
     * token's other parts, so another key set differs. */
    char want[TM_KEYS_HASH_HEX_LEN + 1];
    ASSERT_OK(tm_keys_lookup_hash(k, "pan:4242424242424242", want));
    ASSERT(strncmp(t1 + 4, want, 12) == 0);
    char macin[64];
    snprintf(macin, sizeof macin, "tok:%.12s_4242_visa", want);
    ASSERT_OK(tm_keys_lookup_hash(k, macin, want));
    ASSERT(strncmp(t1 + 16, want, 12) == 0);
    char dir2[64];
    tm_keys *k2 = test_keys(dir2);
    ASSERT_OK(tm_pay_tokenize(k2, "4242424242424242", t2, NULL));
    ASSERT(strcmp(t1, t2) != 0);
    ASSERT_STR_EQ(t2 + 28, "_4242_visa");

    /* Refusals leave "" and do not quote the number. */
    struct tm_err err = {0};
    strcpy(t3, "junk");
    ASSERT_EQ(tm_pay_tokenize(k, "4242424242424241", t3, &err), TM_EINVAL);
    ASSERT_STR_EQ(t3, "");
    ASSERT(strstr(err.msg, "4242") == NULL);
    ASSERT_EQ(tm_pay_tokenize(NULL, "4242424242424242", t3, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_tokenize(k, NULL, t3, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_tokenize(k, "4242424242424242", NULL, NULL), TM_EINVAL);
    tm_keys_free(k);
    tm_keys_free(k2);
}

/* Only tokens this key file issued pass: the card number in "tok_<PAN>", a path, markup or
 * a token with one changed character (or from another key file) are refused, and the reason
 * never quotes what was given. */
TEST(token_check_accepts_only_issued_tokens)
{
    char dir[64], dir2[64];
    tm_keys *k = test_keys(dir), *k2 = test_keys(dir2);
    char t[TM_PAY_TOKEN_LEN], other[TM_PAY_TOKEN_LEN];
    ASSERT_OK(tm_pay_tokenize(k, "4111111111111111", t, NULL));
    ASSERT_OK(tm_pay_token_check(k, t, NULL));
    ASSERT_OK(tm_pay_tokenize(k, "378282246310005", other, NULL));
    ASSERT_OK(tm_pay_token_check(k, other, NULL));
    ASSERT_OK(tm_pay_tokenize(k2, "4111111111111111", other, NULL));
    struct tm_err err = {0};
    ASSERT_EQ(tm_pay_token_check(k, other, &err), TM_EINVAL); /* another key file's */
    ASSERT_CONTAINS(err.msg, "not a token this engine issued");
    static const char *const bad[] = {
        "tok_4111111111111111", "tok_", "tok_../../x_1111_visa", "tok_<script>_1111_visa",
        "", "tok_000000000000000000000000_1111_visa", "TOK_0123456789abcdef01234567_1111_visa",
        "tok_0123456789ABCDEF01234567_1111_visa", "tok_0123456789abcdef01234567_11a1_visa",
        "tok_0123456789abcdef01234567_1111_diners", "tok_0123456789abcdef01234567_1111_visa_",
        "tok_0123456789abcdef0123456_1111_visa", "tok_0123456789abcdef012345678_1111_visa",
        NULL};
    for (int i = 0; bad[i]; i++) {
        memset(&err, 0, sizeof err);
        ASSERT_EQ(tm_pay_token_check(k, bad[i], &err), TM_EINVAL);
        ASSERT(strstr(err.msg, "4111") == NULL);
        ASSERT(strstr(err.msg, "script") == NULL);
    }
    /* Each character of a real token matters. */
    for (size_t i = 4; i < strlen(t); i++) {
        char m[TM_PAY_TOKEN_LEN];
        memcpy(m, t, sizeof m);
        m[i] = m[i] == '0' ? '1' : '0';
        ASSERT_EQ(tm_pay_token_check(k, m, NULL), TM_EINVAL);
    }
    ASSERT_EQ(tm_pay_token_check(NULL, t, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_token_check(k, NULL, NULL), TM_EINVAL);
    tm_keys_free(k);
    tm_keys_free(k2);
}

static int holds(const char *s)
{
    return tm_pay_holds_card_number(s, strlen(s));
}

/* A card number is found wherever it stands in a text, whole or grouped; digit strings that
 * are not one (failed Luhn, too short or long, zero-filled, other separators) are left be. */
TEST(holds_card_number)
{
    ASSERT_EQ(holds("4111111111111111"), 1);
    ASSERT_EQ(holds("4111 1111 1111 1111"), 1);
    ASSERT_EQ(holds("4111-1111-1111-1111"), 1);
    ASSERT_EQ(holds("tok_4111111111111111"), 1);
    ASSERT_EQ(holds("my card is 4111 1111 1111 1111, exp 12 27"), 1);
    ASSERT_EQ(holds("4111 1111 1111 1111 123"), 1);        /* the CVV after it */
    ASSERT_EQ(holds("1 4111 1111 1111 1111"), 1);          /* a digit before it */
    ASSERT_EQ(holds("378282246310005"), 1);                /* 15 digits (Amex) */
    ASSERT_EQ(holds("4222222222222"), 1);                  /* 13 digits */
    ASSERT_EQ(holds("6011000990139424"), 1);
    ASSERT_EQ(holds("x5555555555554444y"), 1);
    ASSERT_EQ(holds("9999999999999999998"), 1);            /* 19 digits, Luhn, no brand */
    ASSERT_EQ(holds("4111111111111112"), 0);               /* Luhn fails */
    ASSERT_EQ(holds("411111111111"), 0);                   /* 12 digits */
    ASSERT_EQ(holds("41111111111111110000"), 0);           /* one run of 20 digits */
    ASSERT_EQ(holds("0000000000000000"), 0);               /* zero-filled */
    ASSERT_EQ(holds("4111  1111  1111  1111"), 0);         /* two spaces end a run */
    ASSERT_EQ(holds("4111.1111.1111.1111"), 0);
    ASSERT_EQ(holds("+16175550101"), 0);
    ASSERT_EQ(holds("2026-11-23T15:00:00Z"), 0);
    ASSERT_EQ(holds("1234.56"), 0);
    ASSERT_EQ(holds(""), 0);
    ASSERT_EQ(tm_pay_holds_card_number(NULL, 5), 0);
    /* Only the bytes given are read. */
    ASSERT_EQ(tm_pay_holds_card_number("4111111111111111", 15), 0);
    /* Every card number the tests use elsewhere is found, in each spelling. */
    static const char *const pans[] = {"4242424242424242", "5555555555554444", "2223003122003222",
                                       "6011111111111117", "4000056655665556", NULL};
    for (int i = 0; pans[i]; i++) {
        char spaced[40];
        snprintf(spaced, sizeof spaced, "%.4s %.4s %.4s %.4s", pans[i], pans[i] + 4, pans[i] + 8,
                 pans[i] + 12);
        ASSERT_EQ(holds(pans[i]), 1);
        ASSERT_EQ(holds(spaced), 1);
    }
}

/* Luhn-valid 16-digit Visa numbers from a counter, for making many tokens. */
static void nth_card(long n, char out[24])
{
    snprintf(out, 24, "4%014ld", n % 100000000000000L);
    for (int c = 0; c < 10; c++) {
        out[15] = (char)('0' + c);
        out[16] = '\0';
        if (tm_pay_luhn_valid(out))
            return;
    }
}

/* A token's hash is hex: now and then its digits read as a card number. Such a token is still
 * the engine's own: in the field that carries it, it is taken, not refused as a card number. */
TEST(issued_token_is_not_a_card_number_in_its_field)
{
    char dir[64];
    tm_keys *k = test_keys(dir);
    char t[TM_PAY_TOKEN_LEN], card[24];
    long n = 0, found = 0;
    for (; n < 200000 && !found; n++) {
        nth_card(n, card);
        ASSERT_OK(tm_pay_tokenize(k, card, t, NULL));
        found = tm_pay_holds_card_number(t, strlen(t));
    }
    ASSERT(found);
    ASSERT_OK(tm_pay_token_check(k, t, NULL));
    char line[200], path[64];
    snprintf(line, sizeof line, "{\"key\":\"k\",\"token\":\"%s\"}", t);
    tm_jtok toks[16];
    tm_json j;
    ASSERT_OK(tm_json_scan(line, strlen(line), toks, 16, &j, NULL));
    static const char *const plain[] = {"card_number", NULL};
    static const char *const with_token[] = {"card_number", "token", NULL};
    ASSERT_EQ(tm_pay_json_find_card_number(&j, plain, path, sizeof path), 1);
    ASSERT_STR_EQ(path, "token");
    ASSERT_EQ(tm_pay_json_find_card_number(&j, with_token, path, sizeof path), 0);
    tm_keys_free(k);
}

/* ---- Fraud velocity ---------------------------------------------------------------------- */

TEST(velocity_token_limit_and_window)
{
    tm_pay_velocity *v = NULL;
    ASSERT_OK(tm_pay_velocity_new(3, 0, 3600, &v, NULL));
    int hit = -1;
    const int64_t t0 = 1000000;
    /* N = 3 attempts in the hour are allowed, the 4th is refused. */
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "debt1", t0 + i * 60, &hit, NULL));
        ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    }
    ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "debt1", t0 + 600, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_TOKEN);
    /* Another token is counted separately. */
    ASSERT_OK(tm_pay_velocity_check(v, "tok_b", "debt1", t0 + 600, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    /* One second before the first attempt is an hour old it still counts ... */
    ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "debt1", t0 + 3599, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_TOKEN);
    /* ... and exactly an hour later it has expired, freeing one slot (refused attempts were
     * not recorded). */
    ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "debt1", t0 + 3600, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "debt1", t0 + 3600, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_TOKEN);
    /* Long after, the window is empty again. */
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "debt1", t0 + 100000, &hit, NULL));
        ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    }
    ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "debt1", t0 + 100000, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_TOKEN);
    tm_pay_velocity_free(v);
}

TEST(velocity_debt_limit)
{
    tm_pay_velocity *v = NULL;
    ASSERT_OK(tm_pay_velocity_new(10, 2, 3600, &v, NULL));
    int hit = -1;
    /* Two different cards on one debt: allowed; a third card: the debt rule. */
    ASSERT_OK(tm_pay_velocity_check(v, "tok_1", "D1", 0, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    ASSERT_OK(tm_pay_velocity_check(v, "tok_2", "D1", 1, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    ASSERT_OK(tm_pay_velocity_check(v, "tok_3", "D1", 2, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_DEBT);
    /* Another debt is fine, and the refused attempt did not count against tok_3. */
    ASSERT_OK(tm_pay_velocity_check(v, "tok_3", "D2", 3, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    ASSERT_OK(tm_pay_velocity_check(v, "tok_3", "D1", 3600, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    /* Both rules hit: the token rule is reported. */
    tm_pay_velocity *w = NULL;
    ASSERT_OK(tm_pay_velocity_new(1, 1, 60, &w, NULL));
    ASSERT_OK(tm_pay_velocity_check(w, "t", "d", 0, &hit, NULL));
    ASSERT_OK(tm_pay_velocity_check(w, "t", "d", 1, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_TOKEN);
    /* Many keys exercise growth of the attempt array. */
    for (int i = 0; i < 500; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        ASSERT_OK(tm_pay_velocity_check(w, key, key, 10, &hit, NULL));
        ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    }
    tm_pay_velocity_free(v);
    tm_pay_velocity_free(w);
}

/* The attempts that count are those in the window before the checked time, whatever order
 * the times come in and whatever today's date is: an attempt recorded after `now` does not
 * count, and a counter re-seeded with recorded attempts judges as if they had been checked. */
TEST(velocity_counts_the_window_before_each_time)
{
    tm_pay_velocity *v = NULL;
    ASSERT_OK(tm_pay_velocity_new(2, 0, 3600, &v, NULL));
    int hit = -1;
    const int64_t t0 = 1795000000; /* 2026-11-18 */
    ASSERT_OK(tm_pay_velocity_record(v, "tok_a", "D1", t0, NULL));
    ASSERT_OK(tm_pay_velocity_record(v, "tok_a", "D1", t0 + 60, NULL));
    /* Limit reached within the window ... */
    ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "D1", t0 + 120, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_TOKEN);
    /* ... but not before the second attempt was made. */
    tm_pay_velocity_clear(v);
    ASSERT_OK(tm_pay_velocity_record(v, "tok_a", "D1", t0, NULL));
    ASSERT_OK(tm_pay_velocity_record(v, "tok_a", "D1", t0 + 60, NULL));
    ASSERT_OK(tm_pay_velocity_check(v, "tok_a", "D1", t0 + 30, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    /* Recording counts even past a limit: a limit reached in the past stays reached. */
    tm_pay_velocity_clear(v);
    for (int i = 0; i < 5; i++)
        ASSERT_OK(tm_pay_velocity_record(v, "tok_b", "D2", t0 + i, NULL));
    ASSERT_OK(tm_pay_velocity_check(v, "tok_b", "D9", t0 + 10, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_TOKEN);
    /* A year later (or earlier) the same attempts judge the same way at the same times. */
    ASSERT_OK(tm_pay_velocity_check(v, "tok_b", "D9", t0 + 3599, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_TOKEN);
    tm_pay_velocity_clear(v);
    ASSERT_OK(tm_pay_velocity_check(v, "tok_b", "D9", t0 + 10, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    struct tm_err err = {0};
    ASSERT_EQ(tm_pay_velocity_record(v, "", "D1", t0, &err), TM_EINVAL);
    ASSERT_EQ(tm_pay_velocity_record(NULL, "t", "D1", t0, &err), TM_EINVAL);
    tm_pay_velocity_clear(NULL);
    tm_pay_velocity_free(v);
}

TEST(velocity_validation)
{
    tm_pay_velocity *v = NULL;
    int hit;
    ASSERT_EQ(tm_pay_velocity_new(-1, 1, 3600, &v, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_velocity_new(1, 1, 0, &v, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_velocity_new(1, 1, 1, NULL, NULL), TM_EINVAL);
    ASSERT_OK(tm_pay_velocity_new(1, 1, 3600, &v, NULL));
    char longkey[TM_PAY_VELOCITY_KEY_MAX + 2];
    memset(longkey, 'x', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    ASSERT_EQ(tm_pay_velocity_check(v, longkey, "d", 0, &hit, NULL), TM_EINVAL);
    longkey[TM_PAY_VELOCITY_KEY_MAX] = '\0';
    ASSERT_OK(tm_pay_velocity_check(v, longkey, "d", 0, &hit, NULL));
    ASSERT_EQ(tm_pay_velocity_check(v, "", "d", 0, &hit, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_velocity_check(v, "t", NULL, 0, &hit, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_velocity_check(v, "t", "d", 0, NULL, NULL), TM_EINVAL);
    /* Extreme clock values do not overflow. */
    ASSERT_OK(tm_pay_velocity_check(v, "t2", "d2", INT64_MIN, &hit, NULL));
    ASSERT_EQ(hit, TM_PAY_VELOCITY_OK);
    tm_pay_velocity_free(v);
    tm_pay_velocity_free(NULL);
}

/* ---- Gateways ---------------------------------------------------------------------------- */

TEST(test_gateway_rules)
{
    tm_pay_gateway gw;
    ASSERT_OK(tm_pay_test_gateway(&gw, NULL));
    tm_pay_result r;
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(1000, "USD"), "k1", &r, NULL));
    ASSERT_EQ(r.outcome, TM_PAY_APPROVED);
    ASSERT_STR_EQ(r.reason, "");
    ASSERT_STR_EQ(r.reference, "test_1");
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(1001, "USD"), "k2", &r, NULL));
    ASSERT_EQ(r.outcome, TM_PAY_DECLINED);
    ASSERT_CONTAINS(r.reason, "declined");
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(1002, "USD"), "k3", &r, NULL));
    ASSERT_EQ(r.outcome, TM_PAY_TIMEOUT);
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(1003, "USD"), "k4", &r, NULL));
    ASSERT_EQ(r.outcome, TM_PAY_APPROVED);
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(10101, "USD"), "k5", &r, NULL)); /* 101.01 */
    ASSERT_EQ(r.outcome, TM_PAY_DECLINED);
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(110, "USD"), "k6", &r, NULL)); /* 1.10 */
    ASSERT_EQ(r.outcome, TM_PAY_APPROVED);
    ASSERT_EQ(tm_pay_test_gateway_attempts(&gw), 6);
    tm_pay_test_gateway_free(&gw);
    ASSERT(gw.ud == NULL);
    tm_pay_test_gateway_free(&gw);
}

TEST(test_gateway_idempotency)
{
    tm_pay_gateway gw;
    ASSERT_OK(tm_pay_test_gateway(&gw, NULL));
    tm_pay_result r1, r2;
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(5000, "USD"), "idem-1", &r1, NULL));
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(5000, "USD"), "idem-1", &r2, NULL));
    ASSERT_EQ(r2.outcome, r1.outcome);
    ASSERT_STR_EQ(r2.reference, r1.reference);
    ASSERT_EQ(tm_pay_test_gateway_attempts(&gw), 1);
    /* A timeout replays as the same timeout, not a fresh attempt. */
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(5002, "USD"), "idem-2", &r1, NULL));
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(5002, "USD"), "idem-2", &r2, NULL));
    ASSERT_EQ(r2.outcome, TM_PAY_TIMEOUT);
    ASSERT_STR_EQ(r2.reference, r1.reference);
    ASSERT_EQ(tm_pay_test_gateway_attempts(&gw), 2);
    /* The same key with another amount, token or currency is refused. */
    struct tm_err err = {0};
    ASSERT_EQ(tm_pay_charge(&gw, "tok_x", M(5001, "USD"), "idem-1", &r1, &err), TM_EEXIST);
    ASSERT_CONTAINS(err.msg, "gateway");
    ASSERT_EQ(tm_pay_charge(&gw, "tok_y", M(5000, "USD"), "idem-1", &r1, NULL), TM_EEXIST);
    ASSERT_EQ(tm_pay_charge(&gw, "tok_x", M(5000, "EUR"), "idem-1", &r1, NULL), TM_EEXIST);
    /* A new key is a new attempt. */
    ASSERT_OK(tm_pay_charge(&gw, "tok_x", M(5000, "USD"), "idem-3", &r2, NULL));
    ASSERT(strcmp(r2.reference, "test_3") == 0);
    ASSERT_EQ(tm_pay_test_gateway_attempts(&gw), 3);
    tm_pay_test_gateway_free(&gw);
}

TEST(charge_validation)
{
    tm_pay_gateway gw;
    ASSERT_OK(tm_pay_test_gateway(&gw, NULL));
    tm_pay_result r;
    ASSERT_EQ(tm_pay_charge(&gw, "tok", M(0, "USD"), "k", &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_charge(&gw, "tok", M(-5, "USD"), "k", &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_charge(&gw, "tok", M(5, "ABC"), "k", &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_charge(&gw, "", M(5, "USD"), "k", &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_charge(&gw, "tok", M(5, "USD"), "", &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_charge(&gw, NULL, M(5, "USD"), "k", &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_charge(NULL, "tok", M(5, "USD"), "k", &r, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_charge(&gw, "tok", M(5, "USD"), "k", NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_pay_test_gateway_attempts(&gw), 0);
    tm_pay_gateway other = {0};
    ASSERT_EQ(tm_pay_test_gateway_attempts(&other), -1);
    ASSERT_EQ(tm_pay_test_gateway(NULL, NULL), TM_EINVAL);
    tm_pay_test_gateway_free(&gw);
}
