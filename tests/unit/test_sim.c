/*
 * tests/unit/test_sim.c: the consumer-response model (core/sim.h): reproducible draws, common
 * random numbers, parameter-file errors naming the field, costs, and the paired interval.
 */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "sim.h"

static tm_sim_contact contact(const char *debt, const char *channel, int64_t day)
{
    return (tm_sim_contact){.debt_id = debt, .channel = channel, .day = day, .local_hour = 18,
                            .ptp = 0.6, .balance = 100000, .recent = 0};
}

/* Many contacts' answers, folded into one number per field, to compare runs. */
static void outcomes(uint64_t seed, long out[5])
{
    tm_sim_world w;
    tm_sim_world_defaults(&w);
    memset(out, 0, 5 * sizeof *out);
    char id[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "D%06d", i);
        tm_sim_contact c = contact(id, i % 2 ? "call" : "sms", 20000 + i % 30);
        tm_sim_response r;
        tm_sim_respond(&w, seed, &c, &r);
        out[0] += r.right_party;
        out[1] += (long)(r.pay % 1000003);
        out[2] += r.promise_days;
        out[3] += r.optout + r.complaint;
        out[4] += r.delay_s;
    }
}

TEST(same_seed_same_outcomes)
{
    long a[5], b[5];
    outcomes(42, a);
    outcomes(42, b);
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(a[i], b[i]);
    ASSERT(a[0] > 0); /* someone answered */
    ASSERT(a[1] > 0); /* someone paid */
}

TEST(different_seed_differs)
{
    long a[5], b[5];
    outcomes(42, a);
    outcomes(43, b);
    ASSERT(a[0] != b[0] || a[1] != b[1] || a[4] != b[4]);
    ASSERT(tm_sim_draw(1, "D1", 5, "sms", "pay") != tm_sim_draw(2, "D1", 5, "sms", "pay"));
}

TEST(draws_are_uniform_enough)
{
    double sum = 0;
    int low = 0;
    for (int i = 0; i < 10000; i++) {
        double u = tm_sim_draw(9, "D", i, "sms", "answer");
        ASSERT(u >= 0 && u < 1);
        sum += u;
        low += u < 0.1;
    }
    ASSERT(fabs(sum / 10000 - 0.5) < 0.02);
    ASSERT(low > 850 && low < 1150);
}

/* Common random numbers: a draw depends only on its key, not on what came before, so the
 * same contact gets the same answer whatever else a strategy did. */
TEST(common_random_numbers)
{
    tm_sim_world w;
    tm_sim_world_defaults(&w);
    tm_sim_contact c = contact("D000042", "call", 20100);
    tm_sim_response first, again;
    tm_sim_respond(&w, 7, &c, &first);
    /* A "strategy" that contacts many other debts first. */
    char id[32];
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "X%d", i);
        tm_sim_contact o = contact(id, "sms", 20100);
        tm_sim_response r;
        tm_sim_respond(&w, 7, &o, &r);
    }
    tm_sim_respond(&w, 7, &c, &again);
    ASSERT(memcmp(&first, &again, sizeof first) == 0);
    /* The key has every part: another day, channel or purpose draws anew. */
    double u = tm_sim_draw(7, "D000042", 20100, "call", "answer");
    ASSERT(u == tm_sim_draw(7, "D000042", 20100, "call", "answer"));
    ASSERT(u != tm_sim_draw(7, "D000042", 20101, "call", "answer"));
    ASSERT(u != tm_sim_draw(7, "D000042", 20100, "sms", "answer"));
    ASSERT(u != tm_sim_draw(7, "D000042", 20100, "call", "pay"));
    ASSERT(tm_sim_draw(7, "ab", 1, "c", "x") != tm_sim_draw(7, "a", 1, "bc", "x"));
}

TEST(pressure_lowers_response_and_raises_harm)
{
    tm_sim_world w;
    tm_sim_world_defaults(&w);
    int calm = 0, pressed = 0, harm_calm = 0, harm_pressed = 0;
    char id[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "D%d", i);
        tm_sim_contact c = contact(id, "call", 20000);
        tm_sim_response r;
        tm_sim_respond(&w, 3, &c, &r);
        calm += r.right_party;
        harm_calm += r.complaint + r.optout;
        c.recent = 6;
        tm_sim_respond(&w, 3, &c, &r);
        pressed += r.right_party;
        harm_pressed += r.complaint + r.optout;
    }
    ASSERT(pressed < calm);
    ASSERT(harm_pressed > harm_calm);
}

TEST(payments_never_exceed_the_balance)
{
    tm_sim_world w;
    tm_sim_world_defaults(&w);
    w.channel[tm_sim_channel_index("sms")].answer = 1;
    w.pay = 1;
    char id[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "D%d", i);
        tm_sim_contact c = contact(id, "sms", 20000);
        c.balance = 1 + i % 7;
        tm_sim_response r;
        tm_sim_respond(&w, 11, &c, &r);
        ASSERT(r.pay >= 0 && r.pay <= c.balance);
    }
}

TEST(world_overrides_and_errors_name_the_field)
{
    tm_sim_world w;
    tm_sim_world_defaults(&w);
    struct tm_err e = {0};
    const char *ok = "{\"pay\":0.5,\"channels\":{\"sms\":{\"answer\":0.3}},\"hours\":{\"night\":0},"
                     "\"promise_days_max\":20,\"_comment\":\"x\"}";
    ASSERT_OK(tm_sim_world_parse(ok, strlen(ok), &w, &e));
    ASSERT(w.pay == 0.5);
    ASSERT(w.channel[tm_sim_channel_index("sms")].answer == 0.3);
    ASSERT(w.hour[TM_SIM_NIGHT] == 0);
    ASSERT_EQ(w.promise_days_max, 20);
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"pay\":1.5}", "pay:"},
        {"{\"pay\":\"0.5\"}", "pay:"},
        {"{\"channels\":{\"sms\":{\"answer\":-1}}}", "channels.sms.answer"},
        {"{\"channels\":{\"fax\":{}}}", "channels.fax"},
        {"{\"channels\":{\"sms\":{\"anser\":0.1}}}", "channels.sms.anser"},
        {"{\"hours\":{\"noon\":1}}", "hours.noon"},
        {"{\"promise_days_min\":0}", "promise_days_min"},
        {"{\"payy\":0.1}", "payy"},
        {"{\"partial_min\":0.6,\"partial_max\":0.5}", "partial_max"},
        {"[]", "object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tm_sim_world_defaults(&w);
        memset(&e, 0, sizeof e);
        ASSERT_EQ(tm_sim_world_parse(bad[i].json, strlen(bad[i].json), &w, &e), TM_EINVAL);
        ASSERT_CONTAINS(e.msg, bad[i].field);
    }
    memset(&e, 0, sizeof e);
    ASSERT_EQ(tm_sim_world_parse("{\"pay\":", 7, &w, &e), TM_ESYNTAX);
    ASSERT_EQ(tm_sim_world_load("/nonexistent/world.json", &w, &e), TM_ENOENT);
}

TEST(costs_are_exact_integers)
{
    tm_sim_costs c;
    struct tm_err e = {0};
    const char *j = "{\"currency\":\"USD\",\"sms\":\"0.01\",\"email\":\"0.002\",\"call\":\"1.50\","
                    "\"letter\":2}";
    ASSERT_OK(tm_sim_costs_parse(j, strlen(j), &c, &e));
    ASSERT_EQ(c.micro[tm_sim_channel_index("sms")], 10000);
    ASSERT_EQ(c.micro[tm_sim_channel_index("email")], 2000);
    ASSERT_EQ(c.micro[tm_sim_channel_index("call")], 1500000);
    ASSERT_EQ(c.micro[tm_sim_channel_index("letter")], 2000000);
    ASSERT_EQ(c.micro[tm_sim_channel_index("push")], 0);
    static const char *const bad[][2] = {{"{\"sms\":0.01}", "sms"},
                                         {"{\"sms\":\"0.0000001\"}", "sms"},
                                         {"{\"sms\":\"-1\"}", "sms"},
                                         {"{\"sms\":\"1.\"}", "sms"},
                                         {"{\"fax\":\"1\"}", "fax"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&e, 0, sizeof e);
        ASSERT_EQ(tm_sim_costs_parse(bad[i][0], strlen(bad[i][0]), &c, &e), TM_EINVAL);
        ASSERT_CONTAINS(e.msg, bad[i][1]);
    }
}

/* Hand-computed: per-debt differences 1, 2, 3, 4 (B - A). Mean 2.5; deviations -1.5, -0.5,
 * 0.5, 1.5; sample variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3; SE = sqrt(5/3 / 4) =
 * 0.645497; interval 2.5 -/+ 1.96 x 0.645497 = [1.234826, 3.765174]. */
TEST(paired_interval_by_hand)
{
    double xa[] = {10, 20, 30, 40}, xb[] = {11, 22, 33, 44};
    tm_sim_diff d;
    tm_sim_paired(xa, NULL, xb, NULL, 4, &d);
    ASSERT(fabs(d.a - 25) < 1e-9);
    ASSERT(fabs(d.b - 27.5) < 1e-9);
    ASSERT(fabs(d.diff - 2.5) < 1e-9);
    ASSERT(fabs(d.lo - 1.234826) < 1e-6);
    ASSERT(fabs(d.hi - 3.765174) < 1e-6);
    ASSERT_EQ(d.significant, 1);
    /* A rate with a common denominator (y = 2 per debt): the same interval divided by 2. */
    double y[] = {2, 2, 2, 2};
    tm_sim_paired(xa, y, xb, y, 4, &d);
    ASSERT(fabs(d.diff - 1.25) < 1e-9);
    ASSERT(fabs(d.lo - 1.234826 / 2) < 1e-6);
    /* Identical runs: difference 0, interval [0, 0], not significant. */
    tm_sim_paired(xa, NULL, xa, NULL, 4, &d);
    ASSERT(d.diff == 0 && d.lo == 0 && d.hi == 0);
    ASSERT_EQ(d.significant, 0);
    /* Noise around 0: the interval includes 0. */
    double na[] = {1, 2, 3, 4}, nb[] = {2, 1, 4, 3};
    tm_sim_paired(na, NULL, nb, NULL, 4, &d);
    ASSERT(d.lo < 0 && d.hi > 0);
    ASSERT_EQ(d.significant, 0);
    /* No denominator: no rate, no interval. */
    double z[] = {0, 0, 0, 0};
    tm_sim_paired(xa, z, xb, z, 4, &d);
    ASSERT(isnan(d.a) && isnan(d.lo));
}
