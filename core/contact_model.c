/*
 * core/contact_model.c: the contact-time and channel model (contact_model.h, where the
 * method is written out). Depends on jansson (the model file), core/tz.h (local hours) and
 * core/gate.h (the channel names).
 *
 * The builder keeps every contact (a few dozen bytes each) because the consumer level needs
 * the segment rates before it can weigh a consumer's history: the fit is three passes, the
 * cells, then the priors, then the consumers.
 */
#include "contact_model.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "tz.h"

#define NCH TM_CH__COUNT
#define MAX_SEGMENTS 64
#define KAPPA_MIN 1.0
#define KAPPA_MAX 10000.0

typedef struct obs {
    uint32_t debt;     /* index in b->debts */
    int64_t consumer;
    int16_t seg;       /* -1: unknown */
    uint8_t ch, rpc, paid;
    uint8_t how;       /* 0..167 */
} obs;

struct tm_cm_builder {
    obs *o;
    size_t n, cap;
    char **debts;
    size_t ndebts, capdebts;
    char *segs[MAX_SEGMENTS];
    int nsegs;
};

typedef struct rates {
    double p[NCH][TM_CM_HOURS][TM_CM_NOUT];
} rates;

typedef struct debt_mult {
    char *id;
    double m[NCH][TM_CM_NOUT];
} debt_mult;

struct tm_contact_model {
    char name[128];
    int pay_days;
    rates port;
    int nsegs;
    char *seg_names[MAX_SEGMENTS];
    rates *segs;
    debt_mult *debts; /* sorted by id */
    size_t ndebts;
};

/* ---- Building ---------------------------------------------------------------------------- */

tm_cm_builder *tm_cm_builder_new(void) { return calloc(1, sizeof(tm_cm_builder)); }

void tm_cm_builder_free(tm_cm_builder *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->ndebts; i++)
        free(b->debts[i]);
    for (int i = 0; i < b->nsegs; i++)
        free(b->segs[i]);
    free(b->debts);
    free(b->o);
    free(b);
}

size_t tm_cm_builder_count(const tm_cm_builder *b) { return b ? b->n : 0; }

int tm_cm_channel(const char *name)
{
    if (name && strcmp(name, "voice") == 0)
        name = "call";
    return name ? tm_gate_lookup(tm_gate_channel_names, name) : -1;
}

const char *tm_cm_channel_name(int ch)
{
    return ch >= 0 && ch < NCH ? tm_gate_channel_names[ch] : NULL;
}

int tm_cm_builder_add(tm_cm_builder *b, const char *debt_id, int64_t consumer, const char *segment,
                      const char *channel, int how, int rpc, int paid, struct tm_err *err)
{
    int ch = tm_cm_channel(channel);
    if (b == NULL || debt_id == NULL)
        return tm_err_set(err, TM_EINVAL, "contact model: no builder or debt");
    if (ch < 0)
        return tm_err_set(err, TM_EINVAL, "debt %.64s: channel '%.32s' is not one the model knows",
                          debt_id, channel ? channel : "");
    if (how < 0 || how >= TM_CM_HOURS)
        return tm_err_set(err, TM_EINVAL, "debt %.64s: hour of the week %d out of 0..167", debt_id,
                          how);
    int seg = -1;
    if (segment && segment[0]) {
        for (int i = 0; i < b->nsegs; i++)
            if (strcmp(b->segs[i], segment) == 0)
                seg = i;
        if (seg < 0 && b->nsegs < MAX_SEGMENTS) {
            if ((b->segs[b->nsegs] = strdup(segment)) == NULL)
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            seg = b->nsegs++;
        }
    }
    /* Contacts come debt by debt from the store: one copy of each id. */
    if (b->ndebts == 0 || strcmp(b->debts[b->ndebts - 1], debt_id) != 0) {
        if (b->ndebts == b->capdebts) {
            size_t cap = b->capdebts ? b->capdebts * 2 : 256;
            char **q = realloc(b->debts, cap * sizeof *q);
            if (q == NULL)
                return tm_err_set(err, TM_ENOMEM, "out of memory");
            b->debts = q;
            b->capdebts = cap;
        }
        if ((b->debts[b->ndebts] = strdup(debt_id)) == NULL)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        b->ndebts++;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        obs *q = realloc(b->o, cap * sizeof *q);
        if (q == NULL)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        b->o = q;
        b->cap = cap;
    }
    b->o[b->n++] = (obs){.debt = (uint32_t)(b->ndebts - 1), .consumer = consumer,
                         .seg = (int16_t)seg, .ch = (uint8_t)ch, .rpc = rpc ? 1 : 0,
                         .paid = paid ? 1 : 0, .how = (uint8_t)how};
    return TM_OK;
}

/* ---- Fitting ----------------------------------------------------------------------------- */

typedef struct cell {
    double n, k[TM_CM_NOUT];
} cell;

/* The Beta prior strength by the method of moments (contact_model.h) over cells whose prior
 * means are mu[i]. */
static double mom_kappa(const cell *c, const double *mu, size_t ncells, int out)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < ncells; i++) {
        double n = c[i].n, m = mu[i];
        if (n < 2 || m <= 0 || m >= 1)
            continue;
        double x = c[i].k[out] / n;
        num += (x - m) * (x - m) / (m * (1 - m)) - 1 / n;
        den += 1 - 1 / n;
    }
    if (den <= 0 || num <= 0)
        return KAPPA_MAX;
    double rho = num / den;
    double kappa = 1 / rho - 1;
    return kappa < KAPPA_MIN ? KAPPA_MIN : kappa > KAPPA_MAX ? KAPPA_MAX : kappa;
}

static int cmp_consumer(const void *a, const void *b)
{
    const obs *x = *(const obs *const *)a, *y = *(const obs *const *)b;
    if (x->consumer != y->consumer)
        return x->consumer < y->consumer ? -1 : 1;
    return x < y ? -1 : x > y;
}

static json_t *rates_json(const rates *r, const cell (*cells)[TM_CM_HOURS])
{
    static const char *const outs[TM_CM_NOUT] = {"rpc", "pay"};
    json_t *o = json_object();
    for (int ch = 0; o && ch < NCH; ch++) {
        json_t *c = json_object();
        double n = 0;
        for (int h = 0; h < TM_CM_HOURS; h++)
            n += cells[ch][h].n;
        json_object_set_new(c, "contacts", json_integer((json_int_t)n));
        for (int k = 0; k < TM_CM_NOUT; k++) {
            json_t *a = json_array();
            for (int h = 0; h < TM_CM_HOURS; h++)
                json_array_append_new(a, json_real(round(r->p[ch][h][k] * 1e6) / 1e6));
            json_object_set_new(c, outs[k], a);
        }
        json_object_set_new(o, tm_gate_channel_names[ch], c);
    }
    return o;
}

int tm_cm_fit(const tm_cm_builder *b, const char *name, const char *as_of, int pay_days,
              char **json, tm_cm_report *rep, struct tm_err *err)
{
    tm_cm_report rr;
    memset(&rr, 0, sizeof rr);
    *json = NULL;
    if (b == NULL || b->n < TM_CM_MIN_CONTACTS)
        return tm_err_set(err, TM_EINVAL,
                          "the contact history is too short to fit: %zu outbound contacts, at "
                          "least %d needed",
                          b ? b->n : 0, TM_CM_MIN_CONTACTS);
    int ns = b->nsegs;
    cell(*port)[TM_CM_HOURS] = calloc(NCH, sizeof *port);
    cell(*seg)[NCH][TM_CM_HOURS] = calloc(ns ? (size_t)ns : 1, sizeof *seg);
    rates *pr = calloc(1, sizeof *pr);
    rates *sr = calloc(ns ? (size_t)ns : 1, sizeof *sr);
    double *mu = malloc((size_t)(ns ? ns : 1) * TM_CM_HOURS * sizeof *mu);
    const obs **by = malloc(b->n * sizeof *by);
    double(*mult)[NCH][TM_CM_NOUT] = malloc(b->ndebts * sizeof *mult);
    unsigned char(*has)[NCH] = calloc(b->ndebts, sizeof *has);
    size_t *segn = calloc(ns ? (size_t)ns : 1, sizeof *segn);
    json_t *root = NULL;
    int rc = TM_OK;
    if (!port || !seg || !pr || !sr || !mu || !by || !mult || !has || !segn) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        goto done;
    }
    double tot[TM_CM_NOUT] = {0};
    for (size_t i = 0; i < b->n; i++) {
        const obs *o = &b->o[i];
        cell *c = &port[o->ch][o->how];
        c->n++;
        c->k[TM_CM_RPC] += o->rpc;
        c->k[TM_CM_PAY] += o->paid;
        tot[TM_CM_RPC] += o->rpc;
        tot[TM_CM_PAY] += o->paid;
        if (o->seg >= 0) {
            cell *s = &seg[o->seg][o->ch][o->how];
            s->n++;
            s->k[TM_CM_RPC] += o->rpc;
            s->k[TM_CM_PAY] += o->paid;
            segn[o->seg]++;
        }
    }
    json_t *kp = json_object(), *ks = json_object();
    for (int k = 0; k < TM_CM_NOUT; k++) {
        rr.rate[k] = tot[k] / (double)b->n;
        double overall = (tot[k] + 1) / ((double)b->n + 2);
        for (int ch = 0; ch < NCH; ch++) {
            double N = 0, K = 0;
            for (int h = 0; h < TM_CM_HOURS; h++) {
                N += port[ch][h].n;
                K += port[ch][h].k[k];
            }
            /* A channel never tried takes the rate of all channels together. */
            double pch = N > 0 ? (K + 1) / (N + 2) : overall;
            for (int h = 0; h < TM_CM_HOURS; h++)
                mu[h] = pch;
            double kappa = mom_kappa(port[ch], mu, TM_CM_HOURS, k);
            for (int h = 0; h < TM_CM_HOURS; h++)
                pr->p[ch][h][k] =
                    ((port[ch][h].k[k] + kappa * pch) / (port[ch][h].n + kappa));
            char key[48];
            snprintf(key, sizeof key, "%s.%s", tm_gate_channel_names[ch], k ? "pay" : "rpc");
            json_object_set_new(kp, key, json_real(round(kappa * 1000) / 1000));
            /* The segments around the portfolio's cells: one strength per channel, fitted
             * over the segments with enough history. */
            cell *sc = malloc((size_t)(ns ? ns : 1) * TM_CM_HOURS * sizeof *sc);
            if (sc == NULL) {
                json_decref(kp);
                json_decref(ks);
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                goto done;
            }
            size_t nc = 0;
            for (int s = 0; s < ns; s++) {
                if (segn[s] < TM_CM_MIN_SEGMENT)
                    continue;
                for (int h = 0; h < TM_CM_HOURS; h++) {
                    sc[nc] = seg[s][ch][h];
                    mu[nc++] = pr->p[ch][h][k];
                }
            }
            double kappa_s = mom_kappa(sc, mu, nc, k);
            free(sc);
            json_object_set_new(ks, key, json_real(round(kappa_s * 1000) / 1000));
            for (int s = 0; s < ns; s++)
                for (int h = 0; h < TM_CM_HOURS; h++) {
                    const cell *c = &seg[s][ch][h];
                    sr[s].p[ch][h][k] =
                        ((c->k[k] + kappa_s * pr->p[ch][h][k]) / (c->n + kappa_s));
                }
        }
    }
    /* The consumer level: observed against expected under the segment's (or, for a segment
     * too small, the portfolio's) rates, per consumer and channel. */
    for (size_t i = 0; i < b->n; i++)
        by[i] = &b->o[i];
    qsort(by, b->n, sizeof *by, cmp_consumer);
    double kc[TM_CM_NOUT];
    for (int pass = 0; pass < 2; pass++) {
        double num[TM_CM_NOUT] = {0}, den[TM_CM_NOUT] = {0};
        for (size_t i = 0; i < b->n;) {
            size_t j = i;
            double O[NCH][TM_CM_NOUT], E[NCH][TM_CM_NOUT], V[NCH][TM_CM_NOUT];
            memset(O, 0, sizeof O);
            memset(E, 0, sizeof E);
            memset(V, 0, sizeof V);
            while (j < b->n && by[j]->consumer == by[i]->consumer) {
                const obs *o = by[j++];
                const rates *r = o->seg >= 0 && segn[o->seg] >= TM_CM_MIN_SEGMENT ? &sr[o->seg] : pr;
                O[o->ch][TM_CM_RPC] += o->rpc;
                O[o->ch][TM_CM_PAY] += o->paid;
                for (int k = 0; k < TM_CM_NOUT; k++) {
                    double p = r->p[o->ch][o->how][k];
                    E[o->ch][k] += p;
                    V[o->ch][k] += p * (1 - p);
                }
            }
            if (pass == 0) {
                rr.consumers++;
                for (int ch = 0; ch < NCH; ch++)
                    for (int k = 0; k < TM_CM_NOUT; k++)
                        if (E[ch][k] > 0) {
                            num[k] += (O[ch][k] - E[ch][k]) * (O[ch][k] - E[ch][k]) - V[ch][k];
                            den[k] += E[ch][k] * E[ch][k];
                        }
            } else {
                for (size_t t = i; t < j; t++) {
                    uint32_t d = by[t]->debt;
                    for (int ch = 0; ch < NCH; ch++)
                        for (int k = 0; k < TM_CM_NOUT; k++) {
                            mult[d][ch][k] = E[ch][k] > 0
                                                 ? ((O[ch][k] + kc[k]) / (E[ch][k] + kc[k]))
                                                 : 1.0;
                            has[d][ch] |= E[ch][k] > 0;
                        }
                }
            }
            i = j;
        }
        if (pass == 0)
            for (int k = 0; k < TM_CM_NOUT; k++) {
                double inv = den[k] > 0 ? num[k] / den[k] : 0;
                kc[k] = inv <= 1 / KAPPA_MAX ? KAPPA_MAX : 1 / inv < 0.5 ? 0.5 : 1 / inv;
                rr.kappa_consumer[k] = kc[k];
            }
    }
    /* The file. */
    root = json_object();
    json_object_set_new(root, "type", json_string("contact"));
    json_object_set_new(root, "name", json_string(name ? name : "contact"));
    json_object_set_new(root, "as_of", json_string(as_of ? as_of : ""));
    json_object_set_new(root, "pay_days", json_integer(pay_days));
    json_t *feat = json_object(), *chs = json_array();
    json_object_set_new(feat, "hour", json_string("local_hour_of_week"));
    json_object_set_new(feat, "segment", json_string("debt_type"));
    for (int ch = 0; ch < NCH; ch++)
        json_array_append_new(chs, json_string(tm_gate_channel_names[ch]));
    json_object_set_new(feat, "channels", chs);
    json_object_set_new(root, "features", feat);
    json_t *fit = json_object();
    json_object_set_new(fit, "contacts", json_integer((json_int_t)b->n));
    json_object_set_new(fit, "consumers", json_integer((json_int_t)rr.consumers));
    json_object_set_new(fit, "rpc_rate", json_real(round(rr.rate[0] * 1e6) / 1e6));
    json_object_set_new(fit, "pay_rate", json_real(round(rr.rate[1] * 1e6) / 1e6));
    json_object_set_new(fit, "kappa_portfolio", kp);
    json_object_set_new(fit, "kappa_segment", ks);
    json_object_set_new(fit, "kappa_consumer_rpc", json_real(round(kc[0] * 1000) / 1000));
    json_object_set_new(fit, "kappa_consumer_pay", json_real(round(kc[1] * 1000) / 1000));
    json_t *pooled = json_array();
    json_object_set_new(root, "fit", fit);
    json_object_set_new(root, "portfolio", rates_json(pr, port));
    json_t *segs = json_object();
    for (int s = 0; s < ns; s++) {
        if (segn[s] < TM_CM_MIN_SEGMENT) {
            /* Too little history: the segment is left out and uses the portfolio's rates. */
            json_array_append_new(pooled, json_string(b->segs[s]));
            rr.segments_pooled++;
            size_t l = strlen(rr.pooled);
            snprintf(rr.pooled + l, sizeof rr.pooled - l, "%s%s (%zu contacts)", l ? ", " : "",
                     b->segs[s], segn[s]);
            continue;
        }
        rr.segments_fitted++;
        json_object_set_new(segs, b->segs[s], rates_json(&sr[s], seg[s]));
    }
    json_object_set_new(fit, "segments_pooled", pooled);
    json_object_set_new(root, "segments", segs);
    json_t *debts = json_object();
    for (size_t d = 0; d < b->ndebts; d++) {
        json_t *o = NULL;
        if (json_object_get(debts, b->debts[d]))
            continue; /* a debt whose contacts came apart: its consumer's multipliers are one */
        for (int ch = 0; ch < NCH; ch++) {
            if (!has[d][ch])
                continue;
            if (o == NULL)
                o = json_object();
            json_t *a = json_array();
            for (int k = 0; k < TM_CM_NOUT; k++)
                json_array_append_new(a, json_real(round(mult[d][ch][k] * 1e4) / 1e4));
            json_object_set_new(o, tm_gate_channel_names[ch], a);
        }
        if (o)
            json_object_set_new(debts, b->debts[d], o);
    }
    json_object_set_new(root, "debts", debts);
    rr.contacts = b->n;
    *json = json_dumps(root, JSON_INDENT(1) | JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (*json == NULL)
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
done:
    json_decref(root);
    free(port);
    free(seg);
    free(pr);
    free(sr);
    free(mu);
    free(by);
    free(mult);
    free(has);
    free(segn);
    if (rep)
        *rep = rr;
    return rc;
}

/* ---- Loading ----------------------------------------------------------------------------- */

void tm_cm_free(tm_contact_model *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < m->nsegs; i++)
        free(m->seg_names[i]);
    for (size_t i = 0; i < m->ndebts; i++)
        free(m->debts[i].id);
    free(m->debts);
    free(m->segs);
    free(m);
}

const char *tm_cm_name(const tm_contact_model *m) { return m ? m->name : NULL; }
int tm_cm_pay_days(const tm_contact_model *m) { return m ? m->pay_days : 0; }

static int read_rates(json_t *o, const char *where, rates *r, struct tm_err *err)
{
    static const char *const outs[TM_CM_NOUT] = {"rpc", "pay"};
    if (!json_is_object(o))
        return tm_err_set(err, TM_EINVAL, "%s: must be an object of channels", where);
    for (int ch = 0; ch < NCH; ch++) {
        json_t *c = json_object_get(o, tm_gate_channel_names[ch]);
        for (int k = 0; k < TM_CM_NOUT; k++) {
            json_t *a = c ? json_object_get(c, outs[k]) : NULL;
            if (!json_is_array(a) || json_array_size(a) != TM_CM_HOURS)
                return tm_err_set(err, TM_EINVAL, "%.60s.%s.%s: must be an array of 168 rates",
                                  where, tm_gate_channel_names[ch], outs[k]);
            for (int h = 0; h < TM_CM_HOURS; h++) {
                json_t *v = json_array_get(a, (size_t)h);
                double x = json_is_number(v) ? json_number_value(v) : -1;
                if (!(x >= 0 && x <= 1))
                    return tm_err_set(err, TM_EINVAL,
                                      "%.60s.%s.%s[%d]: must be a rate from 0 to 1", where,
                                      tm_gate_channel_names[ch], outs[k], h + 1);
                r->p[ch][h][k] = (double)x;
            }
        }
    }
    return TM_OK;
}

static int cmp_mult(const void *a, const void *b)
{
    return strcmp(((const debt_mult *)a)->id, ((const debt_mult *)b)->id);
}

static int check_features(json_t *root, struct tm_err *err)
{
    json_t *f = json_object_get(root, "features");
    if (!json_is_object(f))
        return tm_err_set(err, TM_EINVAL, "features: missing: not a model of `score train-contact`");
    const char *hour = json_string_value(json_object_get(f, "hour"));
    const char *segment = json_string_value(json_object_get(f, "segment"));
    if (hour == NULL || strcmp(hour, "local_hour_of_week") != 0)
        return tm_err_set(err, TM_EINVAL,
                          "features.hour: \"%.40s\": this engine computes local_hour_of_week; "
                          "the model was fitted on other features: fit it again on this "
                          "portfolio (score train-contact)",
                          hour ? hour : "");
    if (segment == NULL || strcmp(segment, "debt_type") != 0)
        return tm_err_set(err, TM_EINVAL,
                          "features.segment: \"%.40s\": this engine segments by debt_type; the "
                          "model was fitted on other features: fit it again on this portfolio "
                          "(score train-contact)",
                          segment ? segment : "");
    json_t *chs = json_object_get(f, "channels");
    size_t i;
    json_t *v;
    if (!json_is_array(chs))
        return tm_err_set(err, TM_EINVAL, "features.channels: must be an array of channel names");
    json_array_foreach(chs, i, v) {
        if (!json_is_string(v) || tm_cm_channel(json_string_value(v)) < 0)
            return tm_err_set(err, TM_EINVAL,
                              "features.channels[%zu]: \"%.40s\" is not a channel of this "
                              "engine: the model was fitted on other features",
                              i + 1, json_is_string(v) ? json_string_value(v) : "");
    }
    return TM_OK;
}

int tm_cm_parse(const char *json, size_t len, tm_contact_model **out, struct tm_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return tm_err_set(err, TM_ESYNTAX, "line %d column %d: %s", je.line, je.column, je.text);
    tm_contact_model *m = calloc(1, sizeof *m);
    int rc = m ? TM_OK : tm_err_set(err, TM_ENOMEM, "out of memory");
    const char *type = json_string_value(json_object_get(root, "type"));
    if (rc == TM_OK && (type == NULL || strcmp(type, "contact") != 0))
        rc = tm_err_set(err, TM_EINVAL, "type: must be \"contact\"");
    if (rc == TM_OK)
        rc = check_features(root, err);
    if (rc == TM_OK) {
        const char *name = json_string_value(json_object_get(root, "name"));
        json_t *pd = json_object_get(root, "pay_days");
        if (name == NULL || !name[0] || strlen(name) >= sizeof m->name)
            rc = tm_err_set(err, TM_EINVAL, "name: must be a string of 1 to 127 bytes");
        else if (!json_is_integer(pd) || json_integer_value(pd) < 1 ||
                 json_integer_value(pd) > 3660)
            rc = tm_err_set(err, TM_EINVAL, "pay_days: must be a whole number of days, 1 to 3660");
        else {
            snprintf(m->name, sizeof m->name, "%s", name);
            m->pay_days = (int)json_integer_value(pd);
        }
    }
    if (rc == TM_OK)
        rc = read_rates(json_object_get(root, "portfolio"), "portfolio", &m->port, err);
    json_t *segs = json_object_get(root, "segments");
    if (rc == TM_OK && segs && !json_is_object(segs))
        rc = tm_err_set(err, TM_EINVAL, "segments: must be an object of debt types");
    if (rc == TM_OK && json_object_size(segs) > MAX_SEGMENTS)
        rc = tm_err_set(err, TM_EINVAL, "segments: more than %d", MAX_SEGMENTS);
    if (rc == TM_OK && json_object_size(segs) &&
        (m->segs = calloc(json_object_size(segs), sizeof *m->segs)) == NULL)
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    const char *k;
    json_t *v;
    if (rc == TM_OK && segs)
        json_object_foreach(segs, k, v) {
            char where[96];
            snprintf(where, sizeof where, "segments.%.60s", k);
            if ((rc = read_rates(v, where, &m->segs[m->nsegs], err)) != TM_OK)
                break;
            if ((m->seg_names[m->nsegs] = strdup(k)) == NULL) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            m->nsegs++;
        }
    json_t *debts = json_object_get(root, "debts");
    if (rc == TM_OK && debts && !json_is_object(debts))
        rc = tm_err_set(err, TM_EINVAL, "debts: must be an object of debt ids");
    if (rc == TM_OK && json_object_size(debts) &&
        (m->debts = calloc(json_object_size(debts), sizeof *m->debts)) == NULL)
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    if (rc == TM_OK && debts)
        json_object_foreach(debts, k, v) {
            debt_mult *d = &m->debts[m->ndebts];
            for (int ch = 0; ch < NCH; ch++)
                d->m[ch][0] = d->m[ch][1] = 1.0;
            if (!json_is_object(v)) {
                rc = tm_err_set(err, TM_EINVAL, "debts.%.60s: must be an object of channels", k);
                break;
            }
            const char *cn;
            json_t *a;
            json_object_foreach(v, cn, a) {
                int ch = tm_cm_channel(cn);
                double x0 = json_number_value(json_array_get(a, 0));
                double x1 = json_number_value(json_array_get(a, 1));
                if (ch < 0 || !json_is_array(a) || json_array_size(a) != 2 ||
                    !json_is_number(json_array_get(a, 0)) || !json_is_number(json_array_get(a, 1)) ||
                    !(x0 >= 0 && x0 <= 1000) || !(x1 >= 0 && x1 <= 1000)) {
                    rc = tm_err_set(err, TM_EINVAL,
                                    "debts.%.60s.%.32s: must be a known channel with [rpc, pay] "
                                    "multipliers from 0 to 1000",
                                    k, cn);
                    break;
                }
                d->m[ch][0] = x0;
                d->m[ch][1] = x1;
            }
            if (rc != TM_OK)
                break;
            if ((d->id = strdup(k)) == NULL) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            m->ndebts++;
        }
    json_decref(root);
    if (rc != TM_OK) {
        tm_cm_free(m);
        return rc;
    }
    if (m->ndebts)
        qsort(m->debts, m->ndebts, sizeof *m->debts, cmp_mult);
    *out = m;
    return TM_OK;
}

/* ---- Asking ------------------------------------------------------------------------------ */

double tm_cm_prob(const tm_contact_model *m, const char *debt_id, const char *segment, int ch,
                  int how, int out)
{
    if (m == NULL || ch < 0 || ch >= NCH || how < 0 || how >= TM_CM_HOURS || out < 0 ||
        out >= TM_CM_NOUT)
        return 0;
    const rates *r = &m->port;
    for (int s = 0; segment && s < m->nsegs; s++)
        if (strcmp(m->seg_names[s], segment) == 0)
            r = &m->segs[s];
    double p = r->p[ch][how][out];
    if (debt_id && m->ndebts) {
        debt_mult key = {.id = (char *)debt_id};
        const debt_mult *d = bsearch(&key, m->debts, m->ndebts, sizeof *m->debts, cmp_mult);
        if (d)
            p *= d->m[ch][out];
    }
    return p > 0.999 ? 0.999 : p;
}

int tm_cm_hour_of_week(const char *zone, int64_t at)
{
    const tm_zone *z = NULL;
    tm_civil c;
    if (zone && zone[0] && tm_tz_get(zone, &z, NULL) == TM_OK && tm_tz_to_local(z, at, &c) == TM_OK)
        return c.wday * 24 + c.hour;
    int64_t days = at >= 0 ? at / 86400 : (at - 86399) / 86400;
    int64_t sec = at - days * 86400;
    int wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    return wday * 24 + (int)(sec / 3600);
}

/* ---- The best slot ----------------------------------------------------------------------- */

/* The start of the next whole local hour after `t` (zone offsets are whole or half hours, so
 * the next UTC quarter hour whose local minute is 0). */
static int64_t next_local_hour(const tm_zone *z, int64_t t)
{
    int64_t q = (t / 900 + 1) * 900;
    for (int i = 0; i < 8; i++, q += 900) {
        tm_civil c;
        if (z == NULL || tm_tz_to_local(z, q, &c) != TM_OK) {
            if (q % 3600 == 0)
                return q;
            continue;
        }
        if (c.min == 0)
            return q;
    }
    return (t / 3600 + 1) * 3600;
}

typedef struct cand {
    int64_t at;
    double p;
    int k; /* index in chs */
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->p != y->p)
        return x->p > y->p ? -1 : 1;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->k - y->k;
}

int tm_cm_best_slot(const tm_contact_model *m, const char *debt_id, const char *segment,
                    const char *zone, const int *chs, int nch, int64_t from, int64_t until,
                    int outcome, tm_cm_check_fn check, void *ud, tm_cm_slot *best, char *why,
                    size_t whycap)
{
    if (why && whycap)
        why[0] = 0;
    if (m == NULL || chs == NULL || nch <= 0 || nch > NCH + 1 || best == NULL || until < from ||
        outcome < 0 || outcome >= TM_CM_NOUT || until - from > 31 * 86400)
        return TM_EINVAL;
    for (int k = 0; k < nch; k++)
        if (chs[k] < 0 || chs[k] >= NCH)
            return TM_EINVAL;
    const tm_zone *z = NULL;
    if (zone && zone[0] && tm_tz_get(zone, &z, NULL) != TM_OK)
        z = NULL;
    memset(best, 0, sizeof *best);
    best->ch = -1;
    /* The moments: the start, then each whole local hour; with each channel, scored. */
    size_t per = (size_t)((until - from) / 3600 + 2), n = 0;
    cand *c = malloc((size_t)nch * per * sizeof *c);
    if (c == NULL)
        return TM_ENOMEM;
    for (int64_t t = from; t <= until && n / (size_t)nch < per; t = next_local_hour(z, t)) {
        int how = tm_cm_hour_of_week(zone, t);
        for (int k = 0; k < nch; k++)
            c[n++] = (cand){t, tm_cm_prob(m, debt_id, segment, chs[k], how, outcome), k};
    }
    /* Best first: the first the gate allows is the best it allows. A refusal rules out the
     * channel until the next time the gate names, without asking again. */
    qsort(c, n, sizeof *c, cmp_cand);
    int64_t refused_from[NCH + 1][8], refused_to[NCH + 1][8];
    int nref[NCH + 1] = {0};
    long asked = 0;
    char first_why[200] = "";
    int rc = TM_ENOENT;
    for (size_t i = 0; i < n && rc == TM_ENOENT; i++) {
        int k = c[i].k, skip = 0;
        for (int r = 0; r < nref[k] && !skip; r++)
            skip = c[i].at >= refused_from[k][r] && c[i].at < refused_to[k][r];
        if (skip)
            continue;
        if (check == NULL) {
            rc = TM_OK;
        } else {
            if (asked >= TM_CM_MAX_ASKS)
                break;
            char w[200] = "";
            int64_t next = INT64_MAX;
            asked++;
            int allowed = check(ud, tm_gate_channel_names[chs[k]], c[i].at, &next, w, sizeof w);
            if (allowed < 0) {
                if (why)
                    snprintf(why, whycap, "%s", w);
                rc = allowed;
                break;
            }
            if (allowed) {
                rc = TM_OK;
            } else {
                if (!first_why[0])
                    snprintf(first_why, sizeof first_why, "%s: %s", tm_gate_channel_names[chs[k]],
                             w);
                /* Keep the widest refusals when there are many. */
                int r = nref[k] < 8 ? nref[k]++ : 7;
                refused_from[k][r] = c[i].at;
                refused_to[k][r] = next > c[i].at ? next : c[i].at + 1;
            }
        }
        if (rc == TM_OK) {
            best->ch = chs[k];
            best->at = c[i].at;
        }
    }
    free(c);
    best->asked = asked;
    if (rc == TM_ENOENT) {
        if (why)
            snprintf(why, whycap, "no moment in the window is allowed%s%s",
                     first_why[0] ? ": " : "", first_why);
        return TM_ENOENT;
    }
    if (rc != TM_OK)
        return rc;
    int hw = tm_cm_hour_of_week(zone, best->at);
    best->p_rpc = tm_cm_prob(m, debt_id, segment, best->ch, hw, TM_CM_RPC);
    best->p_pay = tm_cm_prob(m, debt_id, segment, best->ch, hw, TM_CM_PAY);
    best->checked = check != NULL;
    return TM_OK;
}
