/*
 * app/sim_measures.c: the collection measures of a simulation
 * (sim_measures.h): per-debt values of each measure, paired by debt between
 * two strategies, and their printing. strategies.md, "Simulation and the
 * collection measures", defines each one.
 */
#include "sim_measures.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "jw.h"

const char *const tm_sim_bucket_names[TM_SIM_NBUCKETS] = {"current", "1-30",    "31-60", "61-90",
                                                          "91-120",  "121-180", "180+"};

int tm_sim_bucket(int64_t dpd)
{
    static const int64_t upper[TM_SIM_NBUCKETS - 1] = {0, 30, 60, 90, 120, 180};
    int b = 0;
    while (b < TM_SIM_NBUCKETS - 1 && dpd > upper[b])
        b++;
    return b;
}

void tm_sim_format_money(char *buf, size_t cap, int64_t minor, int exp)
{
    tm_jw_money_text(buf, cap, minor, exp); /* "" when it does not fit */
}

void tm_sim_group_thousands(const char *plain, char *buf, size_t cap)
{
    const char *p = plain;
    size_t o = 0;
    if (*p == '-' && o + 1 < cap)
        buf[o++] = *p++;
    size_t digits = strspn(p, "0123456789");
    for (size_t i = 0; i < digits && o + 2 < cap; i++) {
        if (i && (digits - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = p[i];
    }
    snprintf(buf + o, cap > o ? cap - o : 0, "%s", p + digits);
}

/* Costs are in millionths of the major unit; this is the same in minor units (rounded). */
double tm_sim_cost_minor(const tm_simulation *S, int64_t micro)
{
    double v = (double)micro;
    for (int i = S->exp; i < 6; i++)
        v /= 10;
    return v;
}

/* How a measure is printed (tm_sim_kpi.fmt). */
enum { FMT_PCT, FMT_NUM, FMT_MONEY, FMT_COUNT };
_Static_assert(FMT_MONEY == TM_SIM_FMT_MONEY, "the money format is the one sim_measures.h names");

static double median_days(const tm_simulation *S, const tm_sim_arm *A)
{
    size_t n = 0;
    int *v = malloc((S->n ? S->n : 1) * sizeof *v);
    if (v == NULL)
        return (double)NAN;
    for (size_t i = 0; i < S->n; i++)
        if (A->resolved[i])
            v[n++] = A->resolved[i];
    /* Insertion sort would be quadratic on big portfolios; counting sort by day is linear. */
    long *cnt = calloc((size_t)S->days + 2, sizeof *cnt);
    double med = (double)NAN;
    if (cnt && n) {
        for (size_t k = 0; k < n; k++)
            cnt[v[k]]++;
        size_t seen = 0, lo = (n - 1) / 2, hi = n / 2;
        int a = -1, b = -1;
        for (int day = 0; day <= S->days + 1 && b < 0; day++) {
            seen += (size_t)cnt[day];
            if (a < 0 && seen > lo)
                a = day;
            if (seen > hi)
                b = day;
        }
        med = (a + b) / 2.0;
    }
    free(cnt);
    free(v);
    return med;
}

/* Per-debt values of measure `k` under arm A into x and y (y may be left NULL: y = 1). */
static void values(const tm_simulation *S, const tm_sim_arm *A, int k, double *x, double *y, int *use_y)
{
    *use_y = 1;
    for (size_t i = 0; i < S->n; i++) {
        const tm_sim_debt *d = &S->d[i];
        double cost = tm_sim_cost_minor(S, A->cost[i]);
        switch (k) {
        case 0: x[i] = (double)A->collected[i]; *use_y = 0; break;
        case 1: x[i] = (double)A->collected[i]; y[i] = (double)d->placed; break;
        case 2: x[i] = (double)A->collected[i]; y[i] = (double)d->start; break;
        case 3:
            y[i] = d->dpd >= 1;
            x[i] = d->dpd >= 1 && A->collected[i] == d->start;
            break;
        case 4: x[i] = A->collected[i] == d->start; *use_y = 0; break;
        case 5: x[i] = A->pkept[i]; y[i] = A->pdue[i]; break;
        case 6: x[i] = A->rpc[i]; *use_y = 0; break;
        case 7: x[i] = A->contacts[i]; *use_y = 0; break;
        case 8: x[i] = A->optout[i]; *use_y = 0; break;
        case 9: x[i] = A->complaints[i]; *use_y = 0; break;
        case 10: x[i] = cost; *use_y = 0; break;
        case 11: x[i] = cost; y[i] = (double)A->collected[i]; break;
        case 13: x[i] = (double)A->collected[i] - cost; *use_y = 0; break;
        default:
            x[i] = A->resolved[i] ? A->resolved[i] : 0;
            y[i] = A->resolved[i] != 0;
            break;
        }
    }
}

static const struct {
    const char *name;
    int fmt;
    int total; /* printed as a total over the debts, not a mean */
} kpi_defs[TM_SIM_NKPI] = {
    {"collected", FMT_MONEY, 1},
    {"recovery rate", FMT_PCT, 0},
    {"liquidation rate", FMT_PCT, 0},
    {"cure rate", FMT_PCT, 0},
    {"paid in full", FMT_PCT, 0},
    {"promise-kept rate", FMT_PCT, 0},
    {"right-party contact rate", FMT_PCT, 0},
    {"contacts per debt", FMT_NUM, 0},
    {"opt-outs", FMT_COUNT, 1},
    {"complaints", FMT_COUNT, 1},
    {"contact cost", FMT_MONEY, 1},
    {"cost to collect", FMT_PCT, 0},
    {"days to resolution (mean)", FMT_NUM, 0},
    {"net collected after cost", FMT_MONEY, 1},
};

int tm_sim_measure(const tm_simulation *S, const tm_sim_arm *A, const tm_sim_arm *B, tm_sim_kpi *kp)
{
    size_t n = S->n;
    double *xa = malloc(n * sizeof *xa), *ya = malloc(n * sizeof *ya);
    double *xb = malloc(n * sizeof *xb), *yb = malloc(n * sizeof *yb);
    if (!xa || !ya || !xb || !yb) {
        free(xa);
        free(ya);
        free(xb);
        free(yb);
        return TM_ENOMEM;
    }
    for (int k = 0; k < TM_SIM_NKPI; k++) {
        int uy;
        values(S, A, k, xa, ya, &uy);
        values(S, B ? B : A, k, xb, yb, &uy);
        kp[k].name = kpi_defs[k].name;
        kp[k].fmt = kpi_defs[k].fmt;
        kp[k].paired = B != NULL;
        tm_sim_paired(xa, uy ? ya : NULL, xb, uy ? yb : NULL, n, &kp[k].d);
        if (kpi_defs[k].total) {
            /* Totals are the mean per debt times the debts; so is their interval. */
            double f = (double)n;
            kp[k].d.a *= f;
            kp[k].d.b *= f;
            kp[k].d.diff *= f;
            kp[k].d.lo *= f;
            kp[k].d.hi *= f;
        }
    }
    kp[TM_SIM_NKPI].name = "days to resolution (median)";
    kp[TM_SIM_NKPI].fmt = FMT_NUM;
    kp[TM_SIM_NKPI].paired = 0;
    kp[TM_SIM_NKPI].d.a = median_days(S, A);
    kp[TM_SIM_NKPI].d.b = B ? median_days(S, B) : kp[TM_SIM_NKPI].d.a;
    kp[TM_SIM_NKPI].d.diff = kp[TM_SIM_NKPI].d.b - kp[TM_SIM_NKPI].d.a;
    kp[TM_SIM_NKPI].d.lo = kp[TM_SIM_NKPI].d.hi = (double)NAN;
    kp[TM_SIM_NKPI].d.significant = 0;
    free(xa);
    free(ya);
    free(xb);
    free(yb);
    return TM_OK;
}

void tm_sim_format_value(const tm_simulation *S, char *buf, size_t cap, int fmt, double v, int sign)
{
    if (isnan(v)) {
        snprintf(buf, cap, "n/a");
        return;
    }
    const char *plus = sign && v > 0 ? "+" : "";
    switch (fmt) {
    case FMT_PCT: snprintf(buf, cap, "%s%.2f%%", plus, v * 100); break;
    case FMT_MONEY: {
        char m[48], g[64];
        tm_sim_format_money(m, sizeof m, (int64_t)llround(v), S->exp);
        tm_sim_group_thousands(m, g, sizeof g);
        snprintf(buf, cap, "%s%s", plus, g);
        break;
    }
    case FMT_COUNT: snprintf(buf, cap, "%s%.0f", plus, v); break;
    default: snprintf(buf, cap, "%s%.2f", plus, v); break;
    }
}

void tm_sim_print_measures(const tm_simulation *S, const tm_sim_arm *A, const tm_sim_arm *B, const tm_sim_kpi *kp)
{
    char a[64], b[64], d[64], lo[64], hi[64];
    if (B) {
        printf("%-28s %16s %16s %14s  %-30s\n", "measure", A->label, B->label, "B - A",
               "95% CI (paired by debt)");
    } else {
        printf("%-28s %16s\n", "measure", A->label);
    }
    for (int k = 0; k <= TM_SIM_NKPI; k++) {
        tm_sim_format_value(S, a, sizeof a, kp[k].fmt, kp[k].d.a, 0);
        if (!B) {
            printf("%-28s %16s\n", kp[k].name, a);
            continue;
        }
        tm_sim_format_value(S, b, sizeof b, kp[k].fmt, kp[k].d.b, 0);
        tm_sim_format_value(S, d, sizeof d, kp[k].fmt, kp[k].d.diff, 1);
        char ci[140] = "";
        if (kp[k].paired && !isnan(kp[k].d.lo)) {
            tm_sim_format_value(S, lo, sizeof lo, kp[k].fmt, kp[k].d.lo, 0);
            tm_sim_format_value(S, hi, sizeof hi, kp[k].fmt, kp[k].d.hi, 0);
            snprintf(ci, sizeof ci, "[%s, %s]%s", lo, hi, kp[k].d.significant ? " *" : "");
        } else {
            snprintf(ci, sizeof ci, "n/a");
        }
        printf("%-28s %16s %16s %14s  %-30s\n", kp[k].name, a, b, d, ci);
    }
    char v[400];
    tm_sim_verdict(S, kp, B != NULL, v, sizeof v);
    printf("(amounts in %s)\n%s\n", S->currency[0] ? S->currency : "the portfolio's currency", v);
}

void tm_sim_verdict(const tm_simulation *S, const tm_sim_kpi *kp, int two, char *buf, size_t cap)
{
    const tm_sim_kpi *net = &kp[TM_SIM_KPI_NET];
    const char *cur = S->currency[0] ? S->currency : "";
    char d[64], lo[64], hi[64], a[64];
    tm_sim_format_value(S, a, sizeof a, net->fmt, net->d.a, 0);
    tm_sim_format_value(S, lo, sizeof lo, net->fmt, net->d.lo, 0);
    tm_sim_format_value(S, hi, sizeof hi, net->fmt, net->d.hi, 0);
    if (!two) {
        snprintf(buf, cap, "verdict: A collects %s %s net of contact cost over %d days", a, cur, S->days);
        return;
    }
    tm_sim_format_value(S, d, sizeof d, net->fmt, fabs(net->d.diff), 0);
    if (net->d.significant && net->d.diff > 0)
        snprintf(buf, cap, "verdict: B is better: it collects %s %s more than A net of contact cost "
                           "(95%% CI [%s, %s])", d, cur, lo, hi);
    else if (net->d.significant && net->d.diff < 0)
        snprintf(buf, cap, "verdict: B is worse: it collects %s %s less than A net of contact cost "
                           "(95%% CI [%s, %s])", d, cur, lo, hi);
    else
        snprintf(buf, cap, "verdict: no clear difference: B - A net of contact cost is %s%s %s, 95%% CI "
                           "[%s, %s] includes 0 (more days or debts would tell)",
                 net->d.diff < 0 ? "-" : net->d.diff > 0 ? "+" : "", d, cur, lo, hi);
}

static void print_roll(const tm_sim_arm *A, const char *who)
{
    printf("  %sroll rates (start bucket -> end bucket, share of the start bucket):\n    %-9s", who,
           "from\\to");
    for (int t = 0; t < TM_SIM_NBUCKETS; t++)
        printf(" %8s", tm_sim_bucket_names[t]);
    printf(" %8s\n", "debts");
    for (int f = 0; f < TM_SIM_NBUCKETS; f++) {
        long row = 0;
        for (int t = 0; t < TM_SIM_NBUCKETS; t++)
            row += A->roll[f][t];
        if (row == 0)
            continue;
        printf("    %-9s", tm_sim_bucket_names[f]);
        for (int t = 0; t < TM_SIM_NBUCKETS; t++)
            printf(" %7.1f%%", 100.0 * (double)A->roll[f][t] / (double)row);
        printf(" %8ld\n", row);
    }
    if (A->roll_unknown)
        printf("    (%ld debts with unknown days past due are not in the matrix)\n",
               A->roll_unknown);
}

void tm_sim_print_arm(const tm_simulation *S, const tm_sim_arm *A)
{
    printf("\n%s: %s (scripts %.16s)\n", A->label, A->dir, A->hash);
    printf("  messages:");
    for (int c = 0; c < TM_SIM_NCHANNELS; c++)
        if (A->by_ch[c])
            printf(" %s %ld", tm_sim_channels[c], A->by_ch[c]);
    printf("\n  blocked contact attempts by rule:%s\n", A->total.nrules ? "" : " none");
    int order[TM_CYCLE_MAX_RULES];
    tm_cycle_rules_order(&A->total, order);
    for (int r = 0; r < A->total.nrules; r++)
        printf("    %-46s %8ld\n", A->total.by_rule[order[r]].rule, A->total.by_rule[order[r]].count);
    printf("  by journey and variant:\n    %-22s %-16s %7s %16s %14s %16s\n", "journey", "variant", "debts",
           "collected", "contact cost", "net");
    for (size_t g = 0; g < A->ngroups; g++) {
        const tm_sim_group *G = &A->groups[g];
        char c[64], k[64], n[64];
        tm_sim_format_value(S, c, sizeof c, FMT_MONEY, (double)G->collected, 0);
        tm_sim_format_value(S, k, sizeof k, FMT_MONEY, G->cost, 0);
        tm_sim_format_value(S, n, sizeof n, FMT_MONEY, (double)G->collected - G->cost, 0);
        printf("    %-22s %-16s %7ld %16s %14s %16s\n", G->journey, G->variant, G->debts, c, k, n);
    }
    print_roll(A, "");
    (void)S;
}


int tm_sim_group_add(tm_sim_arm *A, const char *journey, const char *variant, int64_t collected, double cost)
{
    size_t i = 0;
    int c = 1;
    while (i < A->ngroups) {
        tm_sim_group *g = &A->groups[i];
        c = strcmp(g->journey, journey);
        if (c == 0)
            c = strcmp(g->variant, variant);
        if (c >= 0)
            break;
        i++;
    }
    if (i == A->ngroups || c != 0) {
        if (A->ngroups == A->capgroups) {
            size_t cap = A->capgroups ? A->capgroups * 2 : 16;
            tm_sim_group *q = realloc(A->groups, cap * sizeof *q);
            if (!q)
                return TM_ENOMEM;
            A->groups = q;
            A->capgroups = cap;
        }
        memmove(&A->groups[i + 1], &A->groups[i], (A->ngroups - i) * sizeof *A->groups);
        A->ngroups++;
        memset(&A->groups[i], 0, sizeof A->groups[i]);
        snprintf(A->groups[i].journey, sizeof A->groups[i].journey, "%s", *journey ? journey : "(none)");
        snprintf(A->groups[i].variant, sizeof A->groups[i].variant, "%s", *variant ? variant : "-");
    }
    A->groups[i].debts++;
    A->groups[i].collected += collected;
    A->groups[i].cost += cost;
    return TM_OK;
}

/* The count of rule `rule` in arm A's list (0 when it blocked nothing there). */
static long rule_count(const tm_sim_arm *A, const char *rule)
{
    for (int r = 0; r < A->total.nrules; r++)
        if (strcmp(A->total.by_rule[r].rule, rule) == 0)
            return A->total.by_rule[r].count;
    return 0;
}

static const tm_sim_group *group_of(const tm_sim_arm *A, const char *journey, const char *variant)
{
    for (size_t g = 0; g < A->ngroups; g++)
        if (strcmp(A->groups[g].journey, journey) == 0 && strcmp(A->groups[g].variant, variant) == 0)
            return &A->groups[g];
    return NULL;
}

void tm_sim_print_arms(const tm_simulation *S, const tm_sim_arm *A, const tm_sim_arm *B)
{
    if (!B) {
        tm_sim_print_arm(S, A);
        return;
    }
    printf("\nA: %s (scripts %.16s)\nB: %s (scripts %.16s)\n", A->dir, A->hash, B->dir, B->hash);
    printf("  %-48s %10s %10s\n", "messages", "A", "B");
    for (int c = 0; c < TM_SIM_NCHANNELS; c++)
        if (A->by_ch[c] || B->by_ch[c])
            printf("    %-46s %10ld %10ld\n", tm_sim_channels[c], A->by_ch[c], B->by_ch[c]);
    /* every rule of either arm, the one that blocked most in either first */
    tm_cycle_stats both;
    memset(&both, 0, sizeof both);
    const tm_sim_arm *arms[2] = {A, B};
    for (int a = 0; a < 2; a++)
        for (int r = 0; r < arms[a]->total.nrules; r++) {
            const char *rule = arms[a]->total.by_rule[r].rule;
            long most = rule_count(A, rule) > rule_count(B, rule) ? rule_count(A, rule) : rule_count(B, rule);
            int k = 0;
            while (k < both.nrules && strcmp(both.by_rule[k].rule, rule) != 0)
                k++;
            if (k == both.nrules && both.nrules < TM_CYCLE_MAX_RULES) {
                snprintf(both.by_rule[k].rule, sizeof both.by_rule[k].rule, "%s", rule);
                both.by_rule[k].count = most;
                both.nrules++;
            }
        }
    printf("  %-48s %10s %10s\n", "blocked contact attempts by rule", "A", "B");
    if (both.nrules == 0)
        printf("    none\n");
    int order[TM_CYCLE_MAX_RULES];
    tm_cycle_rules_order(&both, order);
    for (int r = 0; r < both.nrules; r++) {
        const char *rule = both.by_rule[order[r]].rule;
        printf("    %-46s %10ld %10ld\n", rule, rule_count(A, rule), rule_count(B, rule));
    }
    printf("  %-48s %7s %14s %7s %14s\n", "by journey and variant", "A debts", "A net", "B debts", "B net");
    for (int a = 0; a < 2; a++)
        for (size_t g = 0; g < arms[a]->ngroups; g++) {
            const tm_sim_group *G = &arms[a]->groups[g];
            if (a == 1 && group_of(A, G->journey, G->variant))
                continue; /* listed with A's */
            const tm_sim_group *ga = group_of(A, G->journey, G->variant), *gb = group_of(B, G->journey, G->variant);
            char na[64] = "-", nb[64] = "-";
            if (ga)
                tm_sim_format_value(S, na, sizeof na, FMT_MONEY, (double)ga->collected - ga->cost, 0);
            if (gb)
                tm_sim_format_value(S, nb, sizeof nb, FMT_MONEY, (double)gb->collected - gb->cost, 0);
            printf("    %-22s %-23s %7ld %14s %7ld %14s\n", G->journey, G->variant, ga ? ga->debts : 0, na,
                   gb ? gb->debts : 0, nb);
        }
    print_roll(A, "A: ");
    print_roll(B, "B: ");
}
