/*
 * tests/unit/test_contact_model.c: the contact-time and channel model (core/contact_model.h):
 * it recovers known rates by channel and hour, shrinks thin cells and consumers towards the
 * level above by the documented formula, refuses a history too short to fit, and refuses a
 * model file whose features or rates are not this engine's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact_model.h"
#include "harness.h"

static uint64_t rng_state;

static double uniform(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* The true right-party rate of the synthetic portfolio: card holders answer SMS in the
 * evening (17:00-20:59 local) at 0.30 and otherwise at 0.05; medical debts answer 0.10 at any
 * hour; calls reach 0.20 of everyone. Payments follow a third of right-party contacts. */
static double truth(const char *seg, const char *ch, int how)
{
    int hour = how % 24;
    if (strcmp(ch, "call") == 0)
        return 0.20;
    if (strcmp(seg, "credit_card") == 0)
        return hour >= 17 && hour <= 20 ? 0.30 : 0.05;
    return 0.10;
}

/* n consumers of a segment, `per` contacts each at random hours on sms and call. */
static void add_segment(tm_cm_builder *b, const char *seg, int n, int per, int64_t first)
{
    char id[40];
    for (int c = 0; c < n; c++) {
        snprintf(id, sizeof id, "%s-%05d", seg, c);
        for (int k = 0; k < per; k++) {
            const char *ch = k % 4 == 3 ? "call" : "sms";
            int how = (int)(uniform() * 168);
            int rpc = uniform() < truth(seg, ch, how);
            int paid = rpc && uniform() < 1.0 / 3;
            ASSERT_OK(tm_cm_builder_add(b, id, first + c, seg, ch, how, rpc, paid, NULL));
        }
    }
}

static tm_contact_model *fit_parse(tm_cm_builder *b, tm_cm_report *rep)
{
    char *json = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_cm_fit(b, "contact", "2026-06-30", 7, &json, rep, &e));
    tm_contact_model *m = NULL;
    ASSERT_OK(tm_cm_parse(json, strlen(json), &m, &e));
    free(json);
    return m;
}

TEST(recovers_known_rates_by_channel_and_hour)
{
    rng_state = 1;
    tm_cm_builder *b = tm_cm_builder_new();
    add_segment(b, "credit_card", 2000, 40, 1);
    add_segment(b, "medical", 2000, 40, 100000);
    tm_cm_report rep;
    tm_contact_model *m = fit_parse(b, &rep);
    ASSERT_EQ(rep.contacts, (size_t)160000);
    ASSERT_EQ(rep.segments_fitted, (size_t)2);
    int sms = tm_cm_channel("sms"), call = tm_cm_channel("call");
    /* Tuesday 19:00 and Tuesday 10:00 local. */
    int eve = 2 * 24 + 19, morn = 2 * 24 + 10;
    double pe = tm_cm_prob(m, NULL, "credit_card", sms, eve, TM_CM_RPC);
    double pm = tm_cm_prob(m, NULL, "credit_card", sms, morn, TM_CM_RPC);
    double pmed = tm_cm_prob(m, NULL, "medical", sms, eve, TM_CM_RPC);
    double pc = tm_cm_prob(m, NULL, "medical", call, morn, TM_CM_RPC);
    /* About 450 contacts per (segment, sms, hour) cell: the standard error is near 0.02. */
    ASSERT(fabs(pe - 0.30) < 0.06);
    ASSERT(fabs(pm - 0.05) < 0.03);
    ASSERT(fabs(pmed - 0.10) < 0.04);
    ASSERT(fabs(pc - 0.20) < 0.06);
    double pp = tm_cm_prob(m, NULL, "credit_card", sms, eve, TM_CM_PAY);
    ASSERT(fabs(pp - 0.10) < 0.04);
    /* A voice message is judged as a call. */
    ASSERT_EQ(tm_cm_channel("voice"), call);
    ASSERT_EQ(tm_cm_channel("fax"), -1);
    tm_cm_free(m);
    tm_cm_builder_free(b);
}

TEST(thin_segment_falls_back_and_consumers_shrink)
{
    rng_state = 7;
    tm_cm_builder *b = tm_cm_builder_new();
    add_segment(b, "credit_card", 1000, 40, 1);
    /* Utility: 20 contacts in all, under TM_CM_MIN_SEGMENT: its rates are the portfolio's. */
    for (int k = 0; k < 20; k++)
        ASSERT_OK(tm_cm_builder_add(b, "U-1", 50000, "utility", "sms", 5, 1, 1, NULL));
    /* One card holder answered every one of 30 morning texts. */
    for (int k = 0; k < 30; k++)
        ASSERT_OK(tm_cm_builder_add(b, "CC-keen", 60000, "credit_card", "sms", 2 * 24 + 10, 1, 0,
                                    NULL));
    tm_cm_report rep;
    tm_contact_model *m = fit_parse(b, &rep);
    ASSERT_EQ(rep.segments_pooled, (size_t)1);
    ASSERT_CONTAINS(rep.pooled, "utility (20 contacts)");
    int sms = tm_cm_channel("sms");
    int how = 2 * 24 + 10;
    ASSERT_EQ(tm_cm_prob(m, NULL, "utility", sms, how, TM_CM_RPC),
              tm_cm_prob(m, NULL, NULL, sms, how, TM_CM_RPC));
    double seg = tm_cm_prob(m, NULL, "credit_card", sms, how, TM_CM_RPC);
    double keen = tm_cm_prob(m, "CC-keen", "credit_card", sms, how, TM_CM_RPC);
    double nobody = tm_cm_prob(m, "CC-unknown", "credit_card", sms, how, TM_CM_RPC);
    ASSERT_EQ(nobody, seg);  /* no history: the segment's rate */
    ASSERT(keen > 1.5 * seg); /* 30 of 30 answered: well above the segment */
    ASSERT(keen < 0.9991);   /* but shrunk: never certainty */
    /* The multiplier is (O + kc) / (E + kc): with O = 30 and E = 30 x seg's rate. */
    double kc = rep.kappa_consumer[TM_CM_RPC];
    double want = seg * (30 + kc) / (30 * seg + kc);
    ASSERT(fabs(keen - (want > 0.999 ? 0.999 : want)) < 0.01);
    tm_cm_free(m);
    tm_cm_builder_free(b);
}

TEST(history_too_short_is_refused)
{
    tm_cm_builder *b = tm_cm_builder_new();
    for (int k = 0; k < TM_CM_MIN_CONTACTS - 1; k++)
        ASSERT_OK(tm_cm_builder_add(b, "D1", 1, "medical", "sms", k, k % 2, 0, NULL));
    char *json = (char *)"x";
    struct tm_err e = {0};
    ASSERT_EQ(tm_cm_fit(b, "contact", "2026-01-01", 7, &json, NULL, &e), TM_EINVAL);
    ASSERT(json == NULL);
    ASSERT_CONTAINS(e.msg, "too short to fit: 29 outbound contacts");
    ASSERT_EQ(tm_cm_builder_add(b, "D1", 1, NULL, "fax", 1, 0, 0, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "'fax'");
    ASSERT_EQ(tm_cm_builder_add(b, "D1", 1, NULL, "sms", 168, 0, 0, &e), TM_EINVAL);
    tm_cm_builder_free(b);
}

/* A valid file's text with `from` replaced by `to` (once). */
static char *edited(const char *json, const char *from, const char *to)
{
    const char *at = strstr(json, from);
    ASSERT(at != NULL);
    size_t n = strlen(json) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    size_t pre = (size_t)(at - json);
    memcpy(out, json, pre);
    strcpy(out + pre, to);
    strcat(out, at + strlen(from));
    return out;
}

TEST(model_of_other_features_or_bad_rates_refused)
{
    rng_state = 3;
    tm_cm_builder *b = tm_cm_builder_new();
    add_segment(b, "medical", 100, 4, 1);
    char *json = NULL;
    ASSERT_OK(tm_cm_fit(b, "contact", "2026-01-01", 7, &json, NULL, NULL));
    struct tm_err e = {0};
    tm_contact_model *m = NULL;
    char *t = edited(json, "\"segment\":\"debt_type\"", "\"segment\":\"risk_band\"");
    ASSERT_EQ(tm_cm_parse(t, strlen(t), &m, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "features.segment");
    ASSERT_CONTAINS(e.msg, "other features");
    free(t);
    t = edited(json, "\"hour\":\"local_hour_of_week\"", "\"hour\":\"utc_hour\"");
    ASSERT_EQ(tm_cm_parse(t, strlen(t), &m, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "features.hour");
    free(t);
    t = edited(json, "\"visit\"", "\"fax\"");
    ASSERT_EQ(tm_cm_parse(t, strlen(t), &m, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "features.channels[7]");
    free(t);
    t = edited(json, "\"rpc\":[", "\"rpc\":[1.5,");
    ASSERT_EQ(tm_cm_parse(t, strlen(t), &m, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "portfolio.call.rpc");
    free(t);
    ASSERT_EQ(tm_cm_parse("{", 1, &m, &e), TM_ESYNTAX);
    ASSERT(m == NULL);
    free(json);
    tm_cm_builder_free(b);
}

TEST(hour_of_week_is_local)
{
    /* 2026-07-07 (a Tuesday) 23:30 UTC is 19:30 in New York (EDT) and 16:30 in Los Angeles. */
    int64_t at = 1783467000;
    ASSERT_EQ(tm_cm_hour_of_week("America/New_York", at), 2 * 24 + 19);
    ASSERT_EQ(tm_cm_hour_of_week("America/Los_Angeles", at), 2 * 24 + 16);
    ASSERT_EQ(tm_cm_hour_of_week(NULL, at), 2 * 24 + 23);
    ASSERT_EQ(tm_cm_hour_of_week(NULL, 0), 4 * 24); /* 1970-01-01 was a Thursday */
}

/* A gate that allows 08:00 to 20:59 UTC only, naming the next 08:00 otherwise. */
static int daytime(void *ud, const char *channel, int64_t at, int64_t *next, char *why, size_t cap)
{
    (void)channel;
    ++*(long *)ud;
    int64_t h = at % 86400 / 3600;
    if (h >= 8 && h <= 20)
        return 1;
    *next = (at / 86400 + (h > 20)) * 86400 + 8 * 3600;
    snprintf(why, cap, "inconvenient-time");
    return 0;
}

static int never(void *ud, const char *channel, int64_t at, int64_t *next, char *why, size_t cap)
{
    (void)ud, (void)channel, (void)at;
    *next = INT64_MAX;
    snprintf(why, cap, "cease");
    return 0;
}

TEST(best_slot_is_the_best_the_gate_allows)
{
    /* Calls answered most at 22:00 UTC, then 19:00, least at 10:00 (every weekday). */
    tm_cm_builder *b = tm_cm_builder_new();
    char id[16];
    for (int c = 0; c < 100; c++) {
        snprintf(id, sizeof id, "D%03d", c);
        for (int d = 0; d < 7; d++)
            for (int k = 0; k < 3; k++) {
                int hour = k == 0 ? 10 : k == 1 ? 19 : 22;
                int rpc = (c + d) % 20 < (k == 0 ? 1 : k == 1 ? 9 : 12);
                ASSERT_OK(tm_cm_builder_add(b, id, c, "credit_card", "call", d * 24 + hour, rpc, 0,
                                            NULL));
            }
    }
    tm_contact_model *m = fit_parse(b, NULL);
    int chs[] = {tm_cm_channel("call")};
    int64_t from = 1795438800; /* 2026-11-23T13:00:00Z, a Monday */
    tm_cm_slot s;
    char why[200];
    ASSERT_OK(tm_cm_best_slot(m, "D001", "credit_card", NULL, chs, 1, from, from + 3 * 86400,
                              TM_CM_RPC, NULL, NULL, &s, why, sizeof why));
    ASSERT_EQ(s.at % 86400, 22 * 3600); /* nothing to ask: the model's best, 22:00 */
    ASSERT_EQ(s.checked, 0);
    long asked = 0;
    ASSERT_OK(tm_cm_best_slot(m, "D001", "credit_card", NULL, chs, 1, from, from + 3 * 86400,
                              TM_CM_RPC, daytime, &asked, &s, why, sizeof why));
    ASSERT_EQ(s.at, from + 6 * 3600); /* 19:00 the same Monday: the best allowed, the earliest */
    ASSERT_EQ(s.checked, 1);
    ASSERT(asked > 0 && asked == s.asked);
    ASSERT(s.p_rpc > 0.35 && s.p_rpc < 0.9991); /* D001 answered every 19:00 call: above the 0.45 */
    ASSERT_EQ(tm_cm_best_slot(m, "D001", "credit_card", NULL, chs, 1, from, from + 3 * 86400,
                              TM_CM_RPC, never, NULL, &s, why, sizeof why),
              TM_ENOENT);
    ASSERT_CONTAINS(why, "no moment in the window is allowed: call: cease");
    tm_cm_free(m);
    tm_cm_builder_free(b);
}
