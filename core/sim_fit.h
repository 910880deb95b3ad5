/*
 * core/sim_fit.h: estimates the simulated consumer's parameters (core/sim.h, tm_sim_world)
 * from what a store records of real (or simulated) contacts, with 95% intervals, for
 * `tallyman simulate fit`. Pure computation; the caller reads the store.
 *
 * What is observed of each contact: its channel, local hour band, the messages to the debt
 * in the 7 days before (pressure), the debt's propensity to pay, and what followed it on its
 * day before the next contact: for a call, whether a conversation was logged (the right-party
 * contact itself); for any channel a dispute, a payment (and whether it was the whole
 * balance, or which share), a promise, an opt-out. Promises are seen again when they fall
 * due (kept or not), and payments on days without contact are self-cures.
 *
 * Method (strategies.md, "A fitted world"). The model of sim.h is fitted by maximum
 * likelihood where the observations identify it:
 *   dispute, pay, promise: from the calls that reached the consumer (the right-party contact is
 *     seen only there): dispute = disputes / conversations; pay solves
 *     sum min(0.95, 2 pay ptp) = payments over the conversations without a dispute (pay's
 *     interval from the payments' binomial spread); promise = promises / conversations with
 *     neither; with no conversation on file these keep their assumed values;
 *   answer by channel, hour factors, pressure_response: P(response) = answer_ch x hour_band x
 *     (1 - pressure_response)^recent x s, s = 1 for a call's conversation and, for other
 *     channels (whose contact is seen only through what the consumer did), the chance that a
 *     right-party contact leads to a dispute, payment or promise; answer and hours by
 *     alternating closed forms (hour morning = 1), pressure_response by profile likelihood on
 *     a grid, its interval where the log-likelihood is within 1.92 of its maximum;
 *   optout by channel and pressure_harm: P = optout_ch (1 + harm x recent), likewise;
 *   keep_base, keep_ptp: least squares of kept on ptp over the promises that fell due;
 *   pay_full: share of payments that cleared the balance; partial_min/max and the promise
 *     days: the observed range;
 *   self_cure: cures / sum over debt-days without contact of 2 ptp (Poisson interval).
 * Complaints are not recorded in a store: they stay assumed, and the output says so, as it
 * says of any parameter with too few observations (fewer than TM_SIM_FIT_MIN).
 */
#ifndef TM_SIM_FIT_H
#define TM_SIM_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "tm_status.h"

#define TM_SIM_FIT_MIN 20 /* observations a parameter needs to be fitted */

/* One contact and what followed it. */
typedef struct tm_sim_obs {
    int ch;           /* index in tm_sim_channels */
    int band;         /* TM_SIM_NIGHT .. TM_SIM_EVENING: the local hour of the send */
    int recent;       /* messages to the debt in the 7 days before */
    double ptp;       /* the debt's propensity to pay, 0..1 */
    int conv;         /* a call: 1 when a conversation followed, 0 when not; other channels: 0 */
    int dispute, pay, promise, optout;
    int pay_full;     /* the payment cleared the balance */
    double pay_share; /* the payment's share of the balance before it, 0..1 */
} tm_sim_obs;

/* A promise that fell due. */
typedef struct tm_sim_pobs {
    double ptp;
    int kept;         /* paid by its due day */
    int days;         /* due this many days after it was made */
} tm_sim_pobs;

/* One parameter's estimate. */
typedef struct tm_sim_est {
    double value, lo, hi; /* lo/hi: the 95% interval (NaN when none) */
    long n;               /* the observations behind it */
    int fitted;           /* 0: the assumed value was kept */
} tm_sim_est;

typedef struct tm_sim_fit {
    tm_sim_world world; /* the fitted world: assumed values where not fitted */
    tm_sim_est answer[TM_SIM_NCHANNELS], optout[TM_SIM_NCHANNELS], hour[TM_SIM_NHOURS];
    tm_sim_est pay, pay_full, promise, dispute, keep_base, keep_ptp, pressure_response,
        pressure_harm, self_cure, partial, promise_days;
    long contacts, outcomes; /* contacts read; outcomes seen (responses, opt-outs, promises
                                that fell due, self-cures) */
} tm_sim_fit;

/* Fits the world from `n` contacts, `np` promises and the self-cures (`cures` payments on
 * `exposure` = the sum over debt-days without contact of 2 ptp). `assumed` holds the values
 * kept where the data say nothing (the defaults, or a --world file). Returns TM_OK;
 * TM_EINVAL (err says so) when there are fewer than TM_SIM_FIT_MIN contacts: too short a
 * history to fit anything; TM_ENOMEM. */
int tm_sim_fit_run(const tm_sim_obs *obs, size_t n, const tm_sim_pobs *prom, size_t np,
                   long cures, double exposure, const tm_sim_world *assumed, tm_sim_fit *out,
                   struct tm_err *err);

/* The fit as a --world file (tm_sim_world_parse reads it back): every parameter, and a
 * "fitted" object with `as_of`, `from`, the counts, each fitted parameter's interval and the
 * list of those kept as assumed. *json is freed by the caller with free(). TM_ENOMEM. */
int tm_sim_fit_json(const tm_sim_fit *f, const char *from, const char *as_of, char **json,
                    struct tm_err *err);

#endif
