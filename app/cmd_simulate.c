/*
 * app/cmd_simulate.c: `tallyman simulate`: what a strategy set would do to the portfolio.
 *
 * Each strategy set (a directory laid out like scripts/strategies/) gets its own copy of the
 * store (tm_store_snapshot: the user's store is opened read-only) with every journey reset,
 * and its own script set: the store's active set (or a working tree run as a draft) with
 * strategies/ replaced by the strategy set (tm_gen_overlay). The real daily cycle (app/cycle.h) then runs day by day, exactly as
 * `run` does, except that messages go to a callback adapter: each one is answered by the
 * consumer-response model (core/sim.h), and the answers (payments, promises, disputes,
 * opt-outs, conversations) go back in as events through tm_apply_events, the path of
 * `tallyman event`, dated when the consumer answers, so the next day's cycle works them.
 *
 * Measures are kept per debt, so that two strategies run on the same debts with the same
 * seed can be compared debt by debt (tm_sim_paired). This file is the command: its options,
 * the copies, the simulated consumers' answers and the runs; app/sim_measures.c makes and
 * prints the measures, app/sim_report.c writes the HTML report. strategies.md, "Simulation
 * and the collection measures", defines every figure printed.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "calendar.h"
#include "cli.h"
#include "cycle.h"
#include "dispatch.h"
#include "engine.h"
#include "jw.h"
#include "keys.h"
#include "portfolio.h"
#include "score.h"
#include "sim.h"
#include "sim_measures.h"
#include "sim_report.h"
#include "store.h"
#include "tz.h"
#include "validate.h"

static const char sim_help[] =
    "usage: tallyman [--db PATH] [--scripts DIR --draft] simulate --days N [--strategy A] [--vs B]\n"
    "                [--seed S] [--date D] [--report FILE.html] [--costs FILE.json]\n"
    "                [--world FILE.json] [--quiet]\n"
    "\n"
    "Runs the daily cycle for N days on a copy of the portfolio with the journeys of the\n"
    "strategy set A (a directory laid out like scripts/strategies/, laid over the store's\n"
    "active script set, or over --scripts DIR with --draft), answering every message with a simulated consumer, and prints the\n"
    "collection measures. With --vs B it runs B on another copy with the same consumers and\n"
    "prints A, B, B - A and a 95% confidence interval paired by debt; '*' marks a difference\n"
    "whose interval excludes 0.\n"
    "\n"
    "The store at --db is only read. In the copy every open debt starts afresh: journeys,\n"
    "timers, the outbox and gate decisions are cleared and events already on file count as\n"
    "worked; contacts, payments and promises stay as history.\n"
    "\n"
    "  --days N         days to simulate, 1 to 3650 (required)\n"
    "  --strategy A     the strategy set to simulate (default: the script tree's strategies/)\n"
    "  --vs B           a second strategy set to compare with A\n"
    "  --seed S         the simulated world, 0 to 2^64-1 (default 1): same seed, same answers\n"
    "  --date D         the first day, YYYY-MM-DD (default: today, UTC)\n"
    "  --report FILE    also write a self-contained HTML report\n"
    "  --costs FILE     channel costs (default: examples/sim/costs.json beside the scripts)\n"
    "  --world FILE     response-model parameters overriding the defaults (strategies.md)\n"
    "  --workers N      worker threads for the cycle, as for run (default: one per core)\n"
    "  --keep FILE      keep A's copy of the store after the run as FILE (with FILE.key):\n"
    "                   the simulated history, e.g. to check simulate fit against a known world\n"
    "  --progress-fd N  write \"ARM DAY DAYS\" to descriptor N as each day begins (the\n"
    "                   service's simulation jobs read it)\n"
    "  --quiet          print only the measures\n"
    "\n"
    "tallyman simulate fit --as-of DATE --out FILE.json fits the --world file from the\n"
    "store's history (simulate fit --help).\n";

/* The simulated consumers' side of an arm (tm_sim_arm): a message sent
 * today, an answer waiting to go in as an event, a promise that will be kept. */
typedef struct tm_sim_msg {
    size_t idx;
    int ch;
    int64_t send_at;
} msg;

typedef struct tm_sim_event {
    int64_t at;
    long seq;
    char *line;
} event;

typedef struct tm_sim_pending {
    size_t idx;
    int64_t day, amount;
} pending;

/* ---- Small helpers ---------------------------------------------------------------------- */

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_debt(const void *a, const void *b)
{
    return strcmp(((const tm_sim_debt *)a)->debt_id, ((const tm_sim_debt *)b)->debt_id);
}

static long find_debt(const tm_simulation *S, const char *debt_id)
{
    size_t lo = 0, hi = S->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(S->d[mid].debt_id, debt_id);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void progress(void *ud, const char *phase, long done, long total)
{
    tm_simulation *S = ud;
    if (!S->tty || total < 1000)
        return;
    fprintf(stderr, "\r\033[Ksimulate %s: day %lld/%d %-10s %3d%%", S->label,
            (long long)(S->day - S->day0 + 1), S->days, phase,
            (int)(done * 100 / (total ? total : 1)));
}

static void report(void *ud, const char *message)
{
    tm_simulation *S = ud;
    if (S->tty)
        fputs("\r\033[K", stderr);
    if (!S->quiet)
        fprintf(stderr, "tallyman: %s\n", message);
}

/* ---- The portfolio ---------------------------------------------------------------------- */

typedef struct load_ctx {
    tm_simulation *S;
    const tm_model *model;
    tm_features *f;
    size_t cap;
    struct tm_err err;
} load_ctx;

static double days_since(const char *date, int64_t today)
{
    int64_t d;
    if (!date[0] || tm_valid_date(date, &d, NULL) != TM_OK)
        return (double)NAN;
    return (double)(today - d);
}

/* The debt's propensity to pay with the features `tallyman score train` uses. */
double tm_sim_ptp(const tm_model *model, tm_features *f, const tm_training_row *r, int64_t day,
                  double dflt)
{
    if (model == NULL || f == NULL)
        return dflt;
    int exp = 2;
    if (tm_valid_currency(r->currency, &exp, NULL) != TM_OK)
        exp = 2;
    double scale = 1;
    for (int i = 0; i < exp; i++)
        scale *= 10;
    tm_features_clear(f);
    const struct {
        const char *name;
        double v;
    } num[] = {
        {"days_past_due", r->days_past_due < 0 ? (double)NAN : (double)r->days_past_due},
        {"balance", (double)r->placed_balance / scale},
        {"days_since_last_payment", days_since(r->last_payment_date, day)},
        {"days_since_charge_off", days_since(r->charge_off_date, day)},
        {"payments_before", (double)r->payments_before},
        {"contacts_before", (double)r->contacts_before},
        {"promises_before", (double)r->promises_before},
    };
    for (size_t i = 0; i < sizeof num / sizeof *num; i++)
        if (!isnan(num[i].v))
            tm_features_set_num(f, num[i].name, num[i].v);
    if (r->debt_type[0])
        tm_features_set_str(f, "debt_type", r->debt_type);
    if (r->state[0])
        tm_features_set_str(f, "state", r->state);
    double p = dflt;
    if (tm_model_score(model, f, &p, NULL, 0, NULL, NULL) != TM_OK)
        p = dflt;
    return p;
}

static double score_row(load_ctx *x, const tm_training_row *r)
{
    return tm_sim_ptp(x->model, x->f, r, x->S->day0, x->S->world.ptp_default);
}

static int on_debt(void *ud, const tm_training_row *r)
{
    load_ctx *x = ud;
    tm_simulation *S = x->S;
    if (S->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1024;
        tm_sim_debt *q = realloc(S->d, x->cap * sizeof *q);
        if (q == NULL)
            return tm_err_set(&x->err, TM_ENOMEM, "out of memory");
        S->d = q;
    }
    tm_sim_debt *d = &S->d[S->n];
    memset(d, 0, sizeof *d);
    if ((d->debt_id = strdup(r->debt_id)) == NULL)
        return tm_err_set(&x->err, TM_ENOMEM, "out of memory");
    d->ptp = score_row(x, r);
    d->placed = r->placed_balance;
    d->dpd = r->days_past_due;
    S->n++;
    return TM_OK;
}

/* Reads the open debts with a balance from `s` (a reset copy), scores them and sorts them by
 * debt id. Debts closed or at zero are left out: there is nothing to collect. */
static int load_portfolio(tm_simulation *S, tm_store *s, const tm_model *model,
                          struct tm_err *err)
{
    if (model == NULL)
        fprintf(stderr, "tallyman: warning: no propensity model (models/ptp.json) in the script "
                        "set: every debt scores %.2f\n",
                S->world.ptp_default);
    load_ctx x = {.S = S, .model = model, .f = tm_features_new()};
    int rc = x.f ? TM_OK : tm_err_set(err, TM_ENOMEM, "out of memory");
    if (rc == TM_OK) {
        rc = tm_store_scan_training(s, S->day0 * 86400, S->day0 * 86400, on_debt, &x, err);
        if (rc != TM_OK && x.err.msg[0])
            *err = x.err;
    }
    tm_features_free(x.f);
    size_t keep = 0;
    for (size_t i = 0; rc == TM_OK && i < S->n; i++) {
        tm_sim_debt *d = &S->d[i];
        tm_debt_rec rec;
        tm_work_debt w;
        int found = 0, wfound = 0;
        rc = tm_store_debt_find(s, d->debt_id, &rec, &found, err);
        if (rc == TM_OK && found)
            rc = tm_store_work_debt(s, rec.id, &w, &wfound, err);
        if (rc != TM_OK || !found || !wfound || rec.balance <= 0 || w.status != TM_DEBT_OPEN) {
            free(d->debt_id);
            continue;
        }
        d->start = rec.balance;
        if (!S->currency[0]) {
            snprintf(S->currency, sizeof S->currency, "%s", rec.currency);
            S->exp = 2;
            tm_valid_currency(rec.currency, &S->exp, NULL);
        }
        d->zone = NULL;
        if (!w.timezone[0] || tm_tz_get(w.timezone, &d->zone, NULL) != TM_OK) {
            const char *const *zs = tm_tz_state_zones(w.state);
            if (zs == NULL || zs[0] == NULL || tm_tz_get(zs[0], &d->zone, NULL) != TM_OK)
                d->zone = NULL;
        }
        S->d[keep++] = *d;
    }
    if (rc != TM_OK) {
        for (size_t i = 0; i < keep; i++)
            free(S->d[i].debt_id);
        keep = 0;
    }
    S->n = keep;
    if (S->n)
        qsort(S->d, S->n, sizeof *S->d, cmp_debt);
    return rc;
}

/* ---- One strategy ----------------------------------------------------------------------- */

typedef struct send_ctx {
    tm_simulation *S;
    tm_sim_arm *A;
} send_ctx;

/* The adapter's callback: remembers the message for the response model. */
static int on_send(void *ud, const tm_message *m)
{
    send_ctx *c = ud;
    long i = m->debt_id ? find_debt(c->S, m->debt_id) : -1;
    int ch = tm_sim_channel_index(m->channel);
    if (i < 0 || ch < 0)
        return TM_SEND_SENT; /* a debt outside the simulated portfolio: delivered, no answer */
    tm_sim_arm *A = c->A;
    if (A->nmsg == A->capmsg) {
        size_t cap = A->capmsg ? A->capmsg * 2 : 1024;
        msg *q = realloc(A->msgs, cap * sizeof *q);
        if (q == NULL)
            return TM_SEND_RETRY;
        A->msgs = q;
        A->capmsg = cap;
    }
    A->msgs[A->nmsg++] = (msg){(size_t)i, ch, m->send_at};
    return TM_SEND_SENT;
}

static int cmp_msg(const void *a, const void *b)
{
    const msg *x = a, *y = b;
    if (x->send_at != y->send_at)
        return x->send_at < y->send_at ? -1 : 1;
    if (x->idx != y->idx)
        return x->idx < y->idx ? -1 : 1;
    return x->ch - y->ch;
}

static int cmp_event(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Queues one event line; `fields` holds the members after "at", as names and string values
 * in turn, NULL-terminated (or is NULL). */
static int add_event(tm_simulation *S, tm_sim_arm *A, size_t idx, const char *type, int64_t at,
                     const char *const *fields)
{
    (void)S;
    if (A->nev == A->capev) {
        size_t cap = A->capev ? A->capev * 2 : 1024;
        event *q = realloc(A->evs, cap * sizeof *q);
        if (q == NULL)
            return TM_ENOMEM;
        A->evs = q;
        A->capev = cap;
    }
    char ts[40];
    tm_calendar_format_rfc3339(at, 0, ts, sizeof ts, NULL);
    char line[600], key[32];
    snprintf(key, sizeof key, "sim:%ld", A->seq);
    tm_buf b;
    tm_buf_fixed(&b, line, sizeof line);
    tm_jw w;
    tm_jw_init(&w, &b, 0);
    tm_jw_obj(&w);
    tm_jw_key(&w, "key");
    tm_jw_str(&w, key);
    tm_jw_key(&w, "type");
    tm_jw_str(&w, type);
    tm_jw_key(&w, "debt_id");
    tm_jw_str(&w, S->d[idx].debt_id);
    tm_jw_key(&w, "at");
    tm_jw_str(&w, ts);
    for (int i = 0; fields && fields[i]; i += 2) {
        tm_jw_key(&w, fields[i]);
        tm_jw_str(&w, fields[i + 1]);
    }
    tm_jw_obj_end(&w);
    if (tm_buf_failed(&b)) /* a debt id is at most a few dozen characters */
        return TM_ELIMIT_MEM;
    char *copy = strdup(line);
    if (copy == NULL)
        return TM_ENOMEM;
    A->evs[A->nev++] = (event){at, A->seq++, copy};
    return TM_OK;
}

static int add_payment(tm_simulation *S, tm_sim_arm *A, size_t i, int64_t at, int64_t amount, int day_no)
{
    if (amount > A->bal[i])
        amount = A->bal[i];
    if (amount <= 0)
        return TM_OK;
    char money[40];
    tm_jw_money_text(money, sizeof money, amount, S->exp);
    const char *const f[] = {"amount", money, NULL};
    A->bal[i] -= amount;
    if (A->bal[i] == 0 && !A->resolved[i])
        A->resolved[i] = day_no + 1;
    return add_event(S, A, i, "payment", at, f);
}

static int add_pending(tm_sim_arm *A, size_t idx, int64_t day, int64_t amount)
{
    if (A->npend == A->cappend) {
        size_t cap = A->cappend ? A->cappend * 2 : 256;
        pending *q = realloc(A->pend, cap * sizeof *q);
        if (q == NULL)
            return TM_ENOMEM;
        A->pend = q;
        A->cappend = cap;
    }
    A->pend[A->npend++] = (pending){idx, day, amount};
    return TM_OK;
}

/* Messages to debt i in the 7 days before `day` and earlier on `day`; then counts one more. */
static int pressure(tm_sim_arm *A, size_t i, int64_t day)
{
    int n = 0;
    for (int k = 0; k < 8; k++)
        if (A->recent[i][k] >= day - 7 && A->recent[i][k] <= day)
            n += A->recent_n[i][k];
    int slot = (int)(day % 8);
    if (A->recent[i][slot] != day) {
        A->recent[i][slot] = day;
        A->recent_n[i][slot] = 0;
    }
    A->recent_n[i][slot]++;
    return n;
}

/* The consumers' answers to the day's messages, promises due and self-cures, as events. */
static int respond_day(tm_simulation *S, tm_sim_arm *A, int64_t day, unsigned char *contacted)
{
    int day_no = (int)(day - S->day0);
    int64_t day_end = (day + 1) * 86400 - 1;
    int rc = TM_OK;
    qsort(A->msgs, A->nmsg, sizeof *A->msgs, cmp_msg);
    for (size_t k = 0; rc == TM_OK && k < A->nmsg; k++) {
        const msg *m = &A->msgs[k];
        size_t i = m->idx;
        const char *chn = tm_sim_channels[m->ch];
        A->contacts[i]++;
        A->by_ch[m->ch]++;
        A->cost[i] += S->costs.micro[m->ch];
        contacted[i] = 1;
        int recent = pressure(A, i, day);
        if (A->bal[i] <= 0)
            continue; /* paid already: nothing to answer */
        tm_civil lt = {0};
        int hour = (int)((m->send_at % 86400 + 86400) % 86400 / 3600);
        if (S->d[i].zone && tm_tz_to_local(S->d[i].zone, m->send_at, &lt) == TM_OK)
            hour = lt.hour;
        tm_sim_contact c = {.debt_id = S->d[i].debt_id, .channel = chn, .day = day,
                            .local_hour = hour, .ptp = S->d[i].ptp, .balance = A->bal[i],
                            .recent = recent};
        tm_sim_response r;
        tm_sim_respond(&S->world, S->seed, &c, &r);
        int64_t at = m->send_at + r.delay_s;
        if (at > day_end)
            at = day_end;
        if (at < m->send_at)
            at = m->send_at;
        /* Opt-outs and conversations are events on a channel of `tallyman event`: a recorded
         * voice message counts as a call. */
        const char *evch = m->ch == tm_sim_channel_index("voice") ? "call" : chn;
        if (r.complaint)
            A->complaints[i]++;
        if (r.optout) {
            A->optout[i]++;
            const char *const f[] = {"channel", evch, NULL};
            rc = add_event(S, A, i, "optout", at, f);
        }
        if (!r.right_party || rc != TM_OK)
            continue;
        A->rpc[i] = 1;
        if (strcmp(evch, "call") == 0) {
            /* The cycle logged the attempt; a conversation also starts the rules that count
             * from the last conversation. */
            static const char *const f[] = {"channel", "call", "outcome", "conversation", NULL};
            rc = add_event(S, A, i, "contact", at, f);
        }
        if (rc == TM_OK && r.dispute && !A->disputed[i]) {
            A->disputed[i] = 1;
            rc = add_event(S, A, i, "dispute", at, NULL);
        } else if (rc == TM_OK && r.pay > 0) {
            rc = add_payment(S, A, i, at, r.pay, day_no);
        } else if (rc == TM_OK && r.promise > 0) {
            char money[40], due[16];
            tm_date dd;
            tm_calendar_days_to_date(day + r.promise_days, &dd);
            tm_calendar_format_date(dd, due, sizeof due, NULL);
            tm_jw_money_text(money, sizeof money, r.promise, S->exp);
            const char *const f[] = {"amount", money, "due", due, NULL};
            rc = add_event(S, A, i, "promise", at, f);
            if (day + r.promise_days < S->day0 + S->days)
                A->pdue[i]++;
            if (rc == TM_OK && r.promise_kept)
                rc = add_pending(A, i, day + r.promise_days, r.promise);
        }
    }
    /* Promises kept fall due at 14:00 UTC on their day. */
    size_t keep = 0;
    for (size_t k = 0; rc == TM_OK && k < A->npend; k++) {
        pending p = A->pend[k];
        if (p.day != day) {
            A->pend[keep++] = p;
            continue;
        }
        A->pkept[p.idx]++;
        rc = add_payment(S, A, p.idx, day * 86400 + 14 * 3600, p.amount, day_no);
    }
    if (rc == TM_OK)
        A->npend = keep;
    for (size_t i = 0; rc == TM_OK && i < S->n; i++) {
        if (contacted[i] || A->bal[i] <= 0 || A->disputed[i])
            continue;
        int64_t amt = tm_sim_self_cure(&S->world, S->seed, S->d[i].debt_id, day, S->d[i].ptp,
                                       A->bal[i]);
        if (amt > 0)
            rc = add_payment(S, A, i, day * 86400 + 12 * 3600, amt, day_no);
    }
    return rc;
}

typedef struct feed_ctx {
    tm_simulation *S;
    tm_sim_arm *A;
} feed_ctx;

static void feed_reject(void *ud, const char *message)
{
    feed_ctx *f = ud;
    if (f->A->rejected++ < 5)
        fprintf(stderr, "%stallyman: simulated event refused: %s\n", f->S->tty ? "\r\033[K" : "",
                message);
}

/* Applies the queued events in time order through the path of `tallyman event`. */
static int feed(tm_simulation *S, tm_sim_arm *A, tm_store *s, const tm_keys *keys, int64_t day, struct tm_err *err)
{
    if (A->nev == 0)
        return TM_OK;
    qsort(A->evs, A->nev, sizeof *A->evs, cmp_event);
    /* Only what happened by the end of the day goes in: an answer dated
     * after midnight waits for its day, so each debt's events reach the
     * store in time order (the store refuses one older than the last). */
    size_t due = 0;
    while (due < A->nev && A->evs[due].at < (day + 1) * 86400)
        due++;
    size_t later = A->nev - due;
    A->nev = due;
    size_t total = 0;
    for (size_t k = 0; k < A->nev; k++)
        total += strlen(A->evs[k].line) + 1;
    char *text = malloc(total + 1);
    int rc = TM_OK;
    if (text == NULL)
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    size_t off = 0;
    for (size_t k = 0; k < A->nev; k++) {
        if (text) {
            size_t l = strlen(A->evs[k].line);
            memcpy(text + off, A->evs[k].line, l);
            off += l;
            text[off++] = '\n';
        }
        free(A->evs[k].line);
    }
    memmove(A->evs, A->evs + due, later * sizeof *A->evs);
    A->nev = later;
    if (rc != TM_OK)
        return rc;
    if (off == 0) {
        free(text);
        return TM_OK;
    }
    FILE *in = fmemopen(text, off, "rb");
    if (in == NULL) {
        free(text);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    feed_ctx fc = {S, A};
    tm_import_opts o = {.name = "simulation", .actor = "simulate", .now = (day + 1) * 86400 - 1,
                        .reject = feed_reject, .ud = &fc};
    tm_event_stats es;
    rc = tm_apply_events(s, keys, in, &o, &es, err);
    fclose(in);
    free(text);
    return rc;
}

static int arm_alloc(tm_sim_arm *A, size_t n, int days)
{
    size_t m = n ? n : 1;
    A->bal = calloc(m, sizeof *A->bal);
    A->collected = calloc(m, sizeof *A->collected);
    A->cost = calloc(m, sizeof *A->cost);
    A->contacts = calloc(m, sizeof *A->contacts);
    A->complaints = calloc(m, sizeof *A->complaints);
    A->pdue = calloc(m, sizeof *A->pdue);
    A->pkept = calloc(m, sizeof *A->pkept);
    A->resolved = calloc(m, sizeof *A->resolved);
    A->rpc = calloc(m, 1);
    A->optout = calloc(m, 1);
    A->disputed = calloc(m, 1);
    A->recent = calloc(m, sizeof *A->recent);
    A->recent_n = calloc(m, sizeof *A->recent_n);
    A->curve = calloc((size_t)days, sizeof *A->curve);
    return A->bal && A->collected && A->cost && A->contacts && A->complaints && A->pdue &&
                   A->pkept && A->resolved && A->rpc && A->optout && A->disputed && A->recent &&
                   A->recent_n && A->curve
               ? TM_OK
               : TM_ENOMEM;
}

static void arm_free(tm_sim_arm *A)
{
    free(A->bal);
    free(A->collected);
    free(A->cost);
    free(A->contacts);
    free(A->complaints);
    free(A->pdue);
    free(A->pkept);
    free(A->resolved);
    free(A->rpc);
    free(A->optout);
    free(A->disputed);
    free(A->recent);
    free(A->recent_n);
    free(A->curve);
    free(A->groups);
    free(A->msgs);
    for (size_t k = 0; k < A->nev; k++)
        free(A->evs[k].line);
    free(A->evs);
    free(A->pend);
}

/* Runs one strategy on its own copy of the store. The copy is made and, for the first arm,
 * the portfolio read from it (`load` set). Returns an exit code. */
static int run_arm(tm_simulation *S, tm_sim_arm *A, tm_cli *cli, const tm_keys *keys, int load,
                   tm_gen *base)
{
    struct tm_err e = {0};
    tm_store *s = NULL;
    tm_engine *eng = NULL;
    tm_gen *set = NULL;
    tm_adapter *out = NULL;
    unsigned char *contacted = NULL;
    int code = TM_EXIT_FAIL;
    S->label = A->label;
    if (tm_store_snapshot(cli->db, A->db, &e) != TM_OK || tm_store_open(A->db, &s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    /* The copy holds what the store holds, check values included: the key
     * file is checked against it (and written with: only the copy), the
     * store itself being never written. */
    if (load && tm_cli_check_keys(cli, s, keys, TM_CLI_KEYS_WRITE) != TM_EXIT_OK)
        goto done;
    if (tm_store_reset_journeys(s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    if (load) {
        /* Answers dated before a debt's last event are refused by the store,
         * so a start earlier than the store's history is said once, here. */
        int64_t last = 0;
        if (tm_store_last_event_at(s, &last, &e) == TM_OK && last >= S->day0 * 86400) {
            char ls[40], ds[16];
            tm_calendar_format_rfc3339(last, 0, ls, sizeof ls, NULL);
            tm_date dd;
            tm_calendar_days_to_date(S->day0, &dd);
            tm_calendar_format_date(dd, ds, sizeof ds, NULL);
            fprintf(stderr,
                    "tallyman: the store has events up to %s, after the simulation's start (%s): "
                    "simulated answers older than a debt's last event will be refused; --date "
                    "after it avoids that\n",
                    ls, ds);
        }
        if (load_portfolio(S, s, tm_gen_model(base, "ptp"), &e) != TM_OK) {
            fprintf(stderr, "tallyman: reading the portfolio: %s\n", e.msg);
            goto done;
        }
        if (S->n == 0) {
            fprintf(stderr, "tallyman: %s: no open debt with a balance to simulate\n", cli->db);
            goto done;
        }
    }
    if (arm_alloc(A, S->n, S->days) != TM_OK || !(contacted = calloc(S->n, 1))) {
        fprintf(stderr, "tallyman: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < S->n; i++)
        A->bal[i] = S->d[i].start;
    /* The strategy set laid over the script set (the store's active one, or
     * a draft): a file of it that does not load refuses the set. */
    if (A->own) {
        tm_gen_retain(base);
        set = base;
    } else if (tm_gen_overlay(base, A->dir, "strategies", NULL, NULL, &set, &e) != TM_OK) {
        fprintf(stderr, "tallyman: strategy %s: the script set does not load: %s\n", A->dir,
                e.msg);
        goto done;
    }
    /* The cycle's workers, one sandbox each from the same generation (the
     * answers do not depend on how many: messages are sorted before the
     * simulated consumers see them). */
    tm_engine_opts eo = {.gen = set, .workers = S->workers,
                         .gate_problem = tm_cli_warn_gate_problem,
                         .journey_problem = tm_cli_warn_journey_problem};
    int failed_at = 0;
    if (tm_engine_open(&eo, TM_ENGINE_GATE | TM_ENGINE_JOURNEYS | TM_ENGINE_WHOLE, &eng, &failed_at,
                       &e) != TM_OK) {
        if (failed_at == TM_ENGINE_AT_WORKERS)
            fprintf(stderr, "tallyman: %s\n", e.msg);
        else
            fprintf(stderr, "tallyman: strategy %s: %s%s\n", A->dir,
                    failed_at == TM_ENGINE_AT_SCRIPTS ? "the script set does not load: " : "", e.msg);
        goto done;
    }
    if (tm_journeys_count(eng->js) == 0) {
        fprintf(stderr, "tallyman: strategy %s: no journeys in it: nothing would be worked\n",
                A->dir);
        goto done;
    }
    const char *hash = tm_gate_scripts_hash(eng->gate);
    snprintf(A->hash, sizeof A->hash, "%s", hash ? hash : "");
    send_ctx sc = {S, A};
    if (tm_callback_open(on_send, &sc, &out, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    tm_cycle_opts opts = {.audit_key = akey, .report = report, .report_ud = S,
                          .progress = progress, .progress_ud = S, .engines = eng->workers,
                          .nengines = eng->nworkers};
    code = TM_EXIT_OK;
    int64_t collected = 0;
    for (int k = 0; k < S->days; k++) {
        S->day = opts.day = S->day0 + k;
        if (S->tty)
            fprintf(stderr, "\r\033[Ksimulate %s: day %d/%d", A->label, k + 1, S->days);
        if (S->progress_fd >= 0)
            dprintf(S->progress_fd, "%s %d %d\n", A->label, k + 1, S->days);
        A->nmsg = 0;
        memset(contacted, 0, S->n);
        tm_cycle_stats st;
        if (tm_cycle_run(s, keys, eng->sb, eng->gate, eng->js, out, &opts, &st, &e) != TM_OK ||
            respond_day(S, A, opts.day, contacted) != TM_OK ||
            feed(S, A, s, keys, opts.day, &e) != TM_OK) {
            fprintf(stderr, "%stallyman: strategy %s, day %d: %s\n", S->tty ? "\r\033[K" : "",
                    A->dir, k + 1, e.msg[0] ? e.msg : "out of memory");
            code = TM_EXIT_FAIL;
            break;
        }
        tm_cycle_stats_add(&A->total, &st);
        collected = 0;
        for (size_t i = 0; i < S->n; i++)
            collected += S->d[i].start - A->bal[i];
        A->curve[k] = collected;
    }
    if (S->tty)
        fputs("\r\033[K", stderr);
    /* The measures come from the store, which the events went through; the running balances
     * above only drew the curve. */
    for (size_t i = 0; code == TM_EXIT_OK && i < S->n; i++) {
        tm_debt_rec rec;
        int found = 0;
        if (tm_store_debt_find(s, S->d[i].debt_id, &rec, &found, &e) != TM_OK || !found) {
            fprintf(stderr, "tallyman: %s\n", found ? e.msg : "a debt vanished from the copy");
            code = TM_EXIT_FAIL;
            break;
        }
        A->collected[i] = S->d[i].start - rec.balance;
        char jn[64], vn[64];
        int jfound = 0;
        if (tm_store_debt_journey(s, S->d[i].debt_id, jn, sizeof jn, vn, sizeof vn, &jfound, &e) != TM_OK ||
            tm_sim_group_add(A, jn, vn, A->collected[i], tm_sim_cost_minor(S, A->cost[i])) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg[0] ? e.msg : "out of memory");
            code = TM_EXIT_FAIL;
            break;
        }
        if (S->d[i].dpd < 0) {
            A->roll_unknown++;
            continue;
        }
        int from = tm_sim_bucket(S->d[i].dpd);
        int to = rec.balance == 0 ? 0 : tm_sim_bucket(S->d[i].dpd + S->days);
        A->roll[from][to]++;
    }
    if (A->rejected)
        fprintf(stderr, "tallyman: strategy %s: %ld simulated events refused\n", A->dir,
                A->rejected);
done:
    free(contacted);
    tm_adapter_free(out);
    tm_engine_close(eng);
    tm_gen_release(set);
    tm_store_close(s);
    return code;
}

/* ---- The command ------------------------------------------------------------------------ */

/* Removes the temporary directory: the copies (with their -wal/-shm) and the trees of
 * symbolic links (unlink removes a link, never its target). */
static void remove_tmp(const char *dir)
{
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[PATH_MAX + 256];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tmp(p);
        else
            unlink(p);
    }
    closedir(dp);
    rmdir(dir);
}

/* Keeps arm A's store as `path`, with a copy of the key file it was written with beside it
 * (path.key, mode 0600). */
static int keep_copy(const tm_sim_arm *A, const char *key_path, const char *path,
                     struct tm_err *err)
{
    int rc = tm_store_snapshot(A->db, path, err);
    if (rc != TM_OK)
        return rc;
    char kp[PATH_MAX + 8];
    snprintf(kp, sizeof kp, "%s.key", path);
    FILE *in = fopen(key_path, "rb");
    int fd = open(kp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (out == NULL && fd >= 0)
        close(fd);
    int ok = in && out;
    char buf[4096];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in);
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    if (!ok)
        return tm_err_set(err, TM_EIO, "%s: cannot copy the key file: %s", kp, strerror(errno));
    return TM_OK;
}

int tm_cmd_simulate(tm_cli *cli)
{
    if (cli->argc >= 2 && strcmp(cli->argv[1], "fit") == 0)
        return tm_sim_fit_command(cli);
    tm_simulation S;
    memset(&S, 0, sizeof S);
    S.progress_fd = -1;
    S.day0 = (int64_t)time(NULL) / 86400;
    S.seed = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    S.workers = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu;
    tm_sim_world_defaults(&S.world);
    const char *strat_a = NULL, *strat_b = NULL, *report_path = NULL, *costs = NULL, *keep = NULL;
    uint64_t days = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(sim_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--quiet") == 0) {
            S.quiet = 1;
            continue;
        }
        if (v == NULL)
            return tm_cli_usage_error("simulate", "unknown option or missing value '%s'", a);
        i++;
        if (strcmp(a, "--days") == 0) {
            if (tm_cli_parse_u64(v, 3650, &days) != 0 || days == 0)
                return tm_cli_usage_error("simulate", "--days: '%s' is not a number from 1 to 3650", v);
        } else if (strcmp(a, "--workers") == 0) {
            uint64_t w;
            if (tm_cli_parse_u64(v, 64, &w) != 0)
                return tm_cli_usage_error("simulate", "--workers: '%s' is not a number from 0 to 64", v);
            S.workers = (int)w;
        } else if (strcmp(a, "--seed") == 0) {
            if (tm_cli_parse_u64(v, UINT64_MAX, &S.seed) != 0)
                return tm_cli_usage_error("simulate",
                                          "--seed: '%s' is not a whole number from 0 to 2^64-1", v);
        } else if (strcmp(a, "--date") == 0) {
            struct tm_err e = {0};
            if (tm_valid_date(v, &S.day0, &e) != TM_OK)
                return tm_cli_usage_error("simulate", "--date: %s", e.msg);
        } else if (strcmp(a, "--strategy") == 0) {
            strat_a = v;
        } else if (strcmp(a, "--vs") == 0) {
            strat_b = v;
        } else if (strcmp(a, "--report") == 0) {
            report_path = v;
        } else if (strcmp(a, "--costs") == 0) {
            costs = v;
        } else if (strcmp(a, "--world") == 0) {
            S.world_file = v;
        } else if (strcmp(a, "--keep") == 0) {
            keep = v;
            if (access(keep, F_OK) == 0)
                return tm_cli_usage_error("simulate", "--keep %s: already exists", keep);
        } else if (strcmp(a, "--progress-fd") == 0) {
            uint64_t fd;
            if (tm_cli_parse_u64(v, 1024, &fd) != 0 || fd < 3)
                return tm_cli_usage_error("simulate", "--progress-fd: '%s' is not an open descriptor (3 to 1024)", v);
            S.progress_fd = (int)fd;
        } else {
            return tm_cli_usage_error("simulate", "unknown option '%s'", a);
        }
    }
    if (days == 0)
        return tm_cli_usage_error("simulate", "--days is required (1 to 3650)");
    /* Without --strategy, A is the strategies that run: the store's active
     * set's own (or the draft tree's), nothing laid over them. */
    int own_a = strat_a == NULL;
    if (own_a)
        strat_a = cli->draft ? "the draft's strategies/" : "the active set's strategies/";
    else if (!is_dir(strat_a))
        return tm_cli_usage_error("simulate", "--strategy %s: no such directory", strat_a);
    if (strat_b && !is_dir(strat_b))
        return tm_cli_usage_error("simulate", "--vs %s: no such directory", strat_b);
    S.days = (int)days;
    S.tty = isatty(2);
    struct tm_err e = {0};
    if (S.world_file && tm_sim_world_load(S.world_file, &S.world, &e) != TM_OK)
        return tm_cli_usage_error("simulate", "--world %s: %s", S.world_file, e.msg);
    char costs_default[PATH_MAX + 64];
    if (costs == NULL) {
        snprintf(costs_default, sizeof costs_default, "%s/../examples/sim/costs.json", cli->scripts);
        if (access(costs_default, R_OK) == 0)
            costs = costs_default;
    }
    if (costs && tm_sim_costs_load(costs, &S.costs, &e) != TM_OK)
        return tm_cli_usage_error("simulate", "--costs %s: %s", costs, e.msg);
    S.costs_file = costs;
    struct stat sst;
    if (!tm_store_is_url(cli->db) && (stat(cli->db, &sst) != 0 || !S_ISREG(sst.st_mode))) {
        fprintf(stderr, "tallyman: %s: no such store\n", cli->db);
        return TM_EXIT_FAIL;
    }
    char kpath[PATH_MAX];
    tm_cli_key_path(cli, kpath, sizeof kpath);
    if (access(kpath, R_OK) != 0) {
        /* tm_keys_load would create a key file beside the user's store. */
        fprintf(stderr, "tallyman: %s: no key file for the store\n", kpath);
        return TM_EXIT_FAIL;
    }
    tm_keys *keys = NULL;
    if (tm_keys_load(kpath, &keys, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    char tmp[] = "/tmp/tallyman-sim.XXXXXX";
    const char *tdir = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/tallyman-sim.XXXXXX", tdir && *tdir ? tdir : "/tmp");
    char *work = mkdtemp(tmpl);
    if (work == NULL)
        work = mkdtemp(tmp);
    if (work == NULL) {
        fprintf(stderr, "tallyman: cannot make a temporary directory: %s\n", strerror(errno));
        tm_keys_free(keys);
        return TM_EXIT_FAIL;
    }
    tm_sim_arm A, B;
    memset(&A, 0, sizeof A);
    memset(&B, 0, sizeof B);
    A.label = "A";
    A.dir = strat_a;
    A.own = own_a;
    B.label = "B";
    B.dir = strat_b;
    snprintf(A.db, sizeof A.db, "%s/a.db", work);
    snprintf(A.tree, sizeof A.tree, "%s/tree-a", work);
    snprintf(B.db, sizeof B.db, "%s/b.db", work);
    snprintf(B.tree, sizeof B.tree, "%s/tree-b", work);
    /* What the strategies are laid over: the store's active script set, or
     * a working tree as a draft. */
    tm_gen *base = NULL;
    int draft = 0;
    int code = tm_engine_script_set(cli, 1, &base, &draft);
    if (code == TM_EXIT_OK)
        code = run_arm(&S, &A, cli, keys, 1, base);
    if (code == TM_EXIT_OK && strat_b)
        code = run_arm(&S, &B, cli, keys, 0, base);
    tm_sim_kpi kp[TM_SIM_NKPI + 1];
    if (code == TM_EXIT_OK && tm_sim_measure(&S, &A, strat_b ? &B : NULL, kp) != TM_OK) {
        fprintf(stderr, "tallyman: out of memory\n");
        code = TM_EXIT_FAIL;
    }
    if (code == TM_EXIT_OK) {
        char day0[16];
        tm_date dd;
        tm_calendar_days_to_date(S.day0, &dd);
        tm_calendar_format_date(dd, day0, sizeof day0, NULL);
        printf("simulation: %zu debts, %d days from %s, seed %llu\n", S.n, S.days, day0,
               (unsigned long long)S.seed);
        if (S.world.fitted)
            printf("world: fitted from the store's history (%ld outcomes of %ld contacts, up to "
                   "%s): %s\n",
                   S.world.fitted_outcomes, S.world.fitted_contacts, S.world.fitted_as_of,
                   S.world_file);
        else if (S.world_file)
            printf("world: assumed: the built-in values as changed by %s (not fitted)\n",
                   S.world_file);
        else
            printf("world: assumed: the built-in values (not fitted; see simulate fit)\n");
        if (draft)
            printf("DRAFT: over script set %s from the working tree %s (not the store's active "
                   "set)\n",
                   tm_gen_hash(base), cli->scripts);
        else
            printf("script set %s (active), strategies laid over it:\n", tm_gen_hash(base));
        printf("A: %s\n", A.dir);
        if (strat_b)
            printf("B: %s\n", B.dir);
        printf("\n");
        tm_sim_print_measures(&S, &A, strat_b ? &B : NULL, kp);
        if (!S.quiet) {
            tm_sim_print_arms(&S, &A, strat_b ? &B : NULL);
        }
        tm_sim_arm *arms[2] = {&A, &B};
        if (report_path && tm_sim_report_write(report_path, &S, arms, strat_b ? 2 : 1, kp, cli->db,
                                               cli->scripts, &e) != TM_OK) {
            fprintf(stderr, "tallyman: --report %s: %s\n", report_path, e.msg);
            code = TM_EXIT_FAIL;
        }
        if (A.total.step_errors || B.total.step_errors)
            code = TM_EXIT_FAIL; /* as `run`: a journey failed on some debt (reported above) */
    }
    if (code == TM_EXIT_OK && keep && keep_copy(&A, kpath, keep, &e) != TM_OK) {
        fprintf(stderr, "tallyman: --keep %s: %s\n", keep, e.msg);
        code = TM_EXIT_FAIL;
    }
    arm_free(&A);
    arm_free(&B);
    for (size_t i = 0; i < S.n; i++)
        free(S.d[i].debt_id);
    free(S.d);
    remove_tmp(work);
    tm_gen_release(base);
    tm_keys_free(keys);
    return code;
}

