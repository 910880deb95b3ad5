/*
 * app/cycle.c: the daily cycle (cycle.h): one run, its phases in order
 * (cycle_int.h names the file of each), the transactions they write in, the
 * reports they make, and the worker engines they run scripts on.
 */
#include "cycle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "calendar.h"
#include "cycle_int.h"
#include "jarchive.h"
#include "lb_gate.h"
#include "pool.h"
#include "stopat.h"

void tm__cycle_report(run *r, const char *fmt, ...)
{
    if (!r->o->report)
        return;
    char m[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    r->o->report(r->o->report_ud, m);
}

/* Keys rotated while the run works (`tallyman keys rotate`) re-encrypt
 * records under a version this run's key set lacks: the key file is read
 * again before the chunk that holds such a record is handed to the workers,
 * while none of them runs. `newest` is the highest version the chunk names. */
int tm__cycle_keys_for(run *r, int newest, struct tm_err *err)
{
    if (newest <= tm_keys_current(r->keys) || !r->o->key_path)
        return TM_OK;
    tm_keys *k = NULL;
    int rc = tm_keys_load(r->o->key_path, &k, err);
    if (rc != TM_OK)
        return rc;
    tm_keys_free(r->own_keys);
    r->own_keys = k;
    r->keys = k;
    return TM_OK;
}

void tm__cycle_progress(run *r, const char *phase, long done, long total)
{
    if (r->o->progress)
        r->o->progress(r->o->progress_ud, phase, done, total);
}

/* Transactions: batches of debts, the audit head stored before each commit. */
int tm__cycle_tx_begin(run *r, struct tm_err *err)
{
    if (r->in_tx)
        return TM_OK;
    int rc = tm_store_begin(r->s, err);
    if (rc == TM_OK) {
        r->in_tx = 1;
        r->in_batch = 0;
    }
    return rc;
}

int tm__cycle_tx_commit(run *r, struct tm_err *err)
{
    if (!r->in_tx)
        return TM_OK;
    /* The lease is renewed with the work, so a run whose lease was taken
     * over commits nothing more. */
    int rc = tm_lease_renew(r->o->lease, (int64_t)time(NULL), err);
    if (rc == TM_OK) {
        /* The batch's decisions are bound into the audit chain with it. */
        int64_t y;
        int mo, d;
        char subject[48];
        tm_calendar_civil_from_days(r->o->day, &y, &mo, &d);
        snprintf(subject, sizeof subject, "day:%04" PRId64 "-%02d-%02d", y, mo, d);
        rc = tm_gate_log_seal(r->glog, r->audit, r->day_start, "cycle", subject, err);
    }
    if (rc == TM_OK)
        rc = tm_audit_writer_flush(r->audit, err);
    if (rc == TM_OK)
        rc = tm_store_commit(r->s, err);
    if (rc != TM_OK) {
        tm_store_rollback(r->s);
        tm_audit_writer_reset(r->audit);
        tm_gate_log_reset(r->glog);
    }
    r->in_tx = 0;
    return rc;
}

/* After each debt: commit when the batch is full. */
int tm__cycle_tx_step(run *r, struct tm_err *err)
{
    if (++r->in_batch < (r->o->batch > 0 ? r->o->batch : 500))
        return TM_OK;
    int rc = tm__cycle_tx_commit(r, err);
    return rc == TM_OK ? tm__cycle_tx_begin(r, err) : rc;
}

/* Script calls that ended on a limit so far, over every sandbox of the run. */
static uint64_t limit_hits(const run *r, tm_sandbox *sb)
{
    uint64_t n = 0;
    tm_sandbox_stats ss;
    if (r->o->nengines <= 0) {
        tm_sandbox_stats_get(sb, &ss);
        return ss.limit_hits;
    }
    for (int i = 0; i < r->o->nengines; i++) {
        tm_sandbox_stats_get(r->o->engines[i].sb, &ss);
        n += ss.limit_hits;
    }
    if (sb != r->o->engines[0].sb) { /* the caller's, when not a worker's */
        tm_sandbox_stats_get(sb, &ss);
        n += ss.limit_hits;
    }
    return n;
}

/* The journeys the run stopped after a limit, into the day's figures. */
static void take_stopped(tm_cycle_stats *st, tm_jbench *b)
{
    for (int i = 0; st->nstopped < TM_CYCLE_MAX_STOPPED; i++) {
        long hits = 0, skipped = 0;
        if (tm_jbench_get(b, i, st->stopped[st->nstopped].journey, sizeof st->stopped[0].journey,
                          st->stopped[st->nstopped].what, sizeof st->stopped[0].what, &hits,
                          &skipped) != TM_OK)
            break;
        st->stopped[st->nstopped].hits = hits;
        st->stopped[st->nstopped].parked = skipped;
        st->nstopped++;
    }
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int tm_cycle_run(tm_store *s, const tm_keys *keys, tm_sandbox *sb, tm_gate *gate, tm_journeys *js,
                 tm_adapter *out, const tm_cycle_opts *opts, tm_cycle_stats *stats,
                 struct tm_err *err)
{
    memset(stats, 0, sizeof *stats);
    run r = {.s = s, .keys = keys, .sb = sb, .gate = gate, .js = js, .out = out, .o = opts, .st = stats,
             .day_start = opts->day * DAY, .day_end = (opts->day + 1) * DAY,
             .scripts = tm_gate_scripts_hash(gate) ? tm_gate_scripts_hash(gate) : ""};
    r.own = (tm_cycle_engine){.sb = sb, .gate = gate, .js = js};
    r.eng = opts->nengines > 0 ? opts->engines : &r.own;
    int rc = tm_pool_new(opts->nengines > 0 ? opts->nengines : 0, &r.pool, err);
    if (rc != TM_OK)
        return rc;
    int ncache = opts->nengines > 0 ? opts->nengines : 1;
    if (!(r.claims = calloc((size_t)ncache, sizeof *r.claims))) {
        tm_pool_free(r.pool);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    rc = tm_audit_writer_open(s, opts->audit_key, &r.audit, err);
    if (rc == TM_OK && (rc = tm_gate_log_open(s, &r.glog, err)) != TM_OK)
        tm_audit_writer_close(r.audit);
    if (rc != TM_OK) {
        free(r.claims);
        tm_pool_free(r.pool);
        return rc;
    }
    /* Journeys that hit a limit are stopped for the rest of the run, on
     * every worker: one bench for all. */
    tm_jbench *bench = tm_jbench_new();
    if (!bench) {
        tm_gate_log_close(r.glog);
        tm_audit_writer_close(r.audit);
        free(r.claims);
        tm_pool_free(r.pool);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    uint64_t hits_before = limit_hits(&r, sb);
    tm_journeys_set_bench(js, bench);
    for (int i = 0; i < opts->nengines; i++)
        tm_journeys_set_bench(opts->engines[i].js, bench);
    /* Every loaded journey's text is kept before a debt runs on it; debts on
     * an older text run it from the archive, read into memory here so the
     * workers never touch the store (lb_journey.h, "Versions"). */
    rc = tm__cycle_tx_begin(&r, err);
    if (rc == TM_OK)
        rc = tm_jarchive_keep(s, js, r.audit, r.day_start, err);
    /* ...and the whole generation, so each decision of the run can be
     * judged again by the very rules that made it (`decide --replay`). */
    tm_gen *gen = tm_sandbox_gen(sb);
    if (rc == TM_OK && gen && strcmp(tm_gen_hash(gen), r.scripts) == 0)
        rc = tm_jarchive_keep_gen(s, gen, r.audit, r.day_start, "cycle", err);
    if (rc == TM_OK)
        rc = tm__cycle_tx_commit(&r, err);
    tm_jarchive_cache *texts = NULL;
    if (rc == TM_OK)
        rc = tm_jarchive_cache_load(s, &texts, err);
    if (rc == TM_OK) {
        tm_journeys_set_archive(js, tm_jarchive_cache_lookup, texts);
        for (int i = 0; i < opts->nengines; i++)
            tm_journeys_set_archive(opts->engines[i].js, tm_jarchive_cache_lookup, texts);
    }
    /* 0. Promises past their due date and grace; 1. events that happened by
     * the end of the day and are not yet worked, in time order (each is
     * marked worked with its step). Both count as the events' time. */
    double t = mono(), t2;
    if (rc == TM_OK)
        rc = tm__cycle_promises(&r, err);
    if (rc == TM_OK)
        rc = tm__cycle_events(&r, err);
    t2 = mono(), stats->seconds[0] = t2 - t, t = t2;
    /* 2. New debts. */
    int64_t *ids = NULL;
    size_t n = 0;
    if (rc == TM_OK)
        rc = tm_store_work_unassigned(s, &ids, &n, err);
    if (rc == TM_OK)
        rc = tm__cycle_work_debts(&r, ids, n, 0, err);
    free(ids);
    ids = NULL;
    t2 = mono(), stats->seconds[1] = t2 - t, t = t2;
    /* 3. Timers due today; a timer's step may set another timer for later
     * today, so go round a few times. */
    for (int pass = 0; pass < 8 && rc == TM_OK; pass++) {
        rc = tm_store_work_timers(s, r.day_end, &ids, &n, err);
        if (rc == TM_OK && n)
            rc = tm__cycle_work_debts(&r, ids, n, 1, err);
        free(ids);
        ids = NULL;
        if (n == 0)
            break;
    }
    t2 = mono(), stats->seconds[2] = t2 - t, t = t2;
    /* 4. The gate, 5. dispatch. */
    tm_stopat("run.gate"); /* run: before the gate phase, no transaction open */
    if (rc == TM_OK)
        rc = tm__cycle_gate(&r, err);
    t2 = mono(), stats->seconds[3] = t2 - t, t = t2;
    tm_stopat("run.dispatch"); /* run: before the dispatch phase, no transaction open */
    if (rc == TM_OK)
        rc = tm__cycle_dispatch(&r, err);
    stats->seconds[4] = mono() - t;
    /* Each phase's time, kept for the service's /metrics (microseconds),
     * then the day: a store that cannot keep them fails the run as any
     * other write does. */
    static const char *const phase_marks[5] = {"phase_us.events", "phase_us.starts",
                                               "phase_us.timers", "phase_us.gate",
                                               "phase_us.dispatch"};
    for (int i = 0; i < 5 && rc == TM_OK; i++)
        rc = tm_store_cycle_set(s, phase_marks[i], (int64_t)(stats->seconds[i] * 1e6), err);
    if (rc == TM_OK)
        rc = tm_store_cycle_set(s, "last_day", opts->day, err);
    if (rc != TM_OK && r.in_tx) {
        tm_store_rollback(s);
        tm_gate_log_reset(r.glog);
        r.in_tx = 0;
    }
    tm_gate_log_close(r.glog);
    tm_audit_writer_close(r.audit);
    tm_journeys_set_archive(js, NULL, NULL);
    for (int i = 0; i < opts->nengines; i++)
        tm_journeys_set_archive(opts->engines[i].js, NULL, NULL);
    stats->limit_hits = (long)(limit_hits(&r, sb) - hits_before);
    take_stopped(stats, bench);
    tm_journeys_set_bench(js, NULL);
    for (int i = 0; i < opts->nengines; i++)
        tm_journeys_set_bench(opts->engines[i].js, NULL);
    tm_jbench_free(bench);
    tm_jarchive_cache_free(texts);
    tm_pool_free(r.pool);
    tm_keys_free(r.own_keys);
    for (int i = 0; i < ncache; i++)
        tm__cycle_claims_clear(&r.claims[i]);
    free(r.claims);
    return rc;
}

int tm_cycle_engines_load(tm_gen *gen, const tm_cycle_engine *first, int n, tm_cycle_engine **out,
                          int *nout, struct tm_err *err)
{
    *out = NULL;
    *nout = 0;
    if (n <= 0)
        return TM_OK;
    tm_cycle_engine *e = calloc((size_t)n, sizeof *e);
    if (!e)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    e[0] = *first;
    int k = 1, rc = TM_OK;
    for (; k < n && rc == TM_OK; k++) {
        struct tm_err le = {0};
        e[k].sb = tm_sandbox_new(gen, NULL, &le);
        /* Problems were reported when `first` loaded: the same scripts. */
        if (!e[k].sb || tm_lb_gate_load(e[k].sb, &e[k].gate, NULL, NULL, &le) != TM_OK ||
            tm_journeys_load(e[k].sb, &e[k].js, NULL, NULL, &le) != TM_OK)
            rc = tm_err_set(err, le.code ? le.code : TM_ENOMEM, "worker %d: %s", k + 1, le.msg);
    }
    if (rc != TM_OK) {
        tm_cycle_engines_free(e, k);
        return rc;
    }
    *out = e;
    *nout = n;
    return TM_OK;
}

void tm_cycle_engines_free(tm_cycle_engine *e, int n)
{
    for (int i = 1; e && i < n; i++) {
        tm_journeys_free(e[i].js);
        tm_gate_free(e[i].gate);
        tm_sandbox_free(e[i].sb);
    }
    free(e);
}
