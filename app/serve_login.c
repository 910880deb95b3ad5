/*
 * app/serve_login.c: POST /v1/login and POST /v1/logout: a person's session
 * (serve.h lists the service's files).
 *
 * A login takes {"user", "password", "code"}: the password (Argon2id,
 * core/password.h) and a TOTP code (core/totp.h) together, or the password
 * first and then {"user", "code"} within five minutes. The answer names what
 * is still needed ({"needs": ["code"]}) and never which part was wrong:
 * every failure is the same 401. Success makes a session: a random 256-bit
 * id, kept in the store only as its SHA-256, sent in an HttpOnly,
 * SameSite=Strict cookie (Secure under TLS), ending after TM_SV_SESSION_IDLE
 * idle or TM_SV_SESSION_MAX in all; and a CSRF token, returned in the body,
 * that every state-changing request made with the cookie must carry in
 * X-CSRF-Token (app/serve_http.c checks it).
 *
 * Failures in a row slow a person's logins down and then lock them: from the
 * third, the next attempt waits 5 x 2^(failures-3) seconds (429 with
 * Retry-After); the fifth locks the account for LOCK_SECONDS. The lock is
 * released by time (recorded at the next attempt) or by an admin's
 * `tallyman users reset-password`. Every login, failure, lock, release and
 * logout is an audit record.
 */
#include "serve_http.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "audit.h"
#include "crypto.h"
#include "keys.h"
#include "password.h"
#include "totp.h"

#define LOGIN_MAX_BODY 4096
#define SLOW_AFTER 3      /* failures before attempts must wait */
#define LOCK_AFTER 5      /* failures that lock the account */
#define LOCK_SECONDS (15 * 60)
#define CODE_WINDOW 300   /* seconds a right password waits for its code */

/* A hash of a random password nobody knows, made once, checked for an
 * unknown person so the answer takes as long as for a known one. */
static char decoy[TM_PASSWORD_HASH_CAP];
static pthread_once_t decoy_once = PTHREAD_ONCE_INIT;

static void make_decoy(void)
{
    char pw[33];
    if (tm_password_generate(pw, 32) == TM_OK)
        tm_password_hash(pw, decoy, sizeof decoy, NULL);
    OPENSSL_cleanse(pw, sizeof pw);
}

/* `v` (stolen) as compact JSON text, malloc'd; NULL when out of memory. */
static char *dump(json_t *v)
{
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(v);
    return t;
}

static void failed_reply(tm_sv_req *r)
{
    tm_sv_error(r, 401, "login_failed", "the login failed", NULL);
}

static int64_t wait_after(int failed)
{
    if (failed < SLOW_AFTER)
        return 0;
    int sh = failed - SLOW_AFTER > 10 ? 10 : failed - SLOW_AFTER;
    return (int64_t)5 << sh;
}

static void too_many(tm_sv_req *r, int64_t retry)
{
    char ra[24];
    snprintf(ra, sizeof ra, "%lld", (long long)(retry > 0 ? retry : 1));
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", ra);
    tm_sv_error(r, 429, "too_many_attempts", "too many failed logins; try again later", NULL);
}

/* One failure of person `u`: counted, perhaps locking, audited with `why`,
 * answered 401 (or 503 when the store fails). */
static void fail(tm_sv_req *r, tm_user_auth *u, const char *why)
{
    int64_t now = tm_sv_wall(r);
    tm_store *s = r->w->store;
    struct tm_err e = {0};
    int failed = u->failed + 1;
    int64_t lock = failed >= LOCK_AFTER ? now + LOCK_SECONDS : 0;
    char subject[80];
    snprintf(subject, sizeof subject, "user:%s", u->name);
    int rc = tm_store_begin(s, &e);
    if (rc == TM_OK)
        rc = tm_store_user_login_state(s, u->id, failed, now, lock, 0, &e);
    char *t = dump(json_pack("{s:s, s:i}", "why", why, "failures", failed));
    if (rc == TM_OK)
        rc = t ? tm_audit_append(s, r->w->sv->audit_key, now, u->name, "login.failed", subject, t, &e)
               : TM_ENOMEM;
    free(t);
    if (rc == TM_OK && lock) {
        t = dump(json_pack("{s:I}", "until", (json_int_t)lock));
        rc = t ? tm_audit_append(s, r->w->sv->audit_key, now, u->name, "login.locked", subject, t,
                                 &e)
               : TM_ENOMEM;
        free(t);
    }
    if (rc == TM_OK)
        rc = tm_store_commit(s, &e);
    else
        tm_store_rollback(s);
    if (rc != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the login cannot be checked now", NULL);
        return;
    }
    failed_reply(r);
}

/* The person's TOTP secret, decrypted into key (20 bytes). 0 or -1. */
static int totp_key(tm_sv_req *r, const tm_user_auth *u, uint8_t *key, size_t *klen)
{
    char aad[64];
    snprintf(aad, sizeof aad, "user:%lld:totp", (long long)u->id);
    char *plain = NULL;
    size_t n = 0;
    if (tm_keys_decrypt(r->w->sv->keys, u->totp, u->totp_len, aad, &plain, &n, NULL) != TM_OK)
        return -1;
    if (n > 64) {
        OPENSSL_cleanse(plain, n);
        free(plain);
        return -1;
    }
    memcpy(key, plain, n);
    *klen = n;
    OPENSSL_cleanse(plain, n);
    free(plain);
    return 0;
}

/* The session: made, stored, audited, sent. */
static void open_session(tm_sv_req *r, tm_user_auth *u, int64_t step)
{
    int64_t now = tm_sv_wall(r);
    tm_store *s = r->w->store;
    uint8_t raw[32], craw[32];
    char id[65], csrf[65], idh[65], csrfh[65];
    if (tm_random_bytes(raw, sizeof raw) != TM_OK || tm_random_bytes(craw, sizeof craw) != TM_OK) {
        tm_sv_error(r, 503, "unavailable", "the login cannot be completed now", NULL);
        return;
    }
    tm_hex(raw, sizeof raw, id);
    tm_hex(craw, sizeof craw, csrf);
    tm_sha256_hex(id, 64, idh);
    tm_sha256_hex(csrf, 64, csrfh);
    int64_t expires = now + TM_SV_SESSION_MAX;
    char subject[80];
    snprintf(subject, sizeof subject, "user:%s", u->name);
    struct tm_err e = {0};
    int taken = 0;
    int rc = tm_store_begin(s, &e);
    if (rc == TM_OK)
        rc = tm_store_user_totp_use(s, u->id, step, &taken, &e);
    if (rc == TM_OK && !taken) {
        /* Another request took this code in the meantime: a replay. */
        tm_store_rollback(s);
        fail(r, u, "replayed code");
        return;
    }
    if (rc == TM_OK)
        rc = tm_store_user_login_state(s, u->id, 0, 0, 0, 0, &e);
    if (rc == TM_OK)
        rc = tm_store_session_add(s, idh, u->id, csrfh, now, expires, &e);
    /* The session is named in the record by the first digits of its hash,
     * which say nothing of the id itself. */
    char *t = dump(json_pack("{s:s%}", "session", idh, (size_t)12));
    if (rc == TM_OK)
        rc = t ? tm_audit_append(s, r->w->sv->audit_key, now, u->name, "login.succeeded", subject,
                                 t, &e)
               : TM_ENOMEM;
    free(t);
    if (rc == TM_OK)
        rc = tm_store_commit(s, &e);
    else
        tm_store_rollback(s);
    if (rc != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the login cannot be completed now", NULL);
        return;
    }
    char cookie[256];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s",
             TM_SV_SESSION_COOKIE, id, TM_SV_SESSION_MAX, r->w->sv->tls ? "; Secure" : "");
    struct evkeyvalq *oh = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(oh, "Set-Cookie", cookie);
    evhttp_add_header(oh, "Cache-Control", "no-store");
    snprintf(r->token, sizeof r->token, "%s", u->name);
    r->who = TM_SV_PERSON;
    char roles[200];
    tm_access_roles_format(tm_access_of_person(u->roles), roles, sizeof roles);
    json_t *rl = json_array();
    for (char *p = roles; *p;) {
        size_t n = strcspn(p, ",");
        json_array_append_new(rl, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    tm_sv_reply_value(r, 200,
                      json_pack("{s:s, s:o, s:s, s:I, s:i}", "user", u->name, "roles", rl,
                                "csrf_token", csrf, "expires_at", (json_int_t)expires,
                                "idle_timeout", TM_SV_SESSION_IDLE));
    OPENSSL_cleanse(id, sizeof id);
    OPENSSL_cleanse(csrf, sizeof csrf);
}

void tm_sv_login(tm_sv_req *r)
{
    size_t len;
    const char *body = tm_sv_body(r->req, &len);
    if (len > LOGIN_MAX_BODY) {
        tm_sv_audit(r, "-", "login.failed", "login",
                    json_pack("{s:s, s:I}", "why", "oversize body", "bytes", (json_int_t)len));
        failed_reply(r);
        return;
    }
    if (!tm_sv_content_type_is(r->req, tm_sv_json_types)) {
        tm_sv_error(r, 415, "unsupported_media_type", "the body must be application/json", NULL);
        return;
    }
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    const char *user = NULL, *pw = NULL, *code = NULL;
    if (!v || json_unpack(v, "{s:s, s?s, s?s !}", "user", &user, "password", &pw, "code", &code) != 0 ||
        (!pw && !code) || strlen(user) > 64 || !user[0]) {
        json_decref(v);
        tm_sv_error(r, 400, "bad_request",
                    "a login is {\"user\", \"password\"}, {\"user\", \"code\"} or all three, as "
                    "strings",
                    NULL);
        return;
    }
    int64_t now = tm_sv_wall(r);
    tm_user_auth u;
    int found = 0;
    struct tm_err e = {0};
    if (tm_store_user_auth_get(r->w->store, user, &u, &found, &e) != TM_OK) {
        json_decref(v);
        tm_sv_error(r, 503, "store_unavailable", "the login cannot be checked now", NULL);
        return;
    }
    if (!found || u.disabled_at) {
        if (pw) {
            pthread_once(&decoy_once, make_decoy);
            (void)tm_password_verify(decoy, pw); /* the same time as a known person */
        }
        tm_sv_audit(r, "-", "login.failed", "login",
                    json_pack("{s:s, s:s}", "user", user, "why",
                              found ? "disabled person" : "unknown person"));
        json_decref(v);
        failed_reply(r);
        return;
    }
    char subject[80];
    snprintf(subject, sizeof subject, "user:%s", u.name);
    if (u.locked_until > now) {
        tm_sv_audit(r, u.name, "login.refused", subject, json_pack("{s:s}", "why", "locked"));
        json_decref(v);
        too_many(r, u.locked_until - now);
        return;
    }
    if (u.locked_until) {
        /* The lock has run out: released, and the count starts again. */
        struct tm_err e2 = {0};
        if (tm_store_user_login_state(r->w->store, u.id, 0, 0, 0, 0, &e2) != TM_OK) {
            json_decref(v);
            tm_sv_error(r, 503, "store_unavailable", "the login cannot be checked now", NULL);
            return;
        }
        tm_sv_audit(r, u.name, "login.released", subject,
                    json_pack("{s:I}", "locked_until", (json_int_t)u.locked_until));
        u.failed = 0;
        u.locked_until = u.last_failed_at = u.password_ok_until = 0;
    }
    int64_t wait = u.last_failed_at + wait_after(u.failed) - now;
    if (wait_after(u.failed) && wait > 0) {
        tm_sv_audit(r, u.name, "login.refused", subject, json_pack("{s:s}", "why", "too soon"));
        json_decref(v);
        too_many(r, wait);
        return;
    }
    /* The password: given now, or given right within CODE_WINDOW before. */
    int pw_ok;
    if (pw && !u.password_hash[0]) {
        pthread_once(&decoy_once, make_decoy);
        (void)tm_password_verify(decoy, pw); /* no password set: the same time */
        pw_ok = 0;
    } else if (pw)
        pw_ok = tm_password_verify(u.password_hash, pw);
    else
        pw_ok = u.password_ok_until > now;
    if (!pw_ok) {
        json_decref(v);
        fail(r, &u, pw ? "password" : "code without a password first");
        return;
    }
    if (!u.totp_len) {
        /* No second factor enrolled: nobody logs in on a password alone. */
        tm_sv_audit(r, u.name, "login.failed", subject, json_pack("{s:s}", "why", "no second factor"));
        json_decref(v);
        tm_sv_error(r, 403, "second_factor_not_enrolled",
                    "this person has no second factor yet (tallyman users totp-enroll)", NULL);
        return;
    }
    if (!code) {
        struct tm_err e2 = {0};
        if (tm_store_user_login_state(r->w->store, u.id, u.failed, u.last_failed_at, 0,
                                      now + CODE_WINDOW, &e2) != TM_OK) {
            json_decref(v);
            tm_sv_error(r, 503, "store_unavailable", "the login cannot be checked now", NULL);
            return;
        }
        json_decref(v);
        json_t *ans = tm_sv_error_value("code_required", "a TOTP code is needed to finish", NULL);
        json_object_set_new(ans, "needs", json_pack("[s]", "code"));
        tm_sv_reply_value(r, 401, ans);
        return;
    }
    uint8_t key[64];
    size_t klen = 0;
    if (totp_key(r, &u, key, &klen) != 0) {
        json_decref(v);
        tm_sv_error(r, 503, "unavailable", "the second factor cannot be checked now", NULL);
        return;
    }
    uint64_t step = 0;
    int ok = tm_totp_verify(key, klen, code, now, (uint64_t)u.totp_last_step, &step);
    /* A right code whose step is used already is a replay: said so in the
     * audit record, never in the answer. */
    int replay = !ok && tm_totp_verify(key, klen, code, now, 0, NULL);
    OPENSSL_cleanse(key, sizeof key);
    if (!ok) {
        json_decref(v);
        fail(r, &u, replay ? "replayed code" : "code");
        return;
    }
    json_decref(v);
    open_session(r, &u, (int64_t)step);
}

void tm_sv_logout(tm_sv_req *r)
{
    if (tm_sv_identify(r) != 0)
        return;
    if (r->who != TM_SV_PERSON) {
        tm_sv_error(r, 400, "bad_request", "logout ends a session; a token is revoked with "
                                           "tallyman tokens revoke", NULL);
        return;
    }
    struct tm_err e = {0};
    int64_t now = tm_sv_wall(r);
    if (tm_store_session_end(r->w->store, r->session, now, &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the session cannot be ended now", NULL);
        return;
    }
    char subject[140];
    snprintf(subject, sizeof subject, "user:%s", r->token);
    tm_sv_audit(r, NULL, "logout", subject, NULL);
    char cookie[160];
    snprintf(cookie, sizeof cookie, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             TM_SV_SESSION_COOKIE, r->w->sv->tls ? "; Secure" : "");
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", cookie);
    static const char ok[] = "{\"status\":\"logged_out\"}";
    tm_sv_reply_json(r, 200, ok, sizeof ok - 1);
}
