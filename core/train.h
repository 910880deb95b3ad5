/*
 * core/train.h: fits a logistic-regression scorecard from labelled rows and writes it as a
 * model JSON string in the "scorecard" format of score.h, so tm_model_parse() loads it and
 * tm_model_score() reproduces the trainer's own probabilities. Depends on jansson (writing
 * the JSON) and libm.
 *
 * Use: declare features (numeric and categorical) on a tm_train_set, add rows, call
 * tm_train_fit(). Each row is sent to training or holdout by its split_key alone, so the
 * same data always gives the same split and, the fit being deterministic, byte-identical
 * JSON.
 *
 * Method. Numeric features get up to opts.bins bins cut at quantiles of the training values,
 * the last bin being the catch-all for values above the last cut and missing values.
 * Categorical features get one bin per value seen in at least opts.min_bin_rows training
 * rows, plus a catch-all for rare, unseen and missing values. Rows are mapped to bins with
 * the same comparisons score.h uses. A logistic regression on bin indicators (plus an
 * intercept; L2 penalty on the indicators only) is fitted by Newton's method, then scaled to
 * points: points = coefficient * pdo / ln 2, shifted so each feature's lowest bin scores 0,
 * and the model's "base_points" set so that score.h's
 *     log-odds = ln(odds_at_base) + (sum of points - base_points) * ln(2) / pdo
 * equals intercept + sum of coefficients. See tm_train_fit() for the JSON written.
 */
#ifndef TM_TRAIN_H
#define TM_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

#define TM_TRAIN_MAX_FEATURES 64 /* numeric + categorical features in one set */
#define TM_TRAIN_MAX_LABEL 80    /* bytes of a feature's human label */
#define TM_TRAIN_MAX_PARAMS 1024 /* intercept + bins over all features */

typedef struct tm_train_set tm_train_set;

/* A new, empty training set to free with tm_train_set_free(), or NULL when out of memory. */
tm_train_set *tm_train_set_new(void);

/* Frees a set and every row and string it holds. NULL is a no-op. */
void tm_train_set_free(tm_train_set *t);

/* Declares the next numeric (or categorical) feature. Features must all be declared before
 * the first row; their declaration order fixes the order of `num` / `cat` in
 * tm_train_add_row() and of "features" in the model. `name` is the model feature name:
 * 1..63 bytes of printable ASCII, unique in the set. `label` is the human text used in the
 * reason codes ("days past due"): valid UTF-8 without control characters, 1..80 bytes, or
 * NULL to use the name. Both are copied.
 * Returns TM_OK; TM_EINVAL (with `err`, may be NULL) for a NULL set, a bad or duplicate
 * name, a bad label, more than TM_TRAIN_MAX_FEATURES features, or rows already added;
 * TM_ENOMEM when out of memory (the set is unchanged). */
int tm_train_add_numeric(tm_train_set *t, const char *name, const char *label,
                         struct tm_err *err);
int tm_train_add_categorical(tm_train_set *t, const char *name, const char *label,
                             struct tm_err *err);

/* Adds one row. num[i] is the value of the i-th numeric feature in declaration order (NaN
 * means missing; `num` may be NULL when there are none), cat[j] the value of the j-th
 * categorical feature (NULL means missing; strings are copied; `cat` may be NULL when there
 * are none). `label` is the outcome, 0 or 1. `split_key` (e.g. a hash of the debt id)
 * decides training vs holdout: the row is held out when
 * splitmix64(split_key) % 10000 < holdout * 10000.
 * Returns TM_OK; TM_EINVAL for a NULL set, no features declared, a NULL num/cat array when
 * there are such features, an infinite number, a category that is not valid UTF-8 (or is
 * longer than 1000 bytes), or a label other than 0/1; TM_ENOMEM when out of memory. On any
 * error the set is unchanged. */
int tm_train_add_row(tm_train_set *t, const double *num, const char *const *cat, int label,
                     uint64_t split_key, struct tm_err *err);

/* Number of rows added so far (0 for NULL). */
size_t tm_train_rows(const tm_train_set *t);

/* Options of tm_train_fit(). Zero-initialise; zero (or NULL) fields take the defaults. */
typedef struct tm_train_opts {
    const char *name;      /* the model "name", 1..127 bytes of UTF-8; default "scorecard" */
    int bins;              /* numeric bins including the catch-all, 2..20; default 5 */
    int min_bin_rows;      /* categorical values with fewer training rows go to the
                              catch-all; >= 1, default 50 */
    double l2;             /* ridge penalty on bin coefficients (not the intercept), > 0;
                              default 1.0 */
    double holdout;        /* fraction of rows held out for validation, in (0, 1);
                              default 0.3 */
    int max_iter;          /* Newton iterations, 1..1000; default 50 */
    double base_points;    /* conventional score at odds_at_base; default 600. Only used for
                              "training.score_offset" (see tm_train_fit()). */
    double pdo;            /* points to double the odds, > 0; default 20 */
    double odds_at_base;   /* > 0; default 1.0 */
} tm_train_opts;

/* What tm_train_fit() found. Probabilities are the trainer's own (from the unrounded
 * coefficients). Zero-initialise before passing it: `pred` is an input. */
typedef struct tm_train_report {
    double *pred; /* in: NULL, or room for tm_train_rows(t) doubles that receive each row's
                     predicted probability, in row order (training and holdout rows) */
    size_t n_train, n_test, pos_train, pos_test;
    double auc_train, auc_test; /* Mann-Whitney AUC, ties averaged; NaN for a one-class set */
    int iterations;             /* Newton steps taken */
    int converged;              /* 1 when the last step moved no coefficient by >= 1e-8 */
    int n_params;               /* intercept + bins */
    double base_points;         /* the model's derived "base_points" */
    /* Holdout rows sorted by predicted probability into 10 equal-count groups, ascending:
     * mean predicted probability, observed positive rate, rows (NaN, NaN, 0 when empty). */
    double calib_pred[10], calib_obs[10];
    size_t calib_n[10];
} tm_train_report;

/* Fits a scorecard to the rows of `t` and writes it to *json: a NUL-terminated string the
 * caller frees with free(). `opts` may be NULL (all defaults); `rep` may be NULL. The set is
 * not modified and may be fitted again.
 *
 * The JSON object holds "type":"scorecard", "name", "base_points" (derived, see train.h's
 * header), "pdo", "odds_at_base", "features" (declaration order; each bin with "max" or
 * "values", "points" rounded to 6 decimals, and "reason"), and two keys score.h ignores:
 *   "training": {"rows","train_rows","holdout_rows","positive_rate" (training rows), "l2",
 *                "iterations","converged","score_offset"}
 *   "validation": {"auc_train","auc_holdout" (null when undefined),
 *                  "calibration":[{"decile":1,"rows","predicted","observed"},...]}
 * score_offset = opts.base_points - base_points: add it to a row's sum of points to get the
 * conventional score that equals opts.base_points at odds_at_base.
 *
 * Returns TM_OK; on error *json is NULL and `err` (may be NULL) says why: TM_EINVAL for NULL
 * `t` or `json`, an option out of range, no rows, no training rows, a training set with one
 * class only, too many bins (raise min_bin_rows), or a numerically singular fit; TM_ENOMEM
 * when out of memory. */
int tm_train_fit(const tm_train_set *t, const tm_train_opts *opts, char **json,
                 tm_train_report *rep, struct tm_err *err);

#endif
