/*
 * core/score.h: scoring primitives. A model is read from a JSON file once, its feature names
 * resolved to indices, and then scored many times against a small name -> value map
 * (tm_features), returning a probability and the top reason codes. Depends on jansson (load
 * only) and libm; scoring itself never allocates.
 *
 * Model files. Every model is one JSON object with "type" and "name" (a string of 1..127
 * bytes). Feature names are 1..63 bytes and reason texts at most 127 bytes, so both fit a
 * tm_reason. A model may use at most TM_SCORE_MAX_FEATURES distinct features. Keys not listed
 * here are ignored. Every number must be a finite JSON number (a string "0.5" is refused).
 *
 *   Scorecard (points -> log-odds -> logistic):
 *     {"type":"scorecard","name":"ptp-v1","base_points":600,"pdo":20,"odds_at_base":1.0,
 *      "features":[{"name":"days_past_due","bins":[
 *          {"max":30,"points":40,"reason":"recent delinquency"},
 *          {"max":90,"points":20,"reason":"..."},
 *          {"points":0,"reason":"..."}]},
 *        {"name":"state","bins":[{"values":["MA","NY"],"points":15},{"points":5}]}]}
 *     A feature's bins are tried in order. Numeric bins have "max" (inclusive: value <= max
 *     matches) and the maxima must strictly increase. Categorical bins have "values", a
 *     non-empty array of strings (exact, case-sensitive match; a value may appear in one bin
 *     only). A feature's bins are all numeric or all categorical, and the last bin, and only
 *     the last, has neither "max" nor "values": it is the catch-all, used for values past
 *     every bin and for a feature missing at scoring time. "reason" is optional (default:
 *     the feature name). pdo and odds_at_base must be > 0.
 *       log-odds = ln(odds_at_base) + (sum of points - base_points) * ln(2) / pdo
 *
 *   Logistic regression:
 *     {"type":"logistic","name":"ptp-lr","intercept":-1.2,
 *      "coefficients":{"days_past_due":-0.01,"balance":-0.00002},
 *      "reasons":{"days_past_due":"days past due"}}
 *       log-odds = intercept + sum(coef * value). A feature missing at scoring time counts
 *       as 0. "reasons" is optional; each key must be a coefficient.
 *
 *   Gradient-boosted trees:
 *     {"type":"trees","name":"ptp-gbt","base_score":0.0,"trees":[{"nodes":[
 *        {"feature":"days_past_due","threshold":30,"left":1,"right":2},
 *        {"leaf":0.3},{"leaf":-0.2}]}], "reasons":{"days_past_due":"days past due"}}
 *       Node 0 is the root. A split goes left when value < threshold, right otherwise; a
 *       feature missing at scoring time goes left. left/right are indices into the same
 *       "nodes" array. A tree must not loop and no path may be longer than 64 splits.
 *       log-odds = base_score + sum of the leaves reached. base_score and "reasons" are
 *       optional.
 *
 * Probability is 1 / (1 + exp(-log-odds)) for all three types.
 *
 * Reason codes: see tm_model_score(). Impact units: scorecard points, or log-odds for the
 * logistic and tree models.
 */
#ifndef TM_SCORE_H
#define TM_SCORE_H

#include <stddef.h>

#include "tm_status.h"

#define TM_SCORE_MAX_FEATURES 256 /* distinct features in one model, and entries in tm_features */
#define TM_SCORE_MAX_DEPTH 64     /* splits on any root-to-leaf path of a tree */
#define TM_SCORE_MAX_FILE (64L * 1024 * 1024) /* bytes of a model file */

typedef struct tm_model tm_model;
typedef struct tm_features tm_features;

typedef struct tm_reason {
    char feature[64]; /* the model's feature name */
    char text[128];   /* the reason text, or "missing: <feature>" */
    double impact;    /* > 0 pushed the probability down; see tm_model_score() */
} tm_reason;

/* Reads and checks the model file at `path`. On TM_OK, *out is a model the caller frees with
 * tm_model_free(). On error *out is NULL, nothing is left allocated, and `err` (may be NULL)
 * names the problem: TM_EINVAL for NULL arguments or a bad model (the message names the field,
 * e.g. "trees[3].nodes[2].left: 9 is out of range (5 nodes)"), TM_ESYNTAX for text that is
 * not JSON ("path:line L column C: ..."), TM_ENOENT / TM_EIO when the file cannot be read,
 * TM_ENOMEM when out of memory. */
int tm_model_load(const char *path, tm_model **out, struct tm_err *err);

/* Same as tm_model_load() for `len` bytes of JSON text at `json` (need not be NUL-terminated;
 * the caller keeps it). Errors as above, without the path prefix. */
int tm_model_parse(const char *json, size_t len, tm_model **out, struct tm_err *err);

/* Frees a model. NULL is a no-op. */
void tm_model_free(tm_model *m);

/* The model's "name", borrowed: valid until tm_model_free(). Never NULL for a loaded model;
 * NULL for a NULL model. */
const char *tm_model_name(const tm_model *m);

/* A model file of "type": "contact" (core/contact_model.h, written by `tallyman score
 * train-contact`) loads as a tm_model too, so it is versioned with the generation; this is
 * its contact model (borrowed, valid until tm_model_free), or NULL for a scoring model.
 * tm_model_score() refuses a contact model with TM_EINVAL. */
struct tm_contact_model;
const struct tm_contact_model *tm_model_contact(const tm_model *m);

/* A new, empty feature map to free with tm_features_free(), or NULL when out of memory. */
tm_features *tm_features_new(void);

/* Frees a feature map. NULL is a no-op. */
void tm_features_free(tm_features *f);

/* Removes every feature, keeping the memory for reuse in a scoring loop. NULL is a no-op. */
void tm_features_clear(tm_features *f);

/* Sets feature `name` to a number, replacing any earlier value (number or string) of that
 * name. Both strings are copied. Returns TM_OK; TM_EINVAL for a NULL argument, a name that is
 * empty or longer than 63 bytes, a NaN or infinite value, or a map already holding
 * TM_SCORE_MAX_FEATURES names; TM_ENOMEM when out of memory (the map is unchanged). */
int tm_features_set_num(tm_features *f, const char *name, double v);

/* As tm_features_set_num() for a string value (copied; NULL is TM_EINVAL). */
int tm_features_set_str(tm_features *f, const char *name, const char *v);

/* Scores `f` with `m`. On TM_OK, *prob is the probability in [0, 1] and reasons[0..*nout)
 * hold up to `nreasons` reason codes (`reasons` may be NULL when nreasons is 0; `nout` may be
 * NULL). Does not allocate; safe to call from several threads on the same model.
 *
 * A reason is a feature that moved the score, with `impact`:
 *   scorecard  max points of the feature - points scored; only impacts > 0 are reasons, and
 *              the text is the reason of the bin taken.
 *   logistic   -(coef * value); the text is the feature's reason text.
 *   trees      -(sum of the feature's split contributions on the paths taken), where a split
 *              contributes value(child) - value(node) and a node's value is the plain mean
 *              of the leaves under it (Saabas attribution without covers; per tree, root
 *              value + contributions = leaf reached).
 * So impact > 0 means the feature pushed the probability down (adverse). Adverse reasons come
 * first, largest impact first; then features that pushed it up, largest |impact| first.
 * Features with zero impact are left out; ties keep the model's feature order.
 * Then, only while slots remain, each model feature missing from `f` adds
 * {feature, "missing: <feature>", 0} in model order. A missing feature still counts as
 * described in the file formats above (catch-all bin, 0, go left), so it can also appear as
 * an ordinary reason.
 *
 * Returns TM_EINVAL, with *nout = 0 and `err` (may be NULL) set, for a NULL `m`, `f` or
 * `prob`, a negative nreasons, or a feature of the wrong kind: a string where the model
 * compares numbers, or a number for a categorical scorecard feature. */
int tm_model_score(const tm_model *m, const tm_features *f, double *prob, tm_reason *reasons,
                   int nreasons, int *nout, struct tm_err *err);

#endif
