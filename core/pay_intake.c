/*
 * core/pay_intake.c: one card payment request taken (pay_intake.h): checked,
 * tokenised at once, counted against the velocity limits, charged once per
 * key, recorded, audited and applied as a payment.
 */
#include "pay_intake.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "calendar.h"
#include "jscan.h"
#include "jw.h"
#include "portfolio.h"
#include "stopat.h"
#include "validate.h"

struct tm_pay_intake {
    tm_store *s;
    const tm_keys *keys;
    uint8_t akey[32];
    tm_pay_velocity *vel;
    int64_t window; /* seconds */
    tm_pay_gateway gw;
    char name[128];
    char actor[160];
    tm_jtok toks[256];
};

int tm_pay_intake_new(tm_store *s, const tm_keys *k, const tm_pay_intake_opts *o,
                      tm_pay_intake **out, struct tm_err *err)
{
    *out = NULL;
    if (!s || !k || !o || o->window < 1 || o->per_card < 0 || o->per_debt < 0)
        return tm_err_set(err, TM_EINVAL, "payment intake: bad limits");
    tm_pay_intake *p = calloc(1, sizeof *p);
    if (!p)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    p->s = s;
    p->keys = k;
    p->window = o->window;
    snprintf(p->name, sizeof p->name, "%s", o->name ? o->name : "payment");
    snprintf(p->actor, sizeof p->actor, "%s", o->actor ? o->actor : "pay");
    int rc = tm_pay_velocity_new(o->per_card, o->per_debt, o->window, &p->vel, err);
    if (rc == TM_OK)
        rc = tm_pay_test_gateway(&p->gw, err);
    if (rc != TM_OK) {
        tm_pay_intake_free(p);
        return rc;
    }
    tm_portfolio_audit_key(k, p->akey);
    *out = p;
    return TM_OK;
}

void tm_pay_intake_free(tm_pay_intake *p)
{
    if (!p)
        return;
    tm_pay_test_gateway_free(&p->gw);
    tm_pay_velocity_free(p->vel);
    OPENSSL_cleanse(p->akey, sizeof p->akey);
    free(p);
}

long tm_pay_intake_gateway_attempts(const tm_pay_intake *p)
{
    return tm_pay_test_gateway_attempts(&p->gw);
}

static void reject(tm_pay_intake_result *res, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reject(tm_pay_intake_result *res, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    snprintf(res->field, sizeof res->field, "%s", field);
    res->status = TM_INTAKE_REJECTED;
}

/* The velocity key of a debt: its row id, short whatever the length of its id. */
static void debt_key(int64_t id, char out[24])
{
    snprintf(out, 24, "debt:%lld", (long long)id);
}

static int seed_velocity(void *ud, const tm_pay_attempt *a)
{
    tm_pay_intake *p = ud;
    char dk[24];
    struct tm_err e = {0};
    debt_key(a->debt, dk);
    /* Past attempts count whatever their outcome; a limit reached in the
     * past simply stays reached. */
    int rc = tm_pay_velocity_record(p->vel, a->token, dk, a->at, &e);
    return rc == TM_ENOMEM ? rc : TM_OK;
}

static int audit(tm_pay_intake *p, int64_t at, const char *action, const char *debt_id,
                 json_t *details, struct tm_err *err)
{
    char *text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    char subject[160];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    int rc = tm_audit_append(p->s, p->akey, at, p->actor, action, subject, text, err);
    free(text);
    return rc;
}

/* The payment event's own rejection, kept to say why it was not applied. */
typedef struct apply_note {
    char why[400];
} apply_note;

static void note_reject(void *ud, const char *message)
{
    apply_note *n = ud;
    if (!n->why[0])
        snprintf(n->why, sizeof n->why, "%s", message);
}

/* Major-unit text of `minor` in a currency with `exponent` decimals ("25.00"), so the payment
 * event of one charge reads the same whatever spelling the request used. */
static void amount_text(int64_t minor, const char *currency, char *out, size_t cap)
{
    int exponent = 2;
    tm_valid_currency(currency, &exponent, NULL);
    tm_jw_money_text(out, cap, minor, exponent);
}

/* Applies an approved charge as a payment event (the path of `tallyman event`), whatever its
 * order against the debt's other events: the money was taken. A payment event the charge left
 * unapplied before is applied now. TM_EINVAL when the event is rejected (err says why). */
static int apply_payment(tm_pay_intake *p, long line, const char *key, const char *debt_id,
                         int64_t at, int64_t minor, const char *currency, const char *token,
                         struct tm_err *err)
{
    char ts[40], amount[40], origin[300];
    tm_calendar_format_rfc3339(at, 0, ts, sizeof ts, NULL);
    amount_text(minor, currency, amount, sizeof amount);
    snprintf(origin, sizeof origin, "%s:%ld", p->name, line);
    json_t *ev = json_pack("{s:s+, s:s, s:s, s:s, s:s, s:s}", "key", "pay:", key, "type", "payment",
                           "debt_id", debt_id, "at", ts, "amount", amount, "instrument_token", token);
    char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    if (!text)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    FILE *in = fmemopen(text, strlen(text), "rb");
    int rc;
    apply_note note = {{0}};
    if (!in) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    } else {
        tm_import_opts o = {.name = p->name, .actor = p->actor, .now = at, .reject = note_reject,
                            .ud = &note, .payments_taken = 1, .origin = origin};
        tm_event_stats es;
        rc = tm_apply_events(p->s, p->keys, in, &o, &es, err);
        fclose(in);
        if (rc == TM_OK && es.rejected)
            rc = tm_err_set(err, TM_EINVAL, "the approved charge could not be applied as a payment "
                                            "(it is on file as approved)%s%s",
                            note.why[0] ? ": " : "", note.why);
    }
    free(text);
    return rc;
}

/* A keyed hash of what a request asks: debt, amount, card and (when given) time. The same
 * request sent again hashes the same; the key on any other request does not. */
static void request_content(tm_pay_intake *p, int64_t debt, const tm_money *m, const char *token,
                            int has_at, int64_t at, tm_hash16 *out)
{
    char text[256];
    int n = snprintf(text, sizeof text, "%lld|%lld|%s|%s|%s%lld", (long long)debt,
                     (long long)m->minor, m->currency, token, has_at ? "at:" : "",
                     has_at ? (long long)at : 0LL);
    uint8_t md[32];
    out->set = n > 0 && (size_t)n < sizeof text &&
               tm_keys_lookup_raw(p->keys, text, (size_t)n, md) == TM_OK;
    if (out->set)
        memcpy(out->b, md, TM_STORE_HASH_LEN);
}

static int same_request(const tm_pay_attempt *prev, const tm_hash16 *content, int64_t debt,
                        const tm_money *m, const char *token)
{
    if (prev->content.set && content->set)
        return memcmp(prev->content.b, content->b, TM_STORE_HASH_LEN) == 0;
    /* An attempt stored before requests were hashed: what it recorded must match. */
    return prev->debt == debt && prev->amount == m->minor &&
           strcmp(prev->currency, m->currency) == 0 && strcmp(prev->token, token) == 0;
}

int tm_pay_intake_take(tm_pay_intake *p, char *text, size_t len, long line, int64_t now,
                       tm_pay_intake_result *res, struct tm_err *err)
{
    tm_json j;
    struct tm_err e = {0};
    char token[TM_PAY_TOKEN_LEN] = "";
    int rc = TM_OK;
    memset(res, 0, sizeof *res);
    if (tm_json_scan(text, len, p->toks, (int)(sizeof p->toks / sizeof *p->toks), &j, &e) != TM_OK ||
        j.tok[0].type != TM_J_OBJECT) {
        reject(res, "line", "not a JSON object: %s", e.msg[0] ? e.msg : "another JSON value");
        goto done;
    }
    /* A card number belongs in card_number alone, where it becomes a token at once; anywhere
     * else it would be stored or echoed as it stands. The field is named, never the number. */
    char where[200];
    /* A token this engine issued stands for a card; it is not one, whatever digits its hash
     * happens to show. */
    int tv = tm_json_get(&j, 0, "token");
    int token_ok = tv >= 0 && tm_json_str(&j, tv, token, sizeof token) > 0 &&
                   tm_pay_token_check(p->keys, token, NULL) == TM_OK;
    token[0] = '\0';
    const char *const except[] = {"card_number", token_ok ? "token" : NULL, NULL};
    int pan = tm_pay_json_find_card_number(&j, except, where, sizeof where);
    if (pan < 0) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        goto done;
    }
    if (pan) {
        reject(res, where, "holds a card number: refused, not charged (a card number is taken "
                           "only in card_number, and kept nowhere)");
        goto done;
    }
    int cv = tm_json_get(&j, 0, "card_number");
    if (cv >= 0) {
        char number[64];
        int n = tm_json_str(&j, cv, number, sizeof number);
        if (n <= 0 || tm_pay_tokenize(p->keys, number, token, &e) != TM_OK) {
            reject(res, "card_number", "%s", n > 0 ? e.msg : "must be a card number as a string of digits");
            token[0] = '\0';
        }
        OPENSSL_cleanse(number, sizeof number);
        if (!token[0])
            goto done;
    } else {
        if (tv < 0) {
            reject(res, "token", "a card_number or a token (\"tok_...\") is required");
            goto done;
        }
        /* Only a token this engine issued: any other string could be anything, a card number
         * included, and would be charged and stored as it stands. */
        if (tm_json_str(&j, tv, token, sizeof token) <= 0 || tm_pay_token_check(p->keys, token, &e) != TM_OK) {
            reject(res, "token", "%s", e.msg[0] ? e.msg : "is not a token (tok_<24 hex digits>_<last four>_<brand>)");
            token[0] = '\0';
            goto done;
        }
    }
    snprintf(res->token, sizeof res->token, "%s", token);
    char key[201], debt_id[129], at_s[64];
    if (tm_json_str(&j, tm_json_get(&j, 0, "key"), key, sizeof key) <= 0) {
        reject(res, "key", "is required (a string of at most 200 bytes)");
        goto done;
    }
    if (tm_json_str(&j, tm_json_get(&j, 0, "debt_id"), debt_id, sizeof debt_id) <= 0) {
        reject(res, "debt_id", "is required (a string of at most 128 bytes)");
        goto done;
    }
    int64_t at = now;
    int32_t ns = 0;
    int off = 0;
    int atv = tm_json_get(&j, 0, "at");
    int has_at = atv >= 0 && j.tok[atv].type != TM_J_NULL;
    if (has_at && (tm_json_str(&j, atv, at_s, sizeof at_s) <= 0 ||
                   tm_calendar_parse_rfc3339(at_s, &at, &ns, &off, &e) != TM_OK)) {
        reject(res, "at", "must be an RFC 3339 time%s%s", e.msg[0] ? ": " : "", e.msg);
        goto done;
    }
    tm_debt_rec d;
    int found = 0;
    if ((rc = tm_store_debt_find(p->s, debt_id, &d, &found, err)) != TM_OK)
        goto done;
    if (!found) {
        reject(res, "debt_id", "no debt '%s' in the store", debt_id);
        goto done;
    }
    char amount[64] = "";
    int av = tm_json_get(&j, 0, "amount");
    int atype = av >= 0 ? j.tok[av].type : 0;
    if (atype == TM_J_STRING) {
        if (tm_json_str(&j, av, amount, sizeof amount) < 0) {
            reject(res, "amount", "is too large (%u characters)", j.tok[av].len);
            goto done;
        }
    } else if (atype == TM_J_NUMBER) {
        size_t rl;
        const char *raw = tm_json_raw(&j, av, &rl);
        if (memchr(raw, '.', rl) || memchr(raw, 'e', rl) || memchr(raw, 'E', rl)) {
            /* A JSON number with a fraction is a binary float to most senders: 0.1 is not 0.10. */
            reject(res, "amount", "give an amount with cents as a string (\"25.10\"): a JSON number "
                                  "with a fraction may not hold the cents exactly");
            goto done;
        }
        if (rl >= sizeof amount) {
            reject(res, "amount", "is too large (%zu digits)", rl);
            goto done;
        }
        memcpy(amount, raw, rl);
        amount[rl] = '\0';
    } else if (av >= 0 && atype != TM_J_NULL) {
        reject(res, "amount", "must be an amount as a string (\"25.00\")");
        goto done;
    }
    tm_money money;
    memset(&e, 0, sizeof e);
    if (!amount[0] || tm_money_parse(amount, d.currency, 0, &money, &e) != TM_OK || money.minor <= 0) {
        reject(res, "amount", "%s", amount[0] && e.msg[0] ? e.msg : "is required and must be more than zero");
        goto done;
    }
    /* Once per key: the same request again is not charged again; the key on another request
     * is refused. A pending charge is retried with the same key, which the gateway answers
     * without a second charge if it did go through. */
    tm_hash16 content;
    request_content(p, d.id, &money, token, has_at, at, &content);
    tm_pay_attempt prev;
    if ((rc = tm_store_pay_attempt_get(p->s, key, &prev, &found, err)) != TM_OK)
        goto done;
    if (found && !same_request(&prev, &content, d.id, &money, token)) {
        char when[40];
        tm_calendar_format_rfc3339(prev.at, 0, when, sizeof when, NULL);
        reject(res, "key", "'%s' was first used %s%s for another payment (at %s): a key names one "
                           "payment, so this one is refused as a conflicting reuse, not charged",
               key, prev.origin[0] ? "on " : "before", prev.origin, when);
        goto done;
    }
    if (found && prev.outcome == TM_ATTEMPT_APPROVED) {
        /* Approved before: its payment must be on the debt, whatever happened since. */
        char evkey[260];
        tm_event_ref ev;
        int have = 0;
        snprintf(evkey, sizeof evkey, "pay:%s", key);
        rc = tm_store_event_find(p->s, evkey, &ev, &have, err);
        if (rc == TM_OK && (!have || ev.status != TM_EVENT_APPLIED)) {
            rc = apply_payment(p, line, key, prev.debt_ref, prev.at, prev.amount, prev.currency,
                               prev.token, err);
            if (rc == TM_EINVAL) {
                reject(res, "key", "%s", err->msg);
                rc = TM_OK;
                goto done;
            }
        }
        snprintf(res->reference, sizeof res->reference, "%s", prev.reference);
        res->status = TM_INTAKE_DUPLICATE;
        goto done;
    }
    if (found && prev.outcome != TM_ATTEMPT_TIMEOUT) {
        snprintf(res->reference, sizeof res->reference, "%s", prev.reference);
        res->status = TM_INTAKE_DUPLICATE;
        goto done;
    }
    char dk[24];
    debt_key(d.id, dk);
    if (!found) {
        /* Ordering first: a charge that could not be applied as the debt's next event would
         * take money the debt does not show. */
        if (d.has_last_event && at < d.last_event_at) {
            char lb[40];
            tm_calendar_format_rfc3339(d.last_event_at, 0, lb, sizeof lb, NULL);
            reject(res, "at", "older than the last event applied to debt '%s' (%s): not charged",
                   debt_id, lb);
            goto done;
        }
        /* The attempts that count are those in the window before this request's own time,
         * read from the store (every attempt before this one is there too), whatever today is. */
        tm_pay_velocity_clear(p->vel);
        if ((rc = tm_store_pay_attempts_between(p->s, at - p->window, at, seed_velocity, p, err)) != TM_OK)
            goto done;
        int hit = 0;
        if ((rc = tm_pay_velocity_check(p->vel, token, dk, at, &hit, err)) != TM_OK)
            goto done;
        if (hit != TM_PAY_VELOCITY_OK) {
            res->status = TM_INTAKE_REFUSED;
            snprintf(res->message, sizeof res->message,
                     "too many attempts on this %s within the window",
                     hit == TM_PAY_VELOCITY_TOKEN ? "card" : "debt");
            json_t *dj = json_pack("{s:s, s:s, s:I, s:s}", "key", key, "instrument", token, "amount_minor",
                                   (json_int_t)money.minor, "refused",
                                   hit == TM_PAY_VELOCITY_TOKEN ? "velocity: card" : "velocity: debt");
            rc = dj ? tm_store_begin(p->s, err) : tm_err_set(err, TM_ENOMEM, "out of memory");
            if (rc == TM_OK) {
                rc = audit(p, at, "payment.refused", debt_id, dj, err);
                rc = rc == TM_OK ? tm_store_commit(p->s, err) : (tm_store_rollback(p->s), rc);
            }
            json_decref(dj);
            goto done;
        }
    }
    tm_pay_result pr;
    memset(&e, 0, sizeof e);
    if (tm_pay_charge(&p->gw, token, money, key, &pr, &e) != TM_OK) {
        /* No outcome: nothing was charged. */
        reject(res, "gateway", "%s: not charged", e.msg);
        goto done;
    }
    static const enum tm_attempt_outcome outcomes[] = {
        [TM_PAY_APPROVED] = TM_ATTEMPT_APPROVED, [TM_PAY_DECLINED] = TM_ATTEMPT_DECLINED,
        [TM_PAY_TIMEOUT] = TM_ATTEMPT_TIMEOUT};
    enum tm_attempt_outcome outcome = outcomes[pr.outcome];
    char origin[300];
    snprintf(origin, sizeof origin, "%s:%ld", p->name, line);
    tm_pay_attempt a = {.key = key, .debt = d.id, .token = token, .amount = money.minor,
                        .at = at, .outcome = outcome, .reference = pr.reference, .reason = pr.reason,
                        .content = content, .origin = origin};
    memcpy(a.currency, money.currency, sizeof a.currency);
    rc = tm_store_begin(p->s, err);
    if (rc == TM_OK)
        rc = tm_store_pay_attempt_put(p->s, &a, err);
    if (rc == TM_OK) {
        json_t *dj = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "key", key, "instrument", token,
                               "amount_minor", (json_int_t)money.minor, "currency", money.currency,
                               "reference", pr.reference, "reason", pr.reason);
        char action[40];
        snprintf(action, sizeof action, "payment.%s", tm_store_attempt_outcome_name(outcome));
        rc = dj ? audit(p, at, action, debt_id, dj, err) : tm_err_set(err, TM_ENOMEM, "out of memory");
        json_decref(dj);
    }
    if (rc == TM_OK)
        rc = tm_store_commit(p->s, err);
    else
        tm_store_rollback(p->s);
    /* The payment goes in after the attempt is on file: a crash between the
     * two is mended by the next request with this key, which finds the
     * approved attempt without its payment (above). */
    if (rc == TM_OK && pr.outcome == TM_PAY_APPROVED) {
        tm_stopat("pay.charged"); /* an approved charge on file, its payment not yet applied */
        rc = apply_payment(p, line, key, debt_id, at, money.minor, money.currency, token, err);
        if (rc == TM_EINVAL) {
            reject(res, "key", "%s", err->msg);
            rc = TM_OK;
            goto done;
        }
    }
    if (rc == TM_OK) {
        snprintf(res->reference, sizeof res->reference, "%s", pr.reference);
        res->status = pr.outcome == TM_PAY_APPROVED   ? TM_INTAKE_APPROVED
                      : pr.outcome == TM_PAY_DECLINED ? TM_INTAKE_DECLINED
                                                      : TM_INTAKE_PENDING;
        if (pr.outcome != TM_PAY_APPROVED)
            snprintf(res->message, sizeof res->message, "%s", pr.reason);
    }
done:
    /* The text may hold a card number: wipe it whatever happened. */
    OPENSSL_cleanse(text, len);
    OPENSSL_cleanse(token, sizeof token);
    return rc;
}
