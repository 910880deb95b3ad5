/*
 * tests/unit/test_score.c: scoring models. Known answers for the three fixture models in
 * tests/fixtures/models (worked out by hand in the comments), bin boundaries, reason order,
 * every refused model, and two throughput figures (printed, not asserted) for a generated
 * 10-feature scorecard and a generated 200-tree depth-4 ensemble checked against a reference
 * evaluator written here.
 */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <time.h>

#include "score.h"

#define ASSERT_NEAR(a, b, tol)                                                                  \
    do {                                                                                        \
        double a_ = (a), b_ = (b);                                                              \
        if (!(fabs(a_ - b_) <= (tol)))                                                          \
            TM_FAIL_("%s ~= %s failed: %.17g != %.17g", #a, #b, a_, b_);                        \
    } while (0)

#define TOL 1e-12

static tm_model *load_ok(const char *path)
{
    tm_model *m = NULL;
    struct tm_err e = {0};
    int rc = tm_model_load(path, &m, &e);
    if (rc != TM_OK)
        TM_FAIL_("loading %s: %d %s", path, rc, e.msg);
    ASSERT(m != NULL);
    return m;
}

/* Parses a model that must be refused with `code`; checks nothing is returned and the
 * message contains `needle`. */
static void refuse(const char *json, int code, const char *needle)
{
    tm_model *m = (tm_model *)&m; /* a non-NULL poison value: must come back NULL */
    struct tm_err e = {0};
    int rc = tm_model_parse(json, strlen(json), &m, &e);
    if (rc != code)
        TM_FAIL_("expected %d, got %d (%s) for %s", code, rc, e.msg, json);
    ASSERT(m == NULL);
    ASSERT_EQ(e.code, code);
    ASSERT_CONTAINS(e.msg, needle);
}

static tm_model *parse_ok(const char *json)
{
    tm_model *m = NULL;
    struct tm_err e = {0};
    int rc = tm_model_parse(json, strlen(json), &m, &e);
    if (rc != TM_OK)
        TM_FAIL_("parse failed: %d %s for %s", rc, e.msg, json);
    return m;
}

static double score(const tm_model *m, const tm_features *f, tm_reason *r, int nr, int *nout)
{
    double p = -1.0;
    struct tm_err e = {0};
    int rc = tm_model_score(m, f, &p, r, nr, nout, &e);
    if (rc != TM_OK)
        TM_FAIL_("score failed: %d %s", rc, e.msg);
    return p;
}

/* ---- scorecard --------------------------------------------------------------------------- */

#define SC_PATH "tests/fixtures/models/scorecard_ptp.json"

TEST(scorecard_known_answer_best_bins)
{
    tm_model *m = load_ok(SC_PATH);
    ASSERT_STR_EQ(tm_model_name(m), "ptp-v1");
    tm_features *f = tm_features_new();
    /* dpd 30 (max inclusive) -> 300, NY -> 20, balance 1000 (inclusive) -> 300: 620 points.
     * log-odds = ln(1) + (620 - 600) * ln2 / 20 = ln 2, odds 2, p = 2/3. All at their
     * feature's maximum, so no reasons. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 30));
    ASSERT_OK(tm_features_set_str(f, "state", "NY"));
    ASSERT_OK(tm_features_set_num(f, "balance", 1000));
    tm_reason r[5];
    int n = -1;
    ASSERT_NEAR(score(m, f, r, 5, &n), 2.0 / 3.0, TOL);
    ASSERT_EQ(n, 0);
    tm_features_free(f);
    tm_model_free(m);
}

TEST(scorecard_known_answer_and_reason_order)
{
    tm_model *m = load_ok(SC_PATH);
    tm_features *f = tm_features_new();
    /* dpd 31 -> 280 (20 below max), "CA" -> catch-all 0 (20 below), balance 1000.5 -> 290
     * (10 below): 570 points. log-odds = -30 * ln2 / 20 = -1.5 ln2, odds 2^-1.5,
     * p = 1 / (1 + 2^1.5) = 1 / (1 + 2 sqrt 2) = 0.2612038749637414.
     * Reasons: dpd 20 and state 20 tie (model order kept), then balance 10. */
    ASSERT_OK(tm_features_set_num(f, "balance", 1000.5)); /* set out of model order */
    ASSERT_OK(tm_features_set_str(f, "state", "CA"));
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 31));
    tm_reason r[5];
    int n = 0;
    double p = score(m, f, r, 5, &n);
    ASSERT_NEAR(p, 1.0 / (1.0 + 2.0 * sqrt(2.0)), TOL);
    ASSERT_NEAR(p, 0.2612038749637414, TOL);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(r[0].feature, "days_past_due");
    ASSERT_STR_EQ(r[0].text, "31-90 days past due");
    ASSERT_NEAR(r[0].impact, 20.0, TOL);
    ASSERT_STR_EQ(r[1].feature, "state");
    ASSERT_STR_EQ(r[1].text, "other state");
    ASSERT_NEAR(r[1].impact, 20.0, TOL);
    ASSERT_STR_EQ(r[2].feature, "balance");
    ASSERT_STR_EQ(r[2].text, "balance 1000-5000");
    ASSERT_NEAR(r[2].impact, 10.0, TOL);
    /* Only two slots: the top two. */
    ASSERT_NEAR(score(m, f, r, 2, &n), p, 0.0);
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(r[1].feature, "state");
    /* No slots at all, and nout may be NULL. */
    ASSERT_NEAR(score(m, f, NULL, 0, NULL), p, 0.0);
    tm_features_free(f);
    tm_model_free(m);
}

TEST(scorecard_bin_boundaries)
{
    tm_model *m = load_ok(SC_PATH);
    tm_features *f = tm_features_new();
    ASSERT_OK(tm_features_set_str(f, "state", "MA"));
    ASSERT_OK(tm_features_set_num(f, "balance", 0));
    /* With state and balance at max (320 points), p depends on dpd points d only:
     * log-odds = (d + 320 - 600) * ln2 / 20. */
    struct {
        double dpd, points;
    } cases[] = {{-5, 300}, {29.999, 300}, {30, 300}, {30.0001, 280}, {31, 280}, {90, 280},
                 {90.0001, 250}, {1e9, 250}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ASSERT_OK(tm_features_set_num(f, "days_past_due", cases[i].dpd));
        double z = (cases[i].points + 320 - 600) * log(2.0) / 20.0;
        ASSERT_NEAR(score(m, f, NULL, 0, NULL), 1.0 / (1.0 + exp(-z)), TOL);
    }
    /* 90 vs just above 90: 280 -> 250 points is 30 points = 1.5 doublings of the odds. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 90));
    double p90 = score(m, f, NULL, 0, NULL);
    ASSERT_OK(tm_features_set_num(f, "days_past_due", nextafter(90.0, 100.0)));
    double p91 = score(m, f, NULL, 0, NULL);
    ASSERT_NEAR((p90 / (1 - p90)) / (p91 / (1 - p91)), pow(2.0, 1.5), 1e-9);
    tm_features_free(f);
    tm_model_free(m);
}

TEST(scorecard_categorical_bins)
{
    tm_model *m = load_ok(SC_PATH);
    tm_features *f = tm_features_new();
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 0));
    ASSERT_OK(tm_features_set_num(f, "balance", 0));
    /* 600 + state points: MA/NY 20, TX 10, anything else (case-sensitive) 0. */
    struct {
        const char *state;
        double points;
    } cases[] = {{"MA", 20}, {"NY", 20}, {"TX", 10}, {"ny", 0}, {"", 0}, {"MAX", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ASSERT_OK(tm_features_set_str(f, "state", cases[i].state));
        double z = cases[i].points * log(2.0) / 20.0;
        ASSERT_NEAR(score(m, f, NULL, 0, NULL), 1.0 / (1.0 + exp(-z)), TOL);
    }
    /* TX is 10 below the best bin. */
    ASSERT_OK(tm_features_set_str(f, "state", "TX"));
    tm_reason r[3];
    int n = 0;
    score(m, f, r, 3, &n);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(r[0].text, "state TX");
    ASSERT_NEAR(r[0].impact, 10.0, TOL);
    tm_features_free(f);
    tm_model_free(m);
}

TEST(scorecard_missing_feature_uses_catch_all)
{
    tm_model *m = load_ok(SC_PATH);
    tm_features *f = tm_features_new();
    /* dpd 90 -> 280, TX -> 10, balance missing -> catch-all 270: 560 points,
     * log-odds = -40 * ln2 / 20 = -2 ln2, odds 1/4, p = 1/5. Reasons: balance 30 (catch-all
     * text), dpd 20, state 10, then the missing notice while a slot is free. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 90));
    ASSERT_OK(tm_features_set_str(f, "state", "TX"));
    tm_reason r[5];
    int n = 0;
    ASSERT_NEAR(score(m, f, r, 5, &n), 0.2, TOL);
    ASSERT_EQ(n, 4);
    ASSERT_STR_EQ(r[0].feature, "balance");
    ASSERT_STR_EQ(r[0].text, "balance over 5000");
    ASSERT_NEAR(r[0].impact, 30.0, TOL);
    ASSERT_STR_EQ(r[1].feature, "days_past_due");
    ASSERT_STR_EQ(r[2].feature, "state");
    ASSERT_STR_EQ(r[3].feature, "balance");
    ASSERT_STR_EQ(r[3].text, "missing: balance");
    ASSERT_NEAR(r[3].impact, 0.0, 0.0);
    /* No free slot: no notice. */
    ASSERT_NEAR(score(m, f, r, 3, &n), 0.2, TOL);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(r[2].feature, "state");
    /* Nothing set at all: every catch-all, 250 + 0 + 270 = 520, p = 1 / (1 + 2^4) = 1/17. */
    tm_features_clear(f);
    ASSERT_NEAR(score(m, f, r, 5, &n), 1.0 / 17.0, TOL);
    ASSERT_EQ(n, 5);
    ASSERT_STR_EQ(r[3].text, "missing: days_past_due");
    ASSERT_STR_EQ(r[4].text, "missing: state");
    tm_features_free(f);
    tm_model_free(m);
}

TEST(scorecard_wrong_kind_at_scoring)
{
    tm_model *m = load_ok(SC_PATH);
    tm_features *f = tm_features_new();
    ASSERT_OK(tm_features_set_num(f, "state", 5));
    double p = -1;
    tm_reason r[2];
    int n = 7;
    struct tm_err e = {0};
    ASSERT_EQ(tm_model_score(m, f, &p, r, 2, &n, &e), TM_EINVAL);
    ASSERT_EQ(n, 0);
    ASSERT_CONTAINS(e.msg, "feature state");
    ASSERT_OK(tm_features_set_str(f, "state", "MA")); /* replaces the number */
    ASSERT_OK(tm_features_set_str(f, "days_past_due", "10"));
    ASSERT_EQ(tm_model_score(m, f, &p, r, 2, &n, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "feature days_past_due: a string");
    ASSERT_EQ(tm_model_score(NULL, f, &p, r, 2, &n, NULL), TM_EINVAL);
    ASSERT_EQ(tm_model_score(m, NULL, &p, r, 2, &n, NULL), TM_EINVAL);
    ASSERT_EQ(tm_model_score(m, f, NULL, r, 2, &n, NULL), TM_EINVAL);
    ASSERT_EQ(tm_model_score(m, f, &p, NULL, 2, &n, NULL), TM_EINVAL);
    ASSERT_EQ(tm_model_score(m, f, &p, r, -1, &n, NULL), TM_EINVAL);
    tm_features_free(f);
    tm_model_free(m);
}

/* ---- logistic ---------------------------------------------------------------------------- */

#define LR_PATH "tests/fixtures/models/logistic_ptp.json"

TEST(logistic_known_answer_and_reasons)
{
    tm_model *m = load_ok(LR_PATH);
    ASSERT_STR_EQ(tm_model_name(m), "ptp-lr");
    tm_features *f = tm_features_new();
    /* -1.2 + (-0.01 * 60) + (-0.00002 * 10000) + (0.5 * 2) = -1.2 - 0.6 - 0.2 + 1.0 = -1,
     * p = 1 / (1 + e) = 0.2689414213699951.
     * Adverse first by impact: dpd 0.6, balance 0.2; then favourable promises_kept -1. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 60));
    ASSERT_OK(tm_features_set_num(f, "balance", 10000));
    ASSERT_OK(tm_features_set_num(f, "promises_kept", 2));
    tm_reason r[4];
    int n = 0;
    double p = score(m, f, r, 4, &n);
    ASSERT_NEAR(p, 1.0 / (1.0 + exp(1.0)), TOL);
    ASSERT_NEAR(p, 0.2689414213699951, TOL);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(r[0].feature, "days_past_due");
    ASSERT_STR_EQ(r[0].text, "days past due");
    ASSERT_NEAR(r[0].impact, 0.6, TOL);
    ASSERT_STR_EQ(r[1].feature, "balance");
    ASSERT_STR_EQ(r[1].text, "balance owed");
    ASSERT_NEAR(r[1].impact, 0.2, TOL);
    ASSERT_STR_EQ(r[2].feature, "promises_kept");
    ASSERT_STR_EQ(r[2].text, "promises_kept"); /* no reason text: the name */
    ASSERT_NEAR(r[2].impact, -1.0, TOL);
    /* A big favourable feature never outranks a small adverse one. */
    ASSERT_OK(tm_features_set_num(f, "promises_kept", 100));
    ASSERT_OK(tm_features_set_num(f, "balance", 1));
    score(m, f, r, 1, &n);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(r[0].feature, "days_past_due");
    tm_features_free(f);
    tm_model_free(m);
}

TEST(logistic_missing_counts_as_zero)
{
    tm_model *m = load_ok(LR_PATH);
    tm_features *f = tm_features_new();
    /* Only dpd 60: -1.2 - 0.6 = -1.8, p = 1 / (1 + e^1.8). balance and promises_kept add 0
     * and show up as notices in model order. A zero value is no reason. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 60));
    ASSERT_OK(tm_features_set_num(f, "unused_by_model", 5));
    tm_reason r[4];
    int n = 0;
    ASSERT_NEAR(score(m, f, r, 4, &n), 1.0 / (1.0 + exp(1.8)), TOL);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(r[0].feature, "days_past_due");
    ASSERT_STR_EQ(r[1].text, "missing: balance");
    ASSERT_STR_EQ(r[2].text, "missing: promises_kept");
    ASSERT_NEAR(r[2].impact, 0.0, 0.0);
    ASSERT_NEAR(score(m, f, r, 1, &n), 1.0 / (1.0 + exp(1.8)), TOL);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(r[0].feature, "days_past_due");
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 0));
    ASSERT_NEAR(score(m, f, r, 4, &n), 1.0 / (1.0 + exp(1.2)), TOL);
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(r[0].text, "missing: balance");
    tm_features_free(f);
    tm_model_free(m);
}

/* ---- trees ------------------------------------------------------------------------------- */

#define GBT_PATH "tests/fixtures/models/trees_small.json"

/* Node means (leaf mean below each split): tree 0: node 2 = (-0.1 - 0.5) / 2 = -0.3, root =
 * (0.3 - 0.1 - 0.5) / 3 = -0.1; tree 1: root = (0.2 - 0.2) / 2 = 0. */

TEST(trees_known_answer_and_saabas_reasons)
{
    tm_model *m = load_ok(GBT_PATH);
    ASSERT_STR_EQ(tm_model_name(m), "ptp-gbt");
    tm_features *f = tm_features_new();
    /* dpd 45, balance 6000. Tree 0: 45 >= 30 right to node 2, 6000 >= 5000 right to -0.5;
     * dpd contributes -0.3 - (-0.1) = -0.2, balance -0.5 - (-0.3) = -0.2. Tree 1: right to
     * -0.2, balance contributes -0.2 - 0 = -0.2. log-odds = 0.1 - 0.5 - 0.2 = -0.6,
     * p = 1 / (1 + e^0.6) = 0.35434369377420455. Impacts: balance 0.4, dpd 0.2. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 45));
    ASSERT_OK(tm_features_set_num(f, "balance", 6000));
    tm_reason r[4];
    int n = 0;
    double p = score(m, f, r, 4, &n);
    ASSERT_NEAR(p, 0.35434369377420455, TOL);
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(r[0].feature, "balance");
    ASSERT_STR_EQ(r[0].text, "balance owed");
    ASSERT_NEAR(r[0].impact, 0.4, TOL);
    ASSERT_STR_EQ(r[1].feature, "days_past_due");
    ASSERT_STR_EQ(r[1].text, "days_past_due");
    ASSERT_NEAR(r[1].impact, 0.2, TOL);
    /* The fast path (no reasons) gives the same probability bit for bit. */
    ASSERT(score(m, f, NULL, 0, NULL) == p);
    tm_features_free(f);
    tm_model_free(m);
}

TEST(trees_threshold_and_missing_go_left)
{
    tm_model *m = load_ok(GBT_PATH);
    tm_features *f = tm_features_new();
    /* dpd 30 is not < 30: right to node 2; balance missing goes left to -0.1 (tree 0) and
     * to 0.2 (tree 1). log-odds = 0.1 - 0.1 + 0.2 = 0.2, p = 0.549833997312478.
     * dpd contributes -0.2 (adverse 0.2); balance (-0.1 + 0.3) + (0.2 - 0) = 0.4
     * (favourable, impact -0.4); then the missing notice. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 30));
    tm_reason r[4];
    int n = 0;
    ASSERT_NEAR(score(m, f, r, 4, &n), 0.549833997312478, TOL);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(r[0].feature, "days_past_due");
    ASSERT_NEAR(r[0].impact, 0.2, TOL);
    ASSERT_STR_EQ(r[1].feature, "balance");
    ASSERT_NEAR(r[1].impact, -0.4, TOL);
    ASSERT_STR_EQ(r[2].text, "missing: balance");
    /* Just below the threshold goes left: 0.1 + 0.3 + 0.2 = 0.6. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", nextafter(30.0, 0.0)));
    ASSERT_NEAR(score(m, f, NULL, 0, NULL), 1.0 / (1.0 + exp(-0.6)), TOL);
    /* Balance exactly 1000 goes right in tree 1: 0.1 + 0.3 - 0.2 = 0.2; 999.99 left: 0.6. */
    ASSERT_OK(tm_features_set_num(f, "balance", 1000));
    ASSERT_NEAR(score(m, f, NULL, 0, NULL), 1.0 / (1.0 + exp(-0.2)), TOL);
    ASSERT_OK(tm_features_set_num(f, "balance", 999.99));
    ASSERT_NEAR(score(m, f, NULL, 0, NULL), 1.0 / (1.0 + exp(-0.6)), TOL);
    tm_features_free(f);
    tm_model_free(m);
}

/* ---- features ---------------------------------------------------------------------------- */

TEST(features_set_rules)
{
    tm_features *f = tm_features_new();
    ASSERT(f != NULL);
    ASSERT_EQ(tm_features_set_num(f, "x", (double)NAN), TM_EINVAL);
    ASSERT_EQ(tm_features_set_num(f, "x", (double)INFINITY), TM_EINVAL);
    ASSERT_EQ(tm_features_set_num(f, "", 1), TM_EINVAL);
    ASSERT_EQ(tm_features_set_num(f, NULL, 1), TM_EINVAL);
    ASSERT_EQ(tm_features_set_num(NULL, "x", 1), TM_EINVAL);
    ASSERT_EQ(tm_features_set_str(f, "x", NULL), TM_EINVAL);
    char longname[80];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    ASSERT_EQ(tm_features_set_num(f, longname, 1), TM_EINVAL);
    longname[63] = '\0';
    ASSERT_OK(tm_features_set_num(f, longname, 1));
    for (int i = 0; i < TM_SCORE_MAX_FEATURES - 1; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        ASSERT_OK(tm_features_set_str(f, name, "v"));
    }
    ASSERT_EQ(tm_features_set_num(f, "one_too_many", 1), TM_EINVAL);
    ASSERT_OK(tm_features_set_num(f, "f3", 2)); /* replacing is still fine when full */
    tm_features_clear(f);
    ASSERT_OK(tm_features_set_num(f, "one_too_many", 1));
    tm_features_free(f);
    tm_features_free(NULL);
    tm_model_free(NULL);
    ASSERT(tm_model_name(NULL) == NULL);
}

/* ---- refused models ---------------------------------------------------------------------- */

#define SC_HEAD "{\"type\":\"scorecard\",\"name\":\"s\",\"base_points\":600,\"pdo\":20," \
                "\"odds_at_base\":1,\"features\":"
#define LR_HEAD "{\"type\":\"logistic\",\"name\":\"l\",\"intercept\":0,\"coefficients\":"
#define TR_HEAD "{\"type\":\"trees\",\"name\":\"t\",\"trees\":"

TEST(refuse_type_and_shape)
{
    refuse("{\"type\":\"neural\",\"name\":\"n\"}", TM_EINVAL, "unknown model type \"neural\"");
    refuse("{\"name\":\"n\"}", TM_EINVAL, "type: missing");
    refuse("{\"type\":\"logistic\"}", TM_EINVAL, "name: missing");
    refuse("[1,2]", TM_EINVAL, "not a JSON object");
    refuse(LR_HEAD "{}}", TM_EINVAL, "coefficients: missing");
    refuse(SC_HEAD "[]}", TM_EINVAL, "features: missing");
}

TEST(refuse_not_json_with_line_and_column)
{
    refuse("{\"type\":\n\"logistic\",,}", TM_ESYNTAX, "line 2 column");
    refuse("", TM_ESYNTAX, "line 1");
    refuse("{\"type\":\"logistic\",\"type\":\"trees\"}", TM_ESYNTAX, "duplicate");
    tm_model *m = NULL;
    struct tm_err e = {0};
    ASSERT_EQ(tm_model_load("tests/fixtures/models/not_json.json", &m, &e), TM_ESYNTAX);
    ASSERT(m == NULL);
    ASSERT_CONTAINS(e.msg, "tests/fixtures/models/not_json.json:line 3 column");
    ASSERT_EQ(tm_model_load("tests/fixtures/models/no_such_model.json", &m, &e), TM_ENOENT);
    ASSERT_CONTAINS(e.msg, "no_such_model.json");
    ASSERT_EQ(tm_model_load(NULL, &m, NULL), TM_EINVAL);
    ASSERT_EQ(tm_model_parse("{}", 2, NULL, NULL), TM_EINVAL);
}

TEST(refuse_bad_numbers)
{
    /* NaN and infinities cannot be written in JSON; jansson refuses them as syntax. */
    refuse(LR_HEAD "{\"a\":NaN}}", TM_ESYNTAX, "line 1 column");
    refuse(LR_HEAD "{\"a\":1e999}}", TM_ESYNTAX, "overflow");
    refuse(LR_HEAD "{\"a\":\"0.5\"}}", TM_EINVAL, "coefficients.a: not a finite number");
    refuse(LR_HEAD "{\"a\":null}}", TM_EINVAL, "coefficients.a: not a finite number");
    refuse("{\"type\":\"logistic\",\"name\":\"l\",\"intercept\":\"x\",\"coefficients\":{\"a\":1}}",
           TM_EINVAL, "intercept: not a finite number");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"points\":\"5\"}]}]}", TM_EINVAL,
           "features[0] (a).bins[0].points: not a finite number");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"max\":true,\"points\":1},{\"points\":0}]}]}",
           TM_EINVAL, "bins[0].max: not a finite number");
    refuse("{\"type\":\"scorecard\",\"name\":\"s\",\"base_points\":600,\"pdo\":0,"
           "\"odds_at_base\":1,\"features\":[{\"name\":\"a\",\"bins\":[{\"points\":0}]}]}",
           TM_EINVAL, "pdo: must be > 0");
    refuse("{\"type\":\"scorecard\",\"name\":\"s\",\"pdo\":20,\"odds_at_base\":1,"
           "\"features\":[{\"name\":\"a\",\"bins\":[{\"points\":0}]}]}",
           TM_EINVAL, "base_points: missing");
}

TEST(refuse_bad_bins)
{
    /* A feature spec without its name, without bins, a bin without points. */
    refuse(SC_HEAD "[{\"bins\":[{\"points\":0}]}]}", TM_EINVAL, "features[0].name: missing");
    refuse(SC_HEAD "[{\"name\":\"a\"}]}", TM_EINVAL, "features[0] (a).bins: missing");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"max\":1,\"points\":1},{\"reason\":\"x\"}]}]}",
           TM_EINVAL, "features[0] (a).bins[1].points: missing");
    /* Out of order, and equal maxima. */
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"points\":0}]},{\"name\":\"b\",\"bins\":["
                   "{\"max\":90,\"points\":1},{\"max\":30,\"points\":2},{\"points\":0}]}]}",
           TM_EINVAL, "features[1] (b).bins[1].max: bins out of order");
    refuse(SC_HEAD "[{\"name\":\"b\",\"bins\":["
                   "{\"max\":30,\"points\":1},{\"max\":30,\"points\":2},{\"points\":0}]}]}",
           TM_EINVAL, "bins out of order");
    /* Catch-all in the middle; no catch-all at the end. */
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"points\":1},{\"max\":3,\"points\":0}]}]}",
           TM_EINVAL, "bins[0]: only the last bin may be a catch-all");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"max\":3,\"points\":0}]}]}", TM_EINVAL,
           "bins[0]: the last bin must be the catch-all");
    /* Mixed, both keys, bad values, a value twice, a feature twice. */
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"max\":3,\"points\":0},"
                   "{\"values\":[\"x\"],\"points\":0},{\"points\":0}]}]}",
           TM_EINVAL, "bins[1]: mixes numeric");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"max\":3,\"values\":[\"x\"],\"points\":0},"
                   "{\"points\":0}]}]}",
           TM_EINVAL, "has both max and values");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"values\":[],\"points\":0},{\"points\":0}]}]}",
           TM_EINVAL, "bins[0].values: not a non-empty array");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"values\":[\"x\",3],\"points\":0},"
                   "{\"points\":0}]}]}",
           TM_EINVAL, "bins[0].values[1]: not a string");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"values\":[\"x\"],\"points\":0},"
                   "{\"values\":[\"y\",\"x\"],\"points\":1},{\"points\":0}]}]}",
           TM_EINVAL, "bins[1].values[1]: \"x\" listed twice");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"points\":0}]},"
                   "{\"name\":\"a\",\"bins\":[{\"points\":0}]}]}",
           TM_EINVAL, "features[1].name: feature \"a\" listed twice");
    refuse(SC_HEAD "[{\"name\":\"a\",\"bins\":[{\"points\":0,\"reason\":7}]}]}", TM_EINVAL,
           "bins[0].reason: not a string");
}

TEST(refuse_bad_logistic_reasons_and_names)
{
    refuse(LR_HEAD "{\"a\":1},\"reasons\":{\"b\":\"x\"}}", TM_EINVAL,
           "reasons.b: not a feature of the model");
    refuse(LR_HEAD "{\"a\":1},\"reasons\":{\"a\":1}}", TM_EINVAL, "reasons.a: not a string");
    refuse(LR_HEAD "{\"\":1}}", TM_EINVAL, "feature name must be 1..63 bytes");
    char buf[512];
    snprintf(buf, sizeof buf, LR_HEAD "{\"%064d\":1}}", 0);
    refuse(buf, TM_EINVAL, "feature name must be 1..63 bytes");
    snprintf(buf, sizeof buf, LR_HEAD "{\"%063d\":1}}", 0);
    tm_model_free(parse_ok(buf));
}

/* One tree with the given node list. */
static void refuse_tree(const char *nodes, const char *needle)
{
    char buf[1024];
    snprintf(buf, sizeof buf, TR_HEAD "[{\"nodes\":[{\"leaf\":0}]},{\"nodes\":%s}]}", nodes);
    refuse(buf, TM_EINVAL, needle);
}

#define SPLIT(l, r) "{\"feature\":\"a\",\"threshold\":1,\"left\":" #l ",\"right\":" #r "}"

TEST(refuse_bad_trees)
{
    /* Empty ensembles and trees. */
    refuse(TR_HEAD "[]}", TM_EINVAL, "trees: missing or not a non-empty array");
    refuse(TR_HEAD "[{\"nodes\":[]}]}", TM_EINVAL, "trees[0].nodes: missing");
    refuse(TR_HEAD "[{}]}", TM_EINVAL, "trees[0].nodes: missing");
    /* Node index out of range, both sides and negative. */
    refuse_tree("[" SPLIT(1, 3) ",{\"leaf\":1},{\"leaf\":2}]",
                "trees[1].nodes[0].right: 3 is out of range (3 nodes)");
    refuse_tree("[" SPLIT(-1, 2) ",{\"leaf\":1},{\"leaf\":2}]",
                "trees[1].nodes[0].left: -1 is out of range");
    refuse_tree("[" SPLIT(1.0, 2) ",{\"leaf\":1},{\"leaf\":2}]",
                "trees[1].nodes[0].left: missing or not an integer");
    /* Cycles: a self-loop, a two-node loop, a loop back to the root. */
    refuse_tree("[" SPLIT(0, 1) ",{\"leaf\":1}]", "trees[1].nodes[0]: cycle");
    refuse_tree("[" SPLIT(1, 2) "," SPLIT(2, 1) ",{\"leaf\":1}]", "trees[1].nodes[1]: cycle");
    refuse_tree("[" SPLIT(1, 2) ",{\"leaf\":1}," SPLIT(1, 0) "]", "trees[1].nodes[0]: cycle");
    /* Leaves without a number, and nodes that are neither. */
    refuse_tree("[" SPLIT(1, 2) ",{\"leaf\":\"0.3\"},{\"leaf\":2}]",
                "trees[1].nodes[1].leaf: not a finite number");
    refuse_tree("[" SPLIT(1, 2) ",{\"leaf\":1},{\"leaf\":null}]",
                "trees[1].nodes[2].leaf: not a finite number");
    refuse_tree("[" SPLIT(1, 2) ",{\"leaf\":1},{}]", "trees[1].nodes[2]: neither a leaf");
    refuse_tree("[{\"feature\":\"a\",\"left\":1,\"right\":1},{\"leaf\":1}]",
                "trees[1].nodes[0].threshold: missing");
    refuse_tree("[{\"feature\":3,\"threshold\":1,\"left\":1,\"right\":1},{\"leaf\":1}]",
                "trees[1].nodes[0].feature: missing or not a string");
    refuse_tree("[{\"leaf\":1,\"feature\":\"a\"}]", "has both leaf and feature");
    refuse(TR_HEAD "[{\"nodes\":[{\"leaf\":0}]}],\"base_score\":\"1\"}", TM_EINVAL,
           "base_score: not a finite number");
    refuse(TR_HEAD "[{\"nodes\":[{\"leaf\":0}]}],\"reasons\":{\"a\":\"x\"}}", TM_EINVAL,
           "reasons.a: not a feature");
    /* A shared (DAG) subtree is not a cycle and scores fine. */
    tm_model *m = parse_ok(TR_HEAD "[{\"nodes\":[" SPLIT(1, 1) ",{\"leaf\":0.5}]}]}");
    tm_features *f = tm_features_new();
    ASSERT_NEAR(score(m, f, NULL, 0, NULL), 1.0 / (1.0 + exp(-0.5)), TOL);
    tm_features_free(f);
    tm_model_free(m);
}

/* A chain of `splits` splits (node i goes left to i+1, right to the last node, a leaf). */
static char *chain_tree(int splits)
{
    size_t cap = (size_t)splits * 80 + 200;
    char *buf = malloc(cap);
    ASSERT(buf != NULL);
    size_t len = (size_t)snprintf(buf, cap, TR_HEAD "[{\"nodes\":[");
    for (int i = 0; i < splits; i++)
        len += (size_t)snprintf(buf + len, cap - len,
                                "{\"feature\":\"a\",\"threshold\":1,\"left\":%d,\"right\":%d},",
                                i + 1, splits);
    snprintf(buf + len, cap - len, "{\"leaf\":1}]}]}");
    return buf;
}

TEST(tree_depth_limit)
{
    char *ok = chain_tree(TM_SCORE_MAX_DEPTH);
    tm_model *m = parse_ok(ok);
    tm_features *f = tm_features_new();
    ASSERT_NEAR(score(m, f, NULL, 0, NULL), 1.0 / (1.0 + exp(-1.0)), TOL);
    tm_features_free(f);
    tm_model_free(m);
    free(ok);
    char *deep = chain_tree(TM_SCORE_MAX_DEPTH + 1);
    refuse(deep, TM_EINVAL, "trees[0]: deeper than 64 splits");
    free(deep);
    char *very = chain_tree(5000); /* the check must not recurse 5000 deep */
    refuse(very, TM_EINVAL, "deeper than 64 splits");
    free(very);
}

/* ---- generated models and speed ---------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        ASSERT(n >= 0);
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        ASSERT(b->p != NULL);
    }
}

static uint64_t rng_state = 88172645463325252ULL;

static double rnd(void) /* uniform in [0, 1), xorshift64 */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define NF 10
#define NTREES 200
#define TDEPTH 4
#define TNODES ((1 << (TDEPTH + 1)) - 1) /* 31: 15 splits, 16 leaves, heap order */

static int ens_feat[NTREES][TNODES];
static double ens_thr[NTREES][TNODES], ens_leaf[NTREES][TNODES];

static char *gen_ensemble(void)
{
    struct sbuf b = {0};
    sb_printf(&b, "{\"type\":\"trees\",\"name\":\"gen\",\"base_score\":-0.25,\"trees\":[");
    for (int t = 0; t < NTREES; t++) {
        sb_printf(&b, "%s{\"nodes\":[", t ? "," : "");
        for (int i = 0; i < TNODES; i++) {
            if (i < TNODES / 2) {
                ens_feat[t][i] = (int)(rnd() * NF);
                ens_thr[t][i] = floor(rnd() * 100.0);
                sb_printf(&b, "{\"feature\":\"f%d\",\"threshold\":%.17g,\"left\":%d,\"right\":%d}",
                          ens_feat[t][i], ens_thr[t][i], 2 * i + 1, 2 * i + 2);
            } else {
                ens_feat[t][i] = -1;
                ens_leaf[t][i] = rnd() - 0.5;
                sb_printf(&b, "{\"leaf\":%.17g}", ens_leaf[t][i]);
            }
            sb_printf(&b, "%s", i + 1 < TNODES ? "," : "");
        }
        sb_printf(&b, "]}");
    }
    sb_printf(&b, "]}");
    return b.p;
}

static double ens_reference(const double *x)
{
    double z = -0.25;
    for (int t = 0; t < NTREES; t++) {
        int i = 0;
        while (ens_feat[t][i] >= 0)
            i = x[ens_feat[t][i]] < ens_thr[t][i] ? 2 * i + 1 : 2 * i + 2;
        z += ens_leaf[t][i];
    }
    return 1.0 / (1.0 + exp(-z));
}

TEST(speed_tree_ensemble_200x_depth4)
{
    char *json = gen_ensemble();
    tm_model *m = parse_ok(json);
    free(json);
    tm_features *f = tm_features_new();
    double x[NF];
    tm_reason r[3];
    int n = 0;
    for (int round = 0; round < 50; round++) { /* correctness against the reference */
        for (int i = 0; i < NF; i++) {
            char name[16];
            snprintf(name, sizeof name, "f%d", i);
            x[i] = floor(rnd() * 100.0); /* hits thresholds exactly now and then */
            ASSERT_OK(tm_features_set_num(f, name, x[i]));
        }
        double p = score(m, f, r, 3, &n);
        ASSERT_NEAR(p, ens_reference(x), TOL);
        ASSERT(score(m, f, NULL, 0, NULL) == p);
        ASSERT(n >= 1 && n <= 3);
        for (int k = 1; k < n; k++)
            ASSERT(r[k - 1].impact <= 0.0 || r[k - 1].impact >= r[k].impact ||
                   r[k].impact <= 0.0);
    }
    int iters = 20000;
    volatile double sink = 0.0;
    double t0 = now_s();
    for (int i = 0; i < iters; i++) {
        double p;
        tm_model_score(m, f, &p, NULL, 0, NULL, NULL);
        sink += p;
    }
    double t1 = now_s();
    for (int i = 0; i < iters; i++) {
        double p;
        tm_model_score(m, f, &p, r, 3, &n, NULL);
        sink += p;
    }
    double t2 = now_s();
    (void)sink;
    fprintf(stderr, "speed: 200-tree depth-4 ensemble: %.0f scores/s (%.0f with 3 reasons)\n",
            iters / (t1 - t0), iters / (t2 - t1));
    tm_features_free(f);
    tm_model_free(m);
}

TEST(speed_scorecard_10_features)
{
    struct sbuf b = {0};
    sb_printf(&b, "{\"type\":\"scorecard\",\"name\":\"gen\",\"base_points\":500,\"pdo\":20,"
                  "\"odds_at_base\":2,\"features\":[");
    for (int i = 0; i < NF; i++) {
        sb_printf(&b, "%s{\"name\":\"f%d\",\"bins\":[", i ? "," : "", i);
        for (int k = 0; k < 5; k++)
            sb_printf(&b, "{\"max\":%d,\"points\":%d,\"reason\":\"f%d under %d\"},", 20 * (k + 1),
                      60 - 10 * k, i, 20 * (k + 1));
        sb_printf(&b, "{\"points\":0}]}");
    }
    sb_printf(&b, "]}");
    tm_model *m = parse_ok(b.p);
    free(b.p);
    tm_features *f = tm_features_new();
    /* Feature i = 10 i + 5: f0, f1 fall in bin 0 (max 20, 60 points), f2, f3 in bin 1 (50),
     * ..., f8, f9 in bin 4 (max 100, 20). Sum = 2 (60 + 50 + 40 + 30 + 20) = 400 points,
     * log-odds = ln 2 + (400 - 500) ln 2 / 20 = -4 ln 2, odds 1/16, p = 1/17. */
    for (int i = 0; i < NF; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        ASSERT_OK(tm_features_set_num(f, name, 10.0 * i + 5.0));
    }
    tm_reason r[3];
    int n = 0;
    ASSERT_NEAR(score(m, f, r, 3, &n), 1.0 / 17.0, TOL);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(r[0].feature, "f8"); /* 40 below max, ties in model order */
    ASSERT_STR_EQ(r[1].feature, "f9");
    ASSERT_STR_EQ(r[2].feature, "f6");
    ASSERT_STR_EQ(r[2].text, "f6 under 80");
    int iters = 200000;
    volatile double sink = 0.0;
    double t0 = now_s();
    for (int i = 0; i < iters; i++) {
        double p;
        tm_model_score(m, f, &p, NULL, 0, NULL, NULL);
        sink += p;
    }
    double t1 = now_s();
    for (int i = 0; i < iters; i++) {
        double p;
        tm_model_score(m, f, &p, r, 3, &n, NULL);
        sink += p;
    }
    double t2 = now_s();
    (void)sink;
    fprintf(stderr, "speed: 10-feature scorecard: %.0f scores/s (%.0f with 3 reasons)\n",
            iters / (t1 - t0), iters / (t2 - t1));
    tm_features_free(f);
    tm_model_free(m);
}
