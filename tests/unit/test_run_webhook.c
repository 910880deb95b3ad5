/*
 * tests/unit/test_run_webhook.c: `tallyman run --webhook URL` against an HTTP
 * server this test starts on loopback: every allowed message is POSTed as
 * JSON with its Idempotency-Key, a 503 is retried, and a rerun of the day
 * POSTs nothing new. Runs the tallyman binary named by $TM_BIN (default
 * ./tallyman) from the repository root.
 */
#include "harness.h"

#include <openssl/hmac.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KEYS 64

typedef struct server {
    struct event_base *base;
    struct evhttp *http;
    struct event *stopev;
    int pipefd[2];
    pthread_t th;
    int port;
    pthread_mutex_t mu;
    int hits, ok;
    char keys[MAX_KEYS][128];
    int nkeys;
    int has_text; /* a body carried rendered text */
    int signed_ok; /* a body carried a signature that verifies */
} server;

static void handle(struct evhttp_request *req, void *arg)
{
    server *s = arg;
    const char *key = evhttp_find_header(evhttp_request_get_input_headers(req), "Idempotency-Key");
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    char body[8192];
    size_t len = evbuffer_get_length(in);
    if (len >= sizeof body)
        len = sizeof body - 1;
    evbuffer_copyout(in, body, len);
    body[len] = '\0';
    pthread_mutex_lock(&s->mu);
    int n = s->hits++;
    int code = n == 0 ? 503 : 200; /* the first attempt fails: the adapter retries */
    if (code == 200 && key) {
        s->ok++;
        if (s->nkeys < MAX_KEYS)
            snprintf(s->keys[s->nkeys++], sizeof s->keys[0], "%s", key);
        if (strstr(body, "\"text\":\"") && strstr(body, "debt collector"))
            s->has_text++;
        /* Signed with the run's --webhook-secret: HMAC-SHA256 of "<ts>.<body>". */
        const char *ts = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Tallyman-Timestamp");
        const char *sig = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Tallyman-Signature");
        char msg[8300], want[80] = "v1=";
        unsigned char mac[32];
        unsigned int ml = 0;
        int n2 = ts ? snprintf(msg, sizeof msg, "%s.%s", ts, body) : -1;
        if (n2 > 0 && HMAC(EVP_sha256(), "s3cret", 6, (const unsigned char *)msg, (size_t)n2, mac, &ml)) {
            for (unsigned i = 0; i < ml; i++)
                snprintf(want + 3 + 2 * i, sizeof want - 3 - 2 * i, "%02x", mac[i]);
            if (sig && strcmp(sig, want) == 0)
                s->signed_ok++;
        }
    }
    pthread_mutex_unlock(&s->mu);
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Busy", NULL);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(((server *)arg)->base);
}

static void *loop(void *arg)
{
    event_base_dispatch(((server *)arg)->base);
    return NULL;
}

static void start(server *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    ASSERT((s->base = event_base_new()) != NULL);
    ASSERT((s->http = evhttp_new(s->base)) != NULL);
    evhttp_set_gencb(s->http, handle, s);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
    ASSERT(bs != NULL);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    ASSERT_OK(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl));
    s->port = ntohs(sa.sin_port);
    ASSERT_OK(pipe(s->pipefd));
    ASSERT((s->stopev = event_new(s->base, s->pipefd[0], EV_READ, stop_cb, s)) != NULL);
    ASSERT_OK(event_add(s->stopev, NULL));
    ASSERT_OK(pthread_create(&s->th, NULL, loop, s));
}

static void stop(server *s)
{
    ASSERT_EQ(write(s->pipefd[1], "x", 1), 1);
    ASSERT_OK(pthread_join(s->th, NULL));
    evhttp_free(s->http);
    event_free(s->stopev);
    event_base_free(s->base);
    close(s->pipefd[0]);
    close(s->pipefd[1]);
    pthread_mutex_destroy(&s->mu);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(run_dispatches_by_webhook_once)
{
    signal(SIGPIPE, SIG_IGN);
    const char *bin = getenv("TM_BIN") ? getenv("TM_BIN") : "./tallyman";
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/tm-webhook-%d", (int)getpid());
    ASSERT_EQ(sh("rm -rf %s && mkdir -p %s", dir, dir), 0);
    FILE *f;
    char path[256];
    snprintf(path, sizeof path, "%s/a.csv", dir);
    ASSERT((f = fopen(path, "w")) != NULL);
    fputs("external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,"
          "phone,email,address1,city,zip\n"
          "C1,D1,Ann,Lee,MA,America/New_York,100.00,USD,10,+16175550101,ann@example.com,1 Main St,Boston,02110\n"
          "C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,12,+12145550102,bob@example.com,2 Main St,Dallas,75201\n"
          "C3,D3,Cy,Fox,PA,America/New_York,300.00,USD,14,+12155550103,cy@example.com,3 Main St,Erie,16501\n",
          f);
    fclose(f);
    ASSERT_EQ(sh("%s --db %s/r.db import accounts %s >/dev/null 2>&1", bin, dir, path), 0);
    server s;
    start(&s);
    /* The shipped tree: early_stage sends an email to each on day 1. */
    ASSERT_EQ(sh("printf 's3cret\\n' >%s/secret && %s --db %s/r.db --draft run --date 2026-11-23 "
                 "--webhook http://127.0.0.1:%d/messages --webhook-secret %s/secret --quiet >%s/out 2>&1",
                 dir, bin, dir, s.port, dir, dir),
              0);
    pthread_mutex_lock(&s.mu);
    int hits = s.hits, ok = s.ok, nkeys = s.nkeys, texts = s.has_text, signed_ok = s.signed_ok;
    pthread_mutex_unlock(&s.mu);
    ASSERT_EQ(signed_ok, ok);      /* every message signed under the shared secret */
    ASSERT(ok >= 3);               /* one email per debt at least */
    ASSERT_EQ(hits, ok + 1);       /* the one 503 was retried */
    ASSERT_EQ(texts, ok);          /* rendered messages with their disclosures */
    for (int i = 0; i < nkeys; i++)
        for (int j = i + 1; j < nkeys; j++)
            ASSERT(strcmp(s.keys[i], s.keys[j]) != 0);
    /* A rerun of the day POSTs nothing. */
    ASSERT_EQ(sh("%s --db %s/r.db --draft run --date 2026-11-23 --webhook http://127.0.0.1:%d/messages "
                 "--quiet >%s/out2 2>&1",
                 bin, dir, s.port, dir),
              0);
    pthread_mutex_lock(&s.mu);
    ASSERT_EQ(s.hits, hits);
    pthread_mutex_unlock(&s.mu);
    stop(&s);
    sh("rm -rf %s", dir);
}
