/*
 * core/train.c: fits a logistic-regression scorecard and writes it in score.h's format (see
 * train.h for the method and the JSON written). Depends on jansson and libm.
 *
 * Design. A set keeps rows column-wise by kind: numbers in one row-major double array
 * (NaN = missing) and categories as indices into a per-feature dictionary of interned
 * strings (-1 = missing), so a row costs a few words whatever its strings. Fitting is a pure
 * function of the set and the options: it builds the bins, maps every row to one column per
 * feature (the design matrix is one-hot per feature, so a row is nf+1 column indices), runs
 * Newton's method on the L2-penalised log-likelihood with a dense p x p Hessian solved by
 * Cholesky (p <= TM_TRAIN_MAX_PARAMS), and writes the JSON with jansson. Nothing is stored
 * back into the set, so fitting twice gives the same bytes.
 *
 * Reproduction at scoring time depends on two things done here: rows are mapped to numeric
 * bins with score.h's own test (`!(v <= max)` moves on, so NaN falls to the catch-all), and
 * every cut point is first rounded to 15 significant digits, the precision the JSON is
 * written with, so the "max" score.h reads back is the exact double used in training.
 */
#include "train.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_ 63
#define TEXT_MAX_ 127 /* reason texts and model names, as in score.h */
#define CAT_MAX_ 1000 /* bytes of one category value */
#define JSON_DIGITS_ 15
#define CONVERGE_ 1e-8

struct dict {
    char **vals;
    size_t n, cap;
    int32_t *slots; /* open addressing: index + 1, 0 = empty */
    size_t nslots;
};

struct tfeat {
    char name[NAME_MAX_ + 1];
    char label[TM_TRAIN_MAX_LABEL + 1];
    int is_cat;
    int col; /* index among the numeric or among the categorical features */
    struct dict d;
};

struct tm_train_set {
    struct tfeat f[TM_TRAIN_MAX_FEATURES];
    int nf, nnum, ncat;
    size_t nrows, cap;
    double *num;    /* nrows * nnum */
    int32_t *cat;   /* nrows * ncat */
    unsigned char *y;
    uint64_t *key;
};

/* ---- helpers ----------------------------------------------------------------------------- */

static int oom(struct tm_err *err)
{
    return tm_err_set(err, TM_ENOMEM, "out of memory");
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* 1 when s is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF) and, if
 * no_ctl, holds no control characters. */
static int utf8_ok(const char *str, int no_ctl)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        if (c < 0x80) {
            if (no_ctl && (c < 0x20 || c == 0x7f))
                return 0;
            s++;
            continue;
        }
        int n;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (int k = 1; k <= n; k++) {
            if ((s[k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[k] & 0x3fu);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        s += n + 1;
    }
    return 1;
}

/* Copies src into dst (TEXT_MAX_ + 1 bytes), cut at a UTF-8 character boundary. */
static void copy_text(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n > TEXT_MAX_) {
        n = TEXT_MAX_;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* x rounded to JSON_DIGITS_ significant digits: the double score.h reads back from the JSON
 * jansson writes for it. */
static double round_json(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", JSON_DIGITS_, x);
    return strtod(buf, NULL);
}

/* x rounded to 6 decimals, without a negative zero. */
static double round6(double x)
{
    return round(x * 1e6) / 1e6 + 0.0;
}

/* log(1 + exp(z)) without overflow. */
static double log1pexp(double z)
{
    return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double logistic(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* ---- dictionary -------------------------------------------------------------------------- */

static void dict_free(struct dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->vals[i]);
    free(d->vals);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static size_t dict_slot(const struct dict *d, const char *s, int *found)
{
    size_t mask = d->nslots - 1, i = (size_t)hash_str(s) & mask;
    for (;;) {
        int32_t v = d->slots[i];
        if (v == 0) {
            *found = 0;
            return i;
        }
        if (strcmp(d->vals[v - 1], s) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

/* The index of s in d, adding a copy when new; -1 when out of memory (d unchanged). */
static int32_t dict_intern(struct dict *d, const char *s)
{
    int found;
    if (d->nslots && 2 * (d->n + 1) <= d->nslots) {
        size_t i = dict_slot(d, s, &found);
        if (found)
            return d->slots[i] - 1;
    } else {
        size_t ns = d->nslots ? d->nslots * 2 : 64;
        int32_t *slots = calloc(ns, sizeof *slots);
        if (!slots)
            return -1;
        struct dict nd = *d;
        nd.slots = slots;
        nd.nslots = ns;
        for (size_t k = 0; k < d->n; k++)
            slots[dict_slot(&nd, d->vals[k], &found)] = (int32_t)k + 1;
        free(d->slots);
        d->slots = slots;
        d->nslots = ns;
        size_t i = dict_slot(d, s, &found);
        if (found)
            return d->slots[i] - 1;
    }
    if (d->n >= (size_t)INT32_MAX - 1)
        return -1;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        char **v = realloc(d->vals, cap * sizeof *v);
        if (!v)
            return -1;
        d->vals = v;
        d->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return -1;
    d->vals[d->n] = copy;
    d->slots[dict_slot(d, s, &found)] = (int32_t)d->n + 1;
    return (int32_t)d->n++;
}

/* ---- the set ----------------------------------------------------------------------------- */

tm_train_set *tm_train_set_new(void)
{
    return calloc(1, sizeof(tm_train_set));
}

void tm_train_set_free(tm_train_set *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nf; i++)
        dict_free(&t->f[i].d);
    free(t->num);
    free(t->cat);
    free(t->y);
    free(t->key);
    free(t);
}

size_t tm_train_rows(const tm_train_set *t)
{
    return t ? t->nrows : 0;
}

static int add_feature(tm_train_set *t, const char *name, const char *label, int is_cat,
                       struct tm_err *err)
{
    if (!t || !name)
        return tm_err_set(err, TM_EINVAL, "tm_train_add_%s: NULL argument",
                          is_cat ? "categorical" : "numeric");
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_)
        return tm_err_set(err, TM_EINVAL, "feature name \"%.70s\": must be 1..%d bytes", name,
                          NAME_MAX_);
    for (size_t i = 0; i < n; i++)
        if (name[i] < 0x20 || name[i] > 0x7e)
            return tm_err_set(err, TM_EINVAL,
                              "feature name \"%.70s\": only printable ASCII is allowed", name);
    if (t->nrows > 0)
        return tm_err_set(err, TM_EINVAL,
                          "feature %s: features must be declared before the first row", name);
    if (t->nf >= TM_TRAIN_MAX_FEATURES)
        return tm_err_set(err, TM_EINVAL, "feature %s: more than %d features", name,
                          TM_TRAIN_MAX_FEATURES);
    for (int i = 0; i < t->nf; i++)
        if (strcmp(t->f[i].name, name) == 0)
            return tm_err_set(err, TM_EINVAL, "feature %s: declared twice", name);
    if (!label)
        label = name;
    size_t ln = strlen(label);
    if (ln == 0 || ln > TM_TRAIN_MAX_LABEL || !utf8_ok(label, 1))
        return tm_err_set(err, TM_EINVAL,
                          "feature %s: label must be 1..%d bytes of UTF-8 without control "
                          "characters",
                          name, TM_TRAIN_MAX_LABEL);
    struct tfeat *f = &t->f[t->nf++];
    memset(f, 0, sizeof *f);
    memcpy(f->name, name, n + 1);
    memcpy(f->label, label, ln + 1);
    f->is_cat = is_cat;
    f->col = is_cat ? t->ncat++ : t->nnum++;
    return TM_OK;
}

int tm_train_add_numeric(tm_train_set *t, const char *name, const char *label,
                         struct tm_err *err)
{
    return add_feature(t, name, label, 0, err);
}

int tm_train_add_categorical(tm_train_set *t, const char *name, const char *label,
                             struct tm_err *err)
{
    return add_feature(t, name, label, 1, err);
}

int tm_train_add_row(tm_train_set *t, const double *num, const char *const *cat, int label,
                     uint64_t split_key, struct tm_err *err)
{
    if (!t)
        return tm_err_set(err, TM_EINVAL, "tm_train_add_row: NULL set");
    if (t->nf == 0)
        return tm_err_set(err, TM_EINVAL, "row %zu: no features declared", t->nrows);
    if ((t->nnum > 0 && !num) || (t->ncat > 0 && !cat))
        return tm_err_set(err, TM_EINVAL, "row %zu: NULL %s values", t->nrows,
                          (t->nnum > 0 && !num) ? "numeric" : "categorical");
    if (label != 0 && label != 1)
        return tm_err_set(err, TM_EINVAL, "row %zu: label must be 0 or 1, not %d", t->nrows,
                          label);
    for (int i = 0; i < t->nf; i++) {
        const struct tfeat *f = &t->f[i];
        if (!f->is_cat && isinf(num[f->col]))
            return tm_err_set(err, TM_EINVAL, "row %zu: %s is infinite (use NaN for missing)",
                              t->nrows, f->name);
        if (f->is_cat && cat[f->col] &&
            (strlen(cat[f->col]) > CAT_MAX_ || !utf8_ok(cat[f->col], 0)))
            return tm_err_set(err, TM_EINVAL,
                              "row %zu: %s is not valid UTF-8 or longer than %d bytes", t->nrows,
                              f->name, CAT_MAX_);
    }
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        /* Grow each array; a failure leaves the earlier ones larger, which is harmless. */
        double *nm = t->nnum ? realloc(t->num, cap * (size_t)t->nnum * sizeof *nm) : NULL;
        if (t->nnum && !nm)
            return oom(err);
        if (nm)
            t->num = nm;
        int32_t *nc = t->ncat ? realloc(t->cat, cap * (size_t)t->ncat * sizeof *nc) : NULL;
        if (t->ncat && !nc)
            return oom(err);
        if (nc)
            t->cat = nc;
        unsigned char *ny = realloc(t->y, cap);
        if (!ny)
            return oom(err);
        t->y = ny;
        uint64_t *nk = realloc(t->key, cap * sizeof *nk);
        if (!nk)
            return oom(err);
        t->key = nk;
        t->cap = cap;
    }
    size_t r = t->nrows;
    for (int i = 0; i < t->nf; i++) {
        struct tfeat *f = &t->f[i];
        if (!f->is_cat) {
            t->num[r * (size_t)t->nnum + (size_t)f->col] = num[f->col];
            continue;
        }
        int32_t id = -1;
        /* An interned value of a failed row stays in the dictionary, unused: harmless. */
        if (cat[f->col] && (id = dict_intern(&f->d, cat[f->col])) < 0)
            return oom(err);
        t->cat[r * (size_t)t->ncat + (size_t)f->col] = id;
    }
    t->y[r] = (unsigned char)label;
    t->key[r] = split_key;
    t->nrows++;
    return TM_OK;
}

/* ---- fitting ----------------------------------------------------------------------------- */

struct fbins {
    int first, nb;  /* columns first .. first+nb-1; the last is the catch-all */
    double *cuts;   /* numeric: nb-1 maxima */
    int32_t *vbin;  /* categorical: dictionary index -> local bin */
    int32_t *order; /* categorical: local bin -> dictionary index, nb-1 entries */
};

struct fit {
    const tm_train_set *t;
    tm_train_opts o;
    unsigned char *test; /* per row: 1 = holdout */
    size_t ntrain, ntest, postrain, postest;
    struct fbins fb[TM_TRAIN_MAX_FEATURES];
    int p;
    int32_t *cols; /* nrows * (nf + 1): the active columns of each row, intercept first */
    double *beta, *grad, *hess, *delta, *eta, *pred;
    int iterations, converged;
    double auc_train, auc_test;
    double cal_pred[10], cal_obs[10];
    size_t cal_n[10];
};

static void fit_free(struct fit *F)
{
    for (int i = 0; i < TM_TRAIN_MAX_FEATURES; i++) {
        free(F->fb[i].cuts);
        free(F->fb[i].vbin);
        free(F->fb[i].order);
    }
    free(F->test);
    free(F->cols);
    free(F->beta);
    free(F->grad);
    free(F->hess);
    free(F->delta);
    free(F->eta);
    free(F->pred);
}

static int resolve_opts(const tm_train_opts *in, tm_train_opts *o, struct tm_err *err)
{
    tm_train_opts z = {0};
    *o = in ? *in : z;
    if (!o->name)
        o->name = "scorecard";
    if (!o->bins)
        o->bins = 5;
    if (!o->min_bin_rows)
        o->min_bin_rows = 50;
    if (o->l2 == 0.0)
        o->l2 = 1.0;
    if (o->holdout == 0.0)
        o->holdout = 0.3;
    if (!o->max_iter)
        o->max_iter = 50;
    if (o->base_points == 0.0)
        o->base_points = 600.0;
    if (o->pdo == 0.0)
        o->pdo = 20.0;
    if (o->odds_at_base == 0.0)
        o->odds_at_base = 1.0;
    size_t nl = strlen(o->name);
    if (nl == 0 || nl > TEXT_MAX_ || !utf8_ok(o->name, 1))
        return tm_err_set(err, TM_EINVAL, "opts.name: must be 1..%d bytes of UTF-8", TEXT_MAX_);
    if (o->bins < 2 || o->bins > 20)
        return tm_err_set(err, TM_EINVAL, "opts.bins: %d is not in 2..20", o->bins);
    if (o->min_bin_rows < 1)
        return tm_err_set(err, TM_EINVAL, "opts.min_bin_rows: must be >= 1");
    if (!(o->l2 > 0.0) || !isfinite(o->l2))
        return tm_err_set(err, TM_EINVAL, "opts.l2: must be a finite number > 0");
    if (!(o->holdout > 0.0 && o->holdout < 1.0))
        return tm_err_set(err, TM_EINVAL, "opts.holdout: must be in (0, 1)");
    if (o->max_iter < 1 || o->max_iter > 1000)
        return tm_err_set(err, TM_EINVAL, "opts.max_iter: %d is not in 1..1000", o->max_iter);
    if (!isfinite(o->base_points))
        return tm_err_set(err, TM_EINVAL, "opts.base_points: not finite");
    if (!(o->pdo > 0.0) || !isfinite(o->pdo))
        return tm_err_set(err, TM_EINVAL, "opts.pdo: must be a finite number > 0");
    if (!(o->odds_at_base > 0.0) || !isfinite(o->odds_at_base))
        return tm_err_set(err, TM_EINVAL, "opts.odds_at_base: must be a finite number > 0");
    return TM_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_dict_str(const void *a, const void *b, const struct dict *d)
{
    return strcmp(d->vals[*(const int32_t *)a], d->vals[*(const int32_t *)b]);
}

/* Sorts dictionary indices by their strings. qsort has no context argument in C11, so an
 * insertion sort keeps this re-entrant; n is below TM_TRAIN_MAX_PARAMS. */
static void sort_by_str(int32_t *v, size_t n, const struct dict *d)
{
    for (size_t i = 1; i < n; i++) {
        int32_t x = v[i];
        size_t j = i;
        while (j > 0 && cmp_dict_str(&v[j - 1], &x, d) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* The local bin score.h picks for a number: the first with v <= max, else the catch-all. */
static int num_bin(const struct fbins *b, double v)
{
    int k = 0;
    while (k < b->nb - 1 && !(v <= b->cuts[k]))
        k++;
    return k;
}

static int make_bins(struct fit *F, struct tm_err *err)
{
    const tm_train_set *t = F->t;
    int p = 1;
    double *vals = NULL;
    size_t *counts = NULL;
    int rc = TM_OK;
    if (t->nnum && !(vals = malloc((F->ntrain ? F->ntrain : 1) * sizeof *vals)))
        return oom(err);
    for (int i = 0; i < t->nf && rc == TM_OK; i++) {
        const struct tfeat *f = &t->f[i];
        struct fbins *b = &F->fb[i];
        b->first = p;
        if (!f->is_cat) {
            size_t m = 0;
            for (size_t r = 0; r < t->nrows; r++) {
                double v = t->num[r * (size_t)t->nnum + (size_t)f->col];
                if (!F->test[r] && !isnan(v))
                    vals[m++] = v;
            }
            qsort(vals, m, sizeof *vals, cmp_double);
            if (!(b->cuts = malloc((size_t)F->o.bins * sizeof *b->cuts))) {
                rc = oom(err);
                break;
            }
            int nc = 0;
            for (int k = 1; k < F->o.bins && m > 0; k++) {
                size_t idx = (size_t)k * m / (size_t)F->o.bins;
                if (idx == 0)
                    continue;
                double c = round_json(vals[idx - 1]);
                if (c < vals[m - 1] && (nc == 0 || c > b->cuts[nc - 1]))
                    b->cuts[nc++] = c;
            }
            b->nb = nc + 1;
        } else {
            size_t nv = f->d.n;
            free(counts);
            if (!(counts = calloc(nv ? nv : 1, sizeof *counts)) ||
                !(b->vbin = malloc((nv ? nv : 1) * sizeof *b->vbin)) ||
                !(b->order = malloc((nv ? nv : 1) * sizeof *b->order))) {
                rc = oom(err);
                break;
            }
            for (size_t r = 0; r < t->nrows; r++) {
                int32_t id = t->cat[r * (size_t)t->ncat + (size_t)f->col];
                if (!F->test[r] && id >= 0)
                    counts[id]++;
            }
            size_t nk = 0;
            for (size_t v = 0; v < nv; v++)
                if (counts[v] >= (size_t)F->o.min_bin_rows)
                    b->order[nk++] = (int32_t)v;
            if (nk + 1 > (size_t)TM_TRAIN_MAX_PARAMS) {
                rc = tm_err_set(err, TM_EINVAL,
                                "feature %s: %zu frequent values are too many bins (raise "
                                "min_bin_rows)",
                                f->name, nk);
                break;
            }
            sort_by_str(b->order, nk, &f->d);
            for (size_t v = 0; v < nv; v++)
                b->vbin[v] = (int32_t)nk;
            for (size_t k = 0; k < nk; k++)
                b->vbin[b->order[k]] = (int32_t)k;
            b->nb = (int)nk + 1;
        }
        p += b->nb;
        if (p > TM_TRAIN_MAX_PARAMS)
            rc = tm_err_set(err, TM_EINVAL,
                            "more than %d parameters (bins over all features; lower bins or "
                            "raise min_bin_rows)",
                            TM_TRAIN_MAX_PARAMS);
    }
    free(vals);
    free(counts);
    F->p = p;
    return rc;
}

static int map_rows(struct fit *F, struct tm_err *err)
{
    const tm_train_set *t = F->t;
    size_t w = (size_t)t->nf + 1;
    if (!(F->cols = malloc(t->nrows * w * sizeof *F->cols)))
        return oom(err);
    for (size_t r = 0; r < t->nrows; r++) {
        int32_t *c = &F->cols[r * w];
        c[0] = 0;
        for (int i = 0; i < t->nf; i++) {
            const struct tfeat *f = &t->f[i];
            const struct fbins *b = &F->fb[i];
            int k;
            if (!f->is_cat) {
                k = num_bin(b, t->num[r * (size_t)t->nnum + (size_t)f->col]);
            } else {
                int32_t id = t->cat[r * (size_t)t->ncat + (size_t)f->col];
                k = id < 0 ? b->nb - 1 : b->vbin[id];
            }
            c[i + 1] = b->first + k;
        }
    }
    return TM_OK;
}

/* eta = X beta for every row. */
static void linear(const struct fit *F, const double *beta, double *eta)
{
    size_t w = (size_t)F->t->nf + 1;
    for (size_t r = 0; r < F->t->nrows; r++) {
        const int32_t *c = &F->cols[r * w];
        double z = 0.0;
        for (size_t k = 0; k < w; k++)
            z += beta[c[k]];
        eta[r] = z;
    }
}

/* The penalised log-likelihood of the training rows. */
static double objective(const struct fit *F, const double *beta, const double *eta)
{
    double ll = 0.0, pen = 0.0;
    for (size_t r = 0; r < F->t->nrows; r++)
        if (!F->test[r])
            ll += (F->t->y[r] ? eta[r] : 0.0) - log1pexp(eta[r]);
    for (int j = 1; j < F->p; j++)
        pen += beta[j] * beta[j];
    return ll - 0.5 * F->o.l2 * pen;
}

/* In-place Cholesky of the lower triangle of the p x p matrix a, then solves a x = b into b.
 * Returns 0, or -1 when a is not positive definite. */
static int cholesky_solve(double *a, double *b, int p)
{
    for (int j = 0; j < p; j++) {
        double d = a[(size_t)j * p + j];
        for (int k = 0; k < j; k++)
            d -= a[(size_t)j * p + k] * a[(size_t)j * p + k];
        if (!(d > 0.0))
            return -1;
        d = sqrt(d);
        a[(size_t)j * p + j] = d;
        for (int i = j + 1; i < p; i++) {
            double s = a[(size_t)i * p + j];
            const double *ri = &a[(size_t)i * p], *rj = &a[(size_t)j * p];
            for (int k = 0; k < j; k++)
                s -= ri[k] * rj[k];
            a[(size_t)i * p + j] = s / d;
        }
    }
    for (int i = 0; i < p; i++) { /* L y = b */
        double s = b[i];
        for (int k = 0; k < i; k++)
            s -= a[(size_t)i * p + k] * b[k];
        b[i] = s / a[(size_t)i * p + i];
    }
    for (int i = p - 1; i >= 0; i--) { /* L' x = y */
        double s = b[i];
        for (int k = i + 1; k < p; k++)
            s -= a[(size_t)k * p + i] * b[k];
        b[i] = s / a[(size_t)i * p + i];
    }
    return 0;
}

static int newton(struct fit *F, struct tm_err *err)
{
    const tm_train_set *t = F->t;
    int p = F->p;
    size_t w = (size_t)t->nf + 1, n = t->nrows;
    double *trial = NULL, *eta2 = NULL;
    F->beta = calloc((size_t)p, sizeof *F->beta);
    F->grad = calloc((size_t)p, sizeof *F->grad);
    F->delta = calloc((size_t)p, sizeof *F->delta);
    F->hess = malloc((size_t)p * (size_t)p * sizeof *F->hess);
    F->eta = malloc(n * sizeof *F->eta);
    trial = malloc((size_t)p * sizeof *trial);
    eta2 = malloc(n * sizeof *eta2);
    if (!F->beta || !F->grad || !F->delta || !F->hess || !F->eta || !trial || !eta2) {
        free(trial);
        free(eta2);
        return oom(err);
    }
    double rate = (double)F->postrain / (double)F->ntrain;
    F->beta[0] = log(rate / (1.0 - rate));
    linear(F, F->beta, F->eta);
    double obj = objective(F, F->beta, F->eta);
    int rc = TM_OK;
    for (F->iterations = 0; F->iterations < F->o.max_iter;) {
        memset(F->hess, 0, (size_t)p * (size_t)p * sizeof *F->hess);
        for (int j = 0; j < p; j++)
            F->grad[j] = j ? -F->o.l2 * F->beta[j] : 0.0;
        for (size_t r = 0; r < n; r++) {
            if (F->test[r])
                continue;
            const int32_t *c = &F->cols[r * w];
            double mu = logistic(F->eta[r]);
            double wt = mu * (1.0 - mu), res = (double)t->y[r] - mu;
            for (size_t a = 0; a < w; a++) {
                F->grad[c[a]] += res;
                double *row = &F->hess[(size_t)c[a] * (size_t)p];
                for (size_t b = 0; b <= a; b++) /* columns increase with a: lower triangle */
                    row[c[b]] += wt;
            }
        }
        for (int j = 1; j < p; j++)
            F->hess[(size_t)j * p + j] += F->o.l2;
        memcpy(F->delta, F->grad, (size_t)p * sizeof *F->delta);
        if (cholesky_solve(F->hess, F->delta, p) != 0) {
            rc = tm_err_set(err, TM_EINVAL, "the fit is numerically singular (iteration %d)",
                            F->iterations + 1);
            break;
        }
        /* Newton step, halved while it lowers the objective (it rarely does: the problem is
         * strictly concave, but a full step can overshoot far from the optimum). */
        double step = 1.0, nobj = obj;
        for (int h = 0; h < 40; h++, step *= 0.5) {
            for (int j = 0; j < p; j++)
                trial[j] = F->beta[j] + step * F->delta[j];
            linear(F, trial, eta2);
            nobj = objective(F, trial, eta2);
            if (nobj >= obj - 1e-12 * fabs(obj))
                break;
        }
        double maxd = 0.0;
        for (int j = 0; j < p; j++) {
            double d = fabs(trial[j] - F->beta[j]);
            if (d > maxd)
                maxd = d;
        }
        memcpy(F->beta, trial, (size_t)p * sizeof *F->beta);
        memcpy(F->eta, eta2, n * sizeof *F->eta);
        obj = nobj;
        F->iterations++;
        if (maxd < CONVERGE_) {
            F->converged = 1;
            break;
        }
    }
    free(trial);
    free(eta2);
    return rc;
}

struct ranked {
    double p;
    size_t row;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Sorts the rows of one side (test = 0 or 1) by prediction into r[0..*m) and returns the
 * Mann-Whitney AUC (ties get the average rank), NaN when a class is absent. */
static double auc_side(const struct fit *F, int test, struct ranked *r, size_t *m)
{
    size_t k = 0, npos = 0;
    for (size_t i = 0; i < F->t->nrows; i++)
        if (F->test[i] == test) {
            r[k].p = F->pred[i];
            r[k].row = i;
            npos += F->t->y[i];
            k++;
        }
    *m = k;
    qsort(r, k, sizeof *r, cmp_ranked);
    size_t nneg = k - npos;
    if (npos == 0 || nneg == 0)
        return (double)NAN;
    double rsum = 0.0;
    for (size_t i = 0; i < k;) {
        size_t j = i;
        while (j < k && r[j].p == r[i].p)
            j++;
        double avg = ((double)i + 1.0 + (double)j) / 2.0; /* ranks i+1 .. j */
        for (size_t q = i; q < j; q++)
            if (F->t->y[r[q].row])
                rsum += avg;
        i = j;
    }
    double np = (double)npos;
    return (rsum - np * (np + 1.0) / 2.0) / (np * (double)nneg);
}

static int validate(struct fit *F, struct tm_err *err)
{
    size_t n = F->t->nrows, m;
    if (!(F->pred = malloc(n * sizeof *F->pred)))
        return oom(err);
    for (size_t i = 0; i < n; i++)
        F->pred[i] = logistic(F->eta[i]);
    struct ranked *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return oom(err);
    F->auc_train = auc_side(F, 0, r, &m);
    F->auc_test = auc_side(F, 1, r, &m); /* leaves the holdout rows sorted in r */
    for (int d = 0; d < 10; d++) {
        size_t lo = (size_t)d * m / 10, hi = (size_t)(d + 1) * m / 10;
        double sp = 0.0, so = 0.0;
        for (size_t q = lo; q < hi; q++) {
            sp += r[q].p;
            so += F->t->y[r[q].row];
        }
        F->cal_n[d] = hi - lo;
        F->cal_pred[d] = hi > lo ? sp / (double)(hi - lo) : (double)NAN;
        F->cal_obs[d] = hi > lo ? so / (double)(hi - lo) : (double)NAN;
    }
    free(r);
    return TM_OK;
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* A JSON number for finite x, null otherwise (JSON has no NaN). New reference. */
static json_t *jnum(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *jint(size_t x)
{
    return json_integer((json_int_t)x);
}

/* obj[key] = v, stealing v; sets *bad on failure (NULL obj or v, or out of memory). */
static void put(json_t *obj, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(obj, key, v) != 0)
        *bad = 1;
}

static void push(json_t *arr, json_t *v, int *bad)
{
    if (json_array_append_new(arr, v) != 0)
        *bad = 1;
}

static json_t *feature_json(const struct fit *F, int i, const double *pts, int *bad)
{
    const struct tfeat *f = &F->t->f[i];
    const struct fbins *b = &F->fb[i];
    json_t *jf = json_object(), *bins = json_array();
    put(jf, "name", json_string(f->name), bad);
    char text[TEXT_MAX_ + 1], buf[TEXT_MAX_ + 64 + CAT_MAX_];
    for (int k = 0; k < b->nb; k++) {
        json_t *jb = json_object();
        int last = k == b->nb - 1;
        if (!f->is_cat) {
            if (!last) {
                put(jb, "max", json_real(b->cuts[k]), bad);
                if (k == 0)
                    snprintf(buf, sizeof buf, "%s up to %g", f->label, b->cuts[k]);
                else
                    snprintf(buf, sizeof buf, "%s over %g up to %g", f->label, b->cuts[k - 1],
                             b->cuts[k]);
            } else if (b->nb > 1) {
                snprintf(buf, sizeof buf, "%s over %g or unknown", f->label, b->cuts[k - 1]);
            } else {
                snprintf(buf, sizeof buf, "%s: any value", f->label);
            }
        } else {
            if (!last) {
                const char *v = f->d.vals[b->order[k]];
                json_t *vals = json_array();
                push(vals, json_string(v), bad);
                put(jb, "values", vals, bad);
                snprintf(buf, sizeof buf, "%s: %s", f->label, v);
            } else {
                snprintf(buf, sizeof buf, "%s: %s", f->label,
                         b->nb > 1 ? "other or unknown" : "any value");
            }
        }
        put(jb, "points", json_real(pts[b->first + k]), bad);
        copy_text(text, buf);
        put(jb, "reason", json_string(text), bad);
        push(bins, jb, bad);
    }
    put(jf, "bins", bins, bad);
    return jf;
}

static int write_json(const struct fit *F, const double *pts, double base, char **json,
                      struct tm_err *err)
{
    int bad = 0;
    json_t *root = json_object();
    put(root, "type", json_string("scorecard"), &bad);
    put(root, "name", json_string(F->o.name), &bad);
    put(root, "base_points", json_real(base), &bad);
    put(root, "pdo", json_real(F->o.pdo), &bad);
    put(root, "odds_at_base", json_real(F->o.odds_at_base), &bad);
    json_t *feats = json_array();
    for (int i = 0; i < F->t->nf; i++)
        push(feats, feature_json(F, i, pts, &bad), &bad);
    put(root, "features", feats, &bad);

    json_t *tr = json_object();
    put(tr, "rows", jint(F->t->nrows), &bad);
    put(tr, "train_rows", jint(F->ntrain), &bad);
    put(tr, "holdout_rows", jint(F->ntest), &bad);
    put(tr, "positive_rate", jnum((double)F->postrain / (double)F->ntrain), &bad);
    put(tr, "l2", jnum(F->o.l2), &bad);
    put(tr, "iterations", json_integer(F->iterations), &bad);
    put(tr, "converged", json_boolean(F->converged), &bad);
    put(tr, "score_offset", jnum(round6(F->o.base_points - base)), &bad);
    put(root, "training", tr, &bad);

    json_t *va = json_object(), *cal = json_array();
    put(va, "auc_train", jnum(F->auc_train), &bad);
    put(va, "auc_holdout", jnum(F->auc_test), &bad);
    for (int d = 0; d < 10; d++) {
        json_t *c = json_object();
        put(c, "decile", json_integer(d + 1), &bad);
        put(c, "rows", jint(F->cal_n[d]), &bad);
        put(c, "predicted", jnum(F->cal_pred[d]), &bad);
        put(c, "observed", jnum(F->cal_obs[d]), &bad);
        push(cal, c, &bad);
    }
    put(va, "calibration", cal, &bad);
    put(root, "validation", va, &bad);

    char *s = bad ? NULL : json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(JSON_DIGITS_));
    json_decref(root);
    if (!s) /* jansson's strings are valid UTF-8 already (checked at add time), so OOM */
        return oom(err);
    /* json_dumps allocates with jansson's allocator (malloc unless changed); copy so the
     * caller can always use free(). */
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    if (out)
        memcpy(out, s, len + 1);
    free(s);
    if (!out)
        return oom(err);
    *json = out;
    return TM_OK;
}

/* Turns coefficients into points: per feature, (coef - min coef) * pdo / ln 2 rounded to 6
 * decimals, and the base that makes score.h reproduce the log-odds:
 *   ln(odds) + (S - B) / factor = b0 + sum coef,  S = factor * (sum coef - sum min)
 *   =>  B = factor * (ln(odds) - b0 - sum min). */
static double to_points(const struct fit *F, double *pts)
{
    double factor = F->o.pdo / log(2.0), summin = 0.0;
    pts[0] = 0.0;
    for (int i = 0; i < F->t->nf; i++) {
        const struct fbins *b = &F->fb[i];
        double mn = F->beta[b->first];
        for (int k = 1; k < b->nb; k++)
            if (F->beta[b->first + k] < mn)
                mn = F->beta[b->first + k];
        for (int k = 0; k < b->nb; k++)
            pts[b->first + k] = round6((F->beta[b->first + k] - mn) * factor);
        summin += mn;
    }
    return round6(factor * (log(F->o.odds_at_base) - F->beta[0] - summin));
}

int tm_train_fit(const tm_train_set *t, const tm_train_opts *opts, char **json,
                 tm_train_report *rep, struct tm_err *err)
{
    if (json)
        *json = NULL;
    if (!t || !json)
        return tm_err_set(err, TM_EINVAL, "tm_train_fit: NULL argument");
    struct fit F;
    memset(&F, 0, sizeof F);
    F.t = t;
    int rc = resolve_opts(opts, &F.o, err);
    if (rc)
        return rc;
    if (t->nf == 0)
        return tm_err_set(err, TM_EINVAL, "no features declared");
    if (t->nrows == 0)
        return tm_err_set(err, TM_EINVAL, "no rows to train on");
    if (!(F.test = malloc(t->nrows)))
        return oom(err);
    double cut = F.o.holdout * 10000.0;
    for (size_t r = 0; r < t->nrows; r++) {
        F.test[r] = (double)(splitmix64(t->key[r]) % 10000) < cut;
        if (F.test[r]) {
            F.ntest++;
            F.postest += t->y[r];
        } else {
            F.ntrain++;
            F.postrain += t->y[r];
        }
    }
    double *pts = NULL;
    if (F.ntrain == 0)
        rc = tm_err_set(err, TM_EINVAL, "all %zu rows fell in the holdout; no training rows",
                        t->nrows);
    else if (F.postrain == 0 || F.postrain == F.ntrain)
        rc = tm_err_set(err, TM_EINVAL,
                        "the %zu training rows all have label %d: need both classes", F.ntrain,
                        F.postrain ? 1 : 0);
    if (rc == TM_OK && (rc = make_bins(&F, err)) == TM_OK && (rc = map_rows(&F, err)) == TM_OK &&
        (rc = newton(&F, err)) == TM_OK && (rc = validate(&F, err)) == TM_OK) {
        if (!(pts = malloc((size_t)F.p * sizeof *pts))) {
            rc = oom(err);
        } else {
            double base = to_points(&F, pts);
            rc = write_json(&F, pts, base, json, err);
            if (rc == TM_OK && rep) {
                double *pred = rep->pred;
                memset(rep, 0, sizeof *rep);
                rep->pred = pred;
                rep->n_train = F.ntrain;
                rep->n_test = F.ntest;
                rep->pos_train = F.postrain;
                rep->pos_test = F.postest;
                rep->auc_train = F.auc_train;
                rep->auc_test = F.auc_test;
                rep->iterations = F.iterations;
                rep->converged = F.converged;
                rep->n_params = F.p;
                rep->base_points = base;
                memcpy(rep->calib_pred, F.cal_pred, sizeof F.cal_pred);
                memcpy(rep->calib_obs, F.cal_obs, sizeof F.cal_obs);
                memcpy(rep->calib_n, F.cal_n, sizeof F.cal_n);
                if (pred)
                    memcpy(pred, F.pred, t->nrows * sizeof *pred);
            }
        }
    }
    free(pts);
    fit_free(&F);
    return rc;
}
