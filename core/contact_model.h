/*
 * core/contact_model.h: the contact-time and channel model. From the outbound contacts in the
 * store and what followed each (a right-party contact; a payment within N days) it estimates,
 * per channel and local hour of the week, the probability of each outcome for the portfolio,
 * for each segment (the debt type) and for each debt's consumer, and answers "how likely is a
 * response to channel c at local hour-of-week h for this debt?".
 *
 * Method (empirical Bayes, three levels; strategies.md, "Learning the channel and the hour").
 * For each outcome separately (right-party contact, payment):
 *   channel     p_ch      = (K_ch + 1) / (N_ch + 2)
 *   portfolio   p_port    = (k + kp * p_ch) / (n + kp)           per (channel, hour-of-week)
 *   segment     p_seg     = (k + ks * p_port) / (n + ks)         per (segment, channel, hour)
 *   consumer    p_debt    = min(0.999, p_seg * (O + kc) / (E + kc))
 * n, k are the contacts and outcomes in the cell; a cell's estimate is the posterior mean of
 * a Beta prior centred on the level above with strength kp (ks), fitted per channel by the
 * method of moments from the spread of the cells' rates around their prior means: for a
 * Beta-binomial, Var(k/n) = mu(1-mu)(1/n + rho(1-1/n)) with rho = 1/(1+kappa), so
 *   rho = sum[(k/n - mu)^2 / (mu(1-mu)) - 1/n] / sum(1 - 1/n)   over cells with n >= 2,
 * clamped to kappa in [1, 10000] (no detectable spread: 10000, the cell is the level above).
 * A consumer's own history enters as a multiplier on the segment's rates: O outcomes seen
 * against E = the sum of p_seg over their contacts, with a Gamma(kc, kc) prior of mean 1 whose
 * kc is fitted by moments (1/kc = sum((O-E)^2 - V) / sum(E^2), V = the sum of p_seg(1-p_seg)
 * over their contacts, the binomial variance of O; clamped to [0.5, 10000]). A
 * consumer with little history keeps a multiplier near 1: the segment's rates.
 *
 * Pure computation and JSON (jansson); no store. Thread-safe once built: a parsed model is
 * read-only.
 */
#ifndef TM_CONTACT_MODEL_H
#define TM_CONTACT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

#define TM_CM_HOURS 168      /* local hour of the week: weekday (0 Sunday) * 24 + hour */
#define TM_CM_RPC 0          /* the outcomes, in this order */
#define TM_CM_PAY 1
#define TM_CM_NOUT 2
#define TM_CM_MIN_CONTACTS 30  /* fewer outbound contacts in the whole history: no fit */
#define TM_CM_MIN_SEGMENT 30   /* a segment with fewer uses the portfolio's rates */

typedef struct tm_cm_builder tm_cm_builder;
typedef struct tm_contact_model tm_contact_model;

/* A new, empty builder, freed with tm_cm_builder_free(); NULL when out of memory. */
tm_cm_builder *tm_cm_builder_new(void);
void tm_cm_builder_free(tm_cm_builder *b); /* NULL is a no-op */

/* One outbound contact: the debt it was about (copied), the consumer (any stable integer:
 * the store's row id), its segment (the debt type, copied; NULL or "" unknown), the channel
 * (a name of core/gate.h: call, sms, email, letter, push, whatsapp, visit), the local
 * hour-of-week 0..167, and whether a right-party contact and a payment followed.
 * TM_OK; TM_EINVAL (err says which) for an unknown channel or hour out of range; TM_ENOMEM. */
int tm_cm_builder_add(tm_cm_builder *b, const char *debt_id, int64_t consumer, const char *segment,
                      const char *channel, int how, int rpc, int paid, struct tm_err *err);

/* How many contacts were added (0 for NULL). */
size_t tm_cm_builder_count(const tm_cm_builder *b);

/* What the fit found, for the command's report. */
typedef struct tm_cm_report {
    size_t contacts, consumers, segments_fitted, segments_pooled;
    double rate[TM_CM_NOUT];         /* portfolio rates over every contact */
    double kappa_consumer[TM_CM_NOUT];
    char pooled[512];                /* "medical (12 contacts), ..." the segments that fell back */
} tm_cm_report;

/* Fits the model and writes it as JSON to *json (NUL-terminated; the caller frees it with
 * free()). `name` is the model's name, `as_of` (YYYY-MM-DD) and `pay_days` are recorded.
 * The JSON holds "type":"contact", "name", "as_of", "pay_days", "features" (what the hour,
 * the segment and the channels are, checked when the model loads), "fit" (counts and the
 * fitted prior strengths), "portfolio" and "segments" (rates per channel, 168 hours each,
 * for each outcome) and "debts" (each debt's consumer multipliers per channel).
 * Returns TM_OK; TM_EINVAL when there are fewer than TM_CM_MIN_CONTACTS contacts (err says
 * how many: the history is too short to fit); TM_ENOMEM. `rep` may be NULL. */
int tm_cm_fit(const tm_cm_builder *b, const char *name, const char *as_of, int pay_days,
              char **json, tm_cm_report *rep, struct tm_err *err);

/* Parses a model from `len` bytes of JSON (a parsed "type":"contact" object is passed by
 * core/score.c as text). *out is freed with tm_cm_free(). TM_ESYNTAX for text that is not
 * JSON; TM_EINVAL naming the field for anything else wrong, including features other than
 * the ones this engine computes (a model fitted on another portfolio's features: a
 * different hour or segment definition, or channels it does not know); TM_ENOMEM. */
int tm_cm_parse(const char *json, size_t len, tm_contact_model **out, struct tm_err *err);
void tm_cm_free(tm_contact_model *m); /* NULL is a no-op */

/* The model's name (borrowed, valid until tm_cm_free) and its payment window in days. */
const char *tm_cm_name(const tm_contact_model *m);
int tm_cm_pay_days(const tm_contact_model *m);

/* Index of a channel name in the model's channels (core/gate.h names; "voice" counts as
 * "call"), or -1. */
int tm_cm_channel(const char *name);

/* The name of channel index `ch` (tm_cm_channel), or NULL out of range. */
const char *tm_cm_channel_name(int ch);

/* The probability of outcome `out` (TM_CM_RPC or TM_CM_PAY) for a contact on channel `ch`
 * (tm_cm_channel) at local hour-of-week `how` about debt `debt_id` (NULL: no consumer
 * history) of segment `segment` (NULL or unknown: the portfolio's rates). Returns a number
 * in [0, 1); 0 for a channel or hour out of range. */
double tm_cm_prob(const tm_contact_model *m, const char *debt_id, const char *segment, int ch,
                  int how, int out);

/* Asks whether a contact on `channel` (a core/gate.h name) at `at` (UTC seconds) would be
 * allowed: returns 1 (allowed), 0 (refused; *next_allowed is the first time it could be, or
 * INT64_MAX for none, and `why` gets the refusing rules or reason), or a negative TM_E*
 * code when it cannot be judged (an error; `why` says why). */
typedef int (*tm_cm_check_fn)(void *ud, const char *channel, int64_t at, int64_t *next_allowed,
                              char *why, size_t whycap);

/* The best slot found by tm_cm_best_slot(). */
typedef struct tm_cm_slot {
    int ch;            /* tm_cm_channel index */
    int64_t at;        /* UTC seconds */
    double p_rpc, p_pay;
    int checked;       /* 1: the check function allowed it; 0: there was none to ask */
    long asked;        /* how many moments were put to the check function */
} tm_cm_slot;

#define TM_CM_MAX_ASKS 1000 /* moments put to the check function in one search, at most */

/* Among the moments from `from` to `until` (UTC seconds; the first moment is `from`, then
 * each whole local hour after it) and the channels chs[0..nch) (tm_cm_channel indexes),
 * finds the one with the highest probability of `outcome` (TM_CM_RPC or TM_CM_PAY) for debt
 * `debt_id` of segment `segment` in zone `zone` (see tm_cm_prob; ties go to the earlier
 * moment, then the earlier channel in chs). When `check` is not NULL only moments it allows
 * count: the moments are put to it best first, so the first allowed is the answer; a refusal
 * rules the channel out until the next allowed time it names, without asking again (at most
 * TM_CM_MAX_ASKS questions). Returns TM_OK with *best filled; TM_ENOENT when no moment is
 * allowed in the window (`why` says, for the first refusal, what refused it); a negative
 * code from `check` (with `why`); TM_EINVAL for bad arguments (a window over 31 days, a
 * channel out of range, more than 8 channels); TM_ENOMEM. */
int tm_cm_best_slot(const tm_contact_model *m, const char *debt_id, const char *segment,
                    const char *zone, const int *chs, int nch, int64_t from, int64_t until,
                    int outcome, tm_cm_check_fn check, void *ud, tm_cm_slot *best, char *why,
                    size_t whycap);

/* Local hour-of-week 0..167 of the UTC instant `at` in the zone named `zone` (NULL or
 * unknown: UTC). */
int tm_cm_hour_of_week(const char *zone, int64_t at);

#endif
