/*
 * tests/unit/test_webhook_tls.c: the webhook adapter over https.
 *
 * Each test makes a throw-away CA and server certificate with the OpenSSL API (EC P-256, valid
 * from an hour ago for a day), writes the CA to a temp file for ca_file, and starts a libevent
 * HTTPS server on loopback (evhttp_set_bevcb with an OpenSSL bufferevent) in a background
 * thread. The server's counters are the oracle: a refused certificate must leave it with no
 * request at all. Nothing asserts on time; nothing leaves loopback. Under AddressSanitizer each
 * test ends with a leak check (the runner's _exit() skips LeakSanitizer).
 */
#include "harness.h"

#include "dispatch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() ASSERT_EQ(__lsan_do_recoverable_leak_check(), 0)
#else
#define LEAK_CHECK() ((void)0)
#endif

/* ---- Throw-away PKI ---------------------------------------------------------------------- */

typedef struct pki {
    EVP_PKEY *ca_key;
    X509 *ca;
    char dir[64];
    char ca_file[128];
} pki;

typedef struct leaf {
    EVP_PKEY *key;
    X509 *cert;
} leaf;

/* Adds one v3 extension given in openssl.cnf syntax, with issuer/subject for key ids. */
static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ASSERT(ext != NULL);
    ASSERT_EQ(X509_add_ext(cert, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* Makes a certificate for `key` named cn, signed by issuer/issuer_key (self-signed when
 * issuer is NULL), with the given serial and extensions (NULL san: none). Caller frees. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       long serial, int is_ca, const char *san, const char *eku)
{
    X509 *c = X509_new();
    ASSERT(c != NULL);
    ASSERT_EQ(X509_set_version(c, 2), 1);
    ASSERT_EQ(ASN1_INTEGER_set(X509_get_serialNumber(c), serial), 1);
    ASSERT(X509_gmtime_adj(X509_getm_notBefore(c), -3600) != NULL);
    ASSERT(X509_gmtime_adj(X509_getm_notAfter(c), 86400) != NULL);
    ASSERT_EQ(X509_set_pubkey(c, key), 1);
    X509_NAME *name = X509_get_subject_name(c);
    ASSERT_EQ(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                         (const unsigned char *)"tallyman tests", -1, -1, 0),
              1);
    ASSERT_EQ(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
                                         -1, -1, 0),
              1);
    X509 *signer = issuer ? issuer : c;
    ASSERT_EQ(X509_set_issuer_name(c, X509_get_subject_name(signer)), 1);
    add_ext(c, signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(c, signer, NID_key_usage,
            is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_ext(c, signer, NID_subject_key_identifier, "hash");
    if (issuer != NULL)
        add_ext(c, signer, NID_authority_key_identifier, "keyid:always");
    if (san != NULL)
        add_ext(c, signer, NID_subject_alt_name, san);
    if (eku != NULL)
        add_ext(c, signer, NID_ext_key_usage, eku);
    ASSERT(X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return c;
}

static void pki_new(pki *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/tm-tls-%d", (int)getpid());
    ASSERT(mkdir(p->dir, 0700) == 0 || errno == EEXIST);
    snprintf(p->ca_file, sizeof p->ca_file, "%s/ca.pem", p->dir);
    ASSERT((p->ca_key = EVP_EC_gen("P-256")) != NULL);
    p->ca = make_cert(p->ca_key, "tallyman test CA", NULL, NULL, 1, 1, NULL, NULL);
    FILE *f = fopen(p->ca_file, "w");
    ASSERT(f != NULL);
    ASSERT_EQ(PEM_write_X509(f, p->ca), 1);
    ASSERT_OK(fclose(f));
}

/* A leaf signed by the CA: a server certificate for san, or a client one (san NULL). */
static void leaf_new(pki *p, leaf *l, const char *cn, const char *san, long serial)
{
    ASSERT((l->key = EVP_EC_gen("P-256")) != NULL);
    l->cert = make_cert(l->key, cn, p->ca, p->ca_key, serial, 0, san,
                        san ? "serverAuth" : "clientAuth");
}

/* Writes the leaf's certificate and key into one PEM file at path. */
static void leaf_write(const leaf *l, const char *path)
{
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    ASSERT_EQ(PEM_write_X509(f, l->cert), 1);
    ASSERT_EQ(PEM_write_PrivateKey(f, l->key, NULL, NULL, 0, NULL, NULL), 1);
    ASSERT_OK(fclose(f));
}

static void leaf_free(leaf *l)
{
    X509_free(l->cert);
    EVP_PKEY_free(l->key);
}

static void pki_free(pki *p)
{
    X509_free(p->ca);
    EVP_PKEY_free(p->ca_key);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", p->dir);
    ASSERT_EQ(system(cmd), 0);
}

/* ---- HTTPS server ------------------------------------------------------------------------ */

enum { S_OK, S_503_ONCE };

struct server {
    pthread_t th;
    struct event_base *base;
    struct evhttp *http;
    struct event *stopev;
    SSL_CTX *ctx;
    int pipefd[2];
    int port;
    int mode;
    pthread_mutex_t mu;
    int hits;
    char key[256];
};

static void handle(struct evhttp_request *req, void *arg)
{
    struct server *s = arg;
    const char *k = evhttp_find_header(evhttp_request_get_input_headers(req), "Idempotency-Key");
    pthread_mutex_lock(&s->mu);
    int n = s->hits++;
    snprintf(s->key, sizeof s->key, "%s", k ? k : "");
    pthread_mutex_unlock(&s->mu);
    int code = s->mode == S_503_ONCE && n == 0 ? 503 : 200;
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Busy", NULL);
}

/* evhttp's per-connection hook: every accepted socket speaks TLS with the server's context. */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    struct server *s = arg;
    SSL *ssl = SSL_new(s->ctx);
    if (ssl == NULL)
        return NULL;
    struct bufferevent *b = bufferevent_openssl_socket_new(base, -1, ssl,
                                                           BUFFEREVENT_SSL_ACCEPTING,
                                                           BEV_OPT_CLOSE_ON_FREE);
    return b;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(((struct server *)arg)->base);
}

static void *loop(void *arg)
{
    event_base_dispatch(((struct server *)arg)->base);
    return NULL;
}

/* The first address "localhost" resolves to, as the client will resolve it (libevent asks
 * getaddrinfo for a TCP stream socket on configured address families). */
static void localhost_addr(char *buf, size_t size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_protocol = IPPROTO_TCP, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *ai = NULL;
    ASSERT_OK(getaddrinfo("localhost", NULL, &hints, &ai));
    ASSERT(getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, (socklen_t)size, NULL, 0,
                       NI_NUMERICHOST) == 0);
    freeaddrinfo(ai);
}

/* Starts the server on bind_addr (NULL: where "localhost" resolves) with the leaf as its
 * certificate; with client_ca, it demands a client certificate from that CA. */
static void srv_start(struct server *s, int mode, const char *bind_addr, const leaf *cert,
                      X509 *client_ca)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    pthread_mutex_init(&s->mu, NULL);
    ASSERT((s->ctx = SSL_CTX_new(TLS_server_method())) != NULL);
    ASSERT_EQ(SSL_CTX_use_certificate(s->ctx, cert->cert), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey(s->ctx, cert->key), 1);
    if (client_ca != NULL) {
        ASSERT_EQ(X509_STORE_add_cert(SSL_CTX_get_cert_store(s->ctx), client_ca), 1);
        SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    char addr[64];
    if (bind_addr == NULL)
        localhost_addr(addr, sizeof addr);
    else
        snprintf(addr, sizeof addr, "%s", bind_addr);
    ASSERT((s->base = event_base_new()) != NULL);
    ASSERT((s->http = evhttp_new(s->base)) != NULL);
    evhttp_set_bevcb(s->http, tls_bev, s);
    evhttp_set_gencb(s->http, handle, s);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, addr, 0);
    ASSERT(bs != NULL);
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    ASSERT_OK(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl));
    s->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                             : ((struct sockaddr_in *)&sa)->sin_port);
    ASSERT_OK(pipe(s->pipefd));
    ASSERT((s->stopev = event_new(s->base, s->pipefd[0], EV_READ, stop_cb, s)) != NULL);
    ASSERT_OK(event_add(s->stopev, NULL));
    ASSERT_OK(pthread_create(&s->th, NULL, loop, s));
}

static void srv_stop(struct server *s)
{
    ASSERT_EQ(write(s->pipefd[1], "x", 1), 1);
    ASSERT_OK(pthread_join(s->th, NULL));
    evhttp_free(s->http);
    event_free(s->stopev);
    event_base_free(s->base);
    SSL_CTX_free(s->ctx);
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

static const tm_message msg = {.key = "d1:early:1:email", .channel = "email", .debt_id = "D1",
                               .to = "ann@example.com", .subject = "Your account",
                               .text = "This is a message from a debt collector.",
                               .send_at = 1795000000};

/* Names loopback by host name (checked against the certificate's DNS SAN) when host is
 * "localhost", or by address. */
static const char *url_for(char *buf, size_t size, const char *host, int port)
{
    snprintf(buf, size, "https://%s:%d/hook", host, port);
    return buf;
}

#define SERVER_SAN "DNS:localhost,IP:127.0.0.1,IP:::1"

/* ---- Tests ------------------------------------------------------------------------------- */

TEST(tls_delivers_with_private_ca)
{
    signal(SIGPIPE, SIG_IGN);
    pki p;
    pki_new(&p);
    leaf srv;
    leaf_new(&p, &srv, "localhost", SERVER_SAN, 2);
    struct server s;
    srv_start(&s, S_OK, NULL, &srv, NULL);
    tm_webhook_opts o = {.ca_file = p.ca_file, .max_attempts = 2, .backoff_ms = 5};
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    char url[128];
    ASSERT_OK(tm_webhook_open(url_for(url, sizeof url, "localhost", s.port), &o, &a, &err));
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &msg, &r, &err));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_EQ(r.http_status, 200);
    ASSERT_EQ(srv_hits(&s), 1);
    ASSERT_STR_EQ(s.key, msg.key);
    tm_adapter_free(a);
    srv_stop(&s);
    leaf_free(&srv);
    pki_free(&p);
    LEAK_CHECK();
}

TEST(tls_delivers_to_ip_literal_with_ip_san)
{
    signal(SIGPIPE, SIG_IGN);
    pki p;
    pki_new(&p);
    leaf srv;
    leaf_new(&p, &srv, "localhost", SERVER_SAN, 2);
    struct server s;
    srv_start(&s, S_OK, "127.0.0.1", &srv, NULL);
    tm_webhook_opts o = {.ca_file = p.ca_file, .max_attempts = 1};
    tm_adapter *a = NULL;
    char url[128];
    ASSERT_OK(tm_webhook_open(url_for(url, sizeof url, "127.0.0.1", s.port), &o, &a, NULL));
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &msg, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(srv_hits(&s), 1);
    tm_adapter_free(a);
    srv_stop(&s);
    leaf_free(&srv);
    pki_free(&p);
    LEAK_CHECK();
}

TEST(tls_untrusted_ca_refused_once_and_named)
{
    signal(SIGPIPE, SIG_IGN);
    pki p;
    pki_new(&p);
    leaf srv;
    leaf_new(&p, &srv, "localhost", SERVER_SAN, 2);
    struct server s;
    srv_start(&s, S_OK, NULL, &srv, NULL);
    /* No ca_file: the system store does not know the throw-away CA. Five attempts allowed,
     * one made: a certificate that fails now fails the same way on every retry. */
    tm_webhook_opts o = {.max_attempts = 5, .backoff_ms = 5};
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    char url[128];
    ASSERT_OK(tm_webhook_open(url_for(url, sizeof url, "localhost", s.port), &o, &a, &err));
    tm_send_result r;
    ASSERT_EQ(tm_adapter_send(a, &msg, &r, &err), TM_ECRYPTO);
    ASSERT_EQ(r.outcome, TM_SEND_FAILED);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_EQ(r.http_status, 0);
    ASSERT_CONTAINS(r.detail, "TLS certificate of localhost not trusted");
    ASSERT_CONTAINS(r.detail, "unable to get local issuer certificate");
    ASSERT_CONTAINS(err.msg, "localhost");
    ASSERT_CONTAINS(err.msg, "unable to get local issuer certificate");
    ASSERT_EQ(err.code, TM_ECRYPTO);
    ASSERT_EQ(srv_hits(&s), 0); /* no request was sent over an unverified channel */
    tm_adapter_free(a);
    srv_stop(&s);
    leaf_free(&srv);
    pki_free(&p);
    LEAK_CHECK();
}

TEST(tls_self_signed_server_refused)
{
    signal(SIGPIPE, SIG_IGN);
    pki p;
    pki_new(&p);
    /* The server presents the CA certificate itself: a self-signed certificate, not in the
     * system store, and without the host name. */
    leaf self = {.key = p.ca_key, .cert = p.ca};
    struct server s;
    srv_start(&s, S_OK, NULL, &self, NULL);
    tm_webhook_opts o = {.max_attempts = 3, .backoff_ms = 5};
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    char url[128];
    ASSERT_OK(tm_webhook_open(url_for(url, sizeof url, "localhost", s.port), &o, &a, &err));
    tm_send_result r;
    ASSERT_EQ(tm_adapter_send(a, &msg, &r, &err), TM_ECRYPTO);
    ASSERT_EQ(r.outcome, TM_SEND_FAILED);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_CONTAINS(r.detail, "self-signed certificate");
    ASSERT_EQ(srv_hits(&s), 0);
    tm_adapter_free(a);
    srv_stop(&s);
    pki_free(&p);
    LEAK_CHECK();
}

TEST(tls_hostname_mismatch_refused)
{
    signal(SIGPIPE, SIG_IGN);
    pki p;
    pki_new(&p);
    leaf other;
    leaf_new(&p, &other, "webhooks.example.net", "DNS:webhooks.example.net", 3);
    struct server s;
    srv_start(&s, S_OK, NULL, &other, NULL);
    /* The chain is trusted; only the name is wrong. */
    tm_webhook_opts o = {.ca_file = p.ca_file, .max_attempts = 3, .backoff_ms = 5};
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    char url[128];
    ASSERT_OK(tm_webhook_open(url_for(url, sizeof url, "localhost", s.port), &o, &a, &err));
    tm_send_result r;
    ASSERT_EQ(tm_adapter_send(a, &msg, &r, &err), TM_ECRYPTO);
    ASSERT_EQ(r.outcome, TM_SEND_FAILED);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_CONTAINS(r.detail, "localhost");
    ASSERT_CONTAINS(r.detail, "hostname mismatch");
    ASSERT_EQ(srv_hits(&s), 0);
    tm_adapter_free(a);
    srv_stop(&s);
    leaf_free(&other);
    pki_free(&p);
    LEAK_CHECK();
}

TEST(tls_ip_mismatch_refused)
{
    signal(SIGPIPE, SIG_IGN);
    pki p;
    pki_new(&p);
    leaf srv;
    leaf_new(&p, &srv, "127.0.0.1", "DNS:localhost", 2); /* no IP SAN; CN is not looked at */
    struct server s;
    srv_start(&s, S_OK, "127.0.0.1", &srv, NULL);
    tm_webhook_opts o = {.ca_file = p.ca_file, .max_attempts = 2, .backoff_ms = 5};
    tm_adapter *a = NULL;
    struct tm_err err = {0};
    char url[128];
    ASSERT_OK(tm_webhook_open(url_for(url, sizeof url, "127.0.0.1", s.port), &o, &a, &err));
    tm_send_result r;
    ASSERT_EQ(tm_adapter_send(a, &msg, &r, &err), TM_ECRYPTO);
    ASSERT_EQ(r.outcome, TM_SEND_FAILED);
    ASSERT_CONTAINS(r.detail, "IP address mismatch");
    ASSERT_EQ(srv_hits(&s), 0);
    tm_adapter_free(a);
    srv_stop(&s);
    leaf_free(&srv);
    pki_free(&p);
    LEAK_CHECK();
}

TEST(tls_503_retried_then_sent)
{
    signal(SIGPIPE, SIG_IGN);
    pki p;
    pki_new(&p);
    leaf srv;
    leaf_new(&p, &srv, "localhost", SERVER_SAN, 2);
    struct server s;
    srv_start(&s, S_503_ONCE, NULL, &srv, NULL);
    tm_webhook_opts o = {.ca_file = p.ca_file, .backoff_ms = 5};
    tm_adapter *a = NULL;
    char url[128];
    ASSERT_OK(tm_webhook_open(url_for(url, sizeof url, "localhost", s.port), &o, &a, NULL));
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &msg, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    ASSERT_EQ(r.attempts, 2);
    ASSERT_EQ(r.http_status, 200);
    ASSERT_EQ(srv_hits(&s), 2);
    tm_adapter_free(a);
    srv_stop(&s);
    leaf_free(&srv);
    pki_free(&p);
    LEAK_CHECK();
}

TEST(tls_plain_http_server_is_a_retryable_failure)
{
    signal(SIGPIPE, SIG_IGN);
    /* An https URL pointed at a server that does not speak TLS: the handshake fails for a
     * reason that is not the certificate, so it stays retryable, with OpenSSL's reason. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_OK(listen(fd, 8));
    socklen_t sl = sizeof sa;
    ASSERT_OK(getsockname(fd, (struct sockaddr *)&sa, &sl));
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) { /* answers every connection with a plain HTTP response */
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0)
                _exit(0);
            static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
            if (write(c, resp, sizeof resp - 1) < 0)
                _exit(1);
            close(c);
        }
    }
    close(fd);
    tm_webhook_opts o = {.max_attempts = 2, .backoff_ms = 5};
    tm_adapter *a = NULL;
    char url[128];
    ASSERT_OK(tm_webhook_open(url_for(url, sizeof url, "127.0.0.1", ntohs(sa.sin_port)), &o, &a,
                              NULL));
    tm_send_result r;
    ASSERT_OK(tm_adapter_send(a, &msg, &r, NULL));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ASSERT_EQ(r.outcome, TM_SEND_RETRY);
    ASSERT_EQ(r.attempts, 2);
    ASSERT_CONTAINS(r.detail, "TLS connection to 127.0.0.1 failed");
    tm_adapter_free(a);
    LEAK_CHECK();
}

TEST(tls_mutual_client_certificate)
{
    signal(SIGPIPE, SIG_IGN);
    pki p;
    pki_new(&p);
    leaf srv, cli;
    leaf_new(&p, &srv, "localhost", SERVER_SAN, 2);
    leaf_new(&p, &cli, "tallyman client", NULL, 4);
    char both[160], certonly[160], keyonly[160];
    snprintf(both, sizeof both, "%s/client.pem", p.dir);
    leaf_write(&cli, both);
    snprintf(certonly, sizeof certonly, "%s/client.crt", p.dir);
    snprintf(keyonly, sizeof keyonly, "%s/client.key", p.dir);
    FILE *f = fopen(certonly, "w");
    ASSERT(f != NULL);
    ASSERT_EQ(PEM_write_X509(f, cli.cert), 1);
    ASSERT_OK(fclose(f));
    ASSERT((f = fopen(keyonly, "w")) != NULL);
    ASSERT_EQ(PEM_write_PrivateKey(f, cli.key, NULL, NULL, 0, NULL, NULL), 1);
    ASSERT_OK(fclose(f));
    struct server s;
    srv_start(&s, S_OK, NULL, &srv, p.ca);
    char url[128];
    url_for(url, sizeof url, "localhost", s.port);
    tm_send_result r;
    tm_adapter *a = NULL;
    /* Certificate and key in one file. */
    tm_webhook_opts o = {.ca_file = p.ca_file, .client_cert = both, .max_attempts = 1};
    ASSERT_OK(tm_webhook_open(url, &o, &a, NULL));
    ASSERT_OK(tm_adapter_send(a, &msg, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    tm_adapter_free(a);
    /* Certificate and key in two files. */
    o.client_cert = certonly;
    o.client_key = keyonly;
    ASSERT_OK(tm_webhook_open(url, &o, &a, NULL));
    ASSERT_OK(tm_adapter_send(a, &msg, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_SENT);
    tm_adapter_free(a);
    ASSERT_EQ(srv_hits(&s), 2);
    /* Without a client certificate the server refuses the connection: not delivered, and not
     * our certificate check, so not TM_ECRYPTO. */
    o.client_cert = NULL;
    o.client_key = NULL;
    ASSERT_OK(tm_webhook_open(url, &o, &a, NULL));
    ASSERT_OK(tm_adapter_send(a, &msg, &r, NULL));
    ASSERT_EQ(r.outcome, TM_SEND_RETRY);
    ASSERT_EQ(srv_hits(&s), 2);
    tm_adapter_free(a);
    srv_stop(&s);
    leaf_free(&srv);
    leaf_free(&cli);
    pki_free(&p);
    LEAK_CHECK();
}

TEST(tls_open_refusals)
{
    pki p;
    pki_new(&p);
    tm_adapter *a = (tm_adapter *)&a;
    struct tm_err err = {0};
    /* https with the system store opens without touching the network. */
    ASSERT_OK(tm_webhook_open("https://example.com/hook", NULL, &a, &err));
    tm_adapter_free(a);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-ca.pem", p.dir);
    tm_webhook_opts o = {.ca_file = missing};
    ASSERT_EQ(tm_webhook_open("https://example.com/", &o, &a, &err), TM_EINVAL);
    ASSERT(a == NULL);
    ASSERT_CONTAINS(err.msg, "CA file");
    ASSERT_CONTAINS(err.msg, missing);
    /* A file that is not PEM. */
    char junk[160];
    snprintf(junk, sizeof junk, "%s/junk.pem", p.dir);
    FILE *f = fopen(junk, "w");
    ASSERT(f != NULL);
    fputs("not a certificate\n", f);
    ASSERT_OK(fclose(f));
    o.ca_file = junk;
    ASSERT_EQ(tm_webhook_open("https://example.com/", &o, &a, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, junk);
    /* TLS settings on plain http would protect nothing. */
    o.ca_file = p.ca_file;
    ASSERT_EQ(tm_webhook_open("http://example.com/", &o, &a, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "https://");
    /* A key without a certificate; a certificate whose key is missing or another's. */
    o = (tm_webhook_opts){.client_key = p.ca_file};
    ASSERT_EQ(tm_webhook_open("https://example.com/", &o, &a, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "client_key");
    leaf cli, other;
    leaf_new(&p, &cli, "tallyman client", NULL, 4);
    leaf_new(&p, &other, "someone else", NULL, 5);
    char certonly[160], otherfile[160];
    snprintf(certonly, sizeof certonly, "%s/client.crt", p.dir);
    ASSERT((f = fopen(certonly, "w")) != NULL);
    ASSERT_EQ(PEM_write_X509(f, cli.cert), 1);
    ASSERT_OK(fclose(f));
    snprintf(otherfile, sizeof otherfile, "%s/other.pem", p.dir);
    leaf_write(&other, otherfile);
    o = (tm_webhook_opts){.client_cert = certonly};
    ASSERT_EQ(tm_webhook_open("https://example.com/", &o, &a, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "client key");
    o.client_key = otherfile;
    ASSERT_EQ(tm_webhook_open("https://example.com/", &o, &a, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "mismatch"); /* OpenSSL checks the pair as it loads the key */
    ASSERT(a == NULL);
    leaf_free(&cli);
    leaf_free(&other);
    pki_free(&p);
    LEAK_CHECK();
}

/* ---- tallyman run --webhook https://... -------------------------------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Imports three accounts into <dir>/<db>; the shipped tree emails each on day 1. */
static void import_accounts(const char *bin, const char *dir, const char *db)
{
    char path[160];
    snprintf(path, sizeof path, "%s/a.csv", dir);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs("external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,"
          "phone,email,address1,city,zip\n"
          "C1,D1,Ann,Lee,MA,America/New_York,100.00,USD,10,+16175550101,ann@example.com,1 Main St,Boston,02110\n"
          "C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,12,+12145550102,bob@example.com,2 Main St,Dallas,75201\n"
          "C3,D3,Cy,Fox,PA,America/New_York,300.00,USD,14,+12155550103,cy@example.com,3 Main St,Erie,16501\n",
          f);
    ASSERT_OK(fclose(f));
    ASSERT_EQ(sh("%s --db %s/%s import accounts %s >/dev/null 2>&1", bin, dir, db, path), 0);
}

/* Reads a small file into buf (NUL-terminated, truncated to fit). */
static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    ASSERT(f != NULL);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

TEST(tls_run_webhook_ca_option)
{
    signal(SIGPIPE, SIG_IGN);
    const char *bin = getenv("TM_BIN") ? getenv("TM_BIN") : "./tallyman";
    pki p;
    pki_new(&p);
    leaf srv;
    leaf_new(&p, &srv, "localhost", SERVER_SAN, 2);
    struct server s;
    srv_start(&s, S_OK, NULL, &srv, NULL);
    import_accounts(bin, p.dir, "r.db");
    import_accounts(bin, p.dir, "n.db");
    /* Without --webhook-ca the throw-away CA is not trusted: nothing reaches the server, each
     * message is reported with the host and reason, and stays pending. */
    /* After the first refusal the rest are not tried; the run exits 1. */
    ASSERT_EQ(sh("%s --db %s/n.db --draft run --date 2026-11-23 --webhook https://localhost:%d/messages --quiet "
                 ">%s/out-n 2>%s/err-n",
                 bin, p.dir, s.port, p.dir, p.dir),
              1);
    char text[8192], path[160];
    snprintf(path, sizeof path, "%s/err-n", p.dir);
    slurp(path, text, sizeof text);
    ASSERT_CONTAINS(text, "TLS certificate of localhost not trusted");
    ASSERT_CONTAINS(text, "messages stay ready for a later run");
    ASSERT(strstr(strstr(text, "not trusted") + 1, "not trusted") == NULL); /* reported once */
    ASSERT_EQ(srv_hits(&s), 0);
    /* With it, every message is delivered. */
    ASSERT_EQ(sh("%s --db %s/r.db --draft run --date 2026-11-23 --webhook https://localhost:%d/messages "
                 "--webhook-ca %s --quiet >%s/out 2>&1",
                 bin, p.dir, s.port, p.ca_file, p.dir),
              0);
    ASSERT(srv_hits(&s) >= 3);
    /* Now the first store's messages, kept pending, go out once the CA is given. */
    int before = srv_hits(&s);
    ASSERT_EQ(sh("%s --db %s/n.db --draft run --date 2026-11-23 --webhook https://localhost:%d/messages "
                 "--webhook-ca %s --quiet >%s/out 2>&1",
                 bin, p.dir, s.port, p.ca_file, p.dir),
              0);
    ASSERT_EQ(srv_hits(&s), before * 2);
    /* A CA file that does not load stops the run before any work, naming the file. */
    ASSERT_EQ(sh("%s --db %s/r.db --draft run --date 2026-11-23 --webhook https://localhost:%d/messages "
                 "--webhook-ca %s/none.pem --quiet >%s/out 2>%s/err",
                 bin, p.dir, s.port, p.dir, p.dir, p.dir),
              1);
    snprintf(path, sizeof path, "%s/err", p.dir);
    slurp(path, text, sizeof text);
    ASSERT_CONTAINS(text, "none.pem");
    srv_stop(&s);
    leaf_free(&srv);
    pki_free(&p);
}
