/*
 * app/serve_http.h: what the service's route files share (serve.h lists
 * them): the request being answered, the replies (every error the one JSON
 * shape {"error": {"code", "message", "field"}}), the body and its content
 * type, and the credentials check. Routes live one group to a file
 * (serve_decide.c, serve_input.c, serve_debts.c, ...) and are named in the
 * one table in serve_routes.c; each handler is `void h(tm_sv_req *r)`.
 *
 * Everything here runs on the worker thread that owns the request.
 */
#ifndef TM_SERVE_HTTP_H
#define TM_SERVE_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "buf.h"
#include "jscan.h"
#include "serve.h"

struct evhttp_request;

#define TM_SV_MAXARGS 3

/* People's sessions (app/serve_login.c): the cookie's name; a session ends
 * after TM_SV_SESSION_IDLE seconds without a request, and TM_SV_SESSION_MAX
 * seconds after the login whatever its use. */
#define TM_SV_SESSION_COOKIE "tallyman_session"
#define TM_SV_SESSION_IDLE (30 * 60)
#define TM_SV_SESSION_MAX (12 * 3600)

/* One request being answered. */
typedef struct tm_sv_req {
    tm_serve_worker *w;
    struct evhttp_request *req;
    enum tm_serve_route route;
    int64_t t0_us;
    /* Who is asking, once the credentials are checked (tm_sv_authorize),
     * the one notion every route uses: a machine (a token with roles of its
     * own) or a person (a personal token, or a session cookie from POST
     * /v1/login), by name, and the roles they hold now. `token` is the
     * credential's name, or the person's for a session ("" without
     * credentials), for the log and as the actor of what the request writes. `person` is the person's
     * name ("" for a machine): what the audit and approvals name, since a
     * script set is approved by people, not machines. `person_roles` are
     * the person's roles as the store keeps them (TM_ROLE_BIT of enum
     * tm_role, what the lifecycle checks); `roles` the same as access.c
     * names them, or the machine token's. */
    enum { TM_SV_NOBODY, TM_SV_MACHINE, TM_SV_PERSON } who;
    char token[129];
    char person[65];
    unsigned person_roles;
    tm_roles roles;
    int64_t session;  /* a person's session row (TM_SV_PERSON) */
    /* The path's variable segments ("{id}" in the route table), decoded,
     * in order; they point into argbuf. */
    const char *arg[TM_SV_MAXARGS];
    int nargs;
    char argbuf[512];
} tm_sv_req;

/* A route's handler: replies exactly once (tm_sv_reply and the helpers below). */
typedef void (*tm_sv_handler)(tm_sv_req *r);

/* Microseconds on the monotonic clock. */
int64_t tm_sv_now_us(void);

/* Counts the request's connection when it is new. Returns 0, or -1 when the
 * worker is at its connection cap (the caller then refuses the request). */
int tm_sv_conn_admit(tm_serve_worker *w, struct evhttp_request *req);

/* Sends the reply (`len` bytes of `body`, copied), counts it and logs it:
 * time, method, route (never the path: a path may hold an id), status,
 * latency, the token's name. */
void tm_sv_reply(tm_sv_req *r, int status, const char *ctype, const char *body, size_t len);
void tm_sv_reply_json(tm_sv_req *r, int status, const char *body, size_t len);
/* Replies with a jansson value (the reference is stolen; NULL is a 500). */
void tm_sv_reply_value(tm_sv_req *r, int status, json_t *v);

/* {"error": {"code", "message", "field"}} as a new value; field may be NULL. */
json_t *tm_sv_error_value(const char *code, const char *message, const char *field);
/* Replies with that error. */
void tm_sv_error(tm_sv_req *r, int status, const char *code, const char *message,
                 const char *field);

/* "consumer.state: unknown state 'ZZ'": the field a message names before
 * its first ": " (a path: letters, digits, '_', '.', '[', ']') copied into
 * buf and returned, or NULL when it names none. */
const char *tm_sv_field_of(const char *msg, char *buf, size_t cap);

/* Content types a body may have (NULL-terminated lists). */
extern const char *const tm_sv_json_types[];
extern const char *const tm_sv_json_or_lines[];
/* 1 when the request's Content-Type is one of `types` (parameters such as
 * "; charset=utf-8" allowed). */
int tm_sv_content_type_is(struct evhttp_request *req, const char *const *types);

/* 0 when the request's Content-Type is one of `types` (tm_sv_json_types or
 * tm_sv_json_or_lines); else -1 after replying 415 naming what it must be. */
int tm_sv_need_type(tm_sv_req *r, const char *const *types);

/* The body as a JSON object (a new reference), read with jansson (a member
 * named twice refused); with allow_empty an empty body is {} and needs no
 * Content-Type. NULL after replying 415 (not application/json), 400
 * (malformed, naming the offset; or not an object) or 500. */
json_t *tm_sv_json_object(tm_sv_req *r, int allow_empty);

/* The body, contiguous (owned by the request; "" when empty). */
const char *tm_sv_body(struct evhttp_request *req, size_t *len);

/* Scans `body` into *j with tokens from *toks (grown as needed; the caller
 * frees *toks). TM_OK, TM_EINVAL (err says why), TM_ENOMEM. */
int tm_sv_scan_body(const char *body, size_t len, tm_jtok **toks, tm_json *j, struct tm_err *err);

/* Fills `out` as a refusal: status, code, field (copied; may be NULL) and
 * the formatted message. Returns status. */
int tm_sv_refuse(tm_serve_reply *out, int status, const char *code, const char *field,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A body that is not JSON: a 400 saying where it goes wrong (the byte
 * offset, from jansson), or the scanner's reason `scan_msg` when jansson
 * takes it (a member named twice, nesting too deep). Returns 400. */
int tm_sv_refuse_malformed(tm_serve_reply *out, const char *body, size_t len,
                           const char *scan_msg);
/* Replies with that 400. */
void tm_sv_reply_malformed(tm_sv_req *r, const char *body, size_t len, const char *scan_msg);

/* The body (application/json: an array; application/x-ndjson: JSON lines)
 * as JSON lines, one item a line, into `lines` (appended): a JSON array's
 * elements as they stand in the body (not re-encoded: the import reads
 * exactly what was sent), or JSON lines as sent, blank lines dropped. With
 * want_keys, (*keys)[i] is item i's "key" member text (malloc'd, or NULL);
 * *keys is owned by the caller (tm_sv_free_keys, also when n is 0).
 * Returns the number of items, or -1 after replying 415/400/500. */
int tm_sv_body_items(tm_sv_req *r, int want_keys, tm_buf *lines, char ***keys);
void tm_sv_free_keys(char **keys, int n);

/* The time the service judges by (Unix seconds): the system clock moved by
 * TM_NOW when the service was started with it (serve.h, clock_offset). */
int64_t tm_sv_wall(const tm_sv_req *r);

/* Checks the request's credentials, either of two kinds: a machine's
 * `Authorization: Bearer TOKEN`, or a person's `tallyman_session` cookie
 * (app/serve_login.c makes it); with the cookie, a request that changes
 * anything (any method but GET and HEAD) must carry the session's CSRF token
 * in `X-CSRF-Token`. Fills r->who, r->token, r->roles (and r->session).
 * Returns 0, or -1 after replying 401 (no credentials; an unknown, revoked or
 * expired token; an unknown, ended or expired session, or its person
 * disabled), 403 (the CSRF token missing or wrong) or 503 (the store cannot
 * be read). Every refusal of credentials given is audited
 * (access.refused); the reply never says which part was wrong. */
int tm_sv_identify(tm_sv_req *r);

/* tm_sv_identify, then that one of the roles grants `perm`: else 403
 * (audited). Returns 0 or -1 after replying. */
int tm_sv_authorize(tm_sv_req *r, enum tm_perm perm);

/* Appends one audit record on the worker's store, in its own transaction:
 * by the one asking (r->token, or `by` when not NULL), `action` on
 * `subject`, `details` JSON (stolen; NULL: {}). TM_OK or the store's error. */
int tm_sv_audit(tm_sv_req *r, const char *by, const char *action, const char *subject,
                json_t *details);

/* Records that the reply to this request shows debt `debt_id`'s personal
 * data in clear: the fields named (NULL-terminated list, e.g. "phone",
 * "email"), the route, who asked. Every route whose reply holds a
 * consumer's personal data in clear calls it before replying; when it fails
 * the route must not reply with the data (503). `tallyman audit export
 * --actor NAME` lists these records. TM_OK or the store's error. */
int tm_sv_record_personal_data(tm_sv_req *r, const char *debt_id, const char *const *fields);

/* The handlers, by file. */
void tm_sv_healthz(tm_sv_req *r);
void tm_sv_readyz(tm_sv_req *r);
void tm_sv_metrics(tm_sv_req *r);
void tm_sv_decide(tm_sv_req *r);   /* serve_decide.c */
void tm_sv_events(tm_sv_req *r);   /* serve_input.c */
void tm_sv_accounts(tm_sv_req *r); /* serve_input.c */
void tm_sv_debt(tm_sv_req *r);     /* serve_debts.c */
void tm_sv_login(tm_sv_req *r);    /* serve_login.c */
void tm_sv_logout(tm_sv_req *r);   /* serve_login.c */
void tm_sv_scripts_list(tm_sv_req *r);     /* serve_scripts.c */
void tm_sv_scripts_show(tm_sv_req *r);     /* serve_scripts.c */
void tm_sv_scripts_diff(tm_sv_req *r);     /* serve_scripts.c */
void tm_sv_scripts_approve(tm_sv_req *r);  /* serve_scripts.c */
void tm_sv_scripts_activate(tm_sv_req *r); /* serve_scripts.c */
void tm_sv_scripts_rollback(tm_sv_req *r); /* serve_scripts.c */
void tm_sv_payments(tm_sv_req *r); /* serve_payments.c */
void tm_sv_story(tm_sv_req *r);    /* serve_story.c */
void tm_sv_explain(tm_sv_req *r);  /* serve_story.c */
void tm_sv_audit_list(tm_sv_req *r); /* serve_audit.c */
void tm_sv_audit_verify(tm_sv_req *r);
void tm_sv_queue(tm_sv_req *r);    /* serve_queues.c */
void tm_sv_queue_claim(tm_sv_req *r);
void tm_sv_queue_close(tm_sv_req *r);
void tm_sv_simulations(tm_sv_req *r); /* serve_sims.c */
void tm_sv_simulation(tm_sv_req *r);
void tm_sv_simulation_report(tm_sv_req *r);

#endif
