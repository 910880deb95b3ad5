/*
 * bench/bench_score.c: what scoring and the payment primitives cost. Prints
 * figures; asserts nothing.
 *
 *  1. Scores per second, in C: the tree's models/ptp.json (else a
 *     3-feature scorecard) and a 200-tree gradient-boosted ensemble of depth
 *     4 over 8 features, with 4 reason codes (and, for the trees, without).
 *  2. tm.score from a script, per call, through the sandbox.
 *  3. Installment plans per second (12 monthly installments, business-day
 *     adjustment) and settlement checks per second.
 *
 * Usage: bench_score [SCRIPTS_DIR]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_pay.h"
#include "lb_score.h"
#include "lcompat.h"
#include "pay.h"
#include "sandbox.h"
#include "score.h"
#include "scriptset.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long rng = 88172645463325252ull;
static double rnd01(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static const char *const fnames[8] = {"days_past_due", "balance", "days_since_last_payment",
                                      "days_since_charge_off", "payments_before",
                                      "contacts_before", "promises_before", "age"};
static const double fscale[8] = {720, 20000, 720, 720, 10, 30, 5, 80};

/* A 200-tree ensemble, each tree a complete binary tree of depth 4. */
static char *make_trees(void)
{
    size_t cap = 4u << 20, n = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    n += (size_t)snprintf(b + n, cap - n, "{\"type\":\"trees\",\"name\":\"gbt200\",\"trees\":[");
    for (int t = 0; t < 200; t++) {
        n += (size_t)snprintf(b + n, cap - n, "%s{\"nodes\":[", t ? "," : "");
        /* nodes 0..14 splits, 15..30 leaves; children of i are 2i+1, 2i+2 */
        for (int i = 0; i < 31; i++) {
            if (i < 15) {
                int f = (int)(rnd01() * 8);
                n += (size_t)snprintf(b + n, cap - n,
                                      "%s{\"feature\":\"%s\",\"threshold\":%.2f,\"left\":%d,"
                                      "\"right\":%d}",
                                      i ? "," : "", fnames[f], rnd01() * fscale[f], 2 * i + 1,
                                      2 * i + 2);
            } else {
                n += (size_t)snprintf(b + n, cap - n, ",{\"leaf\":%.4f}", (rnd01() - 0.5) * 0.2);
            }
        }
        n += (size_t)snprintf(b + n, cap - n, "]}");
    }
    snprintf(b + n, cap - n, "]}");
    return b;
}

static const char card_json[] =
    "{\"type\":\"scorecard\",\"name\":\"card\",\"base_points\":600,\"pdo\":20,"
    "\"odds_at_base\":1,\"features\":["
    "{\"name\":\"days_past_due\",\"bins\":[{\"max\":30,\"points\":60},{\"max\":90,\"points\":30},"
    "{\"points\":0}]},"
    "{\"name\":\"debt_type\",\"bins\":[{\"values\":[\"auto_loan\"],\"points\":20},"
    "{\"values\":[\"medical\"],\"points\":0},{\"points\":10}]},"
    "{\"name\":\"balance\",\"bins\":[{\"max\":1000,\"points\":30},{\"max\":5000,\"points\":15},"
    "{\"points\":0}]}]}";

static void bench_model(const char *label, const tm_model *m, int nreasons)
{
    enum { NF = 1024 };
    tm_features *fs[NF];
    static const char *const types[] = {"credit_card", "medical", "auto_loan", "utility"};
    for (int i = 0; i < NF; i++) {
        fs[i] = tm_features_new();
        for (int f = 0; f < 8; f++)
            tm_features_set_num(fs[i], fnames[f], floor(rnd01() * fscale[f]));
        tm_features_set_str(fs[i], "debt_type", types[i % 4]);
        tm_features_set_str(fs[i], "state", i % 3 ? "TX" : "NY");
    }
    tm_reason r[4];
    double p, sink = 0;
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < NF; i++) {
            tm_model_score(m, fs[i], &p, r, nreasons, NULL, NULL);
            sink += p;
        }
        n += NF;
    } while ((t = now_s() - t0) < 1.0);
    printf("%-44s %12.0f scores/s  (%.2f us each, %d reasons; checksum %.3f)\n", label,
           (double)n / t, t / (double)n * 1e6, nreasons, sink / (double)n);
    for (int i = 0; i < NF; i++)
        tm_features_free(fs[i]);
}

static void bench_script(const char *scripts)
{
    tm_gen *g = NULL;
    struct tm_err e = {0};
    if (tm_gen_load_lenient(scripts, &g, NULL, NULL, &e) != TM_OK || tm_gen_model_count(g) == 0) {
        printf("tm.score from a script: skipped (no models in %s)\n", scripts);
        tm_gen_release(g);
        return;
    }
    const char *name = tm_gen_model_name(g, 0);
    tm_sandbox *sb = tm_sandbox_new(g, NULL, &e);
    tm_gen_release(g);
    if (!sb) {
        printf("tm.score from a script: %s\n", e.msg);
        return;
    }
    char src[600];
    snprintf(src, sizeof src,
             "local n = 0\n"
             "for i = 1, 200000 do\n"
             "  local p = tm.score('%s', {days_past_due = i %% 400, balance = (i * 7) %% 9000,\n"
             "    debt_type = 'medical', state = 'TX', days_since_last_payment = i %% 300})\n"
             "  n = n + p\n"
             "end\n"
             "return n\n",
             name);
    tm_limits lim = {.instructions = 4000000000ull, .time_ms = 60000, .mem_bytes = (size_t)64 << 20};
    tm_sandbox_set_limits(sb, &lim);
    int nres = 0;
    double t0 = now_s();
    int rc = tm_sandbox_run(sb, "bench.lua", src, strlen(src), &nres, &e);
    double t = now_s() - t0;
    if (rc != TM_OK) {
        printf("tm.score from a script: %s\n", e.msg);
    } else {
        lua_pop(tm_sandbox_lua(sb), nres);
        printf("%-44s %12.0f calls/s   (%.2f us each, model '%s', table built per call)\n",
               "tm.score from a script", 200000 / t, t / 200000 * 1e6, name);
    }
    tm_sandbox_free(sb);
}

static void bench_pay(void)
{
    tm_pay_installment inst[TM_PAY_PLAN_MAX];
    tm_date first = {2026, 1, 31};
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 1000; i++) {
            tm_money total = {100000 + i, "USD"};
            tm_pay_plan(total, 12, TM_PAY_MONTHLY, first, 1, inst, TM_PAY_PLAN_MAX, NULL);
        }
        n += 1000;
    } while ((t = now_s() - t0) < 1.0);
    printf("%-44s %12.0f plans/s\n", "plan: 12 monthly installments, business days", (double)n / t);

    tm_pay_settle_rule rules[] = {{TM_PAY_ROLE_AGENT, NULL, NULL, 6000},
                                  {TM_PAY_ROLE_SUPERVISOR, NULL, NULL, 4000},
                                  {TM_PAY_ROLE_ANY, "NY", NULL, 5000},
                                  {TM_PAY_ROLE_ANY, NULL, "Brightwater Wireless", 5500}};
    tm_pay_settle_limits lim = {rules, 4, "NY", "Brightwater Wireless", 3000};
    tm_pay_decision d;
    n = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++) {
            tm_money bal = {100000, "USD"}, offer = {40000 + i * 30, "USD"};
            tm_pay_settlement_check(bal, offer, &lim, TM_PAY_ROLE_AGENT, 0, &d, NULL);
        }
        n += 1000;
    } while ((t = now_s() - t0) < 1.0);
    printf("%-44s %12.0f checks/s\n", "settlement check against 4 authority rules", (double)n / t);
}

int main(int argc, char **argv)
{
    const char *scripts = argc > 1 ? argv[1] : "scripts";
    tm_lb_pay_register();
    tm_lb_score_register();
    struct tm_err e = {0};
    tm_model *card = NULL, *trees = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/models/ptp.json", scripts);
    if (tm_model_load(path, &card, &e) == TM_OK) {
        bench_model("model models/ptp.json of the script tree", card, 4);
    } else if (tm_model_parse(card_json, sizeof card_json - 1, &card, &e) == TM_OK) {
        bench_model("scorecard (3 features)", card, 4);
    }
    char *tj = make_trees();
    if (tj && tm_model_parse(tj, strlen(tj), &trees, &e) == TM_OK)
    {
        bench_model("gradient-boosted trees (200 trees, depth 4)", trees, 4);
        bench_model("the same, probability only", trees, 0);
    }
    else
        printf("trees: %s\n", e.msg);
    free(tj);
    tm_model_free(card);
    tm_model_free(trees);
    bench_script(scripts);
    bench_pay();
    return 0;
}
