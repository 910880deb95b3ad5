/*
 * app/serve.h: `tallyman serve`, the engine as an HTTP(S) API (CONTRACT.md,
 * "The service"). What the service's files share:
 *
 *   app/serve.c          the listener, worker threads, TLS, limits, signals,
 *                        reloading the generation, draining on SIGTERM
 *   app/serve_routes.c   the route table and the router, the probes, /metrics
 *   app/serve_http.[ch]  what route files share: replies, JSON errors,
 *                        bodies, credentials and roles
 *   app/serve_decide.c   POST /v1/decide
 *   app/serve_input.c    POST /v1/events, POST /v1/accounts
 *   app/serve_debts.c    GET /v1/debts/{id}
 *   app/serve_login.c    POST /v1/login, POST /v1/logout: people's sessions
 *   app/serve_scripts.c  /v1/scripts: list, show, diff, approve, activate, rollback
 *                        (the lifecycle's checks: app/lifecycle.c)
 *   app/serve_payments.c POST /v1/payments
 *   app/serve_story.c    GET /v1/debts/{id}/story, POST /v1/debts/{id}/explain
 *   app/serve_audit.c    GET /v1/audit, GET /v1/audit/verify
 *   app/serve_queues.c   GET /v1/queues/{name}, claim and close an item
 *   app/serve_sims.c     simulations as jobs (a child process each)
 *   app/serve_metrics.c  the counters /metrics shows (Prometheus text)
 *   app/cmd_serve.c      the command's options
 *
 * Threads: N workers, each with its own event_base and evhttp accepting on a
 * copy of one listening socket, its own store connection and its own engine
 * (a sandbox and gate on the current generation): a request is handled from
 * start to end on one worker, with nothing shared but counters.
 *
 * What runs is the store's active script generation (CONTRACT.md, "Script
 * sets"), or with --scripts DIR --draft a working tree, marked draft. The
 * main thread waits for signals and, every 250 ms, reads the store's active
 * generation's hash (one indexed read, on its own connection): when a set
 * is activated or rolled back, by the command line in another process or
 * through the API, it loads the new generation and publishes it; SIGHUP
 * does the same at once (and re-reads a draft tree and the TLS files). Each
 * worker moves onto a published generation between requests, so a request
 * in flight finishes on the generation it started on and none fails.
 * SIGTERM stops accepting, lets the replies in flight be written (up to a
 * deadline) and ends with exit 0.
 */
#ifndef TM_SERVE_H
#define TM_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "access.h"
#include "cli.h"
#include "engine.h"
#include "keys.h"
#include "store.h"

struct evhttp_request;
struct evhttp;
struct event_base;
struct event;
struct evhttp_bound_socket;

typedef struct tm_serve_opts {
    const char *listen;     /* ADDR:PORT ("127.0.0.1:8080", "[::1]:0"); port 0: any free one */
    const char *tls_cert, *tls_key;
    int insecure_http;      /* plain HTTP on a non-loopback address, knowingly */
    int workers;            /* worker threads (default: the number of CPUs) */
    size_t max_body;        /* bytes in a request body */
    size_t max_headers;     /* bytes in the request line and headers */
    int idle_timeout;       /* seconds a connection may stay silent (reading or writing) */
    int max_conns;          /* open connections, all workers together */
    int drain_seconds;      /* SIGTERM: how long replies in flight get to finish */
    const char *log_path;   /* one JSON line per request; NULL: stderr */
    double rate_limit;      /* requests a second each token or person may make (0: no limit) */
} tm_serve_opts;

/* ---- Metrics (app/serve_metrics.c) ---------------------------------------- */

/* The routes as metrics and the log name them (the route, never the path:
 * a path may hold an id). */
enum tm_serve_route {
    TM_ROUTE_HEALTHZ, TM_ROUTE_READYZ, TM_ROUTE_METRICS, TM_ROUTE_DECIDE, TM_ROUTE_EVENTS,
    TM_ROUTE_ACCOUNTS, TM_ROUTE_DEBT, TM_ROUTE_LOGIN, TM_ROUTE_LOGOUT, TM_ROUTE_SCRIPTS,
    TM_ROUTE_SCRIPT, TM_ROUTE_SCRIPT_DIFF, TM_ROUTE_SCRIPT_APPROVE, TM_ROUTE_SCRIPT_ACTIVATE,
    TM_ROUTE_SCRIPTS_ROLLBACK, TM_ROUTE_PAYMENTS, TM_ROUTE_STORY, TM_ROUTE_EXPLAIN,
    TM_ROUTE_AUDIT, TM_ROUTE_AUDIT_VERIFY, TM_ROUTE_QUEUE, TM_ROUTE_QUEUE_CLAIM, TM_ROUTE_QUEUE_CLOSE,
    TM_ROUTE_SIMULATIONS, TM_ROUTE_SIMULATION, TM_ROUTE_SIMULATION_REPORT, TM_ROUTE_OTHER,
    TM_ROUTE__COUNT
};
extern const char *const tm_serve_route_names[TM_ROUTE__COUNT];

#define TM_SERVE_NSTATUS 18  /* distinct status codes counted per route */
#define TM_SERVE_NBUCKETS 14 /* latency histogram buckets, +Inf excluded */

/* One worker's counters: written by that worker only (relaxed atomics, so
 * /metrics on another worker reads them without a lock). */
typedef struct tm_serve_shard {
    _Atomic uint64_t requests[TM_ROUTE__COUNT][TM_SERVE_NSTATUS];
    _Atomic uint64_t latency[TM_ROUTE__COUNT][TM_SERVE_NBUCKETS + 1];
    _Atomic uint64_t latency_us_sum[TM_ROUTE__COUNT];
    _Atomic uint64_t decisions_allowed, decisions_blocked, limit_trips, rule_failures;
    pthread_mutex_t rules_lock; /* rule counts: their names change with the generation */
    struct rule_count *rules;
    int nrules, caprules;
} tm_serve_shard;

void tm_serve_shard_init(tm_serve_shard *m);
void tm_serve_shard_free(tm_serve_shard *m);
/* Counts one request answered with `status` after `us` microseconds. */
void tm_serve_count_request(tm_serve_shard *m, enum tm_serve_route r, int status, uint64_t us);
/* Counts one decision and the rules that blocked it (and rules that failed). */
void tm_serve_count_decision(tm_serve_shard *m, const tm_decision *d);

/* ---- The service ------------------------------------------------------------ */

typedef struct tm_serve tm_serve;

/* One caller's token bucket (app/serve_http.c): `tokens` requests may be
 * made now; it refills at the caller's rate up to that rate (one second's
 * worth of burst). `key` is "t:" + a token's name or "p:" + a person's. */
struct rate_bucket {
    char key[136];
    double tokens;
    int64_t at_us;
};

/* A set of connections (pointers), open addressing (app/serve_http.c). */
struct conn_set {
    size_t cap; /* a power of two */
    void **slot;
};

typedef struct tm_serve_worker {
    tm_serve *sv;
    int index;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *tick;       /* checks for a new generation and for stopping */
    tm_engine *eng;           /* this worker's sandbox and gate */
    uint64_t eng_version;     /* the generation version eng was made from */
    /* An engine the main thread built for this worker on a new generation
     * (struct tm_serve_pending), taken by the worker with an atomic
     * exchange: the gate is built off the worker's thread, so taking up a
     * new generation costs a request no more than a pointer swap. */
    _Atomic(struct tm_serve_pending *) pending;
    tm_store *store;          /* this worker's connection */
    int store_ok;
    int conns;                /* open connections on this worker (counted at their first request) */
    int listening;            /* accepting new connections */
    int unflushed;            /* replies queued and not yet written */
    int draining;
    tm_serve_shard metrics;
    struct conn_set *seen;    /* connections counted in `conns` */
    char logbuf[8192];        /* request log lines not yet written (whole lines) */
    size_t loglen;
} tm_serve_worker;

struct tm_serve {
    tm_serve_opts o;
    const tm_cli *cli;
    tm_keys *keys;                /* shared, read-only */
    uint8_t audit_key[32];        /* the audit chain's key, from keys */
    int fd;                       /* the listening socket */
    int port;                     /* as bound */
    int tls;
    pthread_mutex_t lock;         /* guards gen, ssl */
    tm_gen *gen;                  /* the current generation; NULL: the store has no active set */
    int draft;                    /* --scripts DIR --draft: gen is a working tree, not approved */
    tm_store *watch;              /* the main thread's connection: the active generation */
    char watch_failed[65];        /* an active set that did not load, not tried again */
    _Atomic uint64_t gen_version; /* bumped when gen changes */
    void *ssl;                    /* SSL_CTX *, current */
    _Atomic int stopping;
    int64_t stop_deadline_ms;
    int log_fd;
    int64_t started;
    /* Seconds added to the system clock for every time the service judges
     * by (expiry, sessions, lockouts): 0, or set from the environment
     * variable TM_NOW (RFC 3339) at start, so tests give the clock. */
    int64_t clock_offset;
    _Atomic uint64_t reloads, reload_failures;
    /* What /metrics shows of the store, read by the main thread at most
     * every 5 s (tm_serve_read_gauges), never on the request path: the
     * outbox's waiting messages (-1: not read yet) and the last cycle's
     * phase times in microseconds (-1: none recorded). */
    _Atomic int64_t outbox_planned, outbox_ready;
    _Atomic int64_t phase_us[5];
    int64_t gauges_read_ms;
    int running;                  /* every worker started: publishing builds their engines */
    tm_serve_worker *workers;
    int nworkers;
    int per_worker_conns;
    /* The rate limit's buckets, shared by the workers (a caller's requests
     * land on any of them): open addressing, cleared whole when 3/4 full
     * (a cleared bucket starts full, so clearing only ever lets more in). */
    pthread_mutex_t rate_lock;
    struct rate_bucket *buckets;
    size_t nbuckets, used_buckets;
};

/* What POST /v1/decide answers: 200 with `body` (malloc'd, `len` bytes; the
 * caller frees), or an error status with code, message and field (NULL: none). */
typedef struct tm_serve_reply {
    int status;
    char *body;
    size_t len;
    const char *code;
    char message[400];
    const char *field;
    char fieldbuf[128];
} tm_serve_reply;

/* Called for each decision whose request asks "record": true; TM_OK, or an
 * error that ends the batch with 503. */
typedef int (*tm_serve_record_fn)(void *ud, const tm_request *req, const tm_decision *d);

/* The body of POST /v1/decide (`len` bytes: a request object or an array of
 * them) judged by gate `g`, requests without "now" at `now`: the decision,
 * or the array of decisions with {"index", "id", "error"} for each item that
 * yields none, written as `tallyman decide` writes them (core/gate_wire.h).
 * Counts the decisions in `m` (may be NULL). Bad input of any kind is a 400
 * with its reason; never a crash. Returns out->status. */
int tm_serve_decide_body(tm_gate *g, const char *body, size_t len, int64_t now, tm_serve_shard *m,
                         tm_serve_record_fn rec, void *ud, tm_serve_reply *out);

/* Writes the roles ("role NAME person|machine") and the route table
 * ("route METHOD PATH PERMISSION ROLES", the roles that may use it) to
 * `out`, a line each (`tallyman serve --routes`, for the test that walks
 * every route with every role). */
void tm_serve_routes_print(FILE *out);

/* Handles one request on worker `w` (app/serve_routes.c): the router. */
void tm_serve_handle(struct evhttp_request *req, void *w);

/* Brings w->eng onto the current generation when it has changed. On a
 * failure the worker keeps the engine it has (and says why in the log). */
void tm_serve_worker_refresh(tm_serve_worker *w);

/* The generation to serve, the one place that loads it: with --draft the
 * working tree cli->scripts; else the active generation of the store (read
 * on sv->watch, loaded from the texts kept there and checked against its
 * hash, as `run` and `decide --db` load it). On TM_OK *out holds one
 * reference (the caller releases), or is NULL when the store has no active
 * set. Errors: those of tm_gen_load, tm_store_gen_active and
 * tm_engine_load_generation. Main thread only (sv->watch is its own). */
int tm_serve_load_generation(tm_serve *sv, tm_gen **out, struct tm_err *err);

/* Publishes generation `g` (the reference is taken over; NULL: none is
 * active) as the one workers take up between requests; the one it replaces
 * is released when the last worker has left it. Once the workers run, an
 * engine (sandbox and gate) is built for each of them first, here on the
 * main thread, and handed over with the generation. Main thread only. */
void tm_serve_publish(tm_serve *sv, tm_gen *g);

/* Checks whether the store's active generation is still the one served
 * and, when it is not, loads and publishes it (off the request path: the
 * main thread calls this every 250 ms; workers only take it up). A set that
 * does not load is logged once and the one served is kept. Returns 1 when a
 * new generation was published, else 0. */
int tm_serve_follow_active(tm_serve *sv);

/* The last cycle's phases as /metrics names them, in order. */
extern const char *const tm_serve_phase_names[5];

/* Reads the outbox depth and the last cycle's phase times into sv's gauges
 * when the last read is 5 s old or more (main thread, on sv->watch). A read
 * that fails leaves the values read before. */
void tm_serve_read_gauges(tm_serve *sv);

/* Writes one log line (a JSON object text, without the newline) to the log. */
void tm_serve_log(tm_serve *sv, const char *line);

/* Adds a request's log line to worker w's buffer, written (whole lines, at
 * most 4 KiB a write, so lines from several workers never mix) when it
 * fills, on the worker's next tick (20 ms) and when the worker ends. */
void tm_serve_log_request(tm_serve_worker *w, const char *line);
void tm_serve_log_flush(tm_serve_worker *w);

/* Milliseconds on the monotonic clock. */
int64_t tm_serve_now_ms(void);

/* The /metrics text (Prometheus exposition format) into a malloc'd string. */
char *tm_serve_metrics_text(tm_serve *sv);

/* Parses a rate "50/s" (1 to 100000 requests a second) into *out. 0, or -1. */
int tm_serve_parse_rate(const char *text, double *out);

/* The command: runs the service until SIGTERM. Returns an exit code. */
int tm_serve_run(const tm_cli *cli, const tm_serve_opts *o);

#endif
