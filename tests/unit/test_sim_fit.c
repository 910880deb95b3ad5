/*
 * tests/unit/test_sim_fit.c: the world fit (core/sim_fit.h) against the response model
 * itself: contacts answered by tm_sim_respond with known parameters are fitted back within
 * their intervals; a history too short is refused; the written file loads as a world that
 * says it was fitted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sim_fit.h"

/* 40,000 contacts on call, sms and email at morning and evening hours, with pressure 0..3,
 * answered by the model with world `w`. */
static tm_sim_obs *observe(const tm_sim_world *w, size_t *n)
{
    static const char *const chs[] = {"call", "sms", "email"};
    tm_sim_obs *o = calloc(40000, sizeof *o);
    char id[32];
    for (size_t i = 0; i < 40000; i++) {
        snprintf(id, sizeof id, "D%05zu", i / 8);
        int ch = (int)(i % 3);
        int hour = i % 5 == 0 ? 19 : 10;
        double ptp = 0.1 + 0.8 * (double)((i * 7919) % 1000) / 1000.0;
        tm_sim_contact c = {.debt_id = id, .channel = chs[ch], .day = 20000 + (int64_t)(i % 8),
                            .local_hour = hour, .ptp = ptp, .balance = 100000,
                            .recent = (int)(i % 4)};
        tm_sim_response r;
        tm_sim_respond(w, 11, &c, &r);
        tm_sim_obs *x = &o[i];
        x->ch = tm_sim_channel_index(chs[ch]);
        x->band = hour == 19 ? TM_SIM_EVENING : TM_SIM_MORNING;
        x->recent = c.recent;
        x->ptp = ptp;
        x->conv = ch == 0 && r.right_party;
        x->dispute = r.dispute;
        x->pay = r.pay > 0;
        x->pay_full = r.pay == c.balance;
        x->pay_share = (double)r.pay / (double)c.balance;
        x->promise = r.promise > 0;
        x->optout = r.optout;
    }
    *n = 40000;
    return o;
}

#define WITHIN(est, truth)                                                                    \
    do {                                                                                      \
        if (!((est).fitted && (est).lo <= (truth) && (truth) <= (est).hi)) {                  \
            fprintf(stderr, "%s: %g not in [%g, %g] (fitted %d)\n", #est, (double)(truth),   \
                    (est).lo, (est).hi, (est).fitted);                                        \
            ASSERT(0);                                                                        \
        }                                                                                     \
    } while (0)

TEST(fit_recovers_the_model_that_answered)
{
    tm_sim_world truth;
    tm_sim_world_defaults(&truth);
    truth.channel[tm_sim_channel_index("call")].answer = 0.35;
    truth.channel[tm_sim_channel_index("sms")].answer = 0.15;
    truth.channel[tm_sim_channel_index("email")].answer = 0.08;
    truth.hour[TM_SIM_EVENING] = 1.4;
    truth.pay = 0.2;
    truth.promise = 0.45;
    truth.dispute = 0.05;
    truth.pressure_response = 0.15;
    truth.pressure_harm = 0.8;
    size_t n;
    tm_sim_obs *o = observe(&truth, &n);
    tm_sim_world assumed;
    tm_sim_world_defaults(&assumed);
    tm_sim_fit f;
    struct tm_err e = {0};
    ASSERT_OK(tm_sim_fit_run(o, n, NULL, 0, 0, 0, &assumed, &f, &e));
    WITHIN(f.answer[tm_sim_channel_index("call")], 0.35);
    WITHIN(f.answer[tm_sim_channel_index("sms")], 0.15);
    WITHIN(f.answer[tm_sim_channel_index("email")], 0.08);
    WITHIN(f.hour[TM_SIM_EVENING], 1.4);
    WITHIN(f.pay, 0.2);
    WITHIN(f.promise, 0.45);
    WITHIN(f.dispute, 0.05);
    WITHIN(f.pressure_response, 0.15);
    WITHIN(f.pressure_harm, 0.8);
    ASSERT_EQ(f.keep_base.fitted, 0); /* no promise fell due: assumed */
    ASSERT_EQ(f.world.keep_base, assumed.keep_base);
    /* The file loads as a world that says where it came from. */
    char *json = NULL;
    ASSERT_OK(tm_sim_fit_json(&f, "2024-10-01", "2024-12-30", &json, &e));
    tm_sim_world back;
    tm_sim_world_defaults(&back);
    ASSERT_OK(tm_sim_world_parse(json, strlen(json), &back, &e));
    ASSERT_EQ(back.fitted, 1);
    ASSERT_EQ(back.fitted_contacts, 40000L);
    ASSERT_STR_EQ(back.fitted_as_of, "2024-12-30");
    ASSERT(fabs(back.pay - f.world.pay) < 1e-5);
    ASSERT_CONTAINS(json, "\"channels.call.complaint\"");
    free(json);
    free(o);
}

TEST(history_too_short_is_refused)
{
    tm_sim_obs o[TM_SIM_FIT_MIN - 1];
    memset(o, 0, sizeof o);
    tm_sim_world w;
    tm_sim_world_defaults(&w);
    tm_sim_fit f;
    struct tm_err e = {0};
    ASSERT_EQ(tm_sim_fit_run(o, TM_SIM_FIT_MIN - 1, NULL, 0, 0, 0, &w, &f, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "too short to fit: 19 contacts");
}

TEST(fitted_object_checked)
{
    tm_sim_world w;
    tm_sim_world_defaults(&w);
    struct tm_err e = {0};
    const char *bad = "{\"fitted\": {\"contacts\": -1, \"outcomes\": 3, \"as_of\": \"2024-01-01\"}}";
    ASSERT_EQ(tm_sim_world_parse(bad, strlen(bad), &w, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "fitted:");
    const char *rate = "{\"channels\": {\"email\": {\"optout\": 1.5}}}";
    ASSERT_EQ(tm_sim_world_parse(rate, strlen(rate), &w, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "channels.email.optout: must be a number from 0 to 1");
}
