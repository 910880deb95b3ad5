/*
 * core/sim.h: the consumer-response model of `tallyman simulate`, its channel costs and the
 * paired comparison of two strategies.
 *
 * The model answers one question for each message the simulated cycle sends: what does the
 * consumer do? Right-party contact (they read, answer, reply), then pay (in full or in part),
 * promise (and, decided at once, whether the promise will be kept), dispute, complain, opt
 * out. Probabilities depend on the channel, the local hour of the send, the debt's
 * propensity-to-pay score and the contact pressure (messages to the debt in the 7 days
 * before). A debt with no contact on a day may also pay by itself (self-cure).
 *
 * Common random numbers. Every random choice is a uniform number made by hashing (seed, debt
 * id, day, channel, purpose): it depends on nothing the strategy did. Two strategies run with
 * one seed meet the same consumers in the same moods; when both send the same channel to the
 * same debt on the same day the consumer answers the same way, so a difference in the results
 * comes from the strategies, not from the dice, and paired confidence intervals are narrow.
 *
 * Pure computation: no store, no I/O except tm_sim_world_load / tm_sim_costs_load, which read
 * one JSON file each (jansson). Thread-safe: nothing here keeps state between calls.
 */
#ifndef TM_SIM_H
#define TM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

/* The channels the model and the costs know, in this order (those of core/dispatch.h). */
#define TM_SIM_NCHANNELS 7
extern const char *const tm_sim_channels[TM_SIM_NCHANNELS];

/* Index of `channel` in tm_sim_channels, or -1 (NULL included). */
int tm_sim_channel_index(const char *channel);

/* Hours of the local day, for the time-of-day factor: night 21:00-08:00, morning 08-12,
 * afternoon 12-17, evening 17-21. */
enum { TM_SIM_NIGHT, TM_SIM_MORNING, TM_SIM_AFTERNOON, TM_SIM_EVENING, TM_SIM_NHOURS };

/* The world: every probability of the model. All are in [0, 1] except where noted.
 * tm_sim_world_defaults() documents each default in sim.c. */
typedef struct tm_sim_world {
    struct {
        double answer;    /* right-party contact per message, before the factors below */
        double complaint; /* a complaint per message, before contact pressure */
        double optout;    /* an opt-out of this channel per message, before pressure */
    } channel[TM_SIM_NCHANNELS];
    double hour[TM_SIM_NHOURS]; /* factor on `answer` by local hour; 0..10 */
    double pay;         /* after a right-party contact: pays, times 2 x ptp (capped at 0.95) */
    double pay_full;    /* a payment is of the whole balance (else a part) */
    double partial_min; /* a part is this share of the balance ... */
    double partial_max; /* ... to this one (>= partial_min) */
    double promise;     /* no payment: promises to pay the balance */
    int promise_days_min, promise_days_max; /* the promise falls due in this many days; 1..365 */
    double keep_base;   /* a promise is kept with keep_base + keep_ptp x ptp (capped at 1) */
    double keep_ptp;
    double dispute;     /* after a right-party contact, before anything else */
    double pressure_response; /* each recent contact multiplies `answer` by (1 - this) */
    double pressure_harm;     /* each recent contact adds this share to complaint and opt-out
                               * probabilities; 0..10 */
    double self_cure;   /* per day without contact: pays in full, times 2 x ptp */
    double ptp_default; /* the score of a debt the model cannot score */
    /* Where the values come from: a world file of `simulate fit` says it was fitted, and
     * from how many contacts and outcomes up to which day (its "fitted" object). */
    int fitted;
    long fitted_contacts, fitted_outcomes;
    char fitted_as_of[11];
} tm_sim_world;

/* Fills *w with the documented defaults. */
void tm_sim_world_defaults(tm_sim_world *w);

/* Reads overrides from the JSON file at `path` (or `len` bytes of `json`) into *w, which
 * should hold the defaults first; only the fields present change. Unknown keys are refused
 * (a misspelt field must not be silently ignored). TM_EINVAL with `err` naming the field
 * ("channels.sms.answer: must be a number from 0 to 1"), TM_ESYNTAX for text that is not
 * JSON, TM_ENOENT/TM_EIO when the file cannot be read. On error *w may be partly changed. */
int tm_sim_world_load(const char *path, tm_sim_world *w, struct tm_err *err);
int tm_sim_world_parse(const char *json, size_t len, tm_sim_world *w, struct tm_err *err);

/* A uniform number in [0, 1) from (seed, debt_id, day, channel, purpose); the same inputs
 * always give the same number. NULL strings count as "". */
double tm_sim_draw(uint64_t seed, const char *debt_id, int64_t day, const char *channel,
                   const char *purpose);

/* One message as the consumer receives it. Strings are borrowed for the call. */
typedef struct tm_sim_contact {
    const char *debt_id;
    const char *channel;  /* one of tm_sim_channels */
    int64_t day;          /* days since 1970-01-01 (UTC) of the send */
    int local_hour;       /* 0..23 in the consumer's zone */
    double ptp;           /* propensity to pay, 0..1 */
    int64_t balance;      /* minor units, > 0 */
    int recent;           /* messages to the debt in the 7 days before this one */
} tm_sim_contact;

typedef struct tm_sim_response {
    int right_party;      /* 1: the consumer was reached and engaged */
    int dispute;
    int64_t pay;          /* minor units paid now, 0 when none; at most the balance */
    int64_t promise;      /* minor units promised, 0 when none */
    int promise_days;     /* the promise falls due this many days after the contact */
    int promise_kept;     /* 1: the consumer will pay it on the due day */
    int complaint;
    int optout;           /* opts out of this channel */
    int delay_s;          /* seconds from the send to the response, 600..14400 */
} tm_sim_response;

/* What the consumer does about one message. Never fails; NULL w/c/r is a no-op. */
void tm_sim_respond(const tm_sim_world *w, uint64_t seed, const tm_sim_contact *c,
                    tm_sim_response *r);

/* Self-cure: the amount (minor units) a debt not contacted on `day` pays by itself, 0 when
 * it does not. The amount is the whole balance. */
int64_t tm_sim_self_cure(const tm_sim_world *w, uint64_t seed, const char *debt_id, int64_t day,
                         double ptp, int64_t balance);

/* Channel costs in millionths of the portfolio currency's major unit (0.002 is 2000), so
 * sub-cent costs stay exact integers. */
typedef struct tm_sim_costs {
    int64_t micro[TM_SIM_NCHANNELS];
} tm_sim_costs;

/* Reads costs from a JSON object {"sms": "0.01", "email": "0.002", ...}: decimal strings (or
 * integers) of at most 6 decimals, >= 0; channels not named cost 0; a "currency" member and
 * members starting with "_" (comments) are skipped. TM_EINVAL naming the member, TM_ESYNTAX,
 * TM_ENOENT/TM_EIO as for tm_sim_world_load. */
int tm_sim_costs_load(const char *path, tm_sim_costs *c, struct tm_err *err);
int tm_sim_costs_parse(const char *json, size_t len, tm_sim_costs *c, struct tm_err *err);

/* A strategy B compared with A, paired by debt, on a ratio R = sum(x) / sum(y) of per-debt
 * values (a rate: y the denominator of each debt; a mean per debt: y = 1).
 *   a, b    R under A and under B (NaN when sum(y) is 0)
 *   diff    b - a
 *   lo, hi  the 95% confidence interval of diff: diff -/+ 1.96 SE, where SE is the standard
 *           error of the mean of the per-debt differences of the linearised ratio
 *           z_i = (x_i - R y_i) / mean(y) (the delta method; with y = 1 it is the plain
 *           paired difference x_B,i - x_A,i); NaN when n < 2 or either sum(y) is 0
 *   significant  1 when the interval excludes 0 */
typedef struct tm_sim_diff {
    double a, b, diff, lo, hi;
    int significant;
} tm_sim_diff;

/* Computes *out from n debts' values under A (xa, ya) and B (xb, yb); ya/yb NULL mean y = 1.
 * Borrowed arrays; nothing is allocated. */
void tm_sim_paired(const double *xa, const double *ya, const double *xb, const double *yb,
                   size_t n, tm_sim_diff *out);

#endif
