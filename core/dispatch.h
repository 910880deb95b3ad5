/*
 * core/dispatch.h: channel adapters the daily cycle's outbox dispatches through. One interface
 * (tm_adapter_send / tm_adapter_free) with three implementations: a durable file spool (one JSON
 * file per message, for print/letter houses and offline pick-up), an HTTP webhook (POST with
 * an Idempotency-Key, retries with backoff) and an in-process callback (simulation). The first
 * two make re-sending the same key harmless, so a rerun after a crash delivers nothing twice.
 *
 * Depends on jansson (message encoding), libevent (the webhook's evhttp client) and, for https,
 * OpenSSL through libevent_openssl. Neither message text nor html is ever written to `detail`
 * or to `err`.
 *
 * Thread rules: an adapter may be used by one thread at a time (serialise sends per adapter);
 * different adapters may be used concurrently from different threads. The webhook writes to
 * sockets, so a process using it should ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)).
 */
#ifndef TM_DISPATCH_H
#define TM_DISPATCH_H

#include <stdint.h>

#include "tm_status.h"

/* Longest idempotency key, without the NUL. Keys are [A-Za-z0-9._:-]{1,200}. */
#define TM_DISPATCH_KEY_MAX 200

/* One outbound message. All strings are borrowed for the duration of the send call. */
typedef struct tm_message {
    const char *key;         /* idempotency key, [A-Za-z0-9._:-]{1,200}; required */
    const char *channel;     /* "sms","email","letter","voice","push","whatsapp","call"; required */
    const char *debt_id;     /* may be NULL */
    const char *template_id; /* may be NULL */
    const char *language;    /* may be NULL */
    const char *to;          /* destination (may be NULL: a letter's address is in the body) */
    const char *subject;     /* NULL unless email */
    const char *text;        /* required */
    const char *html;        /* NULL unless email */
    int64_t send_at;         /* Unix seconds */
} tm_message;

enum tm_send_outcome {
    TM_SEND_SENT = 0,      /* delivered by this call */
    TM_SEND_DUPLICATE = 1, /* already delivered earlier: not sent again */
    TM_SEND_RETRY = 2,     /* transient failure: keep the message pending and try later */
    TM_SEND_FAILED = 3     /* permanent failure: retrying will not help */
};

typedef struct tm_send_result {
    int outcome;      /* enum tm_send_outcome */
    int attempts;     /* attempts made in this call */
    int http_status;  /* last HTTP status, 0 when none */
    char detail[200]; /* why, for the operator (never message text) */
} tm_send_result;

typedef struct tm_adapter tm_adapter;

/* Sends `m` through `a` and fills *r. Returns TM_OK whenever *r holds an outcome (FAILED and
 * RETRY included). Returns TM_EINVAL for NULL a/m/r, a key outside [A-Za-z0-9._:-]{1,200}, an
 * unknown channel or NULL text (*r is FAILED, attempts 0, when r is not NULL); TM_EENCODING
 * when a string is not valid UTF-8 (FAILED); TM_ENOMEM (RETRY); for the spool, TM_EIO when the
 * file cannot be written (RETRY; any temp file is removed and no final file is left); for an
 * https webhook, TM_ECRYPTO when the server's certificate does not verify (FAILED after one
 * attempt; see tm_webhook_open). */
int tm_adapter_send(tm_adapter *a, const tm_message *m, tm_send_result *r, struct tm_err *err);

/* Frees the adapter and everything it holds (for the spool, releases the directory lock).
 * NULL is a no-op. */
void tm_adapter_free(tm_adapter *a);

/* Batched delivery, for a caller that records sends in batches (the daily
 * cycle): the spool then skips the per-file fsync, and tm_adapter_flush()
 * makes everything sent so far durable with one sync; the caller marks a
 * batch sent only after the flush succeeds. A file cut short by a crash
 * before the flush is found on the next send of its key and written again.
 * Other adapters deliver durably on each send and ignore both calls.
 * tm_adapter_flush returns TM_OK or TM_EIO (the batch must not be marked). */
void tm_adapter_batch(tm_adapter *a, int on);
int tm_adapter_flush(tm_adapter *a, struct tm_err *err);

/* 1 when tm_adapter_send may be called from several threads at once (the
 * spool: each message is its own file); 0 otherwise (the webhook). */
int tm_adapter_concurrent(const tm_adapter *a);

/* Checks an idempotency key: 1 if it matches [A-Za-z0-9._:-]{1,200}, else 0 (NULL included).
 * Such a key contains no '/' and, with ".json" appended, names a file inside one directory. */
int tm_dispatch_key_valid(const char *key);

/* Checks a channel name: 1 for "sms", "email", "letter", "voice", "push", "whatsapp", "call". */
int tm_dispatch_channel_valid(const char *channel);

/* Encodes `m` as a compact JSON object with the keys key, channel, debt_id, template_id,
 * language, to, subject, text, html (strings, or null when NULL) and send_at (integer); the
 * same body the webhook POSTs and the spool writes. *out is malloc'd, NUL-terminated; caller
 * frees with free(). Validates like tm_adapter_send (TM_EINVAL, TM_EENCODING, TM_ENOMEM). */
int tm_dispatch_encode(const tm_message *m, char **out, struct tm_err *err);

/* ---- File spool -------------------------------------------------------------------------- */

/* Opens a spool rooted at `dir`, creating it (and missing parents, mode 0750) and one
 * subdirectory per channel if missing, and takes an exclusive advisory lock (flock on
 * <dir>/.lock) for the adapter's lifetime, so one process writes a spool at a time.
 *
 * send writes <dir>/<channel>/<key>.json atomically and durably: the JSON goes to the temp
 * file <dir>/<channel>/.<key>.json.tmp (truncated if left over from a crash), which is
 * fsync'd, hard-linked to the final name (which fails if it exists, so an existing file is
 * never rewritten) and unlinked, then the directory is fsync'd. If the final file already
 * exists the outcome is TM_SEND_DUPLICATE and nothing is written. attempts is 1 (0 for a
 * duplicate), http_status always 0.
 *
 * *out owns the adapter; free with tm_adapter_free(). TM_EINVAL for NULL/empty dir or NULL
 * out; TM_EIO when a directory cannot be created or opened (the message names the path and
 * errno); TM_EBUSY when another adapter holds the lock; TM_ENOMEM. */
int tm_spool_open(const char *dir, tm_adapter **out, struct tm_err *err);

/* ---- Webhook ----------------------------------------------------------------------------- */

/* Webhook options. Zero fields take the defaults; pass NULL for all defaults. */
typedef struct tm_webhook_opts {
    int max_attempts;        /* attempts per send call; default 5, at most 100 */
    int backoff_ms;          /* first retry delay; default 200, doubling per retry */
    int max_backoff_ms;      /* cap on one delay; default 10000 */
    int timeout_ms;          /* per attempt, connect to response; default 5000 */
    const char *auth_header; /* value for "Authorization:" (e.g. "Bearer x"), or NULL; copied */
    /* A secret shared with the receiver (NULL: no signature; copied, and wiped at free): each
     * POST then carries "X-Tallyman-Timestamp: <Unix seconds>" and "X-Tallyman-Signature:
     * v1=<hex HMAC-SHA256 under the secret of "<timestamp>.<body>">", so the receiver can
     * check the body came from this engine and refuse an old one replayed
     * (docs/operations.md, "The webhook"). */
    const char *signing_secret;
    size_t signing_secret_len;
    /* https only; files are read at open and not kept open or referenced afterwards. */
    const char *ca_file;     /* PEM CA certificate(s) to trust instead of the system store */
    const char *client_cert; /* PEM client certificate (and chain) for mutual TLS, or NULL */
    const char *client_key;  /* PEM private key of client_cert; NULL: it is in client_cert */
} tm_webhook_opts;

/* Opens a webhook adapter that POSTs to `url` (http[s]://host[:port][/path][?query]).
 *
 * https uses TLS 1.2 or later (1.3 when the server offers it) and always verifies the server:
 * its certificate must chain to ca_file when given (that file alone is trusted), else to the
 * system store (SSL_CTX_set_default_verify_paths), and must carry the URL's host name (or, for
 * an address literal, its IP) in its subjectAltName; the name is also sent as SNI. There is no
 * way to switch verification off. With client_cert (and client_key, or a key in the same file)
 * the adapter presents that certificate to servers that ask for one (mutual TLS). A certificate
 * that does not verify makes send return TM_ECRYPTO with *r FAILED after one attempt, the
 * message naming the host and OpenSSL's verify reason: retrying cannot help until the
 * certificate or the configuration changes, and the caller keeps the message. Other TLS
 * failures (handshake reset or alert, timeout) are retried like connection failures.
 *
 * send POSTs tm_dispatch_encode(m) with Content-Type: application/json, Idempotency-Key: <key>
 * and, if set, Authorization. Each attempt uses a new connection on the adapter's private
 * event_base; the send call blocks until it has an outcome. 2xx -> SENT; 409 -> DUPLICATE (the
 * receiver already has the key); 408, 429, 5xx, connection errors and timeouts -> retried in
 * this call up to max_attempts, then RETRY; any other status (1xx, 3xx, other 4xx) -> FAILED.
 * Before retry n (n = 1, 2, ...) it sleeps d = min(backoff_ms * 2^(n-1), max_backoff_ms) plus a
 * random jitter of up to d/4 (never above max_backoff_ms), or longer when a retried response
 * carries Retry-After in seconds (still capped at max_backoff_ms). The body is discarded.
 *
 * *out owns the adapter; free with tm_adapter_free(). TM_EINVAL for NULL url/out, a URL that
 * does not parse or has no host, a scheme other than http or https, negative options,
 * max_attempts over 100, an auth_header with CR, LF or other control characters, ca_file or
 * client_cert with an http:// URL, client_key without client_cert, or a CA file, certificate or
 * key that does not load or match (the message names the file and OpenSSL's reason);
 * TM_ECRYPTO when OpenSSL cannot set up TLS (e.g. the system store does not load); TM_ENOMEM. */
int tm_webhook_open(const char *url, const tm_webhook_opts *opts, tm_adapter **out,
                    struct tm_err *err);

/* ---- Callback ---------------------------------------------------------------------------- */

/* Called once per message that passed the checks; returns an enum tm_send_outcome. `m` and its
 * strings are borrowed for the call only: copy what is kept. */
typedef int (*tm_adapter_fn)(void *ud, const tm_message *m);

/* Opens an in-process adapter that hands every valid message to fn(ud, m) instead of
 * delivering it (the simulation's consumers, tests). Nothing is deduplicated: the cycle's
 * outbox already sends a key once. attempts is 1, http_status 0.
 * *out owns the adapter (not `ud`); free with tm_adapter_free(). TM_EINVAL for NULL fn or out;
 * TM_ENOMEM. */
int tm_callback_open(tm_adapter_fn fn, void *ud, tm_adapter **out, struct tm_err *err);

#endif
