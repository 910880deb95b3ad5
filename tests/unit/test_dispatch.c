/*
 * tests/unit/test_dispatch.c: the outbox channel adapters (file spool and HTTP webhook).
 *
 * The webhook is tested against a real libevent evhttp server that each test starts on
 * 127.0.0.1 with an ephemeral port, in a background thread, scripted per test (200, 503 then
 * 200, always 500, 400, 409, never answer). The server's view (hits, Idempotency-Key, body) is
 * the oracle: the body is parsed back with jansson. Backoff is checked from below only (elapsed
 * >= sum of the minimal delays), never with an upper wall-clock bound. Under AddressSanitizer
 * each webhook test ends with a leak check, since the runner's _exit() skips LeakSanitizer.
 */
#include "harness.h"

#include <openssl/hmac.h>
#include <time.h>

#include "dispatch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() ASSERT_EQ(__lsan_do_recoverable_leak_check(), 0)
#else
#define LEAK_CHECK() ((void)0)
#endif

/* ---- Scripted HTTP server ---------------------------------------------------------------- */

enum { S_OK, S_FAIL2, S_500, S_400, S_409, S_NEVER, S_408_ONCE, S_429_RA };

#define MAX_HITS 16
#define MAX_HELD 8

struct server {
    pthread_t th;
    struct event_base *base;
    struct evhttp *http;
    struct event *stopev;
    int pipefd[2];
    int port;
    int mode;
    pthread_mutex_t mu;
    int hits;
    char keys[MAX_HITS][256];
    char body[4096];
    char ctype[64];
    char auth[64];
    char ts[32], sig[96];
    char uri[128];
    int post;
    struct evhttp_request *held[MAX_HELD]; /* S_NEVER: requests never answered */
    int nheld;
};

static void copy_hdr(char *dst, size_t n, struct evkeyvalq *h, const char *name)
{
    const char *v = evhttp_find_header(h, name);
    snprintf(dst, n, "%s", v ? v : "");
}

static void srv_handle(struct evhttp_request *req, void *arg)
{
    struct server *s = arg;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    pthread_mutex_lock(&s->mu);
    int n = s->hits++;
    if (n < MAX_HITS)
        copy_hdr(s->keys[n], sizeof s->keys[n], h, "Idempotency-Key");
    copy_hdr(s->ctype, sizeof s->ctype, h, "Content-Type");
    copy_hdr(s->auth, sizeof s->auth, h, "Authorization");
    copy_hdr(s->ts, sizeof s->ts, h, "X-Tallyman-Timestamp");
    copy_hdr(s->sig, sizeof s->sig, h, "X-Tallyman-Signature");
    snprintf(s->uri, sizeof s->uri, "%s", evhttp_request_get_uri(req));
    s->post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
    size_t len = evbuffer_get_length(in);
    if (len >= sizeof s->body)
        len = sizeof s->body - 1;
    evbuffer_copyout(in, s->body, len);
    s->body[len] = '\0';
    int mode = s->mode;
    pthread_mutex_unlock(&s->mu);

    int code = 200;
    switch (mode) {
    case S_FAIL2: code = n < 2 ? 503 : 200; break;
    case S_500: code = 500; break;
    case S_400: code = 400; break;
    case S_409: code = 409; break;
    case S_408_ONCE: code = n < 1 ? 408 : 204; break;
    case S_429_RA: code = n < 1 ? 429 : 200; break;
    case S_NEVER:
        if (s->nheld < MAX_HELD)
            s->held[s->nheld++] = req; /* answered (and so freed) at stop */
        return;
    default: break;
    }
    if (code == 429)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Scripted", NULL);
}

static void srv_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *s = arg;
    /* A held request whose client went away is detached; replying frees it either way. */
    for (int i = 0; i < s->nheld; i++)
        evhttp_send_reply(s->held[i], 503, "Stopping", NULL);
    s->nheld = 0;
    event_base_loopbreak(s->base);
}

static void *srv_run(void *arg)
{
    struct server *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

static void srv_start(struct server *s, int mode)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    pthread_mutex_init(&s->mu, NULL);
    ASSERT((s->base = event_base_new()) != NULL);
    ASSERT((s->http = evhttp_new(s->base)) != NULL);
    evhttp_set_gencb(s->http, srv_handle, s);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
    ASSERT(bs != NULL);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    ASSERT_OK(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl));
    s->port = ntohs(sa.sin_port);
    ASSERT_OK(pipe(s->pipefd));
    s->stopev = event_new(s->base, s->pipefd[0], EV_READ, srv_stop_cb, s);
    ASSERT(s->stopev != NULL);
    ASSERT_OK(event_add(s->stopev, NULL));
    ASSERT_OK(pthread_create(&s->th, NULL, srv_run, s));
}

static void srv_stop(struct server *s)
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

static int srv_hits(struct server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->hits;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static char *srv_url(const struct server *s, char *buf, size_t n, const char *path)
{
    snprintf(buf, n, "http://127.0.0.1:%d%s", s->port, path);
    return buf;
}

/* ---- Helpers ----------------------------------------------------------------------------- */

#define SECRET_TEXT "Your balance of 123.45 is overdue"

static tm_message email_msg(const char *key)
{
    return (tm_message){.key = key,
                        .channel = "email",
                        .debt_id = "D-1001",
                        .template_id = "reminder-1",
                        .language = "en",
                        .to = "jo@example.com",
                        .subject = "Reminder",
                        .text = SECRET_TEXT,
                        .html = "<p>" SECRET_TEXT "</p>",
                        .send_at = 1795000000};
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks the JSON encoding of email_msg(key). */
static void check_json(const char *text, const char *key)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (o == NULL)
        TM_FAIL_("body is not JSON: %s", je.text);
    ASSERT(json_is_object(o));
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "key")), key);
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "channel")), "email");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "debt_id")), "D-1001");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "template_id")), "reminder-1");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "language")), "en");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "to")), "jo@example.com");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "subject")), "Reminder");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "text")), SECRET_TEXT);
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "html")), "<p>" SECRET_TEXT "</p>");
    ASSERT(json_is_integer(json_object_get(o, "send_at")));
    ASSERT_EQ(json_integer_value(json_object_get(o, "send_at")), 1795000000);
    ASSERT_EQ(json_object_size(o), 10);
    json_decref(o);
}

static void no_text_in(const tm_send_result *r, const struct tm_err *err)
{
    ASSERT(strstr(r->detail, "overdue") == NULL);
    ASSERT(err == NULL || strstr(err->msg, "overdue") == NULL);
}

/* A port with nothing listening: bind an ephemeral port, then close it. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof sa));
    socklen_t sl = sizeof sa;
    ASSERT_OK(getsockname(fd, (struct sockaddr *)&sa, &sl));
    close(fd);
    return ntohs(sa.sin_port);
}

/* ---- Webhook ----------------------------------------------------------------------------- */

TEST(webhook_200_sent_with_headers_and_body)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_OK);
    char url[128];
    tm_webhook_opts o = {.auth_header = "Bearer t0k"};
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/hook?tenant=7"), &o, &a, &err));
    tm_message m = email_msg("k-200:1");
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_EQ(r.http_status, 200);
    no_text_in(&r, &err);
    ASSERT_EQ(srv_hits(&s), 1);
    pthread_mutex_lock(&s.mu);
    ASSERT_STR_EQ(s.keys[0], "k-200:1");
    ASSERT_STR_EQ(s.ctype, "application/json");
    ASSERT_STR_EQ(s.auth, "Bearer t0k");
    ASSERT_STR_EQ(s.uri, "/hook?tenant=7");
    ASSERT(s.post);
    check_json(s.body, "k-200:1");
    pthread_mutex_unlock(&s.mu);

    /* The adapter is reusable: a second message on the same base. */
    tm_message m2 = email_msg("k-200:2");
    m2.subject = NULL;
    m2.html = NULL;
    m2.channel = "sms";
    ASSERT_OK(tm_adapter_send(a, &m2, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    pthread_mutex_lock(&s.mu);
    ASSERT_STR_EQ(s.keys[1], "k-200:2");
    json_t *j = json_loads(s.body, 0, NULL);
    ASSERT(j != NULL);
    ASSERT(json_is_null(json_object_get(j, "subject")));
    ASSERT(json_is_null(json_object_get(j, "html")));
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "channel")), "sms");
    json_decref(j);
    pthread_mutex_unlock(&s.mu);
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

/* The receiver's side of the signature: HMAC-SHA256 under the shared secret of
 * "<timestamp>.<body>", as docs/operations.md tells a receiver to check it. */
static void expect_signature(const char *secret, const char *ts, const char *body, const char *sig)
{
    char msg[8192];
    int n = snprintf(msg, sizeof msg, "%s.%s", ts, body);
    ASSERT(n > 0 && (size_t)n < sizeof msg);
    unsigned char mac[32];
    unsigned int ml = 0;
    ASSERT(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, (size_t)n, mac, &ml) != NULL);
    char want[80] = "v1=";
    for (unsigned i = 0; i < ml; i++)
        snprintf(want + 3 + 2 * i, sizeof want - 3 - 2 * i, "%02x", mac[i]);
    ASSERT_STR_EQ(sig, want);
}

TEST(webhook_signed_with_timestamp)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_FAIL2);
    char url[128];
    static const char secret[] = "whsec-4f1c2a";
    tm_webhook_opts o = {.signing_secret = secret, .signing_secret_len = strlen(secret), .backoff_ms = 1};
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/hook"), &o, &a, &err));
    tm_message m = email_msg("k-sig:1");
    tm_send_result r;
    long before = (long)time(NULL);
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    long after = (long)time(NULL);
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(r.attempts, 3); /* two 503s, then 200: each attempt signed, the key the same */
    pthread_mutex_lock(&s.mu);
    ASSERT_STR_EQ(s.keys[0], "k-sig:1");
    ASSERT_STR_EQ(s.keys[2], "k-sig:1");
    long ts = strtol(s.ts, NULL, 10);
    ASSERT(ts >= before && ts <= after);
    expect_signature(secret, s.ts, s.body, s.sig);
    pthread_mutex_unlock(&s.mu);
    tm_adapter_free(a);
    srv_stop(&s);

    /* Without a secret, no signature headers. */
    srv_start(&s, S_OK);
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/hook"), NULL, &a, &err));
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    pthread_mutex_lock(&s.mu);
    ASSERT_STR_EQ(s.ts, "");
    ASSERT_STR_EQ(s.sig, "");
    pthread_mutex_unlock(&s.mu);
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

TEST(webhook_503_twice_then_200)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_FAIL2);
    char url[128];
    tm_webhook_opts o = {.backoff_ms = 20};
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/"), &o, &a, NULL));
    tm_message m = email_msg("key-503");
    tm_send_result r;
    long long t0 = now_ms();
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    long long el = now_ms() - t0;
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(r.attempts, 3);
    ASSERT_EQ(r.http_status, 200);
    ASSERT_EQ(srv_hits(&s), 3);
    for (int i = 0; i < 3; i++)
        ASSERT_STR_EQ(s.keys[i], "key-503");
    ASSERT(el >= 20 + 40);
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

TEST(webhook_500_always_retry_after_max_attempts)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_500);
    char url[128];
    tm_webhook_opts o = {.max_attempts = 4, .backoff_ms = 15};
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/x"), &o, &a, NULL));
    tm_message m = email_msg("key-500");
    tm_send_result r;
    struct tm_err err = {0};
    long long t0 = now_ms();
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    long long el = now_ms() - t0;
    ASSERT_EQ(r.outcome, TM_SEND_RETRY);
    ASSERT_EQ(r.attempts, 4);
    ASSERT_EQ(r.http_status, 500);
    ASSERT_EQ(srv_hits(&s), 4);
    ASSERT_CONTAINS(r.detail, "500");
    no_text_in(&r, &err);
    ASSERT(el >= 15 + 30 + 60);
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

TEST(webhook_default_backoff_doubles)
{
    /* Defaults: 5 attempts, 200 ms doubling: at least 200+400+800+1600 ms before giving up. */
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_500);
    char url[128];
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/"), NULL, &a, NULL));
    tm_message m = email_msg("key-defaults");
    tm_send_result r;
    long long t0 = now_ms();
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    long long el = now_ms() - t0;
    ASSERT_EQ(r.outcome, TM_SEND_RETRY);
    ASSERT_EQ(r.attempts, 5);
    ASSERT_EQ(srv_hits(&s), 5);
    ASSERT(el >= 200 + 400 + 800 + 1600);
    tm_adapter_free(a);
    srv_stop(&s);
}

TEST(webhook_408_and_429_are_retried)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_408_ONCE);
    char url[128];
    tm_webhook_opts o = {.backoff_ms = 5};
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/"), &o, &a, NULL));
    tm_message m = email_msg("key-408");
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(r.attempts, 2);
    ASSERT_EQ(r.http_status, 204);
    tm_adapter_free(a);
    srv_stop(&s);

    /* 429 with Retry-After: 1 waits at least 1 s (cap 10 s by default) before retrying. */
    srv_start(&s, S_429_RA);
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/"), &o, &a, NULL));
    m = email_msg("key-429");
    long long t0 = now_ms();
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(r.attempts, 2);
    ASSERT(now_ms() - t0 >= 1000);
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

TEST(webhook_400_failed_once)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_400);
    char url[128];
    tm_webhook_opts o = {.backoff_ms = 5};
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/"), &o, &a, NULL));
    tm_message m = email_msg("key-400");
    tm_send_result r;
    struct tm_err err = {0};
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_FAILED);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_EQ(r.http_status, 400);
    ASSERT_EQ(srv_hits(&s), 1);
    ASSERT_CONTAINS(r.detail, "400");
    no_text_in(&r, &err);
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

TEST(webhook_409_duplicate)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_409);
    char url[128];
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/"), NULL, &a, NULL));
    tm_message m = email_msg("key-409");
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_DUPLICATE);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_EQ(r.http_status, 409);
    ASSERT_EQ(srv_hits(&s), 1);
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

TEST(webhook_never_answers_times_out)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_NEVER);
    char url[128];
    tm_webhook_opts o = {.max_attempts = 2, .backoff_ms = 10, .timeout_ms = 200};
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/"), &o, &a, NULL));
    tm_message m = email_msg("key-never");
    tm_send_result r;
    struct tm_err err = {0};
    long long t0 = now_ms();
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    long long el = now_ms() - t0;
    ASSERT_EQ(r.outcome, TM_SEND_RETRY);
    ASSERT_EQ(r.attempts, 2);
    ASSERT_EQ(r.http_status, 0);
    ASSERT_CONTAINS(r.detail, "timed out");
    no_text_in(&r, &err);
    ASSERT(el >= 200 + 10 + 200);
    ASSERT_EQ(srv_hits(&s), 2);
    ASSERT_STR_EQ(s.keys[1], "key-never");
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

TEST(webhook_connection_refused)
{
    signal(SIGPIPE, SIG_IGN);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", closed_port());
    tm_webhook_opts o = {.max_attempts = 3, .backoff_ms = 10, .timeout_ms = 1000};
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(url, &o, &a, NULL));
    tm_message m = email_msg("key-refused");
    tm_send_result r;
    struct tm_err err = {0};
    long long t0 = now_ms();
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_RETRY);
    ASSERT_EQ(r.attempts, 3);
    ASSERT_EQ(r.http_status, 0);
    ASSERT_CONTAINS(r.detail, "connection");
    ASSERT(now_ms() - t0 >= 10 + 20);
    no_text_in(&r, &err);
    tm_adapter_free(a);
    LEAK_CHECK();
}

TEST(webhook_open_refusals)
{
    tm_adapter *a = (tm_adapter *)&a;
    struct tm_err err = {0};
    ASSERT_EQ(tm_webhook_open("ftp://example.com/", NULL, &a, &err), TM_EINVAL);
    ASSERT(a == NULL);
    ASSERT_CONTAINS(err.msg, "http:// or https://");
    ASSERT_EQ(tm_webhook_open("example.com/hook", NULL, &a, &err), TM_EINVAL);
    ASSERT_EQ(tm_webhook_open("http://", NULL, &a, &err), TM_EINVAL);
    ASSERT_EQ(tm_webhook_open("not a url at all", NULL, &a, &err), TM_EINVAL);
    ASSERT_EQ(tm_webhook_open(NULL, NULL, &a, &err), TM_EINVAL);
    ASSERT_EQ(tm_webhook_open("http://127.0.0.1/", NULL, NULL, &err), TM_EINVAL);
    tm_webhook_opts o = {.max_attempts = -1};
    ASSERT_EQ(tm_webhook_open("http://127.0.0.1/", &o, &a, &err), TM_EINVAL);
    o = (tm_webhook_opts){.timeout_ms = -5};
    ASSERT_EQ(tm_webhook_open("http://127.0.0.1/", &o, &a, &err), TM_EINVAL);
    o = (tm_webhook_opts){.max_attempts = 101};
    ASSERT_EQ(tm_webhook_open("http://127.0.0.1/", &o, &a, &err), TM_EINVAL);
    o = (tm_webhook_opts){.auth_header = "Bearer x\r\nX-Evil: 1"};
    ASSERT_EQ(tm_webhook_open("http://127.0.0.1/", &o, &a, &err), TM_EINVAL);
    ASSERT(a == NULL);
    /* Default port, no path. */
    ASSERT_OK(tm_webhook_open("http://localhost", NULL, &a, &err));
    tm_adapter_free(a);
    tm_adapter_free(NULL);
}

TEST(webhook_invalid_message_not_sent)
{
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    srv_start(&s, S_OK);
    char url[128];
    tm_adapter *a = NULL;
    ASSERT_OK(tm_webhook_open(srv_url(&s, url, sizeof url, "/"), NULL, &a, NULL));
    tm_send_result r;
    struct tm_err err = {0};
    tm_message m = email_msg("../x");
    ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EINVAL);
    ASSERT_EQ(r.outcome, TM_SEND_FAILED);
    ASSERT_EQ(r.attempts, 0);
    m = email_msg("ok-key");
    m.text = NULL;
    ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EINVAL);
    m = email_msg("ok-key");
    m.channel = "fax";
    ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EINVAL);
    m = email_msg("ok-key");
    m.text = "overdue \xff\xfe bytes";
    ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EENCODING);
    ASSERT_EQ(r.outcome, TM_SEND_FAILED);
    ASSERT_CONTAINS(err.msg, "text");
    no_text_in(&r, &err);
    ASSERT_EQ(tm_adapter_send(a, NULL, &r, &err), TM_EINVAL);
    ASSERT_EQ(tm_adapter_send(NULL, &m, &r, &err), TM_EINVAL);
    ASSERT_EQ(tm_adapter_send(a, &m, NULL, &err), TM_EINVAL);
    ASSERT_EQ(srv_hits(&s), 0);
    tm_adapter_free(a);
    srv_stop(&s);
    LEAK_CHECK();
}

/* ---- Keys and encoding ------------------------------------------------------------------- */

TEST(key_and_channel_validation)
{
    char k[TM_DISPATCH_KEY_MAX + 2];
    memset(k, 'a', sizeof k);
    k[TM_DISPATCH_KEY_MAX] = '\0';
    ASSERT(tm_dispatch_key_valid(k));
    k[TM_DISPATCH_KEY_MAX] = 'a';
    k[TM_DISPATCH_KEY_MAX + 1] = '\0';
    ASSERT(!tm_dispatch_key_valid(k));
    ASSERT(tm_dispatch_key_valid("A-z_0.9:x"));
    ASSERT(tm_dispatch_key_valid(".."));
    ASSERT(!tm_dispatch_key_valid(""));
    ASSERT(!tm_dispatch_key_valid(NULL));
    ASSERT(!tm_dispatch_key_valid("a/b"));
    ASSERT(!tm_dispatch_key_valid("../x"));
    ASSERT(!tm_dispatch_key_valid("a b"));
    ASSERT(!tm_dispatch_key_valid("a\\b"));
    ASSERT(!tm_dispatch_key_valid("caf\xc3\xa9"));
    const char *ok[] = {"sms", "email", "letter", "voice", "push", "whatsapp"};
    for (size_t i = 0; i < 6; i++)
        ASSERT(tm_dispatch_channel_valid(ok[i]));
    ASSERT(!tm_dispatch_channel_valid("SMS"));
    ASSERT(!tm_dispatch_channel_valid("../sms"));
    ASSERT(!tm_dispatch_channel_valid(NULL));
}

TEST(encode_all_fields)
{
    tm_message m = email_msg("enc-1");
    char *s = NULL;
    ASSERT_OK(tm_dispatch_encode(&m, &s, NULL));
    check_json(s, "enc-1");
    free(s);
    ASSERT_EQ(tm_dispatch_encode(&m, NULL, NULL), TM_EINVAL);
    m.key = "";
    ASSERT_EQ(tm_dispatch_encode(&m, &s, NULL), TM_EINVAL);
    ASSERT(s == NULL);
}

/* ---- File spool -------------------------------------------------------------------------- */

static void tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/tm_dispatch_XXXXXX");
    ASSERT(mkdtemp(buf) != NULL);
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
    ASSERT_EQ(system(cmd), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    ASSERT(buf != NULL);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int count_entries(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    ASSERT(p != NULL);
    int n = -1;
    ASSERT_EQ(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

TEST(spool_writes_json_file)
{
    char root[64], dir[128], path[256];
    tmpdir(root, sizeof root);
    snprintf(dir, sizeof dir, "%s/deep/spool", root); /* parents created too */
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_spool_open(dir, &a, &err));
    const char *chans[] = {"sms", "email", "letter", "voice", "push", "whatsapp"};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, chans[i]);
        struct stat st;
        ASSERT_OK(stat(path, &st));
        ASSERT(S_ISDIR(st.st_mode));
    }
    tm_message m = email_msg("D-1001:reminder-1:2026-11-23");
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_EQ(r.http_status, 0);
    no_text_in(&r, &err);
    snprintf(path, sizeof path, "%s/email/D-1001:reminder-1:2026-11-23.json", dir);
    char *body = slurp(path);
    ASSERT(body != NULL);
    check_json(body, "D-1001:reminder-1:2026-11-23");
    free(body);
    snprintf(path, sizeof path, "%s/email", dir);
    ASSERT_EQ(count_entries(path), 1); /* no temp file left behind */

    /* A letter with no destination. */
    tm_message l = {.key = "L1", .channel = "letter", .text = "Dear J,", .send_at = 5};
    ASSERT_OK(tm_adapter_send(a, &l, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    snprintf(path, sizeof path, "%s/letter/L1.json", dir);
    body = slurp(path);
    ASSERT(body != NULL);
    json_t *j = json_loads(body, 0, NULL);
    ASSERT(j != NULL);
    ASSERT(json_is_null(json_object_get(j, "to")));
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "text")), "Dear J,");
    json_decref(j);
    free(body);
    tm_adapter_free(a);
    rm_rf(root);
}

TEST(spool_second_send_is_duplicate_and_file_unchanged)
{
    char dir[64], path[256];
    tmpdir(dir, sizeof dir);
    tm_adapter *a = NULL;
    ASSERT_OK(tm_spool_open(dir, &a, NULL));
    tm_message m = email_msg("dup-1");
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    snprintf(path, sizeof path, "%s/email/dup-1.json", dir);
    char *before = slurp(path);
    struct stat st1, st2;
    ASSERT_OK(stat(path, &st1));

    m.text = "different text";
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_DUPLICATE);
    ASSERT_EQ(r.attempts, 0);
    char *after = slurp(path);
    ASSERT_STR_EQ(after, before);
    ASSERT_OK(stat(path, &st2));
    ASSERT_EQ(st1.st_ino, st2.st_ino);
    ASSERT_EQ(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
    free(before);
    free(after);

    /* A rerun with a fresh adapter (after a crash) sends nothing twice. */
    tm_adapter_free(a);
    ASSERT_OK(tm_spool_open(dir, &a, NULL));
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_DUPLICATE);
    /* The same key on another channel is a different file. */
    m.channel = "sms";
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    tm_adapter_free(a);
    rm_rf(dir);
}

TEST(spool_bad_keys_refused)
{
    char dir[64], path[256];
    tmpdir(dir, sizeof dir);
    tm_adapter *a = NULL;
    ASSERT_OK(tm_spool_open(dir, &a, NULL));
    const char *bad[] = {"../x", "", "a/b", "/etc/passwd", "a b", "x\n", "..\\x"};
    tm_send_result r;
    struct tm_err err = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tm_message m = email_msg(bad[i]);
        ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EINVAL);
        ASSERT_EQ(r.outcome, TM_SEND_FAILED);
        ASSERT_EQ(r.attempts, 0);
    }
    tm_message m = email_msg(NULL);
    ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EINVAL);
    m = email_msg("ok");
    m.channel = "../email";
    ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EINVAL);
    m.channel = NULL;
    ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EINVAL);
    /* Nothing was created anywhere: only .lock and the seven channel directories. */
    ASSERT_EQ(count_entries(dir), 8);
    snprintf(path, sizeof path, "%s/email", dir);
    ASSERT_EQ(count_entries(path), 0);
    snprintf(path, sizeof path, "%s/x.json", dir);
    ASSERT(!exists(path));
    /* ".." is a legal key and stays inside the channel directory. */
    m = email_msg("..");
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    snprintf(path, sizeof path, "%s/email/...json", dir);
    ASSERT(exists(path));
    tm_adapter_free(a);
    rm_rf(dir);
}

TEST(spool_leftover_temp_file)
{
    char dir[64], path[256];
    tmpdir(dir, sizeof dir);
    tm_adapter *a = NULL;
    ASSERT_OK(tm_spool_open(dir, &a, NULL));
    /* A crash mid-write left a partial temp file (and one from another key). */
    snprintf(path, sizeof path, "%s/email/.crash-1.json.tmp", dir);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs("{\"key\":\"crash-1\",\"tex", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/email/.other.json.tmp", dir);
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs("garbage", f);
    fclose(f);

    tm_message m = email_msg("crash-1");
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    snprintf(path, sizeof path, "%s/email/crash-1.json", dir);
    char *body = slurp(path);
    ASSERT(body != NULL);
    check_json(body, "crash-1");
    free(body);
    snprintf(path, sizeof path, "%s/email/.crash-1.json.tmp", dir);
    ASSERT(!exists(path));
    /* The unrelated temp file does not count as delivered. */
    m = email_msg("other");
    ASSERT_OK(tm_adapter_send(a, &m, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    tm_adapter_free(a);
    rm_rf(dir);
}

TEST(spool_unwritable_directory)
{
    char dir[64], path[256];
    tmpdir(dir, sizeof dir);
    tm_adapter *a = (tm_adapter *)&a;
    struct tm_err err = {0};

    /* A path below a regular file cannot be created (this works as root too). */
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fclose(f);
    snprintf(path, sizeof path, "%s/file/spool", dir);
    ASSERT_EQ(tm_spool_open(path, &a, &err), TM_EIO);
    ASSERT(a == NULL);
    ASSERT_CONTAINS(err.msg, "cannot create directory");
    ASSERT_EQ(tm_spool_open("", &a, &err), TM_EINVAL);
    ASSERT_EQ(tm_spool_open(NULL, &a, &err), TM_EINVAL);
    ASSERT_EQ(tm_spool_open(dir, NULL, &err), TM_EINVAL);

    /* Permission bits only stop non-root users. */
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/ro", dir);
        ASSERT_OK(mkdir(path, 0500));
        snprintf(path, sizeof path, "%s/ro/spool", dir);
        ASSERT_EQ(tm_spool_open(path, &a, &err), TM_EIO);
        ASSERT(a == NULL);
    }

    /* A channel directory replaced by a file after open: send fails cleanly, nothing left. */
    snprintf(path, sizeof path, "%s/s", dir);
    ASSERT_OK(tm_spool_open(path, &a, &err));
    snprintf(path, sizeof path, "%s/s/sms", dir);
    ASSERT_OK(rmdir(path));
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fclose(f);
    tm_message m = email_msg("io-1");
    m.channel = "sms";
    tm_send_result r;
    ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EIO);
    ASSERT_EQ(r.outcome, TM_SEND_RETRY);
    ASSERT_CONTAINS(err.msg, "sms");
    no_text_in(&r, &err);

    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/s/email", dir);
        ASSERT_OK(chmod(path, 0500));
        m.channel = "email";
        ASSERT_EQ(tm_adapter_send(a, &m, &r, &err), TM_EIO);
        ASSERT_EQ(r.outcome, TM_SEND_RETRY);
        ASSERT_EQ(count_entries(path), 0);
    }
    tm_adapter_free(a);
    rm_rf(dir);
}

TEST(spool_lock_is_exclusive)
{
    char dir[64];
    tmpdir(dir, sizeof dir);
    tm_adapter *a = NULL, *b = (tm_adapter *)&b;
    struct tm_err err = {0};
    ASSERT_OK(tm_spool_open(dir, &a, &err));
    ASSERT_EQ(tm_spool_open(dir, &b, &err), TM_EBUSY);
    ASSERT(b == NULL);
    tm_adapter_free(a);
    ASSERT_OK(tm_spool_open(dir, &b, &err));
    tm_adapter_free(b);
    rm_rf(dir);
}

TEST(spool_batched_flush_and_cut_short_file_written_again)
{
    char dir[64], path[256];
    tmpdir(dir, sizeof dir);
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_spool_open(dir, &a, &err));
    ASSERT_EQ(tm_adapter_concurrent(a), 1);
    tm_adapter_batch(a, 1);
    tm_message m = email_msg("B-1:step:0");
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &m, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_OK(tm_adapter_flush(a, &err));
    /* A file left cut short (no closing newline), as after a power loss
     * before the batch's sync: the next send of its key writes it whole. */
    snprintf(path, sizeof path, "%s/email/B-2:step:0.json", dir);
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    fputs("{\"key\":\"B-2:st", f);
    fclose(f);
    tm_message m2 = email_msg("B-2:step:0");
    ASSERT_OK(tm_adapter_send(a, &m2, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    char *body = slurp(path);
    ASSERT(body != NULL);
    check_json(body, "B-2:step:0");
    ASSERT(body[strlen(body) - 1] == '\n');
    free(body);
    /* A whole file is left alone: a duplicate. */
    ASSERT_OK(tm_adapter_send(a, &m2, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_DUPLICATE);
    /* An empty one is cut short too. */
    snprintf(path, sizeof path, "%s/email/B-3:step:0.json", dir);
    f = fopen(path, "wb");
    ASSERT(f != NULL);
    fclose(f);
    tm_message m3 = email_msg("B-3:step:0");
    ASSERT_OK(tm_adapter_send(a, &m3, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_OK(tm_adapter_flush(a, &err));
    tm_adapter_batch(a, 0);
    tm_adapter_free(a);
    rm_rf(dir);
}

TEST(webhook_is_not_concurrent_and_flush_is_a_no_op)
{
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_webhook_open("http://127.0.0.1:9/hook", NULL, &a, &err));
    ASSERT_EQ(tm_adapter_concurrent(a), 0);
    tm_adapter_batch(a, 1);
    ASSERT_OK(tm_adapter_flush(a, &err));
    tm_adapter_free(a);
    ASSERT_EQ(tm_adapter_concurrent(NULL), 0);
    ASSERT_OK(tm_adapter_flush(NULL, &err));
}
