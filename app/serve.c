/*
 * app/serve.c: the service's machinery (serve.h): the listening socket, the
 * worker threads and their event loops, TLS through OpenSSL bufferevents,
 * the limits on bodies, headers, idle time and connections, the signals
 * (SIGHUP reloads, SIGTERM drains and ends) and the request log.
 */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "calendar.h"
#include "portfolio.h"

int64_t tm_serve_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tm_serve_log(tm_serve *sv, const char *line)
{
    /* One write per line: lines from several workers never interleave (a
     * pipe or an O_APPEND file takes each write whole). */
    size_t n = strlen(line);
    char buf[1024];
    if (n + 1 <= sizeof buf) {
        memcpy(buf, line, n);
        buf[n] = '\n';
        ssize_t w = write(sv->log_fd, buf, n + 1);
        (void)w;
    } else {
        ssize_t w = write(sv->log_fd, line, n);
        w = write(sv->log_fd, "\n", 1);
        (void)w;
    }
}

void tm_serve_log_flush(tm_serve_worker *w)
{
    size_t off = 0;
    while (off < w->loglen) {
        /* Whole lines, at most PIPE_BUF bytes a write. */
        size_t n = w->loglen - off;
        if (n > 4096) {
            n = 4096;
            while (n > 0 && w->logbuf[off + n - 1] != '\n')
                n--;
            if (n == 0)
                n = 4096;
        }
        ssize_t k = write(w->sv->log_fd, w->logbuf + off, n);
        if (k <= 0)
            break; /* the log cannot be written: the requests are still answered */
        off += (size_t)k;
    }
    w->loglen = 0;
}

void tm_serve_log_request(tm_serve_worker *w, const char *line)
{
    size_t n = strlen(line);
    if (w->loglen + n + 1 > sizeof w->logbuf)
        tm_serve_log_flush(w);
    if (n + 1 > sizeof w->logbuf) {
        tm_serve_log(w->sv, line);
        return;
    }
    memcpy(w->logbuf + w->loglen, line, n);
    w->logbuf[w->loglen + n] = '\n';
    w->loglen += n + 1;
}

/* A log line the service writes about itself (not about a request). */
static void log_event(tm_serve *sv, const char *event, const char *detail)
{
    char now[40], line[900], esc[600];
    tm_calendar_format_rfc3339((int64_t)time(NULL), 0, now, sizeof now, NULL);
    size_t j = 0;
    for (const char *p = detail ? detail : ""; *p && j + 7 < sizeof esc; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            esc[j++] = '\\';
            esc[j++] = (char)c;
        } else if (c < 0x20) {
            j += (size_t)snprintf(esc + j, sizeof esc - j, "\\u%04x", c);
        } else {
            esc[j++] = (char)c;
        }
    }
    esc[j] = '\0';
    snprintf(line, sizeof line, "{\"time\":\"%s\",\"event\":\"%s\",\"detail\":\"%s\"}", now, event,
             esc);
    tm_serve_log(sv, line);
}

/* ---- The generation ---------------------------------------------------------- */

int tm_serve_load_generation(tm_serve *sv, tm_gen **out, struct tm_err *err)
{
    *out = NULL;
    if (sv->draft)
        return tm_gen_load(sv->cli->scripts, out, err);
    tm_generation g;
    int found = 0;
    int rc = tm_store_gen_active(sv->watch, &g, &found, err);
    if (rc != TM_OK || !found)
        return rc;
    return tm_engine_load_generation(sv->watch, sv->cli->db, &g, out, err);
}

struct tm_serve_pending {
    tm_engine *eng;
    uint64_t version; /* the generation version it was built for */
};

static void pending_free(struct tm_serve_pending *p)
{
    if (p) {
        tm_engine_close(p->eng);
        free(p);
    }
}

void tm_serve_publish(tm_serve *sv, tm_gen *g)
{
    /* Only this thread changes the version: the next one is known before
     * it is published, and the engines are left for the workers first. */
    uint64_t next = atomic_load(&sv->gen_version) + 1;
    for (int i = 0; g && sv->running && i < sv->nworkers; i++) {
        tm_engine_opts eo = {.gen = g};
        tm_engine *e = NULL;
        struct tm_err err = {0};
        struct tm_serve_pending *p = NULL;
        if (tm_engine_open(&eo, TM_ENGINE_GATE, &e, NULL, &err) != TM_OK ||
            !(p = malloc(sizeof *p))) {
            tm_engine_close(e); /* the worker builds its own (and says why it cannot) */
            continue;
        }
        p->eng = e;
        p->version = next;
        pending_free(atomic_exchange(&sv->workers[i].pending, p));
    }
    pthread_mutex_lock(&sv->lock);
    tm_gen *old = sv->gen;
    sv->gen = g;
    atomic_store_explicit(&sv->gen_version, next, memory_order_release);
    pthread_mutex_unlock(&sv->lock);
    tm_gen_release(old); /* the workers hold their own references */
}

const char *const tm_serve_phase_names[5] = {"events", "starts", "timers", "gate", "dispatch"};

void tm_serve_read_gauges(tm_serve *sv)
{
    int64_t now = tm_serve_now_ms();
    if (!sv->watch || (sv->gauges_read_ms && now - sv->gauges_read_ms < 5000))
        return;
    sv->gauges_read_ms = now;
    struct tm_err e = {0};
    int64_t planned, ready;
    if (tm_store_outbox_depth(sv->watch, &planned, &ready, &e) == TM_OK) {
        atomic_store(&sv->outbox_planned, planned);
        atomic_store(&sv->outbox_ready, ready);
    }
    for (int i = 0; i < 5; i++) {
        char name[40];
        snprintf(name, sizeof name, "phase_us.%s", tm_serve_phase_names[i]);
        int64_t us = 0;
        int found = 0;
        if (tm_store_cycle_get(sv->watch, name, &us, &found, &e) == TM_OK)
            atomic_store(&sv->phase_us[i], found ? us : -1);
    }
}

/* The hash of the generation served ("" when none). Main thread. */
static void served_hash(tm_serve *sv, char out[65])
{
    pthread_mutex_lock(&sv->lock);
    snprintf(out, 65, "%s", sv->gen ? tm_gen_hash(sv->gen) : "");
    pthread_mutex_unlock(&sv->lock);
}

int tm_serve_follow_active(tm_serve *sv)
{
    if (sv->draft || !sv->watch)
        return 0;
    char active[65], now[65];
    int found = 0;
    struct tm_err e = {0};
    if (tm_store_gen_active_hash(sv->watch, active, &found, &e) != TM_OK)
        return 0; /* the store is busy or gone for a moment: asked again in 250 ms */
    served_hash(sv, now);
    if (!strcmp(active, now) || (found && !strcmp(active, sv->watch_failed)))
        return 0;
    tm_gen *g = NULL;
    if (tm_serve_load_generation(sv, &g, &e) != TM_OK) {
        /* Said once; the generation served stays until another is active. */
        snprintf(sv->watch_failed, sizeof sv->watch_failed, "%s", active);
        atomic_fetch_add(&sv->reload_failures, 1);
        char msg[600];
        snprintf(msg, sizeof msg, "the active set %.12s does not load, %s is kept: %.400s", active,
                 now[0] ? now : "none", e.msg);
        log_event(sv, "activation_failed", msg);
        return 0;
    }
    sv->watch_failed[0] = '\0';
    tm_serve_publish(sv, g);
    atomic_fetch_add(&sv->reloads, 1);
    log_event(sv, g ? "activated" : "deactivated", g ? tm_gen_hash(g) : "");
    return 1;
}

/* The current generation with a new reference, and its version. */
static tm_gen *current_gen(tm_serve *sv, uint64_t *version)
{
    pthread_mutex_lock(&sv->lock);
    tm_gen *g = sv->gen;
    tm_gen_retain(g);
    *version = atomic_load(&sv->gen_version);
    pthread_mutex_unlock(&sv->lock);
    return g;
}

void tm_serve_worker_refresh(tm_serve_worker *w)
{
    tm_serve *sv = w->sv;
    if (w->eng && atomic_load_explicit(&sv->gen_version, memory_order_acquire) == w->eng_version)
        return;
    uint64_t version;
    tm_gen *g = current_gen(sv, &version);
    if (!g) {
        /* No active set: the worker answers 503 until one is. */
        tm_engine_close(w->eng);
        w->eng = NULL;
        w->eng_version = version;
        return;
    }
    /* The engine the main thread built for this version, when there is one. */
    struct tm_serve_pending *p = atomic_exchange(&w->pending, NULL);
    if (p && p->version == version) {
        tm_gen_release(g);
        tm_engine_close(w->eng);
        w->eng = p->eng;
        w->eng_version = version;
        free(p);
        return;
    }
    pending_free(p); /* built for an older version */
    tm_engine_opts eo = {.gen = g};
    tm_engine *e = NULL;
    struct tm_err err = {0};
    int rc = tm_engine_open(&eo, TM_ENGINE_GATE, &e, NULL, &err);
    tm_gen_release(g);
    if (rc != TM_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "worker %d keeps its generation: %.300s", w->index, err.msg);
        log_event(sv, "reload_failed", msg);
        /* Not tried again until the next reload. */
        w->eng_version = version;
        return;
    }
    /* The old engine's generation is released with it: it was used by the
     * requests before this one, all finished (a handler runs to its end). */
    tm_engine_close(w->eng);
    w->eng = e;
    w->eng_version = version;
}

/* ---- TLS ---------------------------------------------------------------------- */

static void ssl_error(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, cap);
    else
        snprintf(buf, cap, "unknown error");
    ERR_clear_error();
}

/* A server context from the certificate chain and key files: TLS 1.2 at
 * least (1.3 offered first, as OpenSSL does), no compression, no
 * renegotiation. NULL with `err` naming the file on failure. */
static SSL_CTX *make_ssl(const char *cert, const char *key, struct tm_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char why[256];
    if (!ctx) {
        ssl_error(why, sizeof why);
        tm_err_set(err, TM_ECRYPTO, "TLS: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_error(why, sizeof why);
        tm_err_set(err, TM_ECRYPTO, "%s: not a usable certificate (PEM): %s", cert, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_error(why, sizeof why);
        tm_err_set(err, TM_ECRYPTO, "%s: not a usable private key (PEM): %s", key, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tm_err_set(err, TM_ECRYPTO, "%s: the key does not match the certificate %s", key, cert);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* evhttp's bufferevent for each accepted connection: a TLS server side on
 * the context current at accept time (a reload changes it for the next
 * connections; the SSL keeps its own reference to the old one). */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    tm_serve *sv = arg;
    pthread_mutex_lock(&sv->lock);
    SSL *ssl = SSL_new(sv->ssl);
    pthread_mutex_unlock(&sv->lock);
    if (!ssl)
        return NULL; /* evhttp falls back to a plain one, whose handshake then fails */
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

/* ---- Workers ---------------------------------------------------------------------- */

static void set_listening(tm_serve_worker *w, int on)
{
    if (w->listening == on || !w->bound)
        return;
    struct evconnlistener *l = evhttp_bound_socket_get_listener(w->bound);
    if (on)
        evconnlistener_enable(l);
    else
        evconnlistener_disable(l);
    w->listening = on;
}

/* Every 20 ms: a new generation is taken up here even when no request comes,
 * and a stop is noticed. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tm_serve_worker *w = arg;
    tm_serve *sv = w->sv;
    tm_serve_log_flush(w);
    if (atomic_load(&sv->stopping)) {
        if (!w->draining) {
            w->draining = 1;
            set_listening(w, 0);
        }
        if (w->unflushed <= 0 || tm_serve_now_ms() >= sv->stop_deadline_ms)
            event_base_loopbreak(w->base);
        return;
    }
    tm_serve_worker_refresh(w);
    /* The connection cap: new connections wait in the kernel's queue. */
    set_listening(w, w->conns < sv->per_worker_conns);
}

typedef struct worker_start {
    tm_serve_worker *w;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, rc;
    char msg[300];
} worker_start;

static int worker_setup(tm_serve_worker *w, char *msg, size_t cap)
{
    tm_serve *sv = w->sv;
    struct tm_err e = {0};
    if (tm_store_open(sv->cli->db, &w->store, &e) != TM_OK) {
        snprintf(msg, cap, "worker %d: %.250s", w->index, e.msg);
        return -1;
    }
    w->store_ok = 1;
    tm_serve_worker_refresh(w);
    if (!w->eng && sv->gen) {
        snprintf(msg, cap, "worker %d: the gate could not be built", w->index);
        return -1;
    }
    /* Changes to a connection's events within one loop turn reach epoll as
     * one call, not one per change: fewer system calls per request. */
    struct event_config *cfg = event_config_new();
    if (cfg)
        event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    w->base = cfg ? event_base_new_with_config(cfg) : NULL;
    if (cfg)
        event_config_free(cfg);
    w->http = w->base ? evhttp_new(w->base) : NULL;
    if (!w->http) {
        snprintf(msg, cap, "worker %d: out of memory", w->index);
        return -1;
    }
    evhttp_set_max_body_size(w->http, (ev_ssize_t)sv->o.max_body);
    evhttp_set_max_headers_size(w->http, (ev_ssize_t)sv->o.max_headers);
    evhttp_set_timeout(w->http, sv->o.idle_timeout);
    /* Every method reaches the router, which answers 405 with Allow itself. */
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(w->http, tm_serve_handle, w);
    if (sv->tls)
        evhttp_set_bevcb(w->http, tls_bev, sv);
    int fd = dup(sv->fd);
    if (fd < 0 || evutil_make_socket_nonblocking(fd) != 0) {
        snprintf(msg, cap, "worker %d: %s", w->index, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    w->bound = evhttp_accept_socket_with_handle(w->http, fd);
    if (!w->bound) {
        close(fd);
        snprintf(msg, cap, "worker %d: cannot accept on the socket", w->index);
        return -1;
    }
    w->listening = 1;
    w->tick = event_new(w->base, -1, EV_PERSIST, tick, w);
    struct timeval tv = {0, 20000};
    if (!w->tick || event_add(w->tick, &tv) != 0) {
        snprintf(msg, cap, "worker %d: out of memory", w->index);
        return -1;
    }
    return 0;
}

static void worker_teardown(tm_serve_worker *w)
{
    tm_serve_log_flush(w);
    if (w->tick)
        event_free(w->tick);
    if (w->http)
        evhttp_free(w->http); /* closes its connections and its copy of the socket */
    if (w->base)
        event_base_free(w->base);
    tm_engine_close(w->eng);
    pending_free(atomic_exchange(&w->pending, NULL));
    if (w->store)
        tm_store_close(w->store);
    if (w->seen) {
        free(w->seen->slot);
        free(w->seen);
        w->seen = NULL;
    }
    w->tick = NULL;
    w->http = NULL;
    w->base = NULL;
    w->eng = NULL;
    w->store = NULL;
}

static void *worker_main(void *arg)
{
    worker_start *st = arg;
    tm_serve_worker *w = st->w;
    char msg[300] = "";
    int rc = worker_setup(w, msg, sizeof msg);
    pthread_mutex_lock(&st->lock);
    st->rc = rc;
    snprintf(st->msg, sizeof st->msg, "%s", msg);
    st->done = 1;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
    /* From here on `st` belongs to the main thread again. */
    if (rc == 0)
        event_base_dispatch(w->base);
    return NULL;
}

/* ---- The listening socket ------------------------------------------------------------ */

/* Splits "ADDR:PORT" / "[V6]:PORT" into host and port. */
static int split_listen(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close_br = strchr(s, ']');
        if (!close_br || close_br[1] != ':')
            return -1;
        snprintf(host, hcap, "%.*s", (int)(close_br - s - 1), s + 1);
        colon = close_br + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon == s)
            return -1;
        snprintf(host, hcap, "%.*s", (int)(colon - s), s);
    }
    if (!colon[1] || strlen(colon + 1) >= pcap)
        return -1;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    snprintf(port, pcap, "%s", colon + 1);
    return atoi(port) <= 65535 ? 0 : -1;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        if (IN6_IS_ADDR_V4MAPPED(a))
            return a->s6_addr[12] == 127;
    }
    return 0;
}

/* Opens the listening socket. Returns the fd, or -1 with the reason in msg;
 * *loopback says whether the address is a loopback one. -2: a usage error. */
static int open_listener(const char *listen_at, int *loopback, int *bound_port, char *msg,
                         size_t cap)
{
    char host[256], port[16];
    if (split_listen(listen_at, host, sizeof host, port, sizeof port) != 0) {
        snprintf(msg, cap, "--listen: ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080: '%s'",
                 listen_at);
        return -2;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(msg, cap, "--listen %s: %s", listen_at, gai_strerror(gai));
        return -2;
    }
    *loopback = is_loopback(res->ai_addr);
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(msg, cap, "cannot listen on %s: %s", listen_at, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *bound_port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

/* ---- Reload and stop ---------------------------------------------------------------------- */

static void reload(tm_serve *sv)
{
    struct tm_err e = {0};
    tm_gen *g = NULL;
    if (tm_serve_load_generation(sv, &g, &e) != TM_OK) {
        atomic_fetch_add(&sv->reload_failures, 1);
        log_event(sv, "reload_failed", e.msg);
    } else {
        sv->watch_failed[0] = '\0';
        tm_serve_publish(sv, g);
        atomic_fetch_add(&sv->reloads, 1);
        log_event(sv, "reloaded", g ? tm_gen_hash(g) : "no active script set");
    }
    if (sv->tls) {
        SSL_CTX *ctx = make_ssl(sv->o.tls_cert, sv->o.tls_key, &e);
        if (!ctx) {
            log_event(sv, "tls_reload_failed", e.msg);
            return;
        }
        pthread_mutex_lock(&sv->lock);
        SSL_CTX *old = sv->ssl;
        sv->ssl = ctx;
        pthread_mutex_unlock(&sv->lock);
        SSL_CTX_free(old); /* connections made on it hold their own references */
    }
}

int tm_serve_run(const tm_cli *cli, const tm_serve_opts *o)
{
    tm_serve *sv = calloc(1, sizeof *sv);
    if (!sv)
        return TM_EXIT_FAIL;
    sv->o = *o;
    sv->cli = cli;
    sv->fd = -1;
    sv->log_fd = 2;
    sv->started = (int64_t)time(NULL);
    atomic_store(&sv->outbox_planned, -1);
    atomic_store(&sv->outbox_ready, -1);
    for (int i = 0; i < 5; i++)
        atomic_store(&sv->phase_us[i], -1);
    pthread_mutex_init(&sv->lock, NULL);
    pthread_mutex_init(&sv->rate_lock, NULL);
    int rc = TM_EXIT_FAIL;
    char msg[600];
    struct tm_err e = {0};
    tm_store *check = NULL;
    const char *fixed = getenv("TM_NOW");
    if (fixed && *fixed) {
        int64_t t;
        int32_t ns;
        int off;
        if (tm_calendar_parse_rfc3339(fixed, &t, &ns, &off, NULL) != TM_OK) {
            rc = tm_cli_usage_error("serve", "TM_NOW: not an RFC 3339 time: '%s'", fixed);
            goto out;
        }
        sv->clock_offset = t - sv->started;
    }
    /* What runs on a store is its active set; a working tree only as a
     * draft (CONTRACT.md, "Script sets"). */
    sv->draft = cli->draft;
    if (cli->scripts_given && !cli->draft) {
        rc = tm_cli_usage_error("serve", "--scripts %s names a working tree: the service runs the "
                                         "store's active script set (tallyman scripts list); add "
                                         "--draft to serve the tree as a draft", cli->scripts);
        goto out;
    }

    int loopback = 0;
    sv->fd = open_listener(o->listen, &loopback, &sv->port, msg, sizeof msg);
    if (sv->fd == -2) {
        rc = tm_cli_usage_error("serve", "%s", msg);
        goto out;
    }
    if (sv->fd < 0) {
        fprintf(stderr, "tallyman: serve: %s\n", msg);
        goto out;
    }
    sv->tls = o->tls_cert != NULL;
    if (!sv->tls && !loopback && !o->insecure_http) {
        rc = tm_cli_usage_error("serve", "%s is not a loopback address: give --tls-cert and "
                                         "--tls-key (or --insecure-http, knowingly)", o->listen);
        goto out;
    }
    if (sv->tls && !(sv->ssl = make_ssl(o->tls_cert, o->tls_key, &e))) {
        fprintf(stderr, "tallyman: serve: %s\n", e.msg);
        goto out;
    }
    if (o->log_path) {
        sv->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (sv->log_fd < 0) {
            fprintf(stderr, "tallyman: serve: --log %s: %s\n", o->log_path, strerror(errno));
            sv->log_fd = 2;
            goto out;
        }
    }
    /* The store and its key file, checked once (tm_cli_open_store); each
     * worker then opens its own connection and shares the keys. */
    if (!tm_cli_store_exists(cli, "tokens create") ||
        tm_cli_open_store(cli, TM_CLI_KEYS_WRITE, &check, &sv->keys) != TM_EXIT_OK)
        goto out;
    sv->watch = check; /* the main thread's: the active generation */
    check = NULL;
    tm_portfolio_audit_key(sv->keys, sv->audit_key);
    if (tm_serve_load_generation(sv, &sv->gen, &e) != TM_OK) {
        fprintf(stderr, "tallyman: serve: cannot load the %s: %s\n",
                sv->draft ? "script tree" : "store's active script set", e.msg);
        goto out;
    }
    if (!sv->gen)
        fprintf(stderr, "tallyman: serve: %s has no active script set: /readyz answers 503 and "
                        "decisions wait until one is activated (tallyman scripts activate)\n",
                cli->db);
    else if (sv->draft)
        fprintf(stderr, "tallyman: serve: serving the working tree %s as a draft (not an "
                        "approved set): each decision says \"draft\": true\n", cli->scripts);
    atomic_store(&sv->gen_version, 1);
    tm_serve_read_gauges(sv);

    /* Signals are taken by the main thread alone, with sigwait: the workers
     * start with them blocked. A client gone mid-write is not a SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    sv->nworkers = o->workers;
    sv->per_worker_conns = (o->max_conns + o->workers - 1) / o->workers;
    sv->workers = calloc((size_t)sv->nworkers, sizeof *sv->workers);
    if (!sv->workers)
        goto out;
    int started = 0, failed = 0;
    for (int i = 0; i < sv->nworkers && !failed; i++) {
        tm_serve_worker *w = &sv->workers[i];
        w->sv = sv;
        w->index = i;
        tm_serve_shard_init(&w->metrics);
        worker_start st = {.w = w};
        pthread_mutex_init(&st.lock, NULL);
        pthread_cond_init(&st.cond, NULL);
        if (pthread_create(&w->thread, NULL, worker_main, &st) != 0) {
            fprintf(stderr, "tallyman: serve: cannot start worker %d\n", i);
            failed = 1;
        } else {
            started++;
            pthread_mutex_lock(&st.lock);
            while (!st.done)
                pthread_cond_wait(&st.cond, &st.lock);
            pthread_mutex_unlock(&st.lock);
            if (st.rc != 0) {
                fprintf(stderr, "tallyman: serve: %s\n", st.msg);
                failed = 1;
            }
        }
        pthread_mutex_destroy(&st.lock);
        pthread_cond_destroy(&st.cond);
    }
    if (!failed) {
        const char *hash = sv->gen ? tm_gen_hash(sv->gen) : "none";
        fprintf(stderr, "tallyman: serving %s://%s (port %d, %d workers, scripts %s%s)\n",
                sv->tls ? "https" : "http", o->listen, sv->port, sv->nworkers, hash,
                sv->draft ? ", draft" : "");
        char detail[300];
        snprintf(detail, sizeof detail, "port %d, %d workers, scripts %s%s", sv->port,
                 sv->nworkers, hash, sv->draft ? ", draft" : "");
        log_event(sv, "started", detail);
        sv->running = 1;
        for (;;) {
            /* Signals, and every 250 ms whether another set is active. */
            struct timespec every = {0, 250 * 1000 * 1000};
            int sig = sigtimedwait(&set, NULL, &every);
            if (sig < 0) {
                if (errno == EAGAIN) {
                    tm_serve_follow_active(sv);
                    tm_serve_read_gauges(sv);
                }
                continue;
            }
            if (sig == SIGHUP) {
                reload(sv);
                continue;
            }
            break;
        }
        log_event(sv, "stopping", "draining the requests in flight");
    }
    sv->stop_deadline_ms = tm_serve_now_ms() + (int64_t)o->drain_seconds * 1000;
    atomic_store(&sv->stopping, 1);
    /* The workers see `stopping` on their next tick and end their loops. */
    for (int i = 0; i < started; i++)
        pthread_join(sv->workers[i].thread, NULL);
    for (int i = 0; i < started; i++) {
        worker_teardown(&sv->workers[i]);
        tm_serve_shard_free(&sv->workers[i].metrics);
    }
    if (!failed) {
        log_event(sv, "stopped", "");
        rc = TM_EXIT_OK;
    }
    /* The signals stay blocked: a second SIGTERM while the service ends
     * must not end it by a signal (CONTRACT.md: never). */
out:
    free(sv->workers);
    if (sv->fd >= 0)
        close(sv->fd);
    if (sv->ssl)
        SSL_CTX_free(sv->ssl);
    tm_gen_release(sv->gen);
    if (sv->watch)
        tm_store_close(sv->watch);
    tm_keys_free(sv->keys);
    if (sv->log_fd > 2)
        close(sv->log_fd);
    pthread_mutex_destroy(&sv->lock);
    pthread_mutex_destroy(&sv->rate_lock);
    free(sv->buckets);
    free(sv);
    return rc;
}
