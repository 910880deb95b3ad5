/*
 * core/score.c: scorecard, logistic and tree-ensemble models (see score.h for the formats).
 *
 * Design. Loading does all the work that can be done once: the JSON is checked completely
 * (a model is either fully built or not at all), every feature name the model mentions is
 * interned into one table (model->feats), and bins, coefficients and tree splits refer to
 * features by index into that table. Trees of the ensemble are flattened into one node array
 * with absolute child indices, and each node carries the mean of the leaves below it for the
 * Saabas attribution.
 *
 * Scoring first resolves the model's features against the caller's tm_features (a small
 * array with precomputed name hashes, so a lookup is mostly integer compares) into stack
 * arrays of values, then walks bins / coefficients / trees by index. Nothing is allocated;
 * a missing number is NaN, which makes `!(v >= threshold)` send it left for free.
 */
#include "score.h"
#include "contact_model.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

enum model_type { T_SCORECARD, T_LOGISTIC, T_TREES, T_CONTACT };
enum feat_kind { K_ANY, K_NUM, K_STR }; /* what a feature's value must be at scoring time */

#define NAME_MAX_ 63  /* bytes of a feature name, so it fits tm_reason.feature */
#define TEXT_MAX_ 127 /* bytes of a reason text or model name */

struct feat {
    char name[NAME_MAX_ + 1];
    uint64_t hash;
    int kind;
    char text[TEXT_MAX_ + 1]; /* logistic/trees reason text; defaults to the name */
};

struct bin {
    double max; /* numeric bins: inclusive upper bound */
    double points;
    int catchall;
    int nvalues; /* categorical bins */
    char **values;
    char reason[TEXT_MAX_ + 1];
};

struct sc_feat {
    int first, nbins; /* into model->bins; the last one is the catch-all */
    double maxpts;
};

struct node {
    int feat; /* -1 for a leaf */
    int left, right;
    double thr;
    double value; /* leaf value, or mean of the leaves below for a split */
};

struct tm_model {
    int type;
    char name[TEXT_MAX_ + 1];
    int nfeat;
    struct feat *feats; /* TM_SCORE_MAX_FEATURES slots */
    /* scorecard */
    struct sc_feat *sc; /* nfeat entries, same index as feats */
    struct bin *bins;
    int nbins, capbins;
    double base_points, ln_odds, scale; /* scale = ln(2) / pdo */
    /* logistic */
    double intercept;
    double *coef; /* TM_SCORE_MAX_FEATURES slots */
    /* trees */
    double base_score;
    struct node *nodes;
    int nnodes;
    int *roots;
    int ntrees;
    /* contact (core/contact_model.h): a model of when and where to reach, not a score */
    tm_contact_model *cm;
};

struct fent {
    char name[NAME_MAX_ + 1];
    uint64_t hash;
    int is_str;
    double num;
    char *str;
};

struct tm_features {
    struct fent *e;
    int n, cap;
};

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int oom(struct tm_err *err)
{
    return tm_err_set(err, TM_ENOMEM, "out of memory");
}

/* ---- features ---------------------------------------------------------------------------- */

tm_features *tm_features_new(void)
{
    return calloc(1, sizeof(tm_features));
}

void tm_features_clear(tm_features *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n; i++)
        free(f->e[i].str);
    f->n = 0;
}

void tm_features_free(tm_features *f)
{
    if (!f)
        return;
    tm_features_clear(f);
    free(f->e);
    free(f);
}

static int fent_find(const tm_features *f, const char *name, uint64_t h, int hint)
{
    /* Callers usually set features in the model's order, so start at the same position. */
    for (int k = 0; k < f->n; k++) {
        int j = (hint + k) % f->n;
        if (f->e[j].hash == h && strcmp(f->e[j].name, name) == 0)
            return j;
    }
    return -1;
}

static int features_set(tm_features *f, const char *name, int is_str, double num, const char *s)
{
    if (!f || !name || name[0] == '\0' || strlen(name) > NAME_MAX_)
        return TM_EINVAL;
    uint64_t h = hash_name(name);
    char *copy = NULL;
    if (is_str && !(copy = strdup(s)))
        return TM_ENOMEM;
    int j = fent_find(f, name, h, 0);
    if (j < 0) {
        if (f->n >= TM_SCORE_MAX_FEATURES) {
            free(copy);
            return TM_EINVAL;
        }
        if (f->n == f->cap) {
            int cap = f->cap ? f->cap * 2 : 16;
            struct fent *e = realloc(f->e, (size_t)cap * sizeof *e);
            if (!e) {
                free(copy);
                return TM_ENOMEM;
            }
            f->e = e;
            f->cap = cap;
        }
        j = f->n++;
        memcpy(f->e[j].name, name, strlen(name) + 1);
        f->e[j].hash = h;
        f->e[j].str = NULL;
    }
    free(f->e[j].str);
    f->e[j].is_str = is_str;
    f->e[j].num = num;
    f->e[j].str = copy;
    return TM_OK;
}

int tm_features_set_num(tm_features *f, const char *name, double v)
{
    if (!isfinite(v))
        return TM_EINVAL;
    return features_set(f, name, 0, v, NULL);
}

int tm_features_set_str(tm_features *f, const char *name, const char *v)
{
    if (!v)
        return TM_EINVAL;
    return features_set(f, name, 1, 0.0, v);
}

/* ---- model loading ----------------------------------------------------------------------- */

void tm_model_free(tm_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nbins; i++) {
        for (int k = 0; k < m->bins[i].nvalues; k++)
            free(m->bins[i].values[k]);
        free(m->bins[i].values);
    }
    free(m->bins);
    tm_cm_free(m->cm);
    free(m->sc);
    free(m->coef);
    free(m->feats);
    free(m->nodes);
    free(m->roots);
    free(m);
}

const char *tm_model_name(const tm_model *m)
{
    return m ? m->name : NULL;
}

/* Reads the finite number at obj[key] into *out. A missing key is an error when `required`,
 * otherwise leaves *out alone. `where` is the path of obj for messages. */
static int get_num(json_t *obj, const char *key, int required, double *out, const char *where,
                   struct tm_err *err)
{
    json_t *v = json_object_get(obj, key); /* borrowed */
    if (!v) {
        if (required)
            return tm_err_set(err, TM_EINVAL, "%s%s%s: missing", where, *where ? "." : "", key);
        return TM_OK;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return tm_err_set(err, TM_EINVAL, "%s%s%s: not a finite number", where, *where ? "." : "",
                          key);
    *out = json_number_value(v);
    return TM_OK;
}

/* Reads an optional reason string at obj[key] into dst (left alone when absent). */
static int get_text(json_t *v, char *dst, const char *where, struct tm_err *err)
{
    if (!v)
        return TM_OK;
    if (!json_is_string(v))
        return tm_err_set(err, TM_EINVAL, "%s: not a string", where);
    size_t n = json_string_length(v);
    if (n > TEXT_MAX_ || strlen(json_string_value(v)) != n)
        return tm_err_set(err, TM_EINVAL, "%s: longer than %d bytes or holds a NUL", where,
                          TEXT_MAX_);
    memcpy(dst, json_string_value(v), n + 1);
    return TM_OK;
}

/* Returns the index of feature `v` (a JSON string) in the model, adding it when new, or a
 * negative status. *added tells whether it was new. */
static int intern(tm_model *m, json_t *v, int kind, int *added, const char *where,
                  struct tm_err *err)
{
    if (!json_is_string(v))
        return tm_err_set(err, TM_EINVAL, "%s: missing or not a string", where);
    const char *name = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > NAME_MAX_ || strlen(name) != n)
        return tm_err_set(err, TM_EINVAL, "%s: feature name must be 1..%d bytes without NUL",
                          where, NAME_MAX_);
    uint64_t h = hash_name(name);
    if (added)
        *added = 0;
    for (int i = 0; i < m->nfeat; i++)
        if (m->feats[i].hash == h && strcmp(m->feats[i].name, name) == 0)
            return i;
    if (m->nfeat >= TM_SCORE_MAX_FEATURES)
        return tm_err_set(err, TM_EINVAL, "%s: more than %d features", where,
                          TM_SCORE_MAX_FEATURES);
    struct feat *f = &m->feats[m->nfeat];
    memcpy(f->name, name, n + 1);
    memcpy(f->text, name, n + 1);
    f->hash = h;
    f->kind = kind;
    if (added)
        *added = 1;
    return m->nfeat++;
}

/* Reads the optional "reasons" object of logistic and tree models. */
static int parse_reasons(tm_model *m, json_t *root, struct tm_err *err)
{
    json_t *r = json_object_get(root, "reasons");
    if (!r)
        return TM_OK;
    if (!json_is_object(r))
        return tm_err_set(err, TM_EINVAL, "reasons: not an object");
    const char *key;
    json_t *v;
    json_object_foreach(r, key, v) {
        char where[128];
        snprintf(where, sizeof where, "reasons.%.60s", key);
        int i;
        for (i = 0; i < m->nfeat; i++)
            if (strcmp(m->feats[i].name, key) == 0)
                break;
        if (i == m->nfeat)
            return tm_err_set(err, TM_EINVAL, "%s: not a feature of the model", where);
        int rc = get_text(v, m->feats[i].text, where, err);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int parse_bin(tm_model *m, json_t *jb, int fi, int bi, int last, struct sc_feat *sf,
                     int *kind, const char *fname, struct tm_err *err)
{
    char where[160];
    snprintf(where, sizeof where, "features[%d] (%s).bins[%d]", fi, fname, bi);
    if (!json_is_object(jb))
        return tm_err_set(err, TM_EINVAL, "%s: not an object", where);
    if (m->nbins == m->capbins) {
        int cap = m->capbins ? m->capbins * 2 : 32;
        struct bin *b = realloc(m->bins, (size_t)cap * sizeof *b);
        if (!b)
            return oom(err);
        m->bins = b;
        m->capbins = cap;
    }
    struct bin *b = &m->bins[m->nbins++];
    memset(b, 0, sizeof *b);
    memcpy(b->reason, fname, strlen(fname) + 1);
    int rc = get_num(jb, "points", 1, &b->points, where, err);
    if (rc)
        return rc;
    char w2[200];
    snprintf(w2, sizeof w2, "%s.reason", where);
    if ((rc = get_text(json_object_get(jb, "reason"), b->reason, w2, err)))
        return rc;
    json_t *jmax = json_object_get(jb, "max");
    json_t *jvals = json_object_get(jb, "values");
    if (last) {
        if (jmax || jvals)
            return tm_err_set(err, TM_EINVAL,
                              "%s: the last bin must be the catch-all, without max or values",
                              where);
        b->catchall = 1;
        return TM_OK;
    }
    if (jmax && jvals)
        return tm_err_set(err, TM_EINVAL, "%s: has both max and values", where);
    if (!jmax && !jvals)
        return tm_err_set(err, TM_EINVAL,
                          "%s: only the last bin may be a catch-all (needs max or values)", where);
    int k = jmax ? K_NUM : K_STR;
    if (*kind != K_ANY && *kind != k)
        return tm_err_set(err, TM_EINVAL, "%s: mixes numeric (max) and categorical (values) bins",
                          where);
    *kind = k;
    if (jmax) {
        if ((rc = get_num(jb, "max", 1, &b->max, where, err)))
            return rc;
        if (bi > 0 && !(b->max > b[-1].max))
            return tm_err_set(err, TM_EINVAL,
                              "%s.max: bins out of order (%g is not above the previous max %g)",
                              where, b->max, b[-1].max);
        return TM_OK;
    }
    size_t nv = json_is_array(jvals) ? json_array_size(jvals) : 0;
    if (nv == 0)
        return tm_err_set(err, TM_EINVAL, "%s.values: not a non-empty array of strings", where);
    if (!(b->values = calloc(nv, sizeof *b->values)))
        return oom(err);
    for (size_t i = 0; i < nv; i++) {
        json_t *s = json_array_get(jvals, i);
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
            return tm_err_set(err, TM_EINVAL, "%s.values[%zu]: not a string", where, i);
        const char *sv = json_string_value(s);
        for (int j = sf->first; j < m->nbins; j++)
            for (int q = 0; q < m->bins[j].nvalues; q++)
                if (strcmp(m->bins[j].values[q], sv) == 0)
                    return tm_err_set(err, TM_EINVAL, "%s.values[%zu]: \"%.60s\" listed twice",
                                      where, i, sv);
        if (!(b->values[i] = strdup(sv)))
            return oom(err);
        b->nvalues++;
    }
    return TM_OK;
}

static int parse_scorecard(tm_model *m, json_t *root, struct tm_err *err)
{
    double pdo = 0.0, odds = 0.0;
    int rc;
    if ((rc = get_num(root, "base_points", 1, &m->base_points, "", err)) ||
        (rc = get_num(root, "pdo", 1, &pdo, "", err)) ||
        (rc = get_num(root, "odds_at_base", 1, &odds, "", err)))
        return rc;
    if (!(pdo > 0.0))
        return tm_err_set(err, TM_EINVAL, "pdo: must be > 0");
    if (!(odds > 0.0))
        return tm_err_set(err, TM_EINVAL, "odds_at_base: must be > 0");
    m->ln_odds = log(odds);
    m->scale = log(2.0) / pdo;
    json_t *fs = json_object_get(root, "features");
    if (!json_is_array(fs) || json_array_size(fs) == 0)
        return tm_err_set(err, TM_EINVAL, "features: missing or not a non-empty array");
    if (!(m->sc = calloc(TM_SCORE_MAX_FEATURES, sizeof *m->sc)))
        return oom(err);
    size_t i;
    json_t *jf;
    json_array_foreach(fs, i, jf) {
        int fi = (int)i;
        char where[64];
        snprintf(where, sizeof where, "features[%d]", fi);
        if (!json_is_object(jf))
            return tm_err_set(err, TM_EINVAL, "%s: not an object", where);
        char wn[80];
        snprintf(wn, sizeof wn, "%s.name", where);
        int added = 0;
        int idx = intern(m, json_object_get(jf, "name"), K_ANY, &added, wn, err);
        if (idx < 0)
            return idx;
        if (!added)
            return tm_err_set(err, TM_EINVAL, "%s: feature \"%s\" listed twice", wn,
                              m->feats[idx].name);
        const char *fname = m->feats[idx].name;
        json_t *bins = json_object_get(jf, "bins");
        if (!json_is_array(bins) || json_array_size(bins) == 0)
            return tm_err_set(err, TM_EINVAL, "%s (%s).bins: missing or not a non-empty array",
                              where, fname);
        struct sc_feat *sf = &m->sc[idx];
        sf->first = m->nbins;
        size_t nb = json_array_size(bins);
        int kind = K_ANY;
        for (size_t b = 0; b < nb; b++) {
            rc = parse_bin(m, json_array_get(bins, b), fi, (int)b, b + 1 == nb, sf, &kind, fname,
                           err);
            if (rc)
                return rc;
            double p = m->bins[m->nbins - 1].points;
            if (b == 0 || p > sf->maxpts)
                sf->maxpts = p;
        }
        sf->nbins = (int)nb;
        m->feats[idx].kind = kind;
    }
    return TM_OK;
}

static int parse_logistic(tm_model *m, json_t *root, struct tm_err *err)
{
    int rc = get_num(root, "intercept", 1, &m->intercept, "", err);
    if (rc)
        return rc;
    json_t *co = json_object_get(root, "coefficients");
    if (!json_is_object(co) || json_object_size(co) == 0)
        return tm_err_set(err, TM_EINVAL, "coefficients: missing or not a non-empty object");
    if (!(m->coef = calloc(TM_SCORE_MAX_FEATURES, sizeof *m->coef)))
        return oom(err);
    const char *key;
    json_t *v;
    json_object_foreach(co, key, v) {
        char where[128];
        snprintf(where, sizeof where, "coefficients.%.60s", key);
        json_t *name = json_string(key); /* new reference, released below */
        if (!name)
            return oom(err);
        int idx = intern(m, name, K_NUM, NULL, where, err);
        json_decref(name);
        if (idx < 0)
            return idx;
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return tm_err_set(err, TM_EINVAL, "%s: not a finite number", where);
        m->coef[idx] = json_number_value(v);
    }
    return parse_reasons(m, root, err);
}

struct walk {
    unsigned char *color; /* 0 new, 1 on the current path, 2 done */
    int *height;          /* splits below a done node, to its deepest leaf */
    double *sum, *cnt;    /* leaves below a done node */
};

/* Depth-first check of one tree from local node i at `depth` splits below the root: refuses
 * cycles and paths over TM_SCORE_MAX_DEPTH splits, and computes each node's leaf mean. The
 * recursion depth is bounded by TM_SCORE_MAX_DEPTH + 2, whatever the input. */
static int walk_tree(struct node *nodes, struct walk *w, int t, int i, int depth,
                     struct tm_err *err)
{
    if (w->color[i] == 1)
        return tm_err_set(err, TM_EINVAL, "trees[%d].nodes[%d]: cycle (node reachable from itself)",
                          t, i);
    if (w->color[i] == 2) {
        if (depth + w->height[i] > TM_SCORE_MAX_DEPTH)
            return tm_err_set(err, TM_EINVAL, "trees[%d]: deeper than %d splits", t,
                              TM_SCORE_MAX_DEPTH);
        return TM_OK;
    }
    if (depth > TM_SCORE_MAX_DEPTH)
        return tm_err_set(err, TM_EINVAL, "trees[%d]: deeper than %d splits", t,
                          TM_SCORE_MAX_DEPTH);
    struct node *n = &nodes[i];
    if (n->feat < 0) {
        w->color[i] = 2;
        w->height[i] = 0;
        w->sum[i] = n->value;
        w->cnt[i] = 1.0;
        return TM_OK;
    }
    w->color[i] = 1;
    int rc;
    if ((rc = walk_tree(nodes, w, t, n->left, depth + 1, err)) ||
        (rc = walk_tree(nodes, w, t, n->right, depth + 1, err)))
        return rc;
    w->color[i] = 2;
    int hl = w->height[n->left], hr = w->height[n->right];
    w->height[i] = 1 + (hl > hr ? hl : hr);
    w->sum[i] = w->sum[n->left] + w->sum[n->right];
    w->cnt[i] = w->cnt[n->left] + w->cnt[n->right];
    n->value = w->sum[i] / w->cnt[i];
    return TM_OK;
}

static int parse_node(tm_model *m, json_t *jn, struct node *n, int t, int i, int count,
                      struct tm_err *err)
{
    char where[80];
    snprintf(where, sizeof where, "trees[%d].nodes[%d]", t, i);
    if (!json_is_object(jn))
        return tm_err_set(err, TM_EINVAL, "%s: not an object", where);
    json_t *leaf = json_object_get(jn, "leaf");
    json_t *feat = json_object_get(jn, "feature");
    if (leaf && feat)
        return tm_err_set(err, TM_EINVAL, "%s: has both leaf and feature", where);
    if (leaf) {
        n->feat = -1;
        n->left = n->right = -1;
        return get_num(jn, "leaf", 1, &n->value, where, err);
    }
    if (!feat)
        return tm_err_set(err, TM_EINVAL, "%s: neither a leaf nor a split (needs leaf or feature)",
                          where);
    char wf[100];
    snprintf(wf, sizeof wf, "%s.feature", where);
    int idx = intern(m, feat, K_NUM, NULL, wf, err);
    if (idx < 0)
        return idx;
    n->feat = idx;
    int rc = get_num(jn, "threshold", 1, &n->thr, where, err);
    if (rc)
        return rc;
    const char *keys[2] = {"left", "right"};
    int *dst[2] = {&n->left, &n->right};
    for (int k = 0; k < 2; k++) {
        json_t *c = json_object_get(jn, keys[k]);
        if (!json_is_integer(c))
            return tm_err_set(err, TM_EINVAL, "%s.%s: missing or not an integer", where, keys[k]);
        json_int_t ci = json_integer_value(c);
        if (ci < 0 || ci >= count)
            return tm_err_set(err, TM_EINVAL, "%s.%s: %lld is out of range (%d nodes)", where,
                              keys[k], (long long)ci, count);
        *dst[k] = (int)ci;
    }
    return TM_OK;
}

static int parse_trees(tm_model *m, json_t *root, struct tm_err *err)
{
    int rc = get_num(root, "base_score", 0, &m->base_score, "", err);
    if (rc)
        return rc;
    json_t *ts = json_object_get(root, "trees");
    if (!json_is_array(ts) || json_array_size(ts) == 0)
        return tm_err_set(err, TM_EINVAL, "trees: missing or not a non-empty array");
    size_t ntrees = json_array_size(ts), total = 0;
    for (size_t t = 0; t < ntrees; t++) {
        json_t *jt = json_array_get(ts, t);
        json_t *ns = json_object_get(jt, "nodes");
        if (!json_is_object(jt) || !json_is_array(ns) || json_array_size(ns) == 0)
            return tm_err_set(err, TM_EINVAL, "trees[%zu].nodes: missing or not a non-empty array",
                              t);
        if (json_array_size(ns) > (size_t)(INT32_MAX / 4) - total)
            return tm_err_set(err, TM_EINVAL, "trees[%zu]: too many nodes", t);
        total += json_array_size(ns);
    }
    if (ntrees > (size_t)INT32_MAX)
        return tm_err_set(err, TM_EINVAL, "trees: too many trees");
    m->nodes = calloc(total, sizeof *m->nodes);
    m->roots = calloc(ntrees, sizeof *m->roots);
    struct walk w = {0};
    w.color = calloc(total, 1);
    w.height = calloc(total, sizeof *w.height);
    w.sum = calloc(total, sizeof *w.sum);
    w.cnt = calloc(total, sizeof *w.cnt);
    if (!m->nodes || !m->roots || !w.color || !w.height || !w.sum || !w.cnt) {
        rc = oom(err);
        goto done;
    }
    int base = 0;
    for (size_t t = 0; t < ntrees && rc == TM_OK; t++) {
        json_t *ns = json_object_get(json_array_get(ts, t), "nodes");
        int count = (int)json_array_size(ns);
        struct node *tn = &m->nodes[base];
        for (int i = 0; i < count && rc == TM_OK; i++)
            rc = parse_node(m, json_array_get(ns, (size_t)i), &tn[i], (int)t, i, count, err);
        if (rc == TM_OK) {
            /* The scratch arrays are offset like the nodes, so local indices work in both. */
            struct walk wt = {w.color + base, w.height + base, w.sum + base, w.cnt + base};
            rc = walk_tree(tn, &wt, (int)t, 0, 0, err);
        }
        if (rc == TM_OK) {
            for (int i = 0; i < count; i++) /* Make child indices absolute for scoring. */
                if (tn[i].feat >= 0) {
                    tn[i].left += base;
                    tn[i].right += base;
                }
            m->roots[t] = base;
            m->ntrees = (int)t + 1;
            base += count;
            m->nnodes = base;
        }
    }
    if (rc == TM_OK)
        rc = parse_reasons(m, root, err);
done:
    free(w.color);
    free(w.height);
    free(w.sum);
    free(w.cnt);
    return rc;
}

static int build(json_t *root, tm_model **out, struct tm_err *err)
{
    if (!json_is_object(root))
        return tm_err_set(err, TM_EINVAL, "model: not a JSON object");
    tm_model *m = calloc(1, sizeof *m);
    if (!m || !(m->feats = calloc(TM_SCORE_MAX_FEATURES, sizeof *m->feats))) {
        free(m);
        return oom(err);
    }
    int rc = get_text(json_object_get(root, "name"), m->name, "name", err);
    if (rc == TM_OK && m->name[0] == '\0')
        rc = tm_err_set(err, TM_EINVAL, "name: missing or empty");
    json_t *jt = json_object_get(root, "type");
    const char *type = json_is_string(jt) ? json_string_value(jt) : NULL;
    if (rc == TM_OK) {
        if (!type)
            rc = tm_err_set(err, TM_EINVAL, "type: missing or not a string");
        else if (strcmp(type, "scorecard") == 0)
            rc = (m->type = T_SCORECARD, parse_scorecard(m, root, err));
        else if (strcmp(type, "logistic") == 0)
            rc = (m->type = T_LOGISTIC, parse_logistic(m, root, err));
        else if (strcmp(type, "trees") == 0)
            rc = (m->type = T_TREES, parse_trees(m, root, err));
        else
            rc = tm_err_set(err, TM_EINVAL,
                            "type: unknown model type \"%.60s\" (scorecard, logistic or trees)",
                            type);
    }
    if (rc != TM_OK) {
        tm_model_free(m);
        return rc;
    }
    *out = m;
    return TM_OK;
}

static int parse_prefixed(const char *json, size_t len, const char *prefix, tm_model **out,
                          struct tm_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je); /* new reference */
    if (!root)
        return tm_err_set(err, TM_ESYNTAX, "%s%sline %d column %d: %s", prefix ? prefix : "",
                          prefix ? ":" : "", je.line, je.column, je.text);
    json_t *jt = json_object_get(root, "type"); /* borrowed */
    if (json_is_string(jt) && strcmp(json_string_value(jt), "contact") == 0) {
        /* A contact model has its own reader; it belongs to the generation like any model. */
        json_decref(root);
        tm_model *m = calloc(1, sizeof *m);
        if (!m || !(m->feats = calloc(TM_SCORE_MAX_FEATURES, sizeof *m->feats))) {
            free(m);
            return oom(err);
        }
        m->type = T_CONTACT;
        int rc = tm_cm_parse(json, len, &m->cm, err);
        if (rc != TM_OK) {
            tm_model_free(m);
            return rc;
        }
        snprintf(m->name, sizeof m->name, "%s", tm_cm_name(m->cm));
        *out = m;
        return TM_OK;
    }
    int rc = build(root, out, err);
    json_decref(root);
    return rc;
}

int tm_model_parse(const char *json, size_t len, tm_model **out, struct tm_err *err)
{
    if (out)
        *out = NULL;
    if (!json || !out)
        return tm_err_set(err, TM_EINVAL, "tm_model_parse: NULL argument");
    return parse_prefixed(json, len, NULL, out, err);
}

int tm_model_load(const char *path, tm_model **out, struct tm_err *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return tm_err_set(err, TM_EINVAL, "tm_model_load: NULL argument");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return tm_err_set(err, errno == ENOENT ? TM_ENOENT : TM_EIO, "%s: %s", path,
                          strerror(errno));
    tm_buf text = TM_BUF_INIT;
    tm_buf_limit(&text, (size_t)TM_SCORE_MAX_FILE);
    int rc = tm_buf_read(&text, fp);
    if (rc == TM_ELIMIT_MEM)
        rc = tm_err_set(err, TM_EINVAL, "%s: larger than %ld bytes", path, TM_SCORE_MAX_FILE);
    else if (rc == TM_ENOMEM)
        rc = oom(err);
    else if (rc == TM_EIO)
        rc = tm_err_set(err, TM_EIO, "%s: read error", path);
    fclose(fp);
    if (rc == TM_OK)
        rc = parse_prefixed(text.data ? text.data : "", text.len, path, out, err);
    tm_buf_free(&text);
    return rc;
}

/* ---- scoring ----------------------------------------------------------------------------- */

struct cand {
    int feat;
    double impact;
    const char *text;
};

/* Adverse (impact > 0) before favourable, then larger |impact| first. */
static int ranks_before(double a, double b)
{
    int ga = a > 0.0 ? 0 : 1, gb = b > 0.0 ? 0 : 1;
    if (ga != gb)
        return ga < gb;
    return fabs(a) > fabs(b);
}

/* Inserts into top[0..*k) (capacity cap), keeping the order; equal ranks keep arrival order. */
static void top_insert(struct cand *top, int *k, int cap, int feat, double impact,
                       const char *text)
{
    if (cap <= 0 || impact == 0.0)
        return;
    int pos = *k;
    while (pos > 0 && ranks_before(impact, top[pos - 1].impact))
        pos--;
    if (pos >= cap)
        return;
    int end = *k < cap ? *k : cap - 1;
    memmove(&top[pos + 1], &top[pos], (size_t)(end - pos) * sizeof *top);
    top[pos] = (struct cand){feat, impact, text};
    if (*k < cap)
        (*k)++;
}

int tm_model_score(const tm_model *m, const tm_features *f, double *prob, tm_reason *reasons,
                   int nreasons, int *nout, struct tm_err *err)
{
    if (nout)
        *nout = 0;
    if (!m || !f || !prob || nreasons < 0 || (nreasons > 0 && !reasons))
        return tm_err_set(err, TM_EINVAL, "tm_model_score: NULL or negative argument");
    if (m->type == T_CONTACT)
        return tm_err_set(err, TM_EINVAL,
                          "'%s' is a contact model (when and where to reach), not a score: "
                          "journeys ask it with j:best_slot", m->name);

    /* Resolve the model's features against f once; NaN marks a missing number. */
    double val[TM_SCORE_MAX_FEATURES];
    const char *str[TM_SCORE_MAX_FEATURES];
    unsigned char missing[TM_SCORE_MAX_FEATURES];
    for (int i = 0; i < m->nfeat; i++) {
        const struct feat *ft = &m->feats[i];
        int j = f->n ? fent_find(f, ft->name, ft->hash, i % f->n) : -1;
        missing[i] = j < 0;
        val[i] = (double)NAN;
        str[i] = NULL;
        if (j < 0)
            continue;
        const struct fent *e = &f->e[j];
        if (e->is_str && ft->kind == K_NUM)
            return tm_err_set(err, TM_EINVAL, "feature %s: a string, but model %s needs a number",
                              ft->name, m->name);
        if (!e->is_str && ft->kind == K_STR)
            return tm_err_set(err, TM_EINVAL,
                              "feature %s: a number, but model %s needs a string (categorical)",
                              ft->name, m->name);
        if (e->is_str)
            str[i] = e->str;
        else
            val[i] = e->num;
    }

    int cap = nreasons < m->nfeat ? nreasons : m->nfeat;
    struct cand top[TM_SCORE_MAX_FEATURES];
    int k = 0;
    double z = 0.0;
    if (m->type == T_SCORECARD) {
        double pts = 0.0;
        for (int i = 0; i < m->nfeat; i++) {
            const struct sc_feat *sf = &m->sc[i];
            const struct bin *b = &m->bins[sf->first];
            const struct bin *last = b + sf->nbins - 1;
            if (missing[i] || m->feats[i].kind == K_ANY) {
                b = last;
            } else if (m->feats[i].kind == K_NUM) {
                while (b < last && !(val[i] <= b->max))
                    b++;
            } else {
                for (; b < last; b++) {
                    int q = 0;
                    while (q < b->nvalues && strcmp(b->values[q], str[i]) != 0)
                        q++;
                    if (q < b->nvalues)
                        break;
                }
            }
            pts += b->points;
            top_insert(top, &k, cap, i, sf->maxpts - b->points, b->reason);
        }
        z = m->ln_odds + (pts - m->base_points) * m->scale;
    } else if (m->type == T_LOGISTIC) {
        z = m->intercept;
        for (int i = 0; i < m->nfeat; i++) {
            double c = missing[i] ? 0.0 : m->coef[i] * val[i];
            z += c;
            top_insert(top, &k, cap, i, -c, m->feats[i].text);
        }
    } else {
        z = m->base_score;
        const struct node *nodes = m->nodes;
        if (cap == 0) {
            for (int t = 0; t < m->ntrees; t++) {
                const struct node *n = &nodes[m->roots[t]];
                while (n->feat >= 0)
                    n = &nodes[val[n->feat] >= n->thr ? n->right : n->left];
                z += n->value;
            }
        } else {
            double contrib[TM_SCORE_MAX_FEATURES];
            for (int i = 0; i < m->nfeat; i++)
                contrib[i] = 0.0;
            for (int t = 0; t < m->ntrees; t++) {
                const struct node *n = &nodes[m->roots[t]];
                while (n->feat >= 0) {
                    const struct node *next =
                        &nodes[val[n->feat] >= n->thr ? n->right : n->left];
                    contrib[n->feat] += next->value - n->value;
                    n = next;
                }
                z += n->value;
            }
            for (int i = 0; i < m->nfeat; i++)
                top_insert(top, &k, cap, i, -contrib[i], m->feats[i].text);
        }
    }
    *prob = 1.0 / (1.0 + exp(-z));

    for (int r = 0; r < k; r++) {
        const char *name = m->feats[top[r].feat].name;
        memcpy(reasons[r].feature, name, strlen(name) + 1);
        memcpy(reasons[r].text, top[r].text, strlen(top[r].text) + 1);
        reasons[r].impact = top[r].impact;
    }
    for (int i = 0; i < m->nfeat && k < nreasons; i++) {
        if (!missing[i])
            continue;
        const char *name = m->feats[i].name;
        memcpy(reasons[k].feature, name, strlen(name) + 1);
        snprintf(reasons[k].text, sizeof reasons[k].text, "missing: %s", name);
        reasons[k].impact = 0.0;
        k++;
    }
    if (nout)
        *nout = k;
    return TM_OK;
}

const tm_contact_model *tm_model_contact(const tm_model *m)
{
    return m && m->type == T_CONTACT ? m->cm : NULL;
}
