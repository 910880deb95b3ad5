/*
 * app/sim_fit.c: `tallyman simulate fit`: the simulated consumer's parameters fitted from the
 * store's history (core/sim_fit.h), written as a --world file.
 *
 * Each debt's story (tm_store_debt_story: the messages sent, events, payments, promises)
 * between --from and --as-of becomes the observations of core/sim_fit.h: every message sent
 * and what followed it on its day before the next message, the promises that fell due, and
 * the days without contact (self-cures). A debt's propensity to pay is scored with the script
 * set's models/ptp.json on the features as of --from, as `simulate` scores it on its first
 * day, so a world fitted here is one `simulate` can use as it is.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "cli.h"
#include "engine.h"
#include "score.h"
#include "scriptset.h"
#include "sim_fit.h"
#include "sim_measures.h"
#include "store.h"
#include "tz.h"
#include "validate.h"

static const char fit_help[] =
    "usage: tallyman [--db PATH] [--scripts DIR --draft] simulate fit --as-of DATE --out FILE.json\n"
    "                [--from DATE] [--world FILE.json]\n"
    "\n"
    "Fits the simulated consumer's parameters (answer and opt-out rates by channel, hour\n"
    "factors, pay, promise, keep, dispute, self-cure and the pressure effects) from the\n"
    "messages the store records between --from and --as-of and what followed them, with\n"
    "95% intervals, and writes a --world file for `simulate` (strategies.md, \"A fitted\n"
    "world\"). Parameters the history says nothing about keep their assumed values (the\n"
    "defaults, or --world), and the file lists them.\n"
    "\n"
    "  --as-of DATE     the last day of history, YYYY-MM-DD (required)\n"
    "  --from DATE      the first day (default: 90 days before --as-of)\n"
    "  --out FILE       where to write the world file\n"
    "  --world FILE     assumed values to start from (default: the built-in ones)\n";

typedef struct row {
    int64_t at;
    int kind; /* K_* */
    char a[32], b[16];
    int64_t n1;
} row;

enum { K_SENT, K_EVENT, K_PAYMENT, K_PROMISE };

typedef struct story {
    row *r;
    size_t n, cap;
} story;

static int on_story(void *ud, const tm_story_row *s)
{
    story *st = ud;
    int kind = strcmp(s->kind, "planned") == 0   ? K_SENT
               : strcmp(s->kind, "event") == 0   ? K_EVENT
               : strcmp(s->kind, "payment") == 0 ? K_PAYMENT
               : strcmp(s->kind, "promise") == 0 ? K_PROMISE
                                                 : -1;
    if (kind < 0)
        return TM_OK;
    if (kind == K_SENT && (strcmp(s->c ? s->c : "", "sent") != 0))
        return TM_OK;
    if (kind == K_EVENT && strcmp(s->b ? s->b : "", "applied") != 0)
        return TM_OK;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        row *q = realloc(st->r, cap * sizeof *q);
        if (q == NULL)
            return TM_ENOMEM;
        st->r = q;
        st->cap = cap;
    }
    row *r = &st->r[st->n++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->at = kind == K_SENT ? s->n1 : s->at; /* a message counts at the time it was sent for */
    snprintf(r->a, sizeof r->a, "%s", s->a ? s->a : "");
    if (kind == K_PROMISE)
        snprintf(r->b, sizeof r->b, "%s", s->b ? s->b : "");
    r->n1 = s->n1;
    return TM_OK;
}

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

typedef struct fit_ctx {
    tm_store *s;
    const tm_model *model;
    tm_features *f;
    double ptp_default;
    int64_t from_day, to_day; /* inclusive */
    tm_sim_obs *obs;
    size_t nobs, capobs;
    tm_sim_pobs *prom;
    size_t nprom, capprom;
    long cures;
    double exposure;
    struct tm_err err;
} fit_ctx;

static int add_obs(fit_ctx *x, const tm_sim_obs *o)
{
    if (x->nobs == x->capobs) {
        size_t cap = x->capobs ? x->capobs * 2 : 1024;
        tm_sim_obs *q = realloc(x->obs, cap * sizeof *q);
        if (q == NULL)
            return TM_ENOMEM;
        x->obs = q;
        x->capobs = cap;
    }
    x->obs[x->nobs++] = *o;
    return TM_OK;
}

static int add_prom(fit_ctx *x, const tm_sim_pobs *p)
{
    if (x->nprom == x->capprom) {
        size_t cap = x->capprom ? x->capprom * 2 : 256;
        tm_sim_pobs *q = realloc(x->prom, cap * sizeof *q);
        if (q == NULL)
            return TM_ENOMEM;
        x->prom = q;
        x->capprom = cap;
    }
    x->prom[x->nprom++] = *p;
    return TM_OK;
}

static int band_of(int hour)
{
    return hour >= 8 && hour < 12    ? TM_SIM_MORNING
           : hour >= 12 && hour < 17 ? TM_SIM_AFTERNOON
           : hour >= 17 && hour < 21 ? TM_SIM_EVENING
                                     : TM_SIM_NIGHT;
}

static int64_t day_of(int64_t t) { return t >= 0 ? t / 86400 : (t - 86399) / 86400; }

/* A payment that keeps a promise: on a promise's due day, after it was made. */
static int keeps_promise(const story *st, const row *pay)
{
    for (size_t j = 0; j < st->n; j++) {
        const row *p = &st->r[j];
        int64_t due;
        if (p->kind != K_PROMISE || p->at > pay->at || tm_valid_date(p->b, &due, NULL) != TM_OK)
            continue;
        if (day_of(pay->at) == due)
            return 1;
    }
    return 0;
}

/* One debt's story turned into observations. */
static int observe(fit_ctx *x, const story *st, double ptp, int64_t balance_now,
                   const tm_zone *zone)
{
    int64_t lo = x->from_day * 86400, hi = (x->to_day + 1) * 86400;
    /* The balance before each payment: today's balance plus every payment from it on. */
    int64_t after = balance_now;
    int64_t *bal_before = calloc(st->n ? st->n : 1, sizeof *bal_before);
    if (bal_before == NULL)
        return TM_ENOMEM;
    for (size_t j = st->n; j-- > 0;)
        if (st->r[j].kind == K_PAYMENT) {
            after += st->r[j].n1;
            bal_before[j] = after;
        }
    int call = tm_sim_channel_index("call");
    int rc = TM_OK;
    for (size_t i = 0; i < st->n && rc == TM_OK; i++) {
        const row *m = &st->r[i];
        if (m->kind != K_SENT || m->at < lo || m->at >= hi)
            continue;
        int ch = tm_sim_channel_index(m->a);
        if (ch < 0)
            continue;
        tm_sim_obs o = {.ch = ch, .ptp = ptp};
        tm_civil c;
        int hour = (int)((m->at % 86400 + 86400) % 86400 / 3600);
        if (zone && tm_tz_to_local(zone, m->at, &c) == TM_OK)
            hour = c.hour;
        o.band = band_of(hour);
        /* Pressure: messages in the 7 days before and earlier the same day. */
        int64_t d = day_of(m->at);
        for (size_t j = 0; j < i; j++)
            if (st->r[j].kind == K_SENT && day_of(st->r[j].at) >= d - 7)
                o.recent++;
        /* What followed, on the message's day, before the next message. */
        int64_t end = (d + 1) * 86400;
        for (size_t j = i + 1; j < st->n; j++)
            if (st->r[j].kind == K_SENT) {
                end = st->r[j].at < end ? st->r[j].at : end;
                break;
            }
        for (size_t j = i + 1; j < st->n && st->r[j].at < end; j++) {
            const row *r = &st->r[j];
            if (r->kind == K_EVENT && strcmp(r->a, "contact") == 0 && ch == call)
                o.conv = 1;
            else if (r->kind == K_EVENT && strcmp(r->a, "dispute") == 0)
                o.dispute = 1;
            else if (r->kind == K_EVENT && strcmp(r->a, "optout") == 0)
                o.optout = 1;
            else if (r->kind == K_PROMISE)
                o.promise = 1;
            else if (r->kind == K_PAYMENT && !o.pay && !keeps_promise(st, r)) {
                o.pay = 1;
                o.pay_full = r->n1 >= bal_before[j];
                o.pay_share = bal_before[j] > 0 ? (double)r->n1 / (double)bal_before[j] : 1;
            }
        }
        /* A call's dispute, payment or promise is its conversation too. */
        if (ch == call && (o.dispute || o.pay || o.promise))
            o.conv = 1;
        rc = add_obs(x, &o);
    }
    /* Promises that fell due by the last day: kept when paid by the end of the due day. */
    for (size_t i = 0; i < st->n && rc == TM_OK; i++) {
        const row *p = &st->r[i];
        int64_t due;
        if (p->kind != K_PROMISE || p->at < lo || tm_valid_date(p->b, &due, NULL) != TM_OK ||
            due > x->to_day)
            continue;
        tm_sim_pobs po = {.ptp = ptp, .days = (int)(due - day_of(p->at))};
        for (size_t j = i + 1; j < st->n; j++)
            if (st->r[j].kind == K_PAYMENT && day_of(st->r[j].at) <= due)
                po.kept = po.kept || day_of(st->r[j].at) == due;
        rc = add_prom(x, &po);
    }
    /* Days without a message, while something was owed and nothing disputed: self-cures. */
    int64_t bal = after; /* before the first payment in the story */
    size_t j = 0;
    int disputed = 0;
    for (int64_t day = x->from_day; day <= x->to_day && rc == TM_OK; day++) {
        int contacted = 0, cured = 0;
        while (j < st->n && day_of(st->r[j].at) < day) {
            if (st->r[j].kind == K_PAYMENT)
                bal -= st->r[j].n1;
            if (st->r[j].kind == K_EVENT && strcmp(st->r[j].a, "dispute") == 0)
                disputed = 1;
            j++;
        }
        int64_t start = bal;
        for (size_t k = j; k < st->n && day_of(st->r[k].at) == day; k++) {
            contacted |= st->r[k].kind == K_SENT;
            if (st->r[k].kind == K_PAYMENT && st->r[k].n1 >= start && !keeps_promise(st, &st->r[k]))
                cured = 1;
        }
        if (contacted || start <= 0 || disputed)
            continue;
        x->exposure += 2 * ptp;
        x->cures += cured;
    }
    free(bal_before);
    return rc;
}

static int write_file_atomic(const char *path, const char *text, struct tm_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return tm_err_set(err, TM_EIO, "%s: %s", tmp, strerror(errno));
    int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return tm_err_set(err, TM_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
    return TM_OK;
}

static int on_debt(void *ud, const tm_training_row *r)
{
    fit_ctx *x = ud;
    double ptp = tm_sim_ptp(x->model, x->f, r, x->from_day, x->ptp_default);
    tm_debt_rec rec;
    tm_work_debt w;
    int found = 0, wfound = 0;
    int rc = tm_store_debt_find(x->s, r->debt_id, &rec, &found, &x->err);
    if (rc == TM_OK && found)
        rc = tm_store_work_debt(x->s, rec.id, &w, &wfound, &x->err);
    if (rc != TM_OK || !found || !wfound)
        return rc;
    const tm_zone *zone = NULL;
    if (!w.timezone[0] || tm_tz_get(w.timezone, &zone, NULL) != TM_OK) {
        const char *const *zs = tm_tz_state_zones(w.state);
        if (zs == NULL || zs[0] == NULL || tm_tz_get(zs[0], &zone, NULL) != TM_OK)
            zone = NULL;
    }
    story st = {0};
    rc = tm_store_debt_story(x->s, rec.id, on_story, &st, &x->err);
    if (rc == TM_ENOMEM)
        tm_err_set(&x->err, rc, "out of memory");
    if (rc == TM_OK) {
        if (st.n) /* qsort's base may not be NULL, even for no rows */
            qsort(st.r, st.n, sizeof *st.r, cmp_row);
        rc = observe(x, &st, ptp, rec.balance, zone);
        if (rc == TM_ENOMEM)
            tm_err_set(&x->err, rc, "out of memory");
    }
    free(st.r);
    return rc;
}

static void print_est(const char *name, const tm_sim_est *e)
{
    if (!e->fitted) {
        printf("  %-26s %8.4f  assumed (%ld observations)\n", name, e->value, e->n);
    } else if (isnan(e->lo)) {
        printf("  %-26s %8.4f  fitted from %ld\n", name, e->value, e->n);
    } else {
        printf("  %-26s %8.4f  [%.4f, %.4f]  from %ld\n", name, e->value, e->lo, e->hi, e->n);
    }
}

int tm_sim_fit_command(tm_cli *cli)
{
    const char *out = NULL, *world = NULL;
    int64_t as_of = -1, from = -1;
    for (int i = 2; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(fit_help, stdout);
            return TM_EXIT_OK;
        }
        if (v == NULL)
            return tm_cli_usage_error("simulate", "unknown option or missing value '%s'", a);
        i++;
        struct tm_err e = {0};
        if (strcmp(a, "--out") == 0) {
            out = v;
        } else if (strcmp(a, "--world") == 0) {
            world = v;
        } else if (strcmp(a, "--as-of") == 0) {
            if (tm_valid_date(v, &as_of, &e) != TM_OK)
                return tm_cli_usage_error("simulate", "--as-of: %s", e.msg);
        } else if (strcmp(a, "--from") == 0) {
            if (tm_valid_date(v, &from, &e) != TM_OK)
                return tm_cli_usage_error("simulate", "--from: %s", e.msg);
        } else {
            return tm_cli_usage_error("simulate", "unknown option '%s'", a);
        }
    }
    if (as_of < 0)
        return tm_cli_usage_error("simulate", "fit needs --as-of DATE");
    if (out == NULL)
        return tm_cli_usage_error("simulate", "fit needs --out FILE.json");
    if (from < 0)
        from = as_of - 90;
    if (from > as_of)
        return tm_cli_usage_error("simulate", "--from is after --as-of");
    tm_sim_world assumed;
    tm_sim_world_defaults(&assumed);
    struct tm_err e = {0};
    if (world && tm_sim_world_load(world, &assumed, &e) != TM_OK)
        return tm_cli_usage_error("simulate", "--world %s: %s", world, e.msg);
    if (!tm_cli_store_exists(cli, "import accounts and events"))
        return TM_EXIT_FAIL;
    tm_gen *base = NULL;
    int draft = 0;
    int code = tm_engine_script_set(cli, 1, &base, &draft);
    if (code != TM_EXIT_OK)
        return code;
    tm_store *s = NULL;
    if (tm_store_open(cli->db, &s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        tm_gen_release(base);
        return TM_EXIT_FAIL;
    }
    fit_ctx x = {.s = s, .model = tm_gen_model(base, "ptp"), .f = tm_features_new(),
                 .ptp_default = assumed.ptp_default, .from_day = from, .to_day = as_of};
    if (x.model == NULL)
        fprintf(stderr, "tallyman: warning: no propensity model (models/ptp.json) in the script "
                        "set: every debt scores %.2f\n", assumed.ptp_default);
    char *json = NULL;
    tm_sim_fit fit;
    code = TM_EXIT_FAIL;
    int rc = x.f ? TM_OK : tm_err_set(&e, TM_ENOMEM, "out of memory");
    if (rc == TM_OK) {
        rc = tm_store_scan_training(s, from * 86400, from * 86400, on_debt, &x, &e);
        if (rc != TM_OK && x.err.msg[0])
            e = x.err;
    }
    char fs[16], as[16];
    tm_date dd;
    tm_calendar_days_to_date(from, &dd);
    tm_calendar_format_date(dd, fs, sizeof fs, NULL);
    tm_calendar_days_to_date(as_of, &dd);
    tm_calendar_format_date(dd, as, sizeof as, NULL);
    if (rc == TM_OK)
        rc = tm_sim_fit_run(x.obs, x.nobs, x.prom, x.nprom, x.cures, x.exposure, &assumed, &fit, &e);
    if (rc == TM_EINVAL) {
        fprintf(stderr, "tallyman: %s from %s to %s: nothing written; simulate keeps its assumed "
                        "world\n", e.msg, fs, as);
        goto done;
    }
    if (rc == TM_OK)
        rc = tm_sim_fit_json(&fit, fs, as, &json, &e);
    if (rc == TM_OK)
        rc = write_file_atomic(out, json, &e);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    printf("world fitted from %s to %s: %ld contacts, %ld outcomes; written to %s\n", fs, as,
           fit.contacts, fit.outcomes, out);
    char name[64];
    for (int c = 0; c < TM_SIM_NCHANNELS; c++) {
        if (!fit.answer[c].n)
            continue;
        snprintf(name, sizeof name, "channels.%s.answer", tm_sim_channels[c]);
        print_est(name, &fit.answer[c]);
        snprintf(name, sizeof name, "channels.%s.optout", tm_sim_channels[c]);
        print_est(name, &fit.optout[c]);
    }
    static const char *const bands[] = {"hours.night", "hours.morning", "hours.afternoon",
                                        "hours.evening"};
    for (int b = 0; b < TM_SIM_NHOURS; b++)
        if (b != TM_SIM_MORNING)
            print_est(bands[b], &fit.hour[b]);
    print_est("pay", &fit.pay);
    print_est("pay_full", &fit.pay_full);
    print_est("promise", &fit.promise);
    print_est("keep_base", &fit.keep_base);
    print_est("keep_ptp", &fit.keep_ptp);
    print_est("dispute", &fit.dispute);
    print_est("pressure_response", &fit.pressure_response);
    print_est("pressure_harm", &fit.pressure_harm);
    print_est("self_cure", &fit.self_cure);
    printf("  complaints: assumed (a store records no complaints)\n");
    code = TM_EXIT_OK;
done:
    free(json);
    free(x.obs);
    free(x.prom);
    tm_features_free(x.f);
    tm_store_close(s);
    tm_gen_release(base);
    return code;
}
