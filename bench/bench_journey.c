/*
 * bench/bench_journey.c: the cost of one journey step in the sandbox, with
 * the shipped strategies (segmentation over every journey, a start, a timer,
 * an event). Prints figures; asserts nothing.
 *
 * Usage: bench_journey [SCRIPTS_DIR]
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lb_channel.h"
#include "lb_gate.h"
#include "lb_journey.h"
#include "lb_pay.h"
#include "lb_score.h"
#include "lb_util.h"
#include "sandbox.h"
#include "scriptset.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *scripts = argc > 1 ? argv[1] : "scripts";
    tm_lb_gate_register();
    tm_lb_pay_register();
    tm_lb_score_register();
    tm_lb_channel_register();
    tm_lb_util_register();
    struct tm_err e = {0};
    tm_gen *g = NULL;
    if (tm_gen_load(scripts, &g, &e) != TM_OK) {
        printf("journeys: %s\n", e.msg);
        return 0;
    }
    tm_sandbox *sb = tm_sandbox_new(g, NULL, &e);
    tm_gen_release(g);
    tm_journeys *js = NULL;
    if (!sb || tm_journeys_load(sb, &js, NULL, NULL, &e) != TM_OK || tm_journeys_count(js) == 0) {
        printf("journeys: none loaded (%s)\n", e.msg);
        tm_sandbox_free(sb);
        return 0;
    }
    static const char *const types[] = {"credit_card", "medical", "auto_loan", "utility"};
    static const char *const states[] = {"NY", "TX", "CA", "FL", "MA", "PA"};
    char id[32];
    const int64_t now = 1795446000; /* 2026-11-23T15:00:00Z */
    long n = 0, steps = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 1000; i++, n++) {
            snprintf(id, sizeof id, "D%09ld", n);
            tm_jdebt d = {.debt_id = id, .state = states[n % 6], .debt_type = types[n % 4],
                          .currency = "USD", .zone = "America/New_York", .flags = "",
                          .balance = 10000 + n % 90000, .placed_balance = 10000 + n % 90000,
                          .days_past_due = n % 200, .language = "en", .status = "open"};
            tm_jstate st;
            tm_jresult r;
            if (tm_journeys_assign(js, &d, &st, &e) != TM_OK || !st.journey[0])
                continue;
            if (tm_journeys_start(js, &d, &st, now, &r, &e) != TM_OK)
                continue;
            steps += 2;
            if (r.st.timer_go[0] && tm_journeys_timer(js, &d, &r.st, r.st.timer_at, &r, &e) == TM_OK)
                steps++;
            tm_jevent ev = {.type = "payment", .at = now, .has_amount = 1, .amount = 100, .balance = 100};
            if (tm_journeys_event(js, &d, &r.st, &ev, now, &r, &e) == TM_OK)
                steps++;
        }
    } while ((t = now_s() - t0) < 2.0);
    printf("journey steps in the sandbox (%zu shipped journeys): %.0f steps/s, %.1f us a step "
           "(segmentation + start + timer + event per debt: %.0f debts/s)\n",
           tm_journeys_count(js), (double)steps / t, t / (double)steps * 1e6, (double)n / t);
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    return 0;
}
