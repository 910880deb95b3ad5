/*
 * tests/unit/test_train.c: the scorecard trainer. Synthetic rows from a known logistic model
 * (seeded PRNG) are fitted and the JSON is loaded back with tm_model_parse(): tm_model_score()
 * must reproduce the trainer's own probability for every row, the holdout AUC must show the
 * signal (and no signal for pure-noise labels), calibration must hold, the categorical points
 * must follow the true effects and two fits must give the same bytes. Then every refusal.
 * Prints the fit time for 20,000 rows (not asserted).
 */
#include "harness.h"

#include <jansson.h>
#include <math.h>
#include <time.h>

#include "score.h"
#include "train.h"

#define ASSERT_NEAR(a, b, tol)                                                                  \
    do {                                                                                        \
        double a_ = (a), b_ = (b);                                                              \
        if (!(fabs(a_ - b_) <= (tol)))                                                          \
            TM_FAIL_("%s ~= %s failed: %.17g != %.17g", #a, #b, a_, b_);                        \
    } while (0)

#define ASSERT_RC(call, want, needle)                                                           \
    do {                                                                                        \
        struct tm_err e_ = {0};                                                                 \
        int rc_ = (call);                                                                       \
        if (rc_ != (want))                                                                      \
            TM_FAIL_("%s returned %d (%s), expected %d", #call, rc_, e_.msg, (int)(want));      \
        ASSERT_EQ(e_.code, (want));                                                             \
        ASSERT_CONTAINS(e_.msg, needle);                                                        \
    } while (0)

/* ---- synthetic data ---------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

#define NROWS 20000

/* Columns of the generated rows, kept so tests can score them again. */
struct data {
    double num[NROWS][2]; /* dpd (integers 0..100, 10% missing), balance (continuous) */
    const char *cat[NROWS][1];
    int y[NROWS];
};

static const char *const TYPES[] = {"gamma", "alpha", "beta", "delta"};
/* True effects on the log-odds: alpha -1, beta 0, gamma +1.2; "delta" is rare (about 0.3% of
 * rows, under min_bin_rows) and missing (5%) adds 0. */
static double type_effect(const char *v)
{
    if (!v)
        return 0.0;
    if (strcmp(v, "alpha") == 0)
        return -1.0;
    if (strcmp(v, "gamma") == 0)
        return 1.2;
    return 0.0;
}

/* Fills d and a set. noise: labels independent of the features (rate 0.3). */
static tm_train_set *gen(struct data *d, uint64_t seed, int noise)
{
    rng_state = seed;
    tm_train_set *t = tm_train_set_new();
    ASSERT(t != NULL);
    struct tm_err e = {0};
    ASSERT_OK(tm_train_add_numeric(t, "days_past_due", "days past due", &e));
    ASSERT_OK(tm_train_add_categorical(t, "debt_type", "debt type", &e));
    ASSERT_OK(tm_train_add_numeric(t, "balance", NULL, &e));
    for (int r = 0; r < NROWS; r++) {
        double u = rng_unit();
        double dpd = u < 0.1 ? (double)NAN : floor(rng_unit() * 101.0);
        double bal = 100.0 + 5000.0 * rng_unit() * rng_unit();
        double c = rng_unit();
        const char *type = c < 0.05 ? NULL : c < 0.053 ? TYPES[3] : TYPES[(int)(c * 3.0) % 3];
        double z = -0.5 + (isnan(dpd) ? 0.5 : -0.05 * (dpd - 50.0)) + type_effect(type) +
                   0.0001 * (bal - 1000.0);
        int y = noise ? rng_unit() < 0.3 : rng_unit() < 1.0 / (1.0 + exp(-z));
        d->num[r][0] = dpd;
        d->num[r][1] = bal;
        d->cat[r][0] = type;
        d->y[r] = y;
        ASSERT_OK(tm_train_add_row(t, d->num[r], d->cat[r], y, (uint64_t)r * 7919u + 13u, &e));
    }
    ASSERT_EQ(tm_train_rows(t), NROWS);
    return t;
}

static char *fit_ok(tm_train_set *t, const tm_train_opts *o, tm_train_report *rep)
{
    char *json = NULL;
    struct tm_err e = {0};
    int rc = tm_train_fit(t, o, &json, rep, &e);
    if (rc != TM_OK)
        TM_FAIL_("fit failed: %d %s", rc, e.msg);
    ASSERT(json != NULL);
    return json;
}

static tm_model *parse_ok(const char *json)
{
    tm_model *m = NULL;
    struct tm_err e = {0};
    int rc = tm_model_parse(json, strlen(json), &m, &e);
    if (rc != TM_OK)
        TM_FAIL_("parse failed: %d %s", rc, e.msg);
    return m;
}

static double score_row(const tm_model *m, tm_features *f, const struct data *d, int r)
{
    tm_features_clear(f);
    if (!isnan(d->num[r][0]))
        ASSERT_OK(tm_features_set_num(f, "days_past_due", d->num[r][0]));
    ASSERT_OK(tm_features_set_num(f, "balance", d->num[r][1]));
    if (d->cat[r][0])
        ASSERT_OK(tm_features_set_str(f, "debt_type", d->cat[r][0]));
    double p = -1.0;
    struct tm_err e = {0};
    int rc = tm_model_score(m, f, &p, NULL, 0, NULL, &e);
    if (rc != TM_OK)
        TM_FAIL_("score row %d: %d %s", r, rc, e.msg);
    return p;
}

/* The "points" of the bin of feature `fname` whose "values" is [value] (NULL: catch-all). */
static double cat_points(json_t *root, const char *fname, const char *value)
{
    size_t i, k;
    json_t *jf, *jb;
    json_array_foreach(json_object_get(root, "features"), i, jf) {
        if (strcmp(json_string_value(json_object_get(jf, "name")), fname) != 0)
            continue;
        json_t *bins = json_object_get(jf, "bins");
        json_array_foreach(bins, k, jb) {
            json_t *vals = json_object_get(jb, "values");
            if ((!value && !vals) ||
                (value && vals && strcmp(json_string_value(json_array_get(vals, 0)), value) == 0))
                return json_real_value(json_object_get(jb, "points"));
        }
    }
    TM_FAIL_("no bin %s=%s", fname, value ? value : "(catch-all)");
}

static struct data D; /* large: keep it off the stack */

/* 1 when the trainer holds out key at the default 0.3: splitmix64 as train.c does it. */
static int held_out(uint64_t key)
{
    uint64_t saved = rng_state;
    rng_state = key;
    int h = rng_next() % 10000 < 3000;
    rng_state = saved;
    return h;
}

/* AUC by brute force over all (positive, negative) pairs of one side, ties counting 1/2. */
static double auc_pairs(const double *pred, int test)
{
    static double pos[NROWS], neg[NROWS];
    size_t np = 0, nn = 0;
    for (int r = 0; r < NROWS; r++) {
        if (held_out((uint64_t)r * 7919u + 13u) != test)
            continue;
        if (D.y[r])
            pos[np++] = pred[r];
        else
            neg[nn++] = pred[r];
    }
    double wins = 0.0;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < nn; j++)
            wins += pos[i] > neg[j] ? 1.0 : pos[i] == neg[j] ? 0.5 : 0.0;
    return wins / ((double)np * (double)nn);
}


/* ---- fits -------------------------------------------------------------------------------- */

TEST(fit_reproduces_scores_and_validates)
{
    tm_train_set *t = gen(&D, 42, 0);
    static double pred[NROWS];
    tm_train_report rep = {0};
    rep.pred = pred;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *json = fit_ok(t, NULL, &rep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("fit %d rows, %d params: %.1f ms, %d iterations; AUC train %.4f holdout %.4f\n",
           NROWS, rep.n_params, ms, rep.iterations, rep.auc_train, rep.auc_test);

    ASSERT(rep.converged);
    ASSERT(rep.iterations >= 2 && rep.iterations < 50);
    ASSERT_EQ(rep.n_train + rep.n_test, NROWS);
    ASSERT(rep.n_test > 5400 && rep.n_test < 6600); /* 30% +- 3% */
    /* 3 features: <= 5 dpd bins, 4 debt_type bins (alpha, beta, gamma, other), <= 5 balance. */
    ASSERT(rep.n_params >= 1 + 4 + 4 + 4 && rep.n_params <= 1 + 5 + 4 + 5);
    ASSERT(rep.auc_test > 0.7);
    ASSERT(rep.auc_train > 0.7);
    /* Rank AUC with averaged ties equals the pairwise definition (the binned model has many
     * tied predictions). */
    ASSERT_NEAR(rep.auc_train, auc_pairs(pred, 0), 1e-9);
    ASSERT_NEAR(rep.auc_test, auc_pairs(pred, 1), 1e-9);

    /* Every row, training and holdout, scores the same through score.h. */
    tm_model *m = parse_ok(json);
    ASSERT_STR_EQ(tm_model_name(m), "scorecard");
    tm_features *f = tm_features_new();
    double maxdiff = 0.0;
    for (int r = 0; r < NROWS; r++) {
        double p = score_row(m, f, &D, r);
        double dlt = fabs(p - pred[r]);
        if (dlt > maxdiff)
            maxdiff = dlt;
        if (!(dlt <= 1e-6))
            TM_FAIL_("row %d: score.h %.17g, trainer %.17g", r, p, pred[r]);
    }
    printf("max |score.h - trainer| over %d rows: %.3g\n", NROWS, maxdiff);
    ASSERT(maxdiff < 1e-7);

    /* Calibration: deciles fill the holdout, predicted rises, observed broadly follows. */
    size_t tot = 0;
    double sp = 0.0, so = 0.0;
    int drops = 0;
    for (int d = 0; d < 10; d++) {
        tot += rep.calib_n[d];
        sp += rep.calib_pred[d] * (double)rep.calib_n[d];
        so += rep.calib_obs[d] * (double)rep.calib_n[d];
        ASSERT_NEAR(rep.calib_pred[d], rep.calib_obs[d], 0.08);
        if (d > 0) {
            ASSERT(rep.calib_pred[d] >= rep.calib_pred[d - 1]);
            if (rep.calib_obs[d] < rep.calib_obs[d - 1]) {
                drops++;
                ASSERT(rep.calib_obs[d] > rep.calib_obs[d - 1] - 0.05);
            }
        }
    }
    ASSERT_EQ(tot, rep.n_test);
    ASSERT(drops <= 2);
    ASSERT(rep.calib_obs[9] > rep.calib_obs[0] + 0.5);
    ASSERT_NEAR(sp / (double)tot, so / (double)tot, 0.02);
    ASSERT_NEAR(so / (double)tot, (double)rep.pos_test / (double)rep.n_test, 1e-12);

    /* The JSON itself: categorical points follow the true effects, extra keys are present and
     * base_points is the derived one. */
    json_error_t je;
    json_t *root = json_loads(json, 0, &je);
    ASSERT(root != NULL);
    double pa = cat_points(root, "debt_type", "alpha"), pb = cat_points(root, "debt_type", "beta");
    double pg = cat_points(root, "debt_type", "gamma"), po = cat_points(root, "debt_type", NULL);
    ASSERT(pa < pb && pb < pg);
    ASSERT(po > pa && po < pg); /* missing/rare have effect 0, like beta */
    ASSERT_NEAR(pa, 0.0, 0.0);  /* the lowest bin of a feature scores 0 */
    /* Points per unit of log-odds are pdo / ln 2 = 28.85: gamma - alpha = 2.2 log-odds. */
    ASSERT_NEAR((pg - pa) / (20.0 / log(2.0)), 2.2, 0.25);
    ASSERT_NEAR(json_real_value(json_object_get(root, "base_points")), rep.base_points, 0.0);
    json_t *tr = json_object_get(root, "training"), *va = json_object_get(root, "validation");
    ASSERT_EQ(json_integer_value(json_object_get(tr, "rows")), NROWS);
    ASSERT_EQ(json_integer_value(json_object_get(tr, "holdout_rows")), (long long)rep.n_test);
    ASSERT_EQ(json_integer_value(json_object_get(tr, "iterations")), rep.iterations);
    ASSERT_NEAR(json_real_value(json_object_get(va, "auc_holdout")), rep.auc_test, 1e-12);
    ASSERT_EQ(json_array_size(json_object_get(va, "calibration")), 10);
    ASSERT_NEAR(json_real_value(json_object_get(tr, "score_offset")), 600.0 - rep.base_points,
                1e-6);
    json_decref(root);

    /* Reason texts name the bin. */
    ASSERT_CONTAINS(json, "\"days past due up to ");
    ASSERT_CONTAINS(json, "\"days past due over ");
    ASSERT_CONTAINS(json, " or unknown\"");
    ASSERT_CONTAINS(json, "\"debt type: alpha\"");
    ASSERT_CONTAINS(json, "\"debt type: other or unknown\"");
    ASSERT_CONTAINS(json, "\"balance up to ");
    ASSERT(strstr(json, "\"delta\"") == NULL); /* rare: folded into the catch-all */
    ASSERT(strstr(json, "NaN") == NULL && strstr(json, "nan") == NULL);

    tm_features_free(f);
    tm_model_free(m);
    free(json);
    tm_train_set_free(t);
}

TEST(missing_and_unseen_values_take_the_catch_all)
{
    tm_train_set *t = gen(&D, 7, 0);
    static double pred[NROWS];
    tm_train_report rep = {0};
    rep.pred = pred;
    char *json = fit_ok(t, NULL, &rep);
    tm_model *m = parse_ok(json);
    tm_features *f = tm_features_new();
    /* A row with dpd NaN (missing) and debt_type NULL, scored with both absent, an unseen
     * type, and the rare "delta": all the same catch-all bins. */
    int r0 = -1;
    for (int r = 0; r < NROWS && r0 < 0; r++)
        if (isnan(D.num[r][0]) && D.cat[r][0] == NULL)
            r0 = r;
    ASSERT(r0 >= 0);
    double p = score_row(m, f, &D, r0);
    ASSERT_NEAR(p, pred[r0], 1e-7); /* points carry 6 decimals */
    ASSERT_OK(tm_features_set_str(f, "debt_type", "never-seen"));
    double p2 = -1;
    ASSERT_OK(tm_model_score(m, f, &p2, NULL, 0, NULL, NULL));
    ASSERT_NEAR(p2, p, 0.0);
    ASSERT_OK(tm_features_set_str(f, "debt_type", "delta"));
    ASSERT_OK(tm_model_score(m, f, &p2, NULL, 0, NULL, NULL));
    ASSERT_NEAR(p2, p, 0.0);
    /* A huge dpd falls past every cut into the same catch-all as missing. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 1e9));
    ASSERT_OK(tm_model_score(m, f, &p2, NULL, 0, NULL, NULL));
    ASSERT_NEAR(p2, p, 0.0);
    /* The reason of a dpd in the first bin is that bin's text. */
    ASSERT_OK(tm_features_set_num(f, "days_past_due", 0));
    tm_reason rs[4];
    int n = 0;
    ASSERT_OK(tm_model_score(m, f, &p2, rs, 4, &n, NULL));
    int found = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(rs[i].feature, "days_past_due") == 0) {
            ASSERT_CONTAINS(rs[i].text, "days past due up to ");
            found = 1;
        }
    ASSERT(found || p2 > p); /* dpd 0 is the best bin (no adverse reason) */
    tm_features_free(f);
    tm_model_free(m);
    free(json);
    tm_train_set_free(t);
}

TEST(noise_labels_give_auc_near_half)
{
    tm_train_set *t = gen(&D, 99, 1);
    tm_train_report rep = {0};
    char *json = fit_ok(t, NULL, &rep);
    printf("noise: AUC train %.4f holdout %.4f\n", rep.auc_train, rep.auc_test);
    ASSERT(rep.auc_test > 0.4 && rep.auc_test < 0.6);
    ASSERT(rep.converged);
    tm_model *m = parse_ok(json);
    tm_model_free(m);
    free(json);
    tm_train_set_free(t);
}

TEST(fits_are_deterministic)
{
    tm_train_set *t = gen(&D, 5, 0);
    tm_train_set *t2 = gen(&D, 5, 0);
    tm_train_opts o = {.name = "ptp-trained", .bins = 8, .min_bin_rows = 20, .l2 = 0.5};
    char *a = fit_ok(t, &o, NULL);
    char *b = fit_ok(t, &o, NULL);
    char *c = fit_ok(t2, &o, NULL);
    ASSERT_STR_EQ(a, b);
    ASSERT_STR_EQ(a, c);
    ASSERT_CONTAINS(a, "\"name\": \"ptp-trained\"");
    /* Options change the model. */
    tm_train_opts o2 = o;
    o2.l2 = 50.0;
    char *d = fit_ok(t, &o2, NULL);
    ASSERT(strcmp(a, d) != 0);
    free(a);
    free(b);
    free(c);
    free(d);
    tm_train_set_free(t);
    tm_train_set_free(t2);
}

/* A tiny hand-checkable set: x in {1,2,3,4} and labels, one numeric feature; checks the cut
 * placement, the <= boundary and exact reproduction on boundary values. */
TEST(small_numeric_bins_and_boundaries)
{
    tm_train_set *t = tm_train_set_new();
    struct tm_err e = {0};
    ASSERT_OK(tm_train_add_numeric(t, "x", "x", &e));
    int k = 0;
    uint64_t key = 0;
    for (int rep = 0; rep < 200; rep++)
        for (int x = 1; x <= 4; x++) {
            double v = x;
            while (held_out(key)) /* every x row trains: exact quartiles */
                key++;
            int y = (rep % 4) < x; /* rate x/4, capped: x=4 mixes in zeros below */
            if (x == 4 && rep % 5 == 0)
                y = 0;
            ASSERT_OK(tm_train_add_row(t, &v, NULL, y, key++, &e));
            k++;
        }
    double nan = (double)NAN;
    for (int i = 0; i < 50; i++) {
        ASSERT_OK(tm_train_add_row(t, &nan, NULL, i % 2, key++, &e));
        k++;
    }
    static double pred[1000];
    tm_train_report rep = {0};
    rep.pred = pred;
    tm_train_opts o = {.bins = 4};
    char *json = fit_ok(t, &o, &rep);
    /* Quartile cuts of {1,2,3,4} x 200 are 1, 2, 3 (4 is the top value: catch-all). */
    ASSERT_CONTAINS(json, "\"max\": 1.0");
    ASSERT_CONTAINS(json, "\"max\": 2.0");
    ASSERT_CONTAINS(json, "\"max\": 3.0");
    ASSERT(strstr(json, "\"max\": 4.0") == NULL);
    ASSERT_CONTAINS(json, "\"x over 3 or unknown\"");
    ASSERT_EQ(rep.n_params, 1 + 4);
    tm_model *m = parse_ok(json);
    tm_features *f = tm_features_new();
    for (int r = 0; r < k; r++) {
        tm_features_clear(f);
        if (r < 800) {
            double v = (double)(r % 4 + 1);
            ASSERT_OK(tm_features_set_num(f, "x", v));
        }
        double p = -1;
        ASSERT_OK(tm_model_score(m, f, &p, NULL, 0, NULL, NULL));
        ASSERT_NEAR(p, pred[r], 1e-7);
    }
    /* x and x+tiny on either side of a cut differ; missing equals above-the-last-cut. */
    ASSERT(fabs(pred[0] - pred[1]) > 1e-3);
    ASSERT_NEAR(pred[3], pred[800], 1e-12);
    tm_features_free(f);
    tm_model_free(m);
    free(json);
    tm_train_set_free(t);
}

/* ---- refusals ---------------------------------------------------------------------------- */

TEST(bad_feature_declarations)
{
    tm_train_set *t = tm_train_set_new();
    char long_name[65];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    ASSERT_RC(tm_train_add_numeric(t, "", NULL, &e_), TM_EINVAL, "1..63 bytes");
    ASSERT_RC(tm_train_add_numeric(t, long_name, NULL, &e_), TM_EINVAL, "1..63 bytes");
    ASSERT_RC(tm_train_add_numeric(t, "tab\there", NULL, &e_), TM_EINVAL, "printable ASCII");
    ASSERT_RC(tm_train_add_numeric(NULL, "x", NULL, &e_), TM_EINVAL, "NULL");
    ASSERT_RC(tm_train_add_categorical(t, NULL, NULL, &e_), TM_EINVAL, "NULL");
    long_name[63] = '\0';
    ASSERT_OK(tm_train_add_numeric(t, long_name, NULL, NULL)); /* 63 bytes: fine */
    ASSERT_RC(tm_train_add_categorical(t, long_name, NULL, &e_), TM_EINVAL, "declared twice");
    ASSERT_RC(tm_train_add_categorical(t, "c", "", &e_), TM_EINVAL, "label");
    ASSERT_RC(tm_train_add_categorical(t, "c", "bad\xff", &e_), TM_EINVAL, "label");
    ASSERT_RC(tm_train_add_categorical(t, "c", "line\nbreak", &e_), TM_EINVAL, "label");
    ASSERT_OK(tm_train_add_categorical(t, "c", "caf\xc3\xa9 type", NULL));
    for (int i = 2; i < TM_TRAIN_MAX_FEATURES; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "f%d", i);
        ASSERT_OK(tm_train_add_numeric(t, nm, NULL, NULL));
    }
    ASSERT_RC(tm_train_add_numeric(t, "one_more", NULL, &e_), TM_EINVAL, "more than 64");
    tm_train_set_free(t);

    /* No feature may follow the first row. */
    t = tm_train_set_new();
    ASSERT_OK(tm_train_add_numeric(t, "x", NULL, NULL));
    double v = 1.0;
    ASSERT_OK(tm_train_add_row(t, &v, NULL, 1, 1, NULL));
    ASSERT_RC(tm_train_add_categorical(t, "late", NULL, &e_), TM_EINVAL, "before the first row");
    tm_train_set_free(t);
}

TEST(bad_rows)
{
    tm_train_set *t = tm_train_set_new();
    double v = 1.0, inf = (double)INFINITY;
    ASSERT_RC(tm_train_add_row(t, &v, NULL, 1, 1, &e_), TM_EINVAL, "no features declared");
    ASSERT_OK(tm_train_add_numeric(t, "x", NULL, NULL));
    ASSERT_OK(tm_train_add_categorical(t, "c", NULL, NULL));
    const char *cv[1] = {"a"};
    ASSERT_RC(tm_train_add_row(t, &v, cv, 2, 1, &e_), TM_EINVAL, "label must be 0 or 1");
    ASSERT_RC(tm_train_add_row(t, &v, cv, -1, 1, &e_), TM_EINVAL, "label must be 0 or 1");
    ASSERT_RC(tm_train_add_row(t, &inf, cv, 1, 1, &e_), TM_EINVAL, "infinite");
    ASSERT_RC(tm_train_add_row(t, NULL, cv, 1, 1, &e_), TM_EINVAL, "NULL numeric");
    ASSERT_RC(tm_train_add_row(t, &v, NULL, 1, 1, &e_), TM_EINVAL, "NULL categorical");
    const char *bad[1] = {"\xc0\xaf"}; /* overlong '/' */
    ASSERT_RC(tm_train_add_row(t, &v, bad, 1, 1, &e_), TM_EINVAL, "UTF-8");
    ASSERT_RC(tm_train_add_row(NULL, &v, cv, 1, 1, &e_), TM_EINVAL, "NULL");
    ASSERT_EQ(tm_train_rows(t), 0); /* nothing was added */
    double nan = (double)NAN;
    const char *none[1] = {NULL};
    ASSERT_OK(tm_train_add_row(t, &nan, none, 1, 1, NULL)); /* NaN and NULL: missing */
    ASSERT_EQ(tm_train_rows(t), 1);
    tm_train_set_free(t);
}

TEST(bad_fits)
{
    tm_train_set *t = tm_train_set_new();
    char *json = (char *)"poison";
    ASSERT_RC(tm_train_fit(t, NULL, &json, NULL, &e_), TM_EINVAL, "no features");
    ASSERT(json == NULL);
    ASSERT_OK(tm_train_add_numeric(t, "x", NULL, NULL));
    ASSERT_RC(tm_train_fit(t, NULL, &json, NULL, &e_), TM_EINVAL, "no rows");
    ASSERT_RC(tm_train_fit(NULL, NULL, &json, NULL, &e_), TM_EINVAL, "NULL");
    ASSERT_RC(tm_train_fit(t, NULL, NULL, NULL, &e_), TM_EINVAL, "NULL");
    for (int i = 0; i < 300; i++) {
        double v = i;
        ASSERT_OK(tm_train_add_row(t, &v, NULL, 0, (uint64_t)i, NULL));
    }
    ASSERT_RC(tm_train_fit(t, NULL, &json, NULL, &e_), TM_EINVAL, "all have label 0");
    ASSERT(json == NULL);
    /* One positive, in the holdout only: training still has one class. The split is
     * splitmix64(key) % 10000 < 3000 (the default holdout 0.3). */
    uint64_t key = 0;
    while (held_out(key) == 0)
        key++;
    double v1 = 5;
    ASSERT_OK(tm_train_add_row(t, &v1, NULL, 1, key, NULL));
    ASSERT_RC(tm_train_fit(t, NULL, &json, NULL, &e_), TM_EINVAL, "all have label 0");
    /* With a training positive, options are checked. */
    uint64_t k2 = 1u << 20;
    while (held_out(k2))
        k2++;
    ASSERT_OK(tm_train_add_row(t, &v1, NULL, 1, k2, NULL));
    tm_train_opts o = {.bins = 21};
    ASSERT_RC(tm_train_fit(t, &o, &json, NULL, &e_), TM_EINVAL, "opts.bins");
    o = (tm_train_opts){.bins = 1};
    ASSERT_RC(tm_train_fit(t, &o, &json, NULL, &e_), TM_EINVAL, "opts.bins");
    o = (tm_train_opts){.holdout = 1.0};
    ASSERT_RC(tm_train_fit(t, &o, &json, NULL, &e_), TM_EINVAL, "opts.holdout");
    o = (tm_train_opts){.l2 = -1.0};
    ASSERT_RC(tm_train_fit(t, &o, &json, NULL, &e_), TM_EINVAL, "opts.l2");
    o = (tm_train_opts){.pdo = -20.0};
    ASSERT_RC(tm_train_fit(t, &o, &json, NULL, &e_), TM_EINVAL, "opts.pdo");
    o = (tm_train_opts){.name = ""};
    ASSERT_RC(tm_train_fit(t, &o, &json, NULL, &e_), TM_EINVAL, "opts.name");
    o = (tm_train_opts){.max_iter = -3};
    ASSERT_RC(tm_train_fit(t, &o, &json, NULL, &e_), TM_EINVAL, "opts.max_iter");
    ASSERT(json == NULL);
    /* The same set fits with defaults (a positive in training now). */
    tm_train_report rep = {0};
    ASSERT_OK(tm_train_fit(t, NULL, &json, &rep, NULL));
    ASSERT(json != NULL);
    tm_model *m = parse_ok(json);
    tm_model_free(m);
    free(json);
    tm_train_set_free(t);
}

/* An empty (or one-class) holdout has no AUC and empty deciles: the report says NaN and
 * the JSON says null, which score.h ignores. */
TEST(undefined_auc_is_null)
{
    tm_train_set *t = tm_train_set_new();
    ASSERT_OK(tm_train_add_categorical(t, "c", NULL, NULL));
    for (uint64_t key = 0; key < 400; key++) {
        const char *v[1] = {key % 2 ? "a" : "b"};
        ASSERT_OK(tm_train_add_row(t, NULL, v, (int)(key % 3 == 0), key, NULL));
    }
    tm_train_opts o = {.holdout = 0.0001, .min_bin_rows = 1};
    tm_train_report rep = {0};
    char *json = fit_ok(t, &o, &rep);
    ASSERT(rep.n_test <= 1);
    ASSERT(isnan(rep.auc_test));
    ASSERT(!isnan(rep.auc_train));
    ASSERT_EQ(rep.calib_n[0], 0);
    ASSERT(isnan(rep.calib_pred[0]));
    ASSERT_CONTAINS(json, "\"auc_holdout\": null");
    ASSERT_CONTAINS(json, "\"predicted\": null");
    ASSERT_CONTAINS(json, "\"c: a\"");
    tm_model *m = parse_ok(json);
    tm_model_free(m);
    free(json);
    tm_train_set_free(t);
}

/* Long labels and values: the reason text is cut to score.h's 127 bytes on a UTF-8
 * character boundary (else tm_model_parse would refuse it), the value itself is kept whole. */
TEST(long_texts_are_cut_on_character_boundaries)
{
    char label[TM_TRAIN_MAX_LABEL + 1], value[301];
    for (int i = 0; i < TM_TRAIN_MAX_LABEL; i += 2)
        memcpy(label + i, "\xc3\xa9", 2); /* e-acute */
    label[TM_TRAIN_MAX_LABEL] = '\0';
    value[0] = 'x'; /* so the 127-byte cut falls inside a 3-byte character */
    for (int i = 1; i < 298; i += 3)
        memcpy(value + i, "\xe2\x82\xac", 3); /* euro sign */
    value[298] = '\0';
    tm_train_set *t = tm_train_set_new();
    ASSERT_OK(tm_train_add_categorical(t, "c", label, NULL));
    ASSERT_OK(tm_train_add_numeric(t, "x", label, NULL));
    for (uint64_t key = 0; key < 200; key++) {
        const char *v[1] = {key % 2 ? value : "short"};
        double x = (double)(key % 7);
        ASSERT_OK(tm_train_add_row(t, &x, v, (int)(key % 3 == 0), key, NULL));
    }
    tm_train_opts o = {.min_bin_rows = 1};
    char *json = fit_ok(t, &o, NULL);
    tm_model *m = parse_ok(json);
    json_error_t je;
    json_t *root = json_loads(json, 0, &je); /* jansson checks UTF-8 too */
    ASSERT(root != NULL);
    size_t i, k;
    json_t *jf, *jb;
    int nlong = 0;
    json_array_foreach(json_object_get(root, "features"), i, jf) {
        json_array_foreach(json_object_get(jf, "bins"), k, jb) {
            const char *txt = json_string_value(json_object_get(jb, "reason"));
            size_t len = strlen(txt);
            ASSERT(len <= 127);
            ASSERT_EQ(strncmp(txt, label, TM_TRAIN_MAX_LABEL), 0);
            if (len >= 125)
                nlong++;
        }
    }
    ASSERT(nlong >= 1); /* "label: x euro ..." cut to 80 + 2 + 1 + 14 x 3 = 125 bytes */
    json_decref(root);
    ASSERT_CONTAINS(json, value);
    tm_model_free(m);
    free(json);
    tm_train_set_free(t);
}
