/*
 * app/cmd_pay.c: `tallyman pay FILE`: payments the engine takes itself, by
 * card, through the payment gateway. Each request (JSON lines) is checked,
 * its card number replaced by a token at once (the number is wiped from the
 * line and never reaches the store, the audit log or a message), counted
 * against the fraud velocity limits, charged once per idempotency key and
 * recorded; an approved charge is then applied as a payment event, so the
 * balance, promises and the debt's journey follow as for any payment.
 *
 * Velocity limits hold across runs: for each request, the attempts of the
 * window before its own time are read back from the store, whatever today's
 * date is. A charge whose outcome is unknown (a gateway time-out) is kept
 * pending and retried with the same key by a later run, so the gateway never
 * charges twice. A request older than its debt's last event is refused before
 * it is charged; an approved charge is always applied, whatever its order.
 * A key used again for another request is refused. A line's problem is named
 * (FILE:LINE: field: reason) and the rest of the file goes on.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "calendar.h"
#include "cli.h"
#include "jsonl.h"
#include "jw.h"
#include "keys.h"
#include "pay.h"
#include "portfolio.h"
#include "stopat.h"
#include "store.h"
#include "validate.h"

static const char pay_help[] =
    "usage: tallyman [--db PATH] pay FILE [--gateway test] [--per-card N] [--per-debt N]\n"
    "                [--window-minutes M]\n"
    "\n"
    "Takes card payments through the payment gateway. FILE holds one request per\n"
    "line (JSON): {\"key\": \"...\", \"debt_id\": \"...\", \"amount\": \"25.00\",\n"
    "\"card_number\": \"4111...\" or \"token\": \"tok_...\", \"at\": \"RFC 3339\"}.\n"
    "The card number becomes a token at once and is stored nowhere; a token must\n"
    "be one this engine issued. Each request is counted against the fraud velocity\n"
    "limits (the attempts in the window before its own time), charged once per key,\n"
    "recorded and audited; an approved charge is applied as a payment (balance,\n"
    "promises, the debt's journey), whatever its order. A request dated before its\n"
    "debt's last event, a key used before for another request, or a card number in\n"
    "another field is refused, not charged. A time-out is kept pending and retried,\n"
    "with the same key, by the next run.\n"
    "\n"
    "  --gateway NAME        test (approves; amounts ending in 01 decline, 02 time\n"
    "                        out): the only gateway built in\n"
    "  --per-card N          attempts allowed per card in the window (default 3)\n"
    "  --per-debt N          attempts allowed per debt in the window (default 5)\n"
    "  --window-minutes M    the rolling window (default 60)\n"
    "\n"
    "Exit 0 when every line was taken (approved, declined or pending), 1 when\n"
    "some were refused (bad input, velocity), 2 for bad usage.\n";

typedef struct pay_run {
    tm_store *s;
    const tm_keys *keys;
    uint8_t akey[32];
    tm_pay_velocity *vel;
    int64_t window; /* seconds */
    tm_pay_gateway gw;
    const char *name;
    long approved, declined, pending, refused, duplicates, rejected;
} pay_run;

static void reject(pay_run *p, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reject(pay_run *p, long line, const char *field, const char *fmt, ...)
{
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%ld: %s: %s\n", p->name, line, field, m);
    p->rejected++;
}

/* The velocity key of a debt: its row id, short whatever the length of its id. */
static void debt_key(int64_t id, char out[24])
{
    snprintf(out, 24, "debt:%lld", (long long)id);
}

static int seed_velocity(void *ud, const tm_pay_attempt *a)
{
    pay_run *p = ud;
    char dk[24];
    struct tm_err e = {0};
    debt_key(a->debt, dk);
    /* Past attempts count whatever their outcome; a limit reached in the
     * past simply stays reached. */
    int rc = tm_pay_velocity_record(p->vel, a->token, dk, a->at, &e);
    return rc == TM_ENOMEM ? rc : TM_OK;
}

static int audit(pay_run *p, int64_t at, const char *action, const char *debt_id, json_t *details,
                 struct tm_err *err)
{
    char *text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    char subject[160];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    int rc = tm_audit_append(p->s, p->akey, at, "pay", action, subject, text, err);
    free(text);
    return rc;
}

static void print_reject(void *ud, const char *message)
{
    (void)ud;
    fprintf(stderr, "%s\n", message);
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
 * unapplied before is applied now. */
static int apply_payment(pay_run *p, long line, const char *key, const char *debt_id, int64_t at,
                         int64_t minor, const char *currency, const char *token, struct tm_err *err)
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
    if (!in) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    } else {
        tm_import_opts o = {.name = p->name, .actor = "pay", .now = at, .reject = print_reject,
                            .payments_taken = 1, .origin = origin};
        tm_event_stats es;
        rc = tm_apply_events(p->s, p->keys, in, &o, &es, err);
        fclose(in);
        if (rc == TM_OK && es.rejected)
            rc = tm_err_set(err, TM_EINVAL, "the approved charge could not be applied as a payment "
                                            "(it is on file as approved)");
    }
    free(text);
    return rc;
}

/* A keyed hash of what a request asks: debt, amount, card and (when given) time. The same
 * request sent again hashes the same; the key on any other request does not. */
static void request_content(pay_run *p, int64_t debt, const tm_money *m, const char *token,
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

/* One request line. TM_OK when the line was dealt with, taken or rejected (a line's problem
 * never stops the file); another code only when the store or memory failed. */
static int take(pay_run *p, char *text, size_t len, long line, struct tm_err *err)
{
    static tm_jtok toks[256];
    tm_json j;
    struct tm_err e = {0};
    char token[TM_PAY_TOKEN_LEN] = "";
    int rc = TM_OK;
    if (tm_json_scan(text, len, toks, (int)(sizeof toks / sizeof *toks), &j, &e) != TM_OK ||
        j.tok[0].type != TM_J_OBJECT) {
        reject(p, line, "line", "not a JSON object: %s", e.msg[0] ? e.msg : "another JSON value");
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
        reject(p, line, where, "holds a card number: refused, not charged (a card number is taken "
                               "only in card_number, and kept nowhere)");
        goto done;
    }
    int cv = tm_json_get(&j, 0, "card_number");
    if (cv >= 0) {
        char number[64];
        int n = tm_json_str(&j, cv, number, sizeof number);
        if (n <= 0 || tm_pay_tokenize(p->keys, number, token, &e) != TM_OK) {
            reject(p, line, "card_number", "%s", n > 0 ? e.msg : "must be a card number as a string of digits");
            token[0] = '\0';
        }
        OPENSSL_cleanse(number, sizeof number);
        if (!token[0])
            goto done;
    } else {
        if (tv < 0) {
            reject(p, line, "token", "a card_number or a token (\"tok_...\") is required");
            goto done;
        }
        /* Only a token this engine issued: any other string could be anything, a card number
         * included, and would be charged and stored as it stands. */
        if (tm_json_str(&j, tv, token, sizeof token) <= 0 || tm_pay_token_check(p->keys, token, &e) != TM_OK) {
            reject(p, line, "token", "%s", e.msg[0] ? e.msg : "is not a token (tok_<24 hex digits>_<last four>_<brand>)");
            token[0] = '\0';
            goto done;
        }
    }
    char key[201], debt_id[129], at_s[64];
    if (tm_json_str(&j, tm_json_get(&j, 0, "key"), key, sizeof key) <= 0) {
        reject(p, line, "key", "is required (a string of at most 200 bytes)");
        goto done;
    }
    if (tm_json_str(&j, tm_json_get(&j, 0, "debt_id"), debt_id, sizeof debt_id) <= 0) {
        reject(p, line, "debt_id", "is required (a string of at most 128 bytes)");
        goto done;
    }
    int64_t at = (int64_t)time(NULL);
    int32_t ns = 0;
    int off = 0;
    int atv = tm_json_get(&j, 0, "at");
    int has_at = atv >= 0 && j.tok[atv].type != TM_J_NULL;
    if (has_at && (tm_json_str(&j, atv, at_s, sizeof at_s) <= 0 ||
                   tm_calendar_parse_rfc3339(at_s, &at, &ns, &off, &e) != TM_OK)) {
        reject(p, line, "at", "must be an RFC 3339 time%s%s", e.msg[0] ? ": " : "", e.msg);
        goto done;
    }
    tm_debt_rec d;
    int found = 0;
    if ((rc = tm_store_debt_find(p->s, debt_id, &d, &found, err)) != TM_OK)
        goto done;
    if (!found) {
        reject(p, line, "debt_id", "no debt '%s' in the store", debt_id);
        goto done;
    }
    char amount[64] = "";
    int av = tm_json_get(&j, 0, "amount");
    int atype = av >= 0 ? j.tok[av].type : 0;
    if (atype == TM_J_STRING) {
        if (tm_json_str(&j, av, amount, sizeof amount) < 0) {
            reject(p, line, "amount", "is too large (%u characters)", j.tok[av].len);
            goto done;
        }
    } else if (atype == TM_J_NUMBER) {
        size_t rl;
        const char *raw = tm_json_raw(&j, av, &rl);
        if (memchr(raw, '.', rl) || memchr(raw, 'e', rl) || memchr(raw, 'E', rl)) {
            /* A JSON number with a fraction is a binary float to most senders: 0.1 is not 0.10. */
            reject(p, line, "amount", "give an amount with cents as a string (\"25.10\"): a JSON number "
                                      "with a fraction may not hold the cents exactly");
            goto done;
        }
        if (rl >= sizeof amount) {
            reject(p, line, "amount", "is too large (%zu digits)", rl);
            goto done;
        }
        memcpy(amount, raw, rl);
        amount[rl] = '\0';
    } else if (av >= 0 && atype != TM_J_NULL) {
        reject(p, line, "amount", "must be an amount as a string (\"25.00\")");
        goto done;
    }
    tm_money money;
    memset(&e, 0, sizeof e);
    if (!amount[0] || tm_money_parse(amount, d.currency, 0, &money, &e) != TM_OK || money.minor <= 0) {
        reject(p, line, "amount", "%s", amount[0] && e.msg[0] ? e.msg : "is required and must be more than zero");
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
        reject(p, line, "key", "'%s' was first used %s%s for another payment (at %s): a key names one "
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
                reject(p, line, "key", "%s", err->msg);
                rc = TM_OK;
                goto done;
            }
        }
        p->duplicates++;
        goto done;
    }
    if (found && prev.outcome != TM_ATTEMPT_TIMEOUT) {
        p->duplicates++;
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
            reject(p, line, "at", "older than the last event applied to debt '%s' (%s): not charged",
                   debt_id, lb);
            goto done;
        }
        /* The attempts that count are those in the window before this request's own time,
         * read from the store (every attempt of this run is there too), whatever today is. */
        tm_pay_velocity_clear(p->vel);
        if ((rc = tm_store_pay_attempts_between(p->s, at - p->window, at, seed_velocity, p, err)) != TM_OK)
            goto done;
        int hit = 0;
        if ((rc = tm_pay_velocity_check(p->vel, token, dk, at, &hit, err)) != TM_OK)
            goto done;
        if (hit != TM_PAY_VELOCITY_OK) {
            p->refused++;
            fprintf(stderr, "%s:%ld: refused: too many attempts on this %s within the window\n", p->name,
                    line, hit == TM_PAY_VELOCITY_TOKEN ? "card" : "debt");
            json_t *dj = json_pack("{s:s, s:s, s:I, s:s}", "key", key, "instrument", token, "amount_minor",
                                   (json_int_t)money.minor, "refused",
                                   hit == TM_PAY_VELOCITY_TOKEN ? "velocity: card" : "velocity: debt");
            rc = tm_store_begin(p->s, err);
            if (rc == TM_OK)
                rc = audit(p, at, "payment.refused", debt_id, dj, err);
            rc = rc == TM_OK ? tm_store_commit(p->s, err) : (tm_store_rollback(p->s), rc);
            json_decref(dj);
            goto done;
        }
    }
    tm_pay_result res;
    memset(&e, 0, sizeof e);
    if (tm_pay_charge(&p->gw, token, money, key, &res, &e) != TM_OK) {
        /* No outcome: nothing was charged. */
        reject(p, line, "gateway", "%s: not charged", e.msg);
        goto done;
    }
    static const enum tm_attempt_outcome outcomes[] = {
        [TM_PAY_APPROVED] = TM_ATTEMPT_APPROVED, [TM_PAY_DECLINED] = TM_ATTEMPT_DECLINED,
        [TM_PAY_TIMEOUT] = TM_ATTEMPT_TIMEOUT};
    enum tm_attempt_outcome outcome = outcomes[res.outcome];
    char origin[300];
    snprintf(origin, sizeof origin, "%s:%ld", p->name, line);
    tm_pay_attempt a = {.key = key, .debt = d.id, .token = token, .amount = money.minor,
                        .at = at, .outcome = outcome, .reference = res.reference, .reason = res.reason,
                        .content = content, .origin = origin};
    memcpy(a.currency, money.currency, sizeof a.currency);
    rc = tm_store_begin(p->s, err);
    if (rc == TM_OK)
        rc = tm_store_pay_attempt_put(p->s, &a, err);
    if (rc == TM_OK) {
        json_t *dj = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "key", key, "instrument", token,
                               "amount_minor", (json_int_t)money.minor, "currency", money.currency,
                               "reference", res.reference, "reason", res.reason);
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
     * two is mended by the next run, which finds the approved attempt
     * without its payment (above). */
    if (rc == TM_OK && res.outcome == TM_PAY_APPROVED) {
        tm_stopat("pay.charged"); /* an approved charge on file, its payment not yet applied */
        rc = apply_payment(p, line, key, debt_id, at, money.minor, money.currency, token, err);
        if (rc == TM_EINVAL) {
            reject(p, line, "key", "%s", err->msg);
            rc = TM_OK;
        }
    }
    if (rc == TM_OK) {
        if (res.outcome == TM_PAY_APPROVED)
            p->approved++;
        else if (res.outcome == TM_PAY_DECLINED)
            p->declined++;
        else
            p->pending++;
    }
done:
    /* The line may hold a card number: wipe it whatever happened. */
    OPENSSL_cleanse(text, len);
    OPENSSL_cleanse(token, sizeof token);
    return rc;
}

int tm_cmd_pay(tm_cli *cli)
{
    const char *file = NULL, *gateway = "test";
    uint64_t per_card = 3, per_debt = 5, window = 60;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(pay_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--gateway") == 0 && v) {
            gateway = v;
            i++;
        } else if (strcmp(a, "--per-card") == 0 && v) {
            if (tm_cli_parse_u64(v, 1000, &per_card) != 0)
                return tm_cli_usage_error("pay", "--per-card needs a number from 0 (no limit) to 1000");
            i++;
        } else if (strcmp(a, "--per-debt") == 0 && v) {
            if (tm_cli_parse_u64(v, 1000, &per_debt) != 0)
                return tm_cli_usage_error("pay", "--per-debt needs a number from 0 (no limit) to 1000");
            i++;
        } else if (strcmp(a, "--window-minutes") == 0 && v) {
            if (tm_cli_parse_u64(v, 10080, &window) != 0 || window == 0)
                return tm_cli_usage_error("pay", "--window-minutes needs a number from 1 to 10080");
            i++;
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && !file) {
            file = a;
        } else {
            return tm_cli_usage_error("pay", "unknown option or missing value '%s'", a);
        }
    }
    if (!file)
        return tm_cli_usage_error("pay", "pay needs a FILE of payment requests");
    if (strcmp(gateway, "test") != 0)
        return tm_cli_usage_error("pay", "--gateway: '%s' is not built in (test is)", gateway);
    if (!tm_cli_store_exists(cli, "import accounts"))
        return TM_EXIT_FAIL;
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!in) {
        fprintf(stderr, "tallyman: %s: cannot open: %s\n", file, strerror(errno));
        return TM_EXIT_FAIL;
    }
    struct tm_err e = {0};
    tm_keys *keys = NULL;
    pay_run p = {.name = file};
    int code = TM_EXIT_FAIL;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_WRITE, &p.s, &keys) != TM_EXIT_OK)
        goto out;
    if (tm_pay_velocity_new((int)per_card, (int)per_debt, (int64_t)window * 60, &p.vel, &e) != TM_OK ||
        tm_pay_test_gateway(&p.gw, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto out;
    }
    p.keys = keys;
    tm_portfolio_audit_key(keys, p.akey);
    p.window = (int64_t)window * 60;
    tm_jsonl *rd = NULL;
    if (tm_jsonl_open(in, file, 0, &rd, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto out;
    }
    char *lineb;
    size_t len;
    long line;
    int got, unread = 0;
    code = TM_EXIT_OK;
    while ((got = tm_jsonl_next(rd, &lineb, &len, &line, &e)) != 0) {
        if (got == TM_EINVAL) { /* a line too long: rejected, not charged; the rest goes on */
            fprintf(stderr, "%s\n", e.msg);
            p.rejected++;
            continue;
        }
        if (got < 0) { /* a file that cannot be read (a directory, ...) is not an empty one */
            fprintf(stderr, "tallyman: %s\n", e.msg);
            code = TM_EXIT_FAIL;
            unread = 1;
            break;
        }
        if (take(&p, lineb, len, line, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s:%ld: %s\n", file, line, e.msg);
            code = TM_EXIT_FAIL;
            break;
        }
    }
    line = tm_jsonl_lineno(rd);
    tm_jsonl_close(rd); /* wipes the line buffer: a line may have held a card number */
    if (!(unread && line == 0))
        printf("%s: %ld approved, %ld declined, %ld pending (gateway time-out: retried by the next run), "
               "%ld refused by velocity limits, %ld already taken, %ld rejected\n",
               file, p.approved, p.declined, p.pending, p.refused, p.duplicates, p.rejected);
    if (p.refused || p.rejected)
        code = TM_EXIT_FAIL;
out:
    if (in && in != stdin)
        fclose(in);
    tm_pay_test_gateway_free(&p.gw);
    tm_pay_velocity_free(p.vel);
    if (p.s)
        tm_store_close(p.s);
    OPENSSL_cleanse(p.akey, sizeof p.akey);
    tm_keys_free(keys);
    return code;
}
