/*
 * core/sim_fit.c: the simulated consumer's parameters fitted from observed contacts
 * (sim_fit.h, where the method is written out). Depends on jansson (the world file) and libm.
 */
#include "sim_fit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tm_sim_channels[6]: the live call, the one channel whose right-party contact is seen. */
#define CALL 6

static const char *const band_names[TM_SIM_NHOURS] = {"night", "morning", "afternoon", "evening"};

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* A binomial proportion k/n with its Wilson 95% interval. */
static tm_sim_est proportion(double k, double n, double assumed)
{
    tm_sim_est e = {.value = assumed, .lo = (double)NAN, .hi = (double)NAN, .n = (long)n};
    if (n < TM_SIM_FIT_MIN)
        return e;
    double p = k / n, z = 1.96, d = 1 + z * z / n;
    double c = (p + z * z / (2 * n)) / d, h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d;
    e.value = p;
    e.lo = clamp(c - h, 0, 1);
    e.hi = clamp(c + h, 0, 1);
    e.fitted = 1;
    return e;
}

/* The chance that a right-party contact with propensity `ptp` leads to something seen. */
static double seen_share(const tm_sim_world *w, double ptp)
{
    double pay = clamp(2 * w->pay * ptp, 0, 0.95);
    return w->dispute + (1 - w->dispute) * (pay + (1 - pay) * w->promise);
}

static int responded(const tm_sim_obs *o) { return o->dispute || o->pay || o->promise; }

/* The response model for a given pressure_response: fits answer and hours by alternating
 * closed forms and returns the log-likelihood. */
static double fit_answer(const tm_sim_obs *obs, size_t n, const double *q, double pr,
                         const int *has_band, int calls_only, tm_sim_world *w)
{
    double a[TM_SIM_NCHANNELS], h[TM_SIM_NHOURS];
    for (int c = 0; c < TM_SIM_NCHANNELS; c++)
        a[c] = w->channel[c].answer;
    for (int b = 0; b < TM_SIM_NHOURS; b++)
        h[b] = w->hour[b];
    for (int it = 0; it < 30; it++) {
        double ys[TM_SIM_NCHANNELS] = {0}, es[TM_SIM_NCHANNELS] = {0};
        double yb[TM_SIM_NHOURS] = {0}, eb[TM_SIM_NHOURS] = {0};
        for (size_t i = 0; i < n; i++) {
            const tm_sim_obs *o = &obs[i];
            ys[o->ch] += o->ch == CALL ? o->conv : responded(o);
            es[o->ch] += h[o->band] * pow(1 - pr, o->recent) * q[i];
        }
        for (int c = 0; c < TM_SIM_NCHANNELS; c++)
            if (es[c] > 0)
                a[c] = clamp(ys[c] / es[c], 0, 1);
        for (size_t i = 0; i < n; i++) {
            const tm_sim_obs *o = &obs[i];
            yb[o->band] += o->ch == CALL ? o->conv : responded(o);
            eb[o->band] += a[o->ch] * pow(1 - pr, o->recent) * q[i];
        }
        for (int b = 0; b < TM_SIM_NHOURS; b++)
            if (has_band[b] && eb[b] > 0)
                h[b] = clamp(yb[b] / eb[b], 0, 10);
        /* The scale sits in the channels: the morning factor is 1, as assumed. */
        if (has_band[TM_SIM_MORNING] && h[TM_SIM_MORNING] > 0) {
            double m = h[TM_SIM_MORNING];
            for (int b = 0; b < TM_SIM_NHOURS; b++)
                if (has_band[b])
                    h[b] /= m;
            for (int c = 0; c < TM_SIM_NCHANNELS; c++)
                a[c] = clamp(a[c] * m, 0, 1);
        }
    }
    double ll = 0;
    for (size_t i = 0; i < n; i++) {
        const tm_sim_obs *o = &obs[i];
        if (calls_only && o->ch != CALL)
            continue;
        double y = o->ch == CALL ? o->conv : responded(o);
        double p = clamp(a[o->ch] * h[o->band] * pow(1 - pr, o->recent) * q[i], 1e-9, 1 - 1e-9);
        ll += y ? log(p) : log(1 - p);
    }
    for (int c = 0; c < TM_SIM_NCHANNELS; c++)
        w->channel[c].answer = a[c];
    for (int b = 0; b < TM_SIM_NHOURS; b++)
        w->hour[b] = h[b];
    return ll;
}

static double fit_optout(const tm_sim_obs *obs, size_t n, double harm, double *o_ch)
{
    double k[TM_SIM_NCHANNELS] = {0}, e[TM_SIM_NCHANNELS] = {0};
    for (size_t i = 0; i < n; i++) {
        k[obs[i].ch] += obs[i].optout;
        e[obs[i].ch] += 1 + harm * obs[i].recent;
    }
    for (int c = 0; c < TM_SIM_NCHANNELS; c++)
        o_ch[c] = e[c] > 0 ? clamp(k[c] / e[c], 0, 1) : 0;
    double ll = 0;
    for (size_t i = 0; i < n; i++) {
        double p = clamp(o_ch[obs[i].ch] * (1 + harm * obs[i].recent), 1e-9, 1 - 1e-9);
        ll += obs[i].optout ? log(p) : log(1 - p);
    }
    return ll;
}

/* The grid point of the largest log-likelihood and the interval where it is within 1.92. */
static tm_sim_est profile(const double *grid, const double *ll, int ng, long n)
{
    int best = 0;
    for (int g = 1; g < ng; g++)
        if (ll[g] > ll[best])
            best = g;
    tm_sim_est e = {.value = grid[best], .lo = grid[best], .hi = grid[best], .n = n, .fitted = 1};
    for (int g = best; g >= 0 && ll[best] - ll[g] <= 1.92; g--)
        e.lo = grid[g];
    for (int g = best; g < ng && ll[best] - ll[g] <= 1.92; g++)
        e.hi = grid[g];
    return e;
}

int tm_sim_fit_run(const tm_sim_obs *obs, size_t n, const tm_sim_pobs *prom, size_t np,
                   long cures, double exposure, const tm_sim_world *assumed, tm_sim_fit *out,
                   struct tm_err *err)
{
    memset(out, 0, sizeof *out);
    out->world = *assumed;
    tm_sim_world *w = &out->world;
    out->contacts = (long)n;
    if (n < TM_SIM_FIT_MIN)
        return tm_err_set(err, TM_EINVAL,
                          "the history is too short to fit: %zu contacts, at least %d needed", n,
                          TM_SIM_FIT_MIN);
    /* What a right-party contact leads to: the calls' conversations. */
    double conv = 0, disp = 0, nd = 0, pays = 0, nq = 0, proms = 0, full = 0, npay = 0;
    double smin = 1, smax = 0;
    for (size_t i = 0; i < n; i++) {
        const tm_sim_obs *o = &obs[i];
        out->outcomes += responded(o) + o->optout + (o->ch == CALL && o->conv && !responded(o));
        if (o->pay) {
            npay++;
            full += o->pay_full;
            if (!o->pay_full) {
                smin = o->pay_share < smin ? o->pay_share : smin;
                smax = o->pay_share > smax ? o->pay_share : smax;
            }
        }
        if (o->ch != CALL || !o->conv)
            continue;
        conv++;
        disp += o->dispute;
        if (o->dispute)
            continue;
        nd++;
        pays += o->pay;
        if (!o->pay) {
            nq++;
            proms += o->promise;
        }
    }
    out->dispute = proportion(disp, conv, w->dispute);
    w->dispute = out->dispute.value;
    out->promise = proportion(proms, nq, w->promise);
    w->promise = out->promise.value;
    out->pay = (tm_sim_est){.value = w->pay, .lo = (double)NAN, .hi = (double)NAN, .n = (long)nd};
    if (nd >= TM_SIM_FIT_MIN) {
        /* sum over the conversations of min(0.95, 2 pay ptp) = target: increasing in pay. */
        double var = 0, t[3] = {pays, 0, 0}, sol[3];
        for (size_t i = 0; i < n; i++)
            if (obs[i].ch == CALL && obs[i].conv && !obs[i].dispute) {
                double p = clamp(2 * w->pay * obs[i].ptp, 0, 0.95);
                var += p * (1 - p);
            }
        t[1] = pays - 1.96 * sqrt(var > 0 ? var : pays);
        t[2] = pays + 1.96 * sqrt(var > 0 ? var : pays);
        for (int k = 0; k < 3; k++) {
            double lo = 0, hi = 1;
            for (int it = 0; it < 60; it++) {
                double mid = (lo + hi) / 2, s = 0;
                for (size_t i = 0; i < n; i++)
                    if (obs[i].ch == CALL && obs[i].conv && !obs[i].dispute)
                        s += clamp(2 * mid * obs[i].ptp, 0, 0.95);
                if (s < t[k])
                    lo = mid;
                else
                    hi = mid;
            }
            sol[k] = (lo + hi) / 2;
        }
        out->pay = (tm_sim_est){.value = sol[0], .lo = sol[1], .hi = sol[2], .n = (long)nd,
                                .fitted = 1};
        w->pay = sol[0];
    }
    out->pay_full = proportion(full, npay, w->pay_full);
    w->pay_full = out->pay_full.value;
    out->partial = (tm_sim_est){.value = w->partial_min, .lo = (double)NAN, .hi = (double)NAN,
                                .n = (long)(npay - full)};
    if (npay - full >= TM_SIM_FIT_MIN && smax >= smin) {
        w->partial_min = smin;
        w->partial_max = smax;
        out->partial.fitted = 1;
    }
    /* Answer, hours and pressure. */
    double *q = malloc(n * sizeof *q);
    if (q == NULL)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    int has_band[TM_SIM_NHOURS] = {0};
    long nch[TM_SIM_NCHANNELS] = {0}, yb[TM_SIM_NHOURS] = {0}, ych[TM_SIM_NCHANNELS] = {0};
    for (size_t i = 0; i < n; i++) {
        q[i] = obs[i].ch == CALL ? 1 : seen_share(w, obs[i].ptp);
        has_band[obs[i].band]++;
        nch[obs[i].ch]++;
        int y = obs[i].ch == CALL ? obs[i].conv : responded(&obs[i]);
        yb[obs[i].band] += y;
        ych[obs[i].ch] += y;
    }
    for (int b = 0; b < TM_SIM_NHOURS; b++)
        has_band[b] = has_band[b] >= TM_SIM_FIT_MIN;
    /* Pressure is read where the right-party contact itself is seen, the calls, when there
     * are enough of them: elsewhere what the consumer did also depends on what they did
     * before (a promise made is not made again). */
    int calls_only = nch[CALL] >= TM_SIM_FIT_MIN;
    enum { NG = 61 };
    double grid[NG], ll[NG];
    for (int g = 0; g < NG; g++) {
        tm_sim_world tw = *w;
        grid[g] = 0.01 * g;
        ll[g] = fit_answer(obs, n, q, grid[g], has_band, calls_only, &tw);
    }
    out->pressure_response = profile(grid, ll, NG, calls_only ? nch[CALL] : (long)n);
    w->pressure_response = out->pressure_response.value;
    /* The answer rates move with the pressure effect: their intervals take in the answers
     * at both ends of its interval too. */
    tm_sim_world wlo = *w, whi = *w;
    fit_answer(obs, n, q, out->pressure_response.lo, has_band, calls_only, &wlo);
    fit_answer(obs, n, q, out->pressure_response.hi, has_band, calls_only, &whi);
    fit_answer(obs, n, q, w->pressure_response, has_band, calls_only, w);
    free(q);
    for (int c = 0; c < TM_SIM_NCHANNELS; c++) {
        tm_sim_est *e = &out->answer[c];
        *e = (tm_sim_est){.value = w->channel[c].answer, .lo = (double)NAN, .hi = (double)NAN,
                          .n = nch[c]};
        if (nch[c] >= TM_SIM_FIT_MIN && ych[c] > 0) {
            /* The channel's responses are binomial: their relative error carries over. */
            double rel = 1.96 * sqrt((1 - (double)ych[c] / (double)nch[c]) / (double)ych[c]);
            double a0 = wlo.channel[c].answer, a1 = whi.channel[c].answer;
            e->lo = clamp((a0 < e->value ? a0 : e->value) * (1 - rel), 0, 1);
            e->hi = clamp((a1 > e->value ? a1 : e->value) * (1 + rel), 0, 1);
            e->fitted = 1;
        } else {
            w->channel[c].answer = assumed->channel[c].answer;
            e->value = w->channel[c].answer;
        }
    }
    for (int b = 0; b < TM_SIM_NHOURS; b++) {
        tm_sim_est *e = &out->hour[b];
        *e = (tm_sim_est){.value = w->hour[b], .lo = (double)NAN, .hi = (double)NAN,
                          .n = (long)yb[b], .fitted = has_band[b] && b != TM_SIM_MORNING};
        if (e->fitted && yb[b] > 0) {
            double rel = 1.96 * sqrt(1.0 / (double)yb[b] +
                                     (yb[TM_SIM_MORNING] ? 1.0 / (double)yb[TM_SIM_MORNING] : 0));
            e->lo = clamp(e->value * (1 - rel), 0, 10);
            e->hi = clamp(e->value * (1 + rel), 0, 10);
        }
    }
    /* Opt-outs and the harm of pressure. */
    enum { NH = 101 };
    double hg[NH], hl[NH], och[TM_SIM_NCHANNELS];
    long ko[TM_SIM_NCHANNELS] = {0}, kall = 0;
    for (size_t i = 0; i < n; i++) {
        ko[obs[i].ch] += obs[i].optout;
        kall += obs[i].optout;
    }
    if (kall >= TM_SIM_FIT_MIN) {
        for (int g = 0; g < NH; g++) {
            hg[g] = 0.05 * g;
            hl[g] = fit_optout(obs, n, hg[g], och);
        }
        out->pressure_harm = profile(hg, hl, NH, kall);
        w->pressure_harm = out->pressure_harm.value;
    } else {
        out->pressure_harm = (tm_sim_est){.value = w->pressure_harm, .lo = (double)NAN,
                                          .hi = (double)NAN, .n = kall};
    }
    fit_optout(obs, n, w->pressure_harm, och);
    for (int c = 0; c < TM_SIM_NCHANNELS; c++) {
        double e1 = 0;
        for (size_t i = 0; i < n; i++)
            if (obs[i].ch == c)
                e1 += 1 + w->pressure_harm * obs[i].recent;
        tm_sim_est *e = &out->optout[c];
        tm_sim_est p = proportion((double)ko[c], e1, assumed->channel[c].optout);
        *e = p;
        e->n = nch[c];
        if (nch[c] >= TM_SIM_FIT_MIN) {
            e->value = och[c];
            w->channel[c].optout = och[c];
            e->fitted = 1;
        }
    }
    /* Promises kept: kept = keep_base + keep_ptp x ptp, by least squares. */
    out->keep_base = (tm_sim_est){.value = w->keep_base, .lo = (double)NAN, .hi = (double)NAN,
                                  .n = (long)np};
    out->keep_ptp = (tm_sim_est){.value = w->keep_ptp, .lo = (double)NAN, .hi = (double)NAN,
                                 .n = (long)np};
    out->promise_days = (tm_sim_est){.value = w->promise_days_min, .lo = (double)NAN,
                                     .hi = (double)NAN, .n = (long)np};
    if (np >= TM_SIM_FIT_MIN) {
        double mx = 0, my = 0, sxx = 0, sxy = 0, sse = 0;
        int dmin = 365, dmax = 1;
        for (size_t i = 0; i < np; i++) {
            mx += prom[i].ptp;
            my += prom[i].kept;
            dmin = prom[i].days < dmin ? prom[i].days : dmin;
            dmax = prom[i].days > dmax ? prom[i].days : dmax;
        }
        mx /= (double)np;
        my /= (double)np;
        for (size_t i = 0; i < np; i++) {
            sxx += (prom[i].ptp - mx) * (prom[i].ptp - mx);
            sxy += (prom[i].ptp - mx) * (prom[i].kept - my);
        }
        double slope = sxx > 1e-12 ? sxy / sxx : 0, icpt = my - slope * mx;
        for (size_t i = 0; i < np; i++) {
            double r = prom[i].kept - icpt - slope * prom[i].ptp;
            sse += r * r;
        }
        double s2 = np > 2 ? sse / (double)(np - 2) : 0;
        double se_s = sxx > 1e-12 ? sqrt(s2 / sxx) : (double)NAN;
        double se_i = sqrt(s2 * (1.0 / (double)np + (sxx > 1e-12 ? mx * mx / sxx : 0)));
        out->keep_base = (tm_sim_est){.value = clamp(icpt, 0, 1), .lo = clamp(icpt - 1.96 * se_i, 0, 1),
                                      .hi = clamp(icpt + 1.96 * se_i, 0, 1), .n = (long)np,
                                      .fitted = 1};
        out->keep_ptp = (tm_sim_est){.value = clamp(slope, 0, 1), .lo = clamp(slope - 1.96 * se_s, 0, 1),
                                     .hi = clamp(slope + 1.96 * se_s, 0, 1), .n = (long)np,
                                     .fitted = sxx > 1e-12};
        w->keep_base = out->keep_base.value;
        if (out->keep_ptp.fitted)
            w->keep_ptp = out->keep_ptp.value;
        w->promise_days_min = dmin < 1 ? 1 : dmin;
        w->promise_days_max = dmax < w->promise_days_min ? w->promise_days_min : dmax;
        out->promise_days.fitted = 1;
        out->outcomes += (long)np;
    }
    /* Self-cures: a Poisson count on its exposure. */
    out->self_cure = (tm_sim_est){.value = w->self_cure, .lo = (double)NAN, .hi = (double)NAN,
                                  .n = cures};
    if (exposure > 0 && cures >= 1) {
        double r = (double)cures / exposure, rel = 1.96 / sqrt((double)cures);
        out->self_cure = (tm_sim_est){.value = clamp(r, 0, 1), .lo = clamp(r * (1 - rel), 0, 1),
                                      .hi = clamp(r * (1 + rel), 0, 1), .n = cures,
                                      .fitted = cures >= TM_SIM_FIT_MIN};
        if (out->self_cure.fitted)
            w->self_cure = out->self_cure.value;
        out->outcomes += cures;
    }
    return TM_OK;
}

static void put_interval(json_t *iv, const char *name, const tm_sim_est *e, json_t *assumed)
{
    if (!e->fitted) {
        json_array_append_new(assumed, json_string(name));
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "value", json_real(round(e->value * 1e6) / 1e6));
    if (!isnan(e->lo)) {
        json_object_set_new(o, "lo", json_real(round(e->lo * 1e6) / 1e6));
        json_object_set_new(o, "hi", json_real(round(e->hi * 1e6) / 1e6));
    }
    json_object_set_new(o, "n", json_integer(e->n));
    json_object_set_new(iv, name, o);
}

static json_t *num(double v) { return json_real(round(v * 1e6) / 1e6); }

int tm_sim_fit_json(const tm_sim_fit *f, const char *from, const char *as_of, char **json,
                    struct tm_err *err)
{
    const tm_sim_world *w = &f->world;
    json_t *root = json_object(), *chs = json_object(), *hrs = json_object();
    json_t *fit = json_object(), *iv = json_object(), *assumed = json_array();
    for (int c = 0; c < TM_SIM_NCHANNELS; c++) {
        json_t *o = json_object();
        json_object_set_new(o, "answer", num(w->channel[c].answer));
        json_object_set_new(o, "complaint", num(w->channel[c].complaint));
        json_object_set_new(o, "optout", num(w->channel[c].optout));
        json_object_set_new(chs, tm_sim_channels[c], o);
        char name[64];
        snprintf(name, sizeof name, "channels.%s.answer", tm_sim_channels[c]);
        put_interval(iv, name, &f->answer[c], assumed);
        snprintf(name, sizeof name, "channels.%s.optout", tm_sim_channels[c]);
        put_interval(iv, name, &f->optout[c], assumed);
        snprintf(name, sizeof name, "channels.%s.complaint", tm_sim_channels[c]);
        json_array_append_new(assumed, json_string(name)); /* a store records no complaints */
    }
    for (int b = 0; b < TM_SIM_NHOURS; b++) {
        json_object_set_new(hrs, band_names[b], num(w->hour[b]));
        char name[32];
        snprintf(name, sizeof name, "hours.%s", band_names[b]);
        if (b != TM_SIM_MORNING)
            put_interval(iv, name, &f->hour[b], assumed);
    }
    json_object_set_new(root, "channels", chs);
    json_object_set_new(root, "hours", hrs);
    const struct {
        const char *name;
        double v;
        const tm_sim_est *e;
    } fields[] = {
        {"pay", w->pay, &f->pay},
        {"pay_full", w->pay_full, &f->pay_full},
        {"partial_min", w->partial_min, &f->partial},
        {"partial_max", w->partial_max, &f->partial},
        {"promise", w->promise, &f->promise},
        {"keep_base", w->keep_base, &f->keep_base},
        {"keep_ptp", w->keep_ptp, &f->keep_ptp},
        {"dispute", w->dispute, &f->dispute},
        {"pressure_response", w->pressure_response, &f->pressure_response},
        {"pressure_harm", w->pressure_harm, &f->pressure_harm},
        {"self_cure", w->self_cure, &f->self_cure},
        {"ptp_default", w->ptp_default, NULL},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        json_object_set_new(root, fields[i].name, num(fields[i].v));
        if (fields[i].e == &f->partial) {
            if (!f->partial.fitted)
                json_array_append_new(assumed, json_string(fields[i].name));
        } else if (fields[i].e) {
            put_interval(iv, fields[i].name, fields[i].e, assumed);
        } else {
            json_array_append_new(assumed, json_string(fields[i].name));
        }
    }
    json_object_set_new(root, "promise_days_min", json_integer(w->promise_days_min));
    json_object_set_new(root, "promise_days_max", json_integer(w->promise_days_max));
    if (!f->promise_days.fitted) {
        json_array_append_new(assumed, json_string("promise_days_min"));
        json_array_append_new(assumed, json_string("promise_days_max"));
    }
    json_object_set_new(fit, "from", json_string(from ? from : ""));
    json_object_set_new(fit, "as_of", json_string(as_of ? as_of : ""));
    json_object_set_new(fit, "contacts", json_integer(f->contacts));
    json_object_set_new(fit, "outcomes", json_integer(f->outcomes));
    json_object_set_new(fit, "intervals", iv);
    json_object_set_new(fit, "assumed", assumed);
    json_object_set_new(root, "fitted", fit);
    *json = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    return *json ? TM_OK : tm_err_set(err, TM_ENOMEM, "out of memory");
}
