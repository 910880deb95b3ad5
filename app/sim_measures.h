/*
 * app/sim_measures.h: what `tallyman simulate` (app/cmd_simulate.c) records
 * of each strategy's run, debt by debt, and the collection measures made
 * from it: recovery, liquidation and cure rates, promises kept, right-party
 * contacts, opt-outs, complaints, costs, days to resolution, each for A and
 * for B, with B - A and its 95% interval paired by debt (tm_sim_paired), and
 * the roll rates between days-past-due buckets. strategies.md, "Simulation
 * and the collection measures", defines every figure. The HTML report
 * (app/sim_report.h) draws the same figures.
 */
#ifndef TM_SIM_MEASURES_H
#define TM_SIM_MEASURES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "cycle.h"
#include "sim.h"
#include "tz.h"

/* Days-past-due buckets of the roll rates: "current", "1-30", ..., "180+". */
#define TM_SIM_NBUCKETS 7
extern const char *const tm_sim_bucket_names[TM_SIM_NBUCKETS];

/* The bucket of `dpd` days past due (0 for current). */
int tm_sim_bucket(int64_t dpd);

/* One debt of the simulated portfolio, the same for every strategy. */
typedef struct tm_sim_debt {
    char *debt_id;
    double ptp;
    int64_t placed, start;   /* minor units */
    int64_t dpd;             /* -1 unknown */
    const tm_zone *zone;     /* NULL: UTC */
} tm_sim_debt;

/* One strategy's run ("arm"): per-debt records and the totals. */
/* What the debts of one journey and variant came to in an arm. */
typedef struct tm_sim_group {
    char journey[64], variant[64];
    long debts;
    int64_t collected; /* minor units */
    double cost;       /* minor units */
} tm_sim_group;

typedef struct tm_sim_arm {
    const char *label, *dir;
    int own;           /* dir names the script set's own strategies: nothing laid over it */
    char tree[PATH_MAX], db[PATH_MAX], hash[65];
    int64_t *bal, *collected, *cost;
    int *contacts, *complaints, *pdue, *pkept, *resolved; /* resolved: day number + 1, or 0 */
    unsigned char *rpc, *optout, *disputed;
    int64_t (*recent)[8]; /* per debt: the day of each of the last 8 days' slots ... */
    int (*recent_n)[8];   /* ... and the messages that day */
    int64_t *curve;       /* collected by the end of each day */
    long by_ch[TM_SIM_NCHANNELS], rejected;
    long roll[TM_SIM_NBUCKETS][TM_SIM_NBUCKETS], roll_unknown;
    tm_cycle_stats total;
    struct tm_sim_group *groups; /* by journey and variant, sorted (tm_sim_group_add) */
    size_t ngroups, capgroups;
    /* The simulated consumers' side while the run goes (cmd_simulate.c):
     * the day's messages, the answers waiting to be fed in as events, the
     * promises that will be kept. */
    struct tm_sim_msg *msgs;
    size_t nmsg, capmsg;
    struct tm_sim_event *evs;
    size_t nev, capev;
    long seq;
    struct tm_sim_pending *pend;
    size_t npend, cappend;
} tm_sim_arm;

/* The simulation: the portfolio and the world its consumers answer from. */
typedef struct tm_simulation {
    tm_sim_debt *d;     /* sorted by debt id */
    size_t n;
    int exp;            /* the currency's minor-unit exponent */
    char currency[4];
    int64_t day0;
    int days;
    uint64_t seed;
    tm_sim_world world;
    tm_sim_costs costs;
    const char *world_file, *costs_file;
    int tty, quiet;
    const char *label;  /* the arm in progress, for the progress line */
    int64_t day;
    int workers;        /* worker threads for the cycle (run --workers) */
    int progress_fd;    /* --progress-fd: a line "ARM DAY DAYS" per day begun; -1: none */
} tm_simulation;

/* One measure: its name, how it is printed (tm_sim_format_value), A's and
 * B's values, B - A and its interval. */
typedef struct tm_sim_kpi {
    const char *name;
    int fmt;
    tm_sim_diff d;
    int paired; /* 0: only a (and b) are meaningful */
} tm_sim_kpi;

/* The measures: kp[0 .. TM_SIM_NKPI - 1] paired by debt, then the median
 * days to resolution (not paired). */
#define TM_SIM_NKPI 14
/* The measure a verdict is given on: net collected after contact cost. */
#define TM_SIM_KPI_NET 13

/* Fills kp[TM_SIM_NKPI + 1] for A alone (B NULL: b is a) or B against A.
 * TM_OK, or TM_ENOMEM with kp untouched. */
int tm_sim_measure(const tm_simulation *S, const tm_sim_arm *A, const tm_sim_arm *B,
                   tm_sim_kpi *kp);

/* A debt's propensity to pay for the simulated consumer: `model` (the script
 * set's models/ptp.json; NULL gives `dflt`) scored on the features of
 * `tallyman score train` of row `r` as of `day` (days since 1970), with the
 * feature map `f` (cleared first). `dflt` when the model cannot score it. */
struct tm_model;
struct tm_features;
double tm_sim_ptp(const struct tm_model *model, struct tm_features *f,
                  const tm_training_row *r, int64_t day, double dflt);

/* `tallyman simulate fit` (app/sim_fit.c): an exit code. */
struct tm_cli;
int tm_sim_fit_command(struct tm_cli *cli);

/* minor units -> "1234.56" (the currency's exponent `exp`). */
void tm_sim_format_money(char *buf, size_t cap, int64_t minor, int exp);
/* A cost kept in millionths of the major unit, in minor units. */
double tm_sim_cost_minor(const tm_simulation *S, int64_t micro);

/* Adds a debt's collected amount and cost (minor units) to its journey
 * and variant's group in A (kept sorted by journey, then variant).
 * TM_OK or TM_ENOMEM. */
int tm_sim_group_add(tm_sim_arm *A, const char *journey, const char *variant, int64_t collected,
                     double cost);

/* The one-line verdict on the measures (two: B against A, else A alone),
 * on net collected after contact cost and its interval, into buf. */
void tm_sim_verdict(const tm_simulation *S, const tm_sim_kpi *kp, int two, char *buf, size_t cap);

/* "1234567.89" -> "1,234,567.89" for people (a sign and what follows the
 * whole units are kept). */
void tm_sim_group_thousands(const char *plain, char *buf, size_t cap);

/* The money format of tm_sim_format_value (the measures' own fmt otherwise). */
#define TM_SIM_FMT_MONEY 2

/* A measure's value as printed (a percentage, an amount of money, a count
 * or a number), "+" before a positive one when `sign`; "n/a" for NaN. */
void tm_sim_format_value(const tm_simulation *S, char *buf, size_t cap, int fmt, double v,
                         int sign);

/* The table of measures on stdout: A's column, or A, B, B - A and the
 * interval ('*' when it excludes 0). */
void tm_sim_print_measures(const tm_simulation *S, const tm_sim_arm *A, const tm_sim_arm *B,
                           const tm_sim_kpi *kp);

/* One arm's detail on stdout: messages by channel, blocked attempts by rule,
 * the roll-rate matrix. */
void tm_sim_print_arm(const tm_simulation *S, const tm_sim_arm *A);
/* With B: A and B side by side (messages by channel, blocked attempts by
 * rule, net by journey and variant), then each arm's roll rates; without,
 * tm_sim_print_arm. */
void tm_sim_print_arms(const tm_simulation *S, const tm_sim_arm *A, const tm_sim_arm *B);

#endif
