/*
 * core/dispatch.c: the outbox's channel adapters: a durable file spool and an HTTP webhook
 * behind one tm_adapter interface. Depends on jansson and libevent (evhttp client).
 *
 * Design. Delivery is at-least-once made effectively-once by the idempotency key. The spool
 * turns the key into a file name and relies on the file system: a message is delivered when
 * <dir>/<channel>/<key>.json exists, and that name is only ever created by linking a fully
 * written, fsync'd temp file, so a crash leaves either nothing, a stray temp file (truncated
 * and reused by the next attempt) or the complete file. The webhook sends the key as the
 * Idempotency-Key header and lets the receiver deduplicate (it answers 409 for a key it has),
 * so retrying after a timeout, when the first attempt may have been delivered, is safe.
 *
 * The webhook is a blocking wrapper over libevent: each adapter owns a private event_base; each
 * attempt creates an evhttp_connection, queues one request, runs the loop until the response,
 * an error or a deadline timer, then frees the connection and the request (which it owns).
 * No libevent object outlives the send call except the base, freed by tm_adapter_free().
 * Message text never reaches `detail` or `err`: they carry statuses, paths, keys and errno.
 *
 * https. The adapter builds one SSL_CTX at open (TLS 1.2 minimum, peer verification on, the
 * system store or the operator's ca_file, an optional client certificate), so a bad CA file or
 * key is refused before the first message rather than on every send. Each attempt makes a fresh
 * SSL with the URL's host pinned for verification (SSL_set1_host, or the IP for an address
 * literal) and sent as SNI, wrapped in an OpenSSL bufferevent that the evhttp connection takes
 * over. A certificate that does not verify is not retried: it fails the same way until the
 * certificate or the configuration changes, so the send returns TM_ECRYPTO at once and leaves
 * the message to the caller. Any other handshake failure (reset, alert, wrong protocol) is
 * treated like a connection failure and retried, with OpenSSL's reason in the detail.
 */
#define _GNU_SOURCE /* syncfs: one sync for a batch of spooled files */

#include "dispatch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

enum { KIND_SPOOL = 1, KIND_WEBHOOK = 2, KIND_CALLBACK = 3 };

/* "call" is a dialer task: the spool keeps one file per call for the dialer or the agents. */
static const char *const channels[] = {"sms", "email", "letter", "voice", "push", "whatsapp", "call"};
#define NCHANNELS (sizeof channels / sizeof channels[0])
_Static_assert(NCHANNELS <= 8, "tm_adapter.chfd holds one directory per channel");

struct tm_adapter {
    int kind;
    /* Spool. */
    char *dir;   /* root directory, as given */
    int dirfd;   /* open root directory */
    int lockfd;  /* <dir>/.lock, flock'd */
    int batched; /* files are not fsync'd one by one: tm_adapter_flush syncs them all */
    int chfd[8]; /* while batched: each channel's directory, open */
    /* Webhook. */
    struct event_base *base;
    char *host;     /* for the connection (no brackets) */
    char *hosthdr;  /* Host: header value */
    char *path;     /* request target: path[?query] */
    char *auth;     /* Authorization: value or NULL */
    uint8_t *secret; /* the signing secret, or NULL */
    size_t secret_len;
    SSL_CTX *tls;   /* https only: shared by every attempt's SSL; NULL for http */
    int host_is_ip; /* the host is an address literal: verify the IP, send no SNI */
    unsigned short port;
    int max_attempts, backoff_ms, max_backoff_ms, timeout_ms;
    uint64_t rng;   /* xorshift64 state for jitter */
    /* Callback. */
    tm_adapter_fn fn;
    void *fn_ud;
};

/* ---- Common ------------------------------------------------------------------------------ */

int tm_dispatch_key_valid(const char *key)
{
    if (key == NULL)
        return 0;
    size_t n = 0;
    for (const char *p = key; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok || n >= TM_DISPATCH_KEY_MAX)
            return 0;
    }
    return n > 0;
}

int tm_dispatch_channel_valid(const char *channel)
{
    if (channel == NULL)
        return 0;
    for (size_t i = 0; i < NCHANNELS; i++)
        if (strcmp(channel, channels[i]) == 0)
            return 1;
    return 0;
}

static void result_set(tm_send_result *r, int outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void result_set(tm_send_result *r, int outcome, const char *fmt, ...)
{
    if (r == NULL)
        return;
    r->outcome = outcome;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

/* Checks the message; on failure fills r (FAILED) and err. */
static int message_check(const tm_message *m, tm_send_result *r, struct tm_err *err)
{
    const char *why = NULL;
    if (m == NULL)
        why = "message is NULL";
    else if (m->key == NULL || m->key[0] == '\0')
        why = "message key is missing";
    else if (!tm_dispatch_key_valid(m->key))
        why = "message key must match [A-Za-z0-9._:-]{1,200}";
    else if (!tm_dispatch_channel_valid(m->channel))
        why = "unknown channel (sms, email, letter, voice, push, whatsapp)";
    else if (m->text == NULL)
        why = "message text is missing";
    if (why == NULL)
        return TM_OK;
    result_set(r, TM_SEND_FAILED, "%s", why);
    return tm_err_set(err, TM_EINVAL, "%s", why);
}

/* Adds `name` as a JSON string (or null); jansson's json_object_set_new steals the value. On a
 * non-UTF-8 string sets *bad to name. Returns 0, or -1 on failure. */
static int put_str(json_t *o, const char *name, const char *v, const char **bad)
{
    json_t *j = v ? json_string(v) : json_null();
    if (j == NULL) {
        *bad = name; /* json_string() refuses invalid UTF-8 (or OOM) */
        return -1;
    }
    return json_object_set_new(o, name, j) == 0 ? 0 : -1;
}

int tm_dispatch_encode(const tm_message *m, char **out, struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_dispatch_encode: out is NULL");
    *out = NULL;
    int rc = message_check(m, NULL, err);
    if (rc != TM_OK)
        return rc;
    json_t *o = json_object();
    if (o == NULL)
        return tm_err_set(err, TM_ENOMEM, "out of memory encoding message %s", m->key);
    const char *bad = NULL;
    int fail = put_str(o, "key", m->key, &bad) || put_str(o, "channel", m->channel, &bad) ||
               put_str(o, "debt_id", m->debt_id, &bad) ||
               put_str(o, "template_id", m->template_id, &bad) ||
               put_str(o, "language", m->language, &bad) || put_str(o, "to", m->to, &bad) ||
               put_str(o, "subject", m->subject, &bad) || put_str(o, "text", m->text, &bad) ||
               put_str(o, "html", m->html, &bad);
    if (!fail) {
        json_t *t = json_integer((json_int_t)m->send_at);
        fail = t == NULL || json_object_set_new(o, "send_at", t) != 0;
    }
    if (!fail) {
        *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fail = *out == NULL;
    }
    json_decref(o);
    if (!fail)
        return TM_OK;
    if (bad != NULL)
        return tm_err_set(err, TM_EENCODING, "message %s: field %s is not valid UTF-8", m->key,
                          bad);
    return tm_err_set(err, TM_ENOMEM, "out of memory encoding message %s", m->key);
}

/* Encodes for a send: fills r on failure. */
static int encode_for_send(const tm_message *m, char **body, tm_send_result *r,
                           struct tm_err *err)
{
    struct tm_err e = {0};
    int rc = tm_dispatch_encode(m, body, &e);
    if (rc == TM_OK)
        return TM_OK;
    result_set(r, rc == TM_ENOMEM ? TM_SEND_RETRY : TM_SEND_FAILED, "%s", e.msg);
    if (err != NULL)
        *err = e;
    return rc;
}

/* ---- File spool -------------------------------------------------------------------------- */

/* mkdir -p: creates `path` and missing parents. Returns 0 or -1 with errno. */
static int mkdirs(const char *path, mode_t mode)
{
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (p == NULL)
        return -1;
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        p[i] = c;
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int tm_spool_open(const char *dir, tm_adapter **out, struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_spool_open: out is NULL");
    *out = NULL;
    if (dir == NULL || dir[0] == '\0')
        return tm_err_set(err, TM_EINVAL, "tm_spool_open: directory is NULL or empty");
    tm_adapter *a = calloc(1, sizeof *a);
    if (a == NULL || (a->dir = strdup(dir)) == NULL) {
        free(a);
        return tm_err_set(err, TM_ENOMEM, "out of memory opening spool");
    }
    a->kind = KIND_SPOOL;
    a->dirfd = -1;
    a->lockfd = -1;
    for (size_t i = 0; i < NCHANNELS; i++)
        a->chfd[i] = -1;
    int rc = TM_OK;
    /* Messages hold personal data: the spool is its owner's alone (0700
     * directories, 0600 files), whatever the umask or an older build made. */
    if (mkdirs(dir, 0700) != 0) {
        rc = tm_err_set(err, TM_EIO, "spool %s: cannot create directory: %s", dir,
                        strerror(errno));
        goto fail;
    }
    a->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (a->dirfd < 0) {
        rc = tm_err_set(err, TM_EIO, "spool %s: cannot open directory: %s", dir, strerror(errno));
        goto fail;
    }
    if (fchmod(a->dirfd, 0700) != 0) {
        rc = tm_err_set(err, TM_EIO, "spool %s: cannot make it private (chmod 0700): %s", dir,
                        strerror(errno));
        goto fail;
    }
    a->lockfd = openat(a->dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (a->lockfd < 0) {
        rc = tm_err_set(err, TM_EIO, "spool %s: cannot open %s/.lock: %s", dir, dir,
                        strerror(errno));
        goto fail;
    }
    if (flock(a->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = tm_err_set(err, TM_EBUSY, "spool %s is in use by another adapter", dir);
        else
            rc = tm_err_set(err, TM_EIO, "spool %s: cannot lock: %s", dir, strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < NCHANNELS; i++) {
        if ((mkdirat(a->dirfd, channels[i], 0700) != 0 && errno != EEXIST) ||
            fchmodat(a->dirfd, channels[i], 0700, 0) != 0) {
            rc = tm_err_set(err, TM_EIO, "spool %s: cannot create %s/%s: %s", dir, dir,
                            channels[i], strerror(errno));
            goto fail;
        }
    }
    if (fsync(a->dirfd) != 0 && errno != EINVAL) {
        rc = tm_err_set(err, TM_EIO, "spool %s: fsync: %s", dir, strerror(errno));
        goto fail;
    }
    *out = a;
    return TM_OK;
fail:
    tm_adapter_free(a);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Whether a spooled file is whole: every file ends with the newline written
 * after its JSON, so a file cut short by a crash before its sync does not. */
static int spooled_whole(int chfd, const char *name, const struct stat *st)
{
    if (!S_ISREG(st->st_mode))
        return 1; /* not ours to judge: leave it, and do not write over it */
    if (st->st_size == 0)
        return 0;
    int fd = openat(chfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 1;
    char c = 0;
    ssize_t n = pread(fd, &c, 1, st->st_size - 1);
    close(fd);
    return n != 1 || c == '\n';
}

/* The batched path: the channel's directory stays open, and the file is
 * written whole under a temp name and renamed into place (a reader of the
 * spool never sees half a message); the flush syncs them all. Renaming over
 * a name cannot happen: the name is checked first, and the spool lock and
 * the cycle (one send per key at a time) leave nobody else to create it. */
static int spool_send_batched(tm_adapter *a, int chfd, const tm_message *m, tm_send_result *r,
                              struct tm_err *err)
{
    char fin[TM_DISPATCH_KEY_MAX + 8], tmp[TM_DISPATCH_KEY_MAX + 16];
    snprintf(fin, sizeof fin, "%s.json", m->key);
    snprintf(tmp, sizeof tmp, ".%s.json.tmp", m->key);
    struct stat st;
    if (fstatat(chfd, fin, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (spooled_whole(chfd, fin, &st)) {
            result_set(r, TM_SEND_DUPLICATE, "already spooled as %s/%s/%s", a->dir, m->channel, fin);
            return TM_OK;
        }
        unlinkat(chfd, fin, 0); /* cut short before its sync: write it again */
    }
    char *body = NULL;
    int rc = encode_for_send(m, &body, r, err);
    if (rc != TM_OK)
        return rc;
    size_t len = strlen(body);
    body[len] = '\n'; /* in the NUL's byte: one write, and body is not a string after this */
    r->attempts = 1;
    const char *step = "create temp file";
    int fd = openat(chfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto io_fail;
    step = "write";
    if (write_all(fd, body, len + 1) != 0) {
        close(fd);
        goto io_fail;
    }
    step = "close";
    if (close(fd) != 0)
        goto io_fail;
    step = "rename";
    if (renameat(chfd, tmp, chfd, fin) != 0)
        goto io_fail;
    free(body);
    result_set(r, TM_SEND_SENT, "spooled as %s/%s/%s", a->dir, m->channel, fin);
    return TM_OK;
io_fail:;
    int e = errno;
    unlinkat(chfd, tmp, 0);
    free(body);
    result_set(r, TM_SEND_RETRY, "spool: %s failed for %s/%s/%s: %s", step, a->dir, m->channel, fin,
               strerror(e));
    return tm_err_set(err, TM_EIO, "spool: %s failed for %s/%s/%s: %s", step, a->dir, m->channel, fin,
                      strerror(e));
}

static int spool_send(tm_adapter *a, const tm_message *m, tm_send_result *r,
                      struct tm_err *err)
{
    if (a->batched) {
        for (size_t i = 0; i < NCHANNELS; i++)
            if (strcmp(channels[i], m->channel) == 0 && a->chfd[i] >= 0)
                return spool_send_batched(a, a->chfd[i], m, r, err);
    }
    char fin[TM_DISPATCH_KEY_MAX + 8], tmp[TM_DISPATCH_KEY_MAX + 16];
    snprintf(fin, sizeof fin, "%s.json", m->key);
    snprintf(tmp, sizeof tmp, ".%s.json.tmp", m->key);

    int chfd = openat(a->dirfd, m->channel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (chfd < 0) {
        int e = errno;
        result_set(r, TM_SEND_RETRY, "spool: cannot open %s/%s: %s", a->dir, m->channel,
                   strerror(e));
        return tm_err_set(err, TM_EIO, "spool: cannot open %s/%s: %s", a->dir, m->channel,
                          strerror(e));
    }
    struct stat st;
    if (fstatat(chfd, fin, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (spooled_whole(chfd, fin, &st)) {
            close(chfd);
            result_set(r, TM_SEND_DUPLICATE, "already spooled as %s/%s/%s", a->dir, m->channel, fin);
            return TM_OK;
        }
        /* Cut short: a batched spool lost power before its sync. Nothing
         * read it as sent (its row was not marked), so write it again. */
        unlinkat(chfd, fin, 0);
    }

    char *body = NULL;
    int rc = encode_for_send(m, &body, r, err);
    if (rc != TM_OK) {
        close(chfd);
        return rc;
    }
    size_t len = strlen(body);
    r->attempts = 1;
    const char *step = "create temp file";
    int linked = 0, dup = 0;
    /* A leftover temp file from a crash is truncated and reused. */
    int fd = openat(chfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto io_fail;
    step = "write";
    if (write_all(fd, body, len) != 0 || write_all(fd, "\n", 1) != 0)
        goto io_fail;
    step = "fsync";
    if (!a->batched && fsync(fd) != 0)
        goto io_fail;
    step = "close";
    int cr = close(fd);
    fd = -1;
    if (cr != 0)
        goto io_fail;
    step = "link";
    if (linkat(chfd, tmp, chfd, fin, 0) == 0) {
        linked = 1;
    } else if (errno == EEXIST) {
        dup = 1;
    } else if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EMLINK) {
        /* No hard links here: the spool lock makes check-then-rename safe. */
        step = "rename";
        if (fstatat(chfd, fin, &st, AT_SYMLINK_NOFOLLOW) == 0)
            dup = 1;
        else if (renameat(chfd, tmp, chfd, fin) != 0)
            goto io_fail;
        else
            linked = 1;
    } else {
        goto io_fail;
    }
    unlinkat(chfd, tmp, 0); /* fails harmlessly after a rename */
    step = "fsync directory";
    if (linked && !a->batched && fsync(chfd) != 0 && errno != EINVAL)
        goto io_fail;
    free(body);
    close(chfd);
    if (dup) {
        r->attempts = 0;
        result_set(r, TM_SEND_DUPLICATE, "already spooled as %s/%s/%s", a->dir, m->channel, fin);
    } else {
        result_set(r, TM_SEND_SENT, "spooled as %s/%s/%s", a->dir, m->channel, fin);
    }
    return TM_OK;

io_fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (!linked)
        unlinkat(chfd, tmp, 0);
    close(chfd);
    free(body);
    result_set(r, TM_SEND_RETRY, "spool: %s failed for %s/%s/%s: %s", step, a->dir, m->channel,
               fin, strerror(e));
    return tm_err_set(err, TM_EIO, "spool: %s failed for %s/%s/%s: %s", step, a->dir,
                      m->channel, fin, strerror(e));
}

/* ---- Webhook ----------------------------------------------------------------------------- */

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Formats the oldest queued OpenSSL error of this thread into buf ("unknown error" when the
 * queue is empty) and clears the queue, so the next OpenSSL call starts clean. */
static const char *ssl_reason(char *buf, size_t size)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        snprintf(buf, size, "unknown error");
    else
        ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

/* Builds the client SSL_CTX for an https adapter: TLS 1.2 or later (OpenSSL negotiates 1.3 when
 * the server has it), the server's certificate verified against o->ca_file when given, else the
 * system store, and o->client_cert/o->client_key loaded for mutual TLS. Hostname checks are per
 * connection (see tls_new). Returns TM_OK with *out owned by the caller (SSL_CTX_free);
 * TM_EINVAL naming the file and OpenSSL's reason when a CA file, certificate or key does not
 * load or the key does not match; TM_ECRYPTO when OpenSSL cannot set up a context. */
static int tls_ctx_new(const tm_webhook_opts *o, SSL_CTX **out, struct tm_err *err)
{
    char why[256];
    *out = NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return tm_err_set(err, TM_ECRYPTO, "webhook: cannot create a TLS context: %s",
                          ssl_reason(why, sizeof why));
    int rc = TM_OK;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        rc = tm_err_set(err, TM_ECRYPTO, "webhook: cannot require TLS 1.2: %s",
                        ssl_reason(why, sizeof why));
        goto out;
    }
    /* Compression enables CRIME-style attacks; renegotiation is never needed for one POST. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* A private CA replaces the system store rather than adding to it: an operator who names
     * the CA of their receiver means "only this CA", as curl's --cacert does. */
    if (o->ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
            rc = tm_err_set(err, TM_EINVAL, "webhook: CA file %s does not load: %s", o->ca_file,
                            ssl_reason(why, sizeof why));
            goto out;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        rc = tm_err_set(err, TM_ECRYPTO, "webhook: the system CA store does not load: %s",
                        ssl_reason(why, sizeof why));
        goto out;
    }
    if (o->client_cert != NULL) {
        const char *key = o->client_key ? o->client_key : o->client_cert;
        if (SSL_CTX_use_certificate_chain_file(ctx, o->client_cert) != 1) {
            rc = tm_err_set(err, TM_EINVAL, "webhook: client certificate %s does not load: %s",
                            o->client_cert, ssl_reason(why, sizeof why));
            goto out;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            rc = tm_err_set(err, TM_EINVAL, "webhook: client key %s does not load: %s", key,
                            ssl_reason(why, sizeof why));
            goto out;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            rc = tm_err_set(err, TM_EINVAL,
                            "webhook: client key %s does not match certificate %s: %s", key,
                            o->client_cert, ssl_reason(why, sizeof why));
            goto out;
        }
    }
out:
    if (rc != TM_OK) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return TM_OK;
}

/* 1 when s is an IPv4 or IPv6 address literal (as evhttp_uri_get_host gives it, no brackets). */
static int is_ip_literal(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int tm_webhook_open(const char *url, const tm_webhook_opts *opts, tm_adapter **out,
                    struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_webhook_open: out is NULL");
    *out = NULL;
    if (url == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_webhook_open: url is NULL");
    tm_webhook_opts o = {0};
    if (opts != NULL)
        o = *opts;
    if (o.max_attempts < 0 || o.backoff_ms < 0 || o.max_backoff_ms < 0 || o.timeout_ms < 0)
        return tm_err_set(err, TM_EINVAL, "webhook options must not be negative");
    if (o.max_attempts > 100)
        return tm_err_set(err, TM_EINVAL, "webhook max_attempts %d is over 100", o.max_attempts);
    if (o.auth_header != NULL && has_ctl(o.auth_header))
        return tm_err_set(err, TM_EINVAL, "webhook auth_header contains control characters");
    if (o.client_key != NULL && o.client_cert == NULL)
        return tm_err_set(err, TM_EINVAL, "webhook client_key given without client_cert");

    struct evhttp_uri *u = evhttp_uri_parse(url);
    if (u == NULL)
        return tm_err_set(err, TM_EINVAL, "webhook url does not parse");
    const char *scheme = evhttp_uri_get_scheme(u);
    const char *host = evhttp_uri_get_host(u);
    int https = scheme != NULL && strcmp(scheme, "https") == 0;
    if (!https && (scheme == NULL || strcmp(scheme, "http") != 0)) {
        evhttp_uri_free(u);
        return tm_err_set(err, TM_EINVAL, "webhook url must start with http:// or https://");
    }
    /* TLS settings on a plain-http URL would look like protection that is not there. */
    if (!https && (o.ca_file != NULL || o.client_cert != NULL)) {
        evhttp_uri_free(u);
        return tm_err_set(err, TM_EINVAL, "webhook: a CA file or client certificate needs an "
                                          "https:// url");
    }
    if (host == NULL || host[0] == '\0' || has_ctl(host)) {
        evhttp_uri_free(u);
        return tm_err_set(err, TM_EINVAL, "webhook url has no host");
    }
    int port = evhttp_uri_get_port(u);
    if (port < 0)
        port = https ? 443 : 80;
    if (port == 0 || port > 65535) {
        evhttp_uri_free(u);
        return tm_err_set(err, TM_EINVAL, "webhook url has an invalid port");
    }
    const char *path = evhttp_uri_get_path(u);
    const char *query = evhttp_uri_get_query(u);
    if (path == NULL || path[0] == '\0')
        path = "/";

    tm_adapter *a = calloc(1, sizeof *a);
    if (a == NULL) {
        evhttp_uri_free(u);
        return tm_err_set(err, TM_ENOMEM, "out of memory opening webhook");
    }
    a->kind = KIND_WEBHOOK;
    a->dirfd = -1;
    a->lockfd = -1;
    a->port = (unsigned short)port;
    a->max_attempts = o.max_attempts ? o.max_attempts : 5;
    a->backoff_ms = o.backoff_ms ? o.backoff_ms : 200;
    a->max_backoff_ms = o.max_backoff_ms ? o.max_backoff_ms : 10000;
    a->timeout_ms = o.timeout_ms ? o.timeout_ms : 5000;
    a->host_is_ip = is_ip_literal(host);
    int v6 = strchr(host, ':') != NULL;
    int explicit_port = evhttp_uri_get_port(u) >= 0;
    a->host = strdup(host);
    if (explicit_port)
        a->hosthdr = xasprintf(v6 ? "[%s]:%d" : "%s:%d", host, port);
    else
        a->hosthdr = xasprintf(v6 ? "[%s]" : "%s", host);
    a->path = query ? xasprintf("%s?%s", path, query) : strdup(path);
    a->auth = o.auth_header ? strdup(o.auth_header) : NULL;
    if (o.signing_secret && o.signing_secret_len && (a->secret = malloc(o.signing_secret_len))) {
        memcpy(a->secret, o.signing_secret, o.signing_secret_len);
        a->secret_len = o.signing_secret_len;
    }
    a->base = event_base_new();
    evhttp_uri_free(u);
    if (a->host == NULL || a->hosthdr == NULL || a->path == NULL ||
        (o.auth_header && a->auth == NULL) || (o.signing_secret && o.signing_secret_len && !a->secret) ||
        a->base == NULL) {
        tm_adapter_free(a);
        return tm_err_set(err, TM_ENOMEM, "out of memory opening webhook");
    }
    if (https) {
        int rc = tls_ctx_new(&o, &a->tls, err);
        if (rc != TM_OK) {
            tm_adapter_free(a);
            return rc;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    a->rng = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
             ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)a;
    if (a->rng == 0)
        a->rng = 0x9e3779b97f4a7c15u;
    *out = a;
    return TM_OK;
}

/* State of one attempt, shared with the libevent callbacks (lives on the send's stack). */
struct attempt {
    struct event_base *base;
    int done;        /* the request callback ran */
    int status;      /* HTTP status, 0 for a transport failure */
    int timed_out;   /* our deadline fired, or libevent reported a timeout */
    int req_error;   /* enum evhttp_request_error + 1, 0 when none */
    int retry_after; /* seconds from Retry-After, -1 when absent */
    long verify;     /* https: X509_V_OK, or why the server's certificate was refused */
    char tls_why[160]; /* https: OpenSSL's reason for a failed connection, "" when none */
};

static void on_response(struct evhttp_request *req, void *arg)
{
    struct attempt *at = arg;
    at->done = 1;
    if (req != NULL) {
        at->status = evhttp_request_get_response_code(req);
        const char *ra = evhttp_find_header(evhttp_request_get_input_headers(req), "Retry-After");
        if (ra != NULL && ra[0] >= '0' && ra[0] <= '9') {
            long v = 0;
            for (; *ra >= '0' && *ra <= '9' && v < 86400; ra++)
                v = v * 10 + (*ra - '0');
            at->retry_after = (int)v;
        }
    }
    event_base_loopbreak(at->base);
}

static void on_error(enum evhttp_request_error e, void *arg)
{
    struct attempt *at = arg;
    at->req_error = (int)e + 1;
    if (e == EVREQ_HTTP_TIMEOUT)
        at->timed_out = 1;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct attempt *at = arg;
    at->timed_out = 1;
    event_base_loopbreak(at->base);
}

/* Makes the SSL for one https attempt: the adapter's context, with the URL's host as the name
 * the certificate must carry (or the IP address for an address literal) and, for a name, as
 * SNI so a server hosting several names presents the right certificate. Returns the SSL (the
 * caller frees it with SSL_free) or NULL on OOM. */
static SSL *tls_new(tm_adapter *a)
{
    SSL *ssl = SSL_new(a->tls);
    if (ssl == NULL)
        return NULL;
    int ok;
    if (a->host_is_ip) {
        /* RFC 6066 forbids SNI for addresses; the IP must be in the certificate's SAN. */
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), a->host) == 1;
    } else {
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = SSL_set1_host(ssl, a->host) == 1 && SSL_set_tlsext_host_name(ssl, a->host) == 1;
    }
    if (!ok) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

/* Makes the attempt's connection: plain for http; for https an OpenSSL bufferevent in
 * connecting state that the connection owns (and frees, closing the socket and freeing its
 * reference to the SSL). *ssl gets the attempt's own reference to the SSL, so its verify result
 * and errors can be read after the connection has failed; the caller frees it with SSL_free
 * after evhttp_connection_free. Returns NULL on OOM with *ssl NULL. */
static struct evhttp_connection *conn_new(tm_adapter *a, SSL **ssl, struct bufferevent **bev)
{
    *ssl = NULL;
    *bev = NULL;
    if (a->tls == NULL)
        return evhttp_connection_base_new(a->base, NULL, a->host, a->port);
    /* The OpenSSL bufferevent collects this thread's error queue when a call fails; a stale
     * entry left by unrelated code would otherwise be reported as this attempt's reason. */
    ERR_clear_error();
    SSL *s = tls_new(a);
    if (s == NULL)
        return NULL;
    /* One reference for us, one for the bufferevent. libevent frees the SSL on some of its
     * failure paths and not on others; holding our own reference turns the bad case into a
     * leak on out-of-memory instead of a double free. */
    if (SSL_up_ref(s) != 1) {
        SSL_free(s);
        return NULL;
    }
    struct bufferevent *b = bufferevent_openssl_socket_new(
        a->base, -1, s, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (b == NULL) {
        SSL_free(s);
        return NULL;
    }
    /* Receivers often close without a TLS close_notify once the response is sent (we ask for
     * Connection: close). The response is framed by HTTP and its body is discarded, so an
     * unclean close after it is not an error worth a retry. */
    bufferevent_openssl_set_allow_dirty_shutdown(b, 1);
    struct evhttp_connection *conn =
        evhttp_connection_base_bufferevent_new(a->base, NULL, b, a->host, a->port);
    if (conn == NULL) {
        bufferevent_free(b); /* libevent's failure paths leave the bufferevent with us */
        SSL_free(s);
        return NULL;
    }
    *ssl = s;
    *bev = b;
    return conn;
}

/* After a transport failure on https: records why, from the certificate check or from the
 * errors the OpenSSL bufferevent kept. libevent hands those back newest first; the oldest is
 * the root cause, as with ERR_get_error. */
static void tls_failure(struct attempt *at, SSL *ssl, struct bufferevent *bev)
{
    at->verify = SSL_get_verify_result(ssl);
    unsigned long e, oldest = 0;
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        oldest = e;
    if (oldest != 0)
        ERR_error_string_n(oldest, at->tls_why, sizeof at->tls_why);
}

/* The signature of `body` now: ts gets the Unix time, sig "v1=" and the hex HMAC-SHA256 under
 * the adapter's secret of "<ts>.<body>". 0, or -1 when out of memory. */
static int sign_body(const tm_adapter *a, const char *body, size_t len, char *ts, size_t tcap,
                     char *sig, size_t scap)
{
    snprintf(ts, tcap, "%lld", (long long)time(NULL));
    size_t tl = strlen(ts), n = tl + 1 + len;
    char *msg = malloc(n);
    if (!msg)
        return -1;
    memcpy(msg, ts, tl);
    msg[tl] = '.';
    memcpy(msg + tl + 1, body, len);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    int ok = HMAC(EVP_sha256(), a->secret, (int)a->secret_len, (const unsigned char *)msg, n, mac,
                  &ml) != NULL;
    free(msg);
    if (!ok)
        return -1;
    int off = snprintf(sig, scap, "v1=");
    for (unsigned int i = 0; i < ml && (size_t)off + 3 <= scap; i++)
        off += snprintf(sig + off, scap - (size_t)off, "%02x", mac[i]);
    return 0;
}

/* Runs one POST. Returns 0 with *at filled, or -1 when libevent could not set it up (OOM). */
static int post_once(tm_adapter *a, const tm_message *m, const char *body, size_t len,
                     struct attempt *at)
{
    memset(at, 0, sizeof *at);
    at->base = a->base;
    at->retry_after = -1;
    at->verify = X509_V_OK;
    struct timeval tv = {a->timeout_ms / 1000, (a->timeout_ms % 1000) * 1000};
    SSL *ssl = NULL;
    struct bufferevent *bev = NULL;
    struct evhttp_connection *conn = conn_new(a, &ssl, &bev);
    struct event *deadline = evtimer_new(a->base, on_deadline, at);
    struct evhttp_request *req = NULL;
    int rc = -1;
    if (conn == NULL || deadline == NULL)
        goto out;
    evhttp_connection_set_timeout_tv(conn, &tv);
    evhttp_connection_set_retries(conn, 0);
    evhttp_connection_set_max_body_size(conn, 1 << 20);
    req = evhttp_request_new(on_response, at);
    if (req == NULL)
        goto out;
    evhttp_request_set_error_cb(req, on_error);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    /* Signed per attempt: a retry carries a fresh time, the same key and body. */
    char ts[24] = "", sig[80] = "";
    if (a->secret && sign_body(a, body, len, ts, sizeof ts, sig, sizeof sig) != 0)
        goto out;
    if ((a->secret && (evhttp_add_header(h, "X-Tallyman-Timestamp", ts) != 0 ||
                       evhttp_add_header(h, "X-Tallyman-Signature", sig) != 0)) ||
        evhttp_add_header(h, "Host", a->hosthdr) != 0 ||
        evhttp_add_header(h, "Content-Type", "application/json") != 0 ||
        evhttp_add_header(h, "Idempotency-Key", m->key) != 0 ||
        evhttp_add_header(h, "Connection", "close") != 0 ||
        (a->auth && evhttp_add_header(h, "Authorization", a->auth) != 0) ||
        evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0)
        goto out;
    /* We own req, so libevent never frees it (not after the callback, not on a failed
     * evhttp_make_request, not in evhttp_connection_free): it is freed below, after the
     * connection, on every path. */
    evhttp_request_own(req);
    if (evhttp_make_request(conn, req, EVHTTP_REQ_POST, a->path) != 0) {
        at->done = 1; /* not queued (socket or strdup failure): a transport error */
        rc = 0;
        goto out;
    }
    if (!at->done) {
        evtimer_add(deadline, &tv);
        while (!at->done && !at->timed_out)
            if (event_base_loop(a->base, 0) != 0)
                break; /* no events left: should not happen with the deadline armed */
    }
    if (ssl != NULL && at->status == 0)
        tls_failure(at, ssl, bev);
    rc = 0;
out:
    if (deadline != NULL)
        event_free(deadline);
    if (conn != NULL)
        evhttp_connection_free(conn); /* drops a still-queued request without callbacks */
    if (req != NULL)
        evhttp_request_free(req);
    SSL_free(ssl); /* our reference; the bufferevent's went with the connection */
    return rc;
}

static uint64_t rng_next(tm_adapter *a)
{
    uint64_t x = a->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    a->rng = x;
    return x;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L}, rem;
    while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
        ts = rem;
}

/* Delay before retry n (1-based). */
static long backoff_delay(tm_adapter *a, int n, int retry_after)
{
    long d = a->backoff_ms;
    for (int i = 1; i < n && d < a->max_backoff_ms; i++)
        d *= 2;
    if (d > a->max_backoff_ms)
        d = a->max_backoff_ms;
    if (d >= 4)
        d += (long)(rng_next(a) % (uint64_t)(d / 4 + 1));
    if (retry_after >= 0 && (long)retry_after * 1000 > d)
        d = (long)retry_after * 1000;
    if (d > a->max_backoff_ms)
        d = a->max_backoff_ms;
    return d;
}

static int retryable_status(int s)
{
    return s == 408 || s == 429 || (s >= 500 && s <= 599);
}

static int webhook_send(tm_adapter *a, const tm_message *m, tm_send_result *r,
                        struct tm_err *err)
{
    char *body = NULL;
    int rc = encode_for_send(m, &body, r, err);
    if (rc != TM_OK)
        return rc;
    size_t len = strlen(body);
    struct attempt at = {0};
    char last[200] = "";
    for (int n = 1; n <= a->max_attempts; n++) {
        if (n > 1)
            sleep_ms(backoff_delay(a, n - 1, at.retry_after));
        r->attempts = n;
        if (post_once(a, m, body, len, &at) != 0) {
            free(body);
            result_set(r, TM_SEND_RETRY, "webhook: out of memory setting up attempt %d", n);
            return tm_err_set(err, TM_ENOMEM, "webhook: out of memory sending %s", m->key);
        }
        r->http_status = at.status;
        if (at.verify != X509_V_OK) {
            /* The same certificate will fail the same way: no backoff, no further attempts.
             * The message is not consumed: rc tells the caller to keep it for when the
             * certificate or the CA configuration is fixed. */
            free(body);
            const char *why = X509_verify_cert_error_string(at.verify);
            result_set(r, TM_SEND_FAILED, "webhook: TLS certificate of %s not trusted: %s",
                       a->host, why);
            return tm_err_set(err, TM_ECRYPTO,
                              "webhook: TLS certificate of %s not trusted: %s (not retried; "
                              "check the server's certificate or the CA file)",
                              a->host, why);
        }
        if (at.status >= 200 && at.status <= 299) {
            free(body);
            result_set(r, TM_SEND_SENT, "HTTP %d after %d attempt%s", at.status, n,
                       n == 1 ? "" : "s");
            return TM_OK;
        }
        if (at.status == 409) {
            free(body);
            result_set(r, TM_SEND_DUPLICATE, "HTTP 409: receiver already has key %s", m->key);
            return TM_OK;
        }
        if (at.status != 0 && !retryable_status(at.status)) {
            free(body);
            result_set(r, TM_SEND_FAILED, "HTTP %d (permanent) after %d attempt%s", at.status,
                       n, n == 1 ? "" : "s");
            return TM_OK;
        }
        if (at.status != 0)
            snprintf(last, sizeof last, "HTTP %d", at.status);
        else if (at.timed_out)
            snprintf(last, sizeof last, "timed out after %d ms", a->timeout_ms);
        else if (at.tls_why[0] != '\0')
            snprintf(last, sizeof last, "TLS connection to %.60s failed: %.100s", a->host,
                     at.tls_why);
        else
            snprintf(last, sizeof last, "connection failed (refused, reset or closed early)");
    }
    free(body);
    result_set(r, TM_SEND_RETRY, "%s; gave up after %d attempts", last, a->max_attempts);
    return TM_OK;
}

/* ---- Interface --------------------------------------------------------------------------- */

int tm_adapter_send(tm_adapter *a, const tm_message *m, tm_send_result *r, struct tm_err *err)
{
    if (r != NULL)
        memset(r, 0, sizeof *r);
    if (a == NULL || r == NULL) {
        result_set(r, TM_SEND_FAILED, "adapter or result is NULL");
        return tm_err_set(err, TM_EINVAL, "tm_adapter_send: adapter or result is NULL");
    }
    int rc = message_check(m, r, err);
    if (rc != TM_OK)
        return rc;
    if (a->kind == KIND_CALLBACK) {
        r->attempts = 1;
        r->outcome = a->fn(a->fn_ud, m);
        return TM_OK;
    }
    return a->kind == KIND_SPOOL ? spool_send(a, m, r, err) : webhook_send(a, m, r, err);
}

void tm_adapter_batch(tm_adapter *a, int on)
{
    if (!a || a->kind != KIND_SPOOL)
        return;
    for (size_t i = 0; i < NCHANNELS; i++) {
        if (on && a->chfd[i] < 0)
            a->chfd[i] = openat(a->dirfd, channels[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        else if (!on && a->chfd[i] >= 0) {
            close(a->chfd[i]);
            a->chfd[i] = -1;
        }
    }
    a->batched = on != 0;
}

int tm_adapter_flush(tm_adapter *a, struct tm_err *err)
{
    if (!a || a->kind != KIND_SPOOL || !a->batched)
        return TM_OK;
    /* One sync of the file system holding the spool makes every file
     * written since the last one durable, with its directory entry. */
    if (syncfs(a->dirfd) != 0)
        return tm_err_set(err, TM_EIO, "spool %s: sync: %s", a->dir, strerror(errno));
    return TM_OK;
}

int tm_adapter_concurrent(const tm_adapter *a)
{
    return a && a->kind == KIND_SPOOL;
}

/* ---- Callback ---------------------------------------------------------------------------- */

int tm_callback_open(tm_adapter_fn fn, void *ud, tm_adapter **out, struct tm_err *err)
{
    if (out != NULL)
        *out = NULL;
    if (fn == NULL || out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_callback_open: fn or out is NULL");
    tm_adapter *a = calloc(1, sizeof *a);
    if (a == NULL)
        return tm_err_set(err, TM_ENOMEM, "out of memory opening a callback adapter");
    a->kind = KIND_CALLBACK;
    a->dirfd = -1;
    a->lockfd = -1;
    a->fn = fn;
    a->fn_ud = ud;
    *out = a;
    return TM_OK;
}

void tm_adapter_free(tm_adapter *a)
{
    if (a == NULL)
        return;
    if (a->kind == KIND_SPOOL)
        tm_adapter_batch(a, 0);
    if (a->lockfd >= 0)
        close(a->lockfd); /* releases the flock */
    if (a->dirfd >= 0)
        close(a->dirfd);
    if (a->base != NULL)
        event_base_free(a->base);
    SSL_CTX_free(a->tls); /* NULL for the spool and http */
    free(a->dir);
    free(a->host);
    free(a->hosthdr);
    free(a->path);
    free(a->auth);
    if (a->secret)
        OPENSSL_cleanse(a->secret, a->secret_len);
    free(a->secret);
    free(a);
}
