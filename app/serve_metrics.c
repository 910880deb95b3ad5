/*
 * app/serve_metrics.c: what GET /metrics shows, in the Prometheus text
 * exposition format: requests by route and status, a latency histogram per
 * route, decisions (allowed, blocked, by blocking rule), rules whose check
 * failed and sandbox limits hit, reloads, and the generation being served
 * as a label of an info metric. Each worker counts in its own shard; the
 * text adds the shards up when it is asked for.
 */
#include "serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tm_serve_route_names[TM_ROUTE__COUNT] = {
    "/healthz", "/readyz", "/metrics", "/v1/decide", "/v1/events", "/v1/accounts",
    "/v1/debts/{id}", "/v1/login", "/v1/logout", "/v1/scripts", "/v1/scripts/{gen}", "/v1/scripts/{gen}/diff",
    "/v1/scripts/{gen}/approve", "/v1/scripts/{gen}/activate", "/v1/scripts/rollback",
    "/v1/payments", "/v1/debts/{id}/story", "/v1/debts/{id}/explain",
    "/v1/audit", "/v1/audit/verify", "/v1/queues/{name}", "/v1/queues/{name}/claim",
    "/v1/queues/{name}/items/{id}/close", "/v1/simulations", "/v1/simulations/{id}",
    "/v1/simulations/{id}/report", "other",
};

/* The status codes counted one by one; anything else is counted as 0 ("other"). */
static const int statuses[TM_SERVE_NSTATUS] = {0,   200, 201, 207, 400, 401, 403, 404, 405,
                                               409, 413, 415, 422, 429, 431, 500, 503, 504};

/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t bounds_us[TM_SERVE_NBUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000,
};

struct rule_count {
    char *qid;
    uint64_t n;
};

void tm_serve_shard_init(tm_serve_shard *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->rules_lock, NULL);
}

void tm_serve_shard_free(tm_serve_shard *m)
{
    for (int i = 0; i < m->nrules; i++)
        free(m->rules[i].qid);
    free(m->rules);
    m->rules = NULL;
    m->nrules = m->caprules = 0;
    pthread_mutex_destroy(&m->rules_lock);
}

void tm_serve_count_request(tm_serve_shard *m, enum tm_serve_route r, int status, uint64_t us)
{
    int si = 0;
    for (int i = 1; i < TM_SERVE_NSTATUS; i++)
        if (statuses[i] == status)
            si = i;
    atomic_fetch_add_explicit(&m->requests[r][si], 1, memory_order_relaxed);
    int b = 0;
    while (b < TM_SERVE_NBUCKETS && us > bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_us_sum[r], us, memory_order_relaxed);
}

static void count_rule(tm_serve_shard *m, const char *qid, uint64_t n)
{
    for (int i = 0; i < m->nrules; i++)
        if (strcmp(m->rules[i].qid, qid) == 0) {
            m->rules[i].n += n;
            return;
        }
    if (m->nrules == m->caprules) {
        int cap = m->caprules ? m->caprules * 2 : 32;
        struct rule_count *q = realloc(m->rules, (size_t)cap * sizeof *q);
        if (!q)
            return;
        m->rules = q;
        m->caprules = cap;
    }
    char *copy = strdup(qid);
    if (!copy)
        return;
    m->rules[m->nrules++] = (struct rule_count){copy, n};
}

void tm_serve_count_decision(tm_serve_shard *m, const tm_decision *d)
{
    atomic_fetch_add_explicit(d->allow ? &m->decisions_allowed : &m->decisions_blocked, 1,
                              memory_order_relaxed);
    if (d->nblocked == 0)
        return;
    pthread_mutex_lock(&m->rules_lock);
    for (int i = 0; i < d->nblocked; i++) {
        count_rule(m, d->blocked[i].rule->qid, 1);
        if (d->blocked[i].failed) {
            atomic_fetch_add_explicit(&m->rule_failures, 1, memory_order_relaxed);
            if (strstr(d->blocked[i].reason, "limit exceeded"))
                atomic_fetch_add_explicit(&m->limit_trips, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&m->rules_lock);
}

typedef struct text {
    char *s;
    size_t n, cap;
    int failed;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        size_t cap = (t->cap + (size_t)k) * 2;
        char *q = realloc(t->s, cap);
        if (!q) {
            t->failed = 1;
            return;
        }
        t->s = q;
        t->cap = cap;
    }
}

static uint64_t ld(_Atomic uint64_t *a) { return atomic_load_explicit(a, memory_order_relaxed); }
static int64_t ld64(_Atomic int64_t *a) { return atomic_load_explicit(a, memory_order_relaxed); }

/* A rule id as a label value: quotes, backslashes and newlines escaped. */
static void put_label(text *t, const char *v)
{
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            put(t, "\\%c", *v);
        else if (*v == '\n')
            put(t, "\\n");
        else
            put(t, "%c", *v);
    }
}

char *tm_serve_metrics_text(tm_serve *sv)
{
    text t = {.cap = 16384};
    t.s = malloc(t.cap);
    if (!t.s)
        return NULL;
    t.s[0] = '\0';
    int nw = sv->nworkers;
    put(&t, "# HELP tallyman_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE tallyman_http_requests_total counter\n");
    for (int r = 0; r < TM_ROUTE__COUNT; r++)
        for (int s = 0; s < TM_SERVE_NSTATUS; s++) {
            uint64_t n = 0;
            for (int w = 0; w < nw; w++)
                n += ld(&sv->workers[w].metrics.requests[r][s]);
            if (n == 0)
                continue;
            if (statuses[s])
                put(&t, "tallyman_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                    tm_serve_route_names[r], statuses[s], (unsigned long long)n);
            else
                put(&t, "tallyman_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                    tm_serve_route_names[r], (unsigned long long)n);
        }
    put(&t, "# HELP tallyman_http_request_duration_seconds Time from a request read to its reply "
            "queued, by route.\n"
            "# TYPE tallyman_http_request_duration_seconds histogram\n");
    for (int r = 0; r < TM_ROUTE__COUNT; r++) {
        uint64_t cum = 0, sum = 0;
        uint64_t b[TM_SERVE_NBUCKETS + 1] = {0};
        for (int w = 0; w < nw; w++) {
            for (int i = 0; i <= TM_SERVE_NBUCKETS; i++)
                b[i] += ld(&sv->workers[w].metrics.latency[r][i]);
            sum += ld(&sv->workers[w].metrics.latency_us_sum[r]);
        }
        uint64_t total = 0;
        for (int i = 0; i <= TM_SERVE_NBUCKETS; i++)
            total += b[i];
        if (total == 0)
            continue;
        for (int i = 0; i < TM_SERVE_NBUCKETS; i++) {
            cum += b[i];
            put(&t, "tallyman_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                tm_serve_route_names[r], (double)bounds_us[i] / 1e6, (unsigned long long)cum);
        }
        put(&t, "tallyman_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
            tm_serve_route_names[r], (unsigned long long)total);
        put(&t, "tallyman_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
            tm_serve_route_names[r], (double)sum / 1e6);
        put(&t, "tallyman_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
            tm_serve_route_names[r], (unsigned long long)total);
    }
    uint64_t allowed = 0, blocked = 0, trips = 0, failures = 0;
    for (int w = 0; w < nw; w++) {
        allowed += ld(&sv->workers[w].metrics.decisions_allowed);
        blocked += ld(&sv->workers[w].metrics.decisions_blocked);
        trips += ld(&sv->workers[w].metrics.limit_trips);
        failures += ld(&sv->workers[w].metrics.rule_failures);
    }
    put(&t, "# HELP tallyman_decisions_total Decisions made, by verdict.\n"
            "# TYPE tallyman_decisions_total counter\n"
            "tallyman_decisions_total{allow=\"true\"} %llu\n"
            "tallyman_decisions_total{allow=\"false\"} %llu\n",
        (unsigned long long)allowed, (unsigned long long)blocked);
    put(&t, "# HELP tallyman_decisions_blocked_by_rule_total Decisions a rule blocked (a decision "
            "can be blocked by several).\n"
            "# TYPE tallyman_decisions_blocked_by_rule_total counter\n");
    /* The shards' rule counts added up, rule by rule, one shard locked at a time. */
    tm_serve_shard all = {0};
    for (int w = 0; w < nw; w++) {
        tm_serve_shard *m = &sv->workers[w].metrics;
        pthread_mutex_lock(&m->rules_lock);
        for (int i = 0; i < m->nrules; i++)
            count_rule(&all, m->rules[i].qid, m->rules[i].n);
        pthread_mutex_unlock(&m->rules_lock);
    }
    for (int i = 0; i < all.nrules; i++) {
        put(&t, "tallyman_decisions_blocked_by_rule_total{rule=\"");
        put_label(&t, all.rules[i].qid);
        put(&t, "\"} %llu\n", (unsigned long long)all.rules[i].n);
        free(all.rules[i].qid);
    }
    free(all.rules);
    put(&t, "# HELP tallyman_rule_failures_total Rule checks that failed (script error or limit); "
            "each blocked its contact.\n"
            "# TYPE tallyman_rule_failures_total counter\n"
            "tallyman_rule_failures_total %llu\n"
            "# HELP tallyman_sandbox_limit_trips_total Rule checks stopped by a sandbox limit "
            "(memory, instructions, time).\n"
            "# TYPE tallyman_sandbox_limit_trips_total counter\n"
            "tallyman_sandbox_limit_trips_total %llu\n",
        (unsigned long long)failures, (unsigned long long)trips);
    pthread_mutex_lock(&sv->lock);
    put(&t, "# HELP tallyman_generation_active Whether a script set is served (0: the store has "
            "no active set).\n"
            "# TYPE tallyman_generation_active gauge\n"
            "tallyman_generation_active %d\n", sv->gen != NULL);
    if (sv->gen)
        put(&t, "# HELP tallyman_generation_info The script set being served: the store's "
                "active generation, or a draft tree (draft=\"true\").\n"
                "# TYPE tallyman_generation_info gauge\n"
                "tallyman_generation_info{scripts=\"%s\",draft=\"%s\"} 1\n",
            tm_gen_hash(sv->gen), sv->draft ? "true" : "false");
    pthread_mutex_unlock(&sv->lock);
    int64_t planned = ld64(&sv->outbox_planned), ready = ld64(&sv->outbox_ready);
    if (planned >= 0)
        put(&t, "# HELP tallyman_outbox_messages Messages waiting in the store's outbox: planned "
                "(not yet through the gate) and ready (allowed, not yet sent); read every 5 s.\n"
                "# TYPE tallyman_outbox_messages gauge\n"
                "tallyman_outbox_messages{status=\"planned\"} %lld\n"
                "tallyman_outbox_messages{status=\"ready\"} %lld\n",
            (long long)planned, (long long)ready);
    int header = 0;
    for (int i = 0; i < 5; i++) {
        int64_t us = ld64(&sv->phase_us[i]);
        if (us < 0)
            continue;
        if (!header++)
            put(&t, "# HELP tallyman_cycle_phase_seconds Wall time of each phase of the last "
                    "daily cycle (tallyman run) on the store.\n"
                    "# TYPE tallyman_cycle_phase_seconds gauge\n");
        put(&t, "tallyman_cycle_phase_seconds{phase=\"%s\"} %.6f\n", tm_serve_phase_names[i],
            (double)us / 1e6);
    }
    put(&t, "# HELP tallyman_reloads_total Generations loaded (an activation seen in the store, "
            "or SIGHUP), and loads that failed.\n"
            "# TYPE tallyman_reloads_total counter\n"
            "tallyman_reloads_total{result=\"ok\"} %llu\n"
            "tallyman_reloads_total{result=\"failed\"} %llu\n"
            "# HELP tallyman_start_time_seconds When the service started (Unix time).\n"
            "# TYPE tallyman_start_time_seconds gauge\n"
            "tallyman_start_time_seconds %lld\n",
        (unsigned long long)ld(&sv->reloads), (unsigned long long)ld(&sv->reload_failures),
        (long long)sv->started);
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
