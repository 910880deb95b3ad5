/*
 * core/sim.c: the consumer-response model, channel costs and paired comparison of
 * `tallyman simulate` (sim.h). Depends on jansson (parameter files) and libm.
 *
 * Design. The model is deliberately small and every number in it is a named parameter with a
 * default below, because a strategy manager must be able to read what the simulated world
 * assumes and change it (--world FILE) when their portfolio behaves otherwise. The defaults
 * are plausible orders of magnitude for a US consumer portfolio (calls reach more people than
 * letters, evenings beat nights, more pressure means fewer answers and more complaints), not
 * a fitted model: the simulation ranks strategies under stated assumptions, it does not
 * forecast cash.
 *
 * Randomness is a hash, not a generator with state: a draw depends only on its key, so the
 * order in which debts or messages are processed, and what another debt did, cannot change
 * it (common random numbers; see sim.h).
 */
#include "sim.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tm_sim_channels[TM_SIM_NCHANNELS] = {"sms",  "email",    "letter", "voice",
                                                       "push", "whatsapp", "call"};

int tm_sim_channel_index(const char *channel)
{
    if (channel == NULL)
        return -1;
    for (int i = 0; i < TM_SIM_NCHANNELS; i++)
        if (strcmp(channel, tm_sim_channels[i]) == 0)
            return i;
    return -1;
}

void tm_sim_world_defaults(tm_sim_world *w)
{
    /* Per message: right-party contact, complaint, opt-out. A live call reaches the most
     * people and annoys the most; a letter is read by few and rarely complained of. */
    static const double ch[TM_SIM_NCHANNELS][3] = {
        {0.10, 0.002, 0.010},  /* sms */
        {0.05, 0.001, 0.008},  /* email */
        {0.04, 0.001, 0.002},  /* letter */
        {0.15, 0.004, 0.005},  /* voice (recorded message) */
        {0.03, 0.001, 0.010},  /* push */
        {0.12, 0.002, 0.008},  /* whatsapp */
        {0.25, 0.006, 0.004},  /* call (live agent) */
    };
    memset(w, 0, sizeof *w);
    for (int i = 0; i < TM_SIM_NCHANNELS; i++) {
        w->channel[i].answer = ch[i][0];
        w->channel[i].complaint = ch[i][1];
        w->channel[i].optout = ch[i][2];
    }
    w->hour[TM_SIM_NIGHT] = 0.4;
    w->hour[TM_SIM_MORNING] = 1.0;
    w->hour[TM_SIM_AFTERNOON] = 0.9;
    w->hour[TM_SIM_EVENING] = 1.2;
    w->pay = 0.30;        /* a consumer with ptp 0.5 pays after 30% of right-party contacts */
    w->pay_full = 0.35;
    w->partial_min = 0.10;
    w->partial_max = 0.50;
    w->promise = 0.35;
    w->promise_days_min = 3;
    w->promise_days_max = 14;
    w->keep_base = 0.30;
    w->keep_ptp = 0.60;
    w->dispute = 0.02;
    w->pressure_response = 0.12;
    w->pressure_harm = 0.50;
    w->self_cure = 0.001; /* per day: about 3% a month at ptp 0.5 */
    w->ptp_default = 0.20;
}

/* ---- Parameter files --------------------------------------------------------------------- */

static int read_json(const char *path, json_t **out, struct tm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tm_err_set(err, errno == ENOENT ? TM_ENOENT : TM_EIO, "%s: %s", path,
                          strerror(errno));
    json_error_t je;
    *out = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (*out == NULL)
        return tm_err_set(err, TM_ESYNTAX, "%s:%d column %d: %s", path, je.line, je.column,
                          je.text);
    return TM_OK;
}

static int parse_json(const char *json, size_t len, json_t **out, struct tm_err *err)
{
    json_error_t je;
    *out = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL)
        return tm_err_set(err, TM_ESYNTAX, "line %d column %d: %s", je.line, je.column, je.text);
    return TM_OK;
}

/* Reads a number in [lo, hi] from `v` (borrowed) into *dst. */
static int get_num(json_t *v, const char *field, double lo, double hi, double *dst,
                   struct tm_err *err)
{
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi ||
        !isfinite(json_number_value(v)))
        return tm_err_set(err, TM_EINVAL, "%s: must be a number from %g to %g", field, lo, hi);
    *dst = json_number_value(v);
    return TM_OK;
}

static int world_channels(json_t *o, tm_sim_world *w, struct tm_err *err)
{
    if (!json_is_object(o))
        return tm_err_set(err, TM_EINVAL, "channels: must be an object of channel names");
    const char *name;
    json_t *c;
    json_object_foreach(o, name, c) {
        int i = tm_sim_channel_index(name);
        if (i < 0)
            return tm_err_set(err, TM_EINVAL,
                              "channels.%.40s: unknown channel (sms, email, letter, voice, push, "
                              "whatsapp, call)", name);
        if (!json_is_object(c))
            return tm_err_set(err, TM_EINVAL, "channels.%s: must be an object", name);
        const char *k;
        json_t *v;
        json_object_foreach(c, k, v) {
            double *dst = strcmp(k, "answer") == 0      ? &w->channel[i].answer
                          : strcmp(k, "complaint") == 0 ? &w->channel[i].complaint
                          : strcmp(k, "optout") == 0    ? &w->channel[i].optout
                                                        : NULL;
            char field[128];
            snprintf(field, sizeof field, "channels.%s.%.40s", name, k);
            if (dst == NULL)
                return tm_err_set(err, TM_EINVAL, "%s: unknown field (answer, complaint, optout)",
                                  field);
            int rc = get_num(v, field, 0, 1, dst, err);
            if (rc != TM_OK)
                return rc;
        }
    }
    return TM_OK;
}

static int world_hours(json_t *o, tm_sim_world *w, struct tm_err *err)
{
    static const char *const names[TM_SIM_NHOURS] = {"night", "morning", "afternoon", "evening"};
    if (!json_is_object(o))
        return tm_err_set(err, TM_EINVAL, "hours: must be an object");
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int i = 0;
        while (i < TM_SIM_NHOURS && strcmp(k, names[i]) != 0)
            i++;
        char field[64];
        snprintf(field, sizeof field, "hours.%.40s", k);
        if (i == TM_SIM_NHOURS)
            return tm_err_set(err, TM_EINVAL,
                              "%s: unknown field (night, morning, afternoon, evening)", field);
        int rc = get_num(v, field, 0, 10, &w->hour[i], err);
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

static int world_from(json_t *root, tm_sim_world *w, struct tm_err *err)
{
    if (!json_is_object(root))
        return tm_err_set(err, TM_EINVAL, "the world file must hold one JSON object");
    const struct {
        const char *name;
        double *dst;
        double hi;
    } nums[] = {
        {"pay", &w->pay, 1},
        {"pay_full", &w->pay_full, 1},
        {"partial_min", &w->partial_min, 1},
        {"partial_max", &w->partial_max, 1},
        {"promise", &w->promise, 1},
        {"keep_base", &w->keep_base, 1},
        {"keep_ptp", &w->keep_ptp, 1},
        {"dispute", &w->dispute, 1},
        {"pressure_response", &w->pressure_response, 1},
        {"pressure_harm", &w->pressure_harm, 10},
        {"self_cure", &w->self_cure, 1},
        {"ptp_default", &w->ptp_default, 1},
    };
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        int rc = TM_OK;
        if (k[0] == '_')
            continue; /* comments */
        if (strcmp(k, "fitted") == 0) {
            /* What `simulate fit` found it from; its intervals are for people to read. */
            json_t *c = json_object_get(v, "contacts"), *o = json_object_get(v, "outcomes");
            json_t *a = json_object_get(v, "as_of");
            if (!json_is_object(v) || !json_is_integer(c) || !json_is_integer(o) ||
                json_integer_value(c) < 0 || json_integer_value(o) < 0 || !json_is_string(a) ||
                strlen(json_string_value(a)) != 10)
                return tm_err_set(err, TM_EINVAL,
                                  "fitted: must be an object with contacts, outcomes (whole "
                                  "numbers) and as_of (YYYY-MM-DD)");
            w->fitted = 1;
            w->fitted_contacts = (long)json_integer_value(c);
            w->fitted_outcomes = (long)json_integer_value(o);
            snprintf(w->fitted_as_of, sizeof w->fitted_as_of, "%s", json_string_value(a));
        } else if (strcmp(k, "channels") == 0) {
            rc = world_channels(v, w, err);
        } else if (strcmp(k, "hours") == 0) {
            rc = world_hours(v, w, err);
        } else if (strcmp(k, "promise_days_min") == 0 || strcmp(k, "promise_days_max") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 365)
                return tm_err_set(err, TM_EINVAL, "%s: must be a whole number of days, 1 to 365",
                                  k);
            *(strcmp(k, "promise_days_min") == 0 ? &w->promise_days_min : &w->promise_days_max) =
                (int)json_integer_value(v);
        } else {
            size_t i = 0;
            while (i < sizeof nums / sizeof *nums && strcmp(k, nums[i].name) != 0)
                i++;
            if (i == sizeof nums / sizeof *nums)
                return tm_err_set(err, TM_EINVAL, "%.60s: unknown field", k);
            rc = get_num(v, k, 0, nums[i].hi, nums[i].dst, err);
        }
        if (rc != TM_OK)
            return rc;
    }
    if (w->partial_max < w->partial_min)
        return tm_err_set(err, TM_EINVAL, "partial_max: must not be below partial_min");
    if (w->promise_days_max < w->promise_days_min)
        return tm_err_set(err, TM_EINVAL, "promise_days_max: must not be below promise_days_min");
    return TM_OK;
}

int tm_sim_world_load(const char *path, tm_sim_world *w, struct tm_err *err)
{
    json_t *root = NULL;
    int rc = read_json(path, &root, err);
    if (rc == TM_OK)
        rc = world_from(root, w, err);
    json_decref(root);
    return rc;
}

int tm_sim_world_parse(const char *json, size_t len, tm_sim_world *w, struct tm_err *err)
{
    json_t *root = NULL;
    int rc = parse_json(json, len, &root, err);
    if (rc == TM_OK)
        rc = world_from(root, w, err);
    json_decref(root);
    return rc;
}

/* ---- Costs ------------------------------------------------------------------------------- */

/* "1.5" -> 1500000 micro-units. Returns 0, or -1 for anything but digits[.digits{1,6}]. */
static int parse_micro(const char *s, int64_t *out)
{
    int64_t v = 0;
    int digits = 0, frac = -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || v > INT64_MAX / 100)
            return -1;
        v = v * 10 + (*s - '0');
        digits++;
        if (frac >= 0 && ++frac > 6)
            return -1;
    }
    if (digits == 0 || frac == 0)
        return -1;
    for (int i = frac < 0 ? 0 : frac; i < 6; i++)
        v *= 10;
    *out = v;
    return 0;
}

static int costs_from(json_t *root, tm_sim_costs *c, struct tm_err *err)
{
    memset(c, 0, sizeof *c);
    if (!json_is_object(root))
        return tm_err_set(err, TM_EINVAL, "the costs file must hold one JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (k[0] == '_' || strcmp(k, "currency") == 0)
            continue;
        int i = tm_sim_channel_index(k);
        if (i < 0)
            return tm_err_set(err, TM_EINVAL,
                              "%.40s: unknown channel (sms, email, letter, voice, push, whatsapp, "
                              "call)", k);
        if (json_is_integer(v) && json_integer_value(v) >= 0 &&
            json_integer_value(v) <= INT64_MAX / 1000000) {
            c->micro[i] = (int64_t)json_integer_value(v) * 1000000;
        } else if (!json_is_string(v) || parse_micro(json_string_value(v), &c->micro[i]) != 0) {
            return tm_err_set(err, TM_EINVAL,
                              "%s: must be a decimal string of at most 6 decimals, e.g. \"0.01\" "
                              "(money is never a binary fraction)", k);
        }
    }
    return TM_OK;
}

int tm_sim_costs_load(const char *path, tm_sim_costs *c, struct tm_err *err)
{
    json_t *root = NULL;
    int rc = read_json(path, &root, err);
    if (rc == TM_OK)
        rc = costs_from(root, c, err);
    json_decref(root);
    return rc;
}

int tm_sim_costs_parse(const char *json, size_t len, tm_sim_costs *c, struct tm_err *err)
{
    json_t *root = NULL;
    int rc = parse_json(json, len, &root, err);
    if (rc == TM_OK)
        rc = costs_from(root, c, err);
    json_decref(root);
    return rc;
}

/* ---- The model --------------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

double tm_sim_draw(uint64_t seed, const char *debt_id, int64_t day, const char *channel,
                   const char *purpose)
{
    /* FNV-1a over the key (with NUL separators, so "ab"+"c" differs from "a"+"bc"), then the
     * splitmix64 finaliser, whose avalanche makes neighbouring keys independent. */
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, &seed, sizeof seed);
    h = fnv(h, debt_id ? debt_id : "", strlen(debt_id ? debt_id : "") + 1);
    h = fnv(h, &day, sizeof day);
    h = fnv(h, channel ? channel : "", strlen(channel ? channel : "") + 1);
    h = fnv(h, purpose ? purpose : "", strlen(purpose ? purpose : "") + 1);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return (double)(h >> 11) * 0x1.0p-53;
}

static double clamp01(double p)
{
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

static int hour_bucket(int h)
{
    if (h >= 8 && h < 12)
        return TM_SIM_MORNING;
    if (h >= 12 && h < 17)
        return TM_SIM_AFTERNOON;
    if (h >= 17 && h < 21)
        return TM_SIM_EVENING;
    return TM_SIM_NIGHT;
}

/* A share of `balance` in minor units, at least 1 and at most the balance. */
static int64_t share(int64_t balance, double f)
{
    int64_t a = (int64_t)floor((double)balance * f);
    return a < 1 ? 1 : a > balance ? balance : a;
}

void tm_sim_respond(const tm_sim_world *w, uint64_t seed, const tm_sim_contact *c,
                    tm_sim_response *r)
{
    if (w == NULL || c == NULL || r == NULL)
        return;
    memset(r, 0, sizeof *r);
    int ch = tm_sim_channel_index(c->channel);
    if (ch < 0 || c->balance <= 0)
        return;
#define U(purpose) tm_sim_draw(seed, c->debt_id, c->day, c->channel, purpose)
    double ptp = clamp01(c->ptp);
    int recent = c->recent < 0 ? 0 : c->recent;
    double harm = 1 + w->pressure_harm * recent;
    r->delay_s = 600 + (int)(U("delay") * 13800);
    r->complaint = U("complaint") < clamp01(w->channel[ch].complaint * harm);
    r->optout = U("optout") < clamp01(w->channel[ch].optout * harm);
    double reach = w->channel[ch].answer * w->hour[hour_bucket(c->local_hour)] *
                   pow(1 - w->pressure_response, recent);
    r->right_party = U("answer") < clamp01(reach);
    if (!r->right_party)
        return;
    if (U("dispute") < w->dispute) {
        r->dispute = 1;
        return;
    }
    double pay = w->pay * 2 * ptp;
    if (U("pay") < (pay > 0.95 ? 0.95 : pay)) {
        double f = U("full") < w->pay_full
                       ? 1.0
                       : w->partial_min + U("amount") * (w->partial_max - w->partial_min);
        r->pay = share(c->balance, f);
        return;
    }
    if (U("promise") < w->promise) {
        r->promise = c->balance;
        int span = w->promise_days_max - w->promise_days_min + 1;
        r->promise_days = w->promise_days_min + (int)(U("due") * span);
        r->promise_kept = U("keep") < clamp01(w->keep_base + w->keep_ptp * ptp);
    }
#undef U
}

int64_t tm_sim_self_cure(const tm_sim_world *w, uint64_t seed, const char *debt_id, int64_t day,
                         double ptp, int64_t balance)
{
    if (w == NULL || balance <= 0)
        return 0;
    return tm_sim_draw(seed, debt_id, day, "", "self_cure") < w->self_cure * 2 * clamp01(ptp)
               ? balance
               : 0;
}

/* ---- Paired comparison ------------------------------------------------------------------- */

void tm_sim_paired(const double *xa, const double *ya, const double *xb, const double *yb,
                   size_t n, tm_sim_diff *out)
{
    double sxa = 0, sya = 0, sxb = 0, syb = 0;
    for (size_t i = 0; i < n; i++) {
        sxa += xa[i];
        sxb += xb[i];
        sya += ya ? ya[i] : 1;
        syb += yb ? yb[i] : 1;
    }
    out->a = sya > 0 ? sxa / sya : (double)NAN;
    out->b = syb > 0 ? sxb / syb : (double)NAN;
    out->diff = out->b - out->a;
    out->lo = out->hi = (double)NAN;
    out->significant = 0;
    if (n < 2 || !(sya > 0) || !(syb > 0))
        return;
    double mya = sya / (double)n, myb = syb / (double)n;
    /* Two passes (mean, then squared deviations): stable where one pass of sums of
     * squares would cancel. */
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        double za = (xa[i] - out->a * (ya ? ya[i] : 1)) / mya;
        double zb = (xb[i] - out->b * (yb ? yb[i] : 1)) / myb;
        mean += zb - za;
    }
    mean /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double za = (xa[i] - out->a * (ya ? ya[i] : 1)) / mya;
        double zb = (xb[i] - out->b * (yb ? yb[i] : 1)) / myb;
        double d = zb - za - mean;
        ss += d * d;
    }
    double se = sqrt(ss / (double)(n - 1) / (double)n);
    out->lo = out->diff - 1.96 * se;
    out->hi = out->diff + 1.96 * se;
    out->significant = out->lo > 0 || out->hi < 0;
}
