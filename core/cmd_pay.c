/*
 * core/cmd_pay.c: `tallyman pay FILE`: payments the engine takes itself, by
 * card, through the payment gateway. Each request (JSON lines) is checked,
 * its card number replaced by a token at once (the number is wiped from the
 * line and never reaches the store, the audit log or a message), counted
 * against the fraud velocity limits, charged once per idempotency key and
 * recorded; an approved charge is then applied as a payment event, so the
 * balance, promises and the debt's journey follow as for any payment.
 *
 * Velocity limits hold across runs: the attempts of the last window are read
 * back from the store before the first request. A charge whose outcome is
 * unknown (a gateway time-out) is kept pending and retried with the same key
 * by a later run, so the gateway never charges twice.
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
#include "keys.h"
#include "pay.h"
#include "portfolio.h"
#include "store.h"
#include "validate.h"

static const char pay_help[] =
    "usage: tallyman [--db PATH] pay FILE [--gateway test] [--per-card N] [--per-debt N]\n"
    "                [--window-minutes M]\n"
    "\n"
    "Takes card payments through the payment gateway. FILE holds one request per\n"
    "line (JSON): {\"key\": \"...\", \"debt_id\": \"...\", \"amount\": \"25.00\",\n"
    "\"card_number\": \"4111...\" or \"token\": \"tok_...\", \"at\": \"RFC 3339\"}.\n"
    "The card number becomes a token at once and is stored nowhere. Each request\n"
    "is counted against the fraud velocity limits, charged once per key, recorded\n"
    "and audited; an approved charge is applied as a payment (balance, promises,\n"
    "the debt's journey). A time-out is kept pending and retried, with the same\n"
    "key, by the next run.\n"
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

static int seed_velocity(void *ud, const tm_pay_attempt *a)
{
    pay_run *p = ud;
    int hit = 0;
    struct tm_err e = {0};
    /* Past attempts count whatever their outcome; a limit reached in the
     * past simply stays reached. */
    tm_pay_velocity_check(p->vel, a->token, a->debt_ref, a->at, &hit, &e);
    return TM_OK;
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

/* Applies an approved charge as a payment event (the path of `tallyman event`). */
static int apply_payment(pay_run *p, const char *key, const char *debt_id, int64_t at,
                         const char *amount, const char *token, struct tm_err *err)
{
    char ts[40];
    tm_calendar_format_rfc3339(at, 0, ts, sizeof ts, NULL);
    json_t *ev = json_pack("{s:s+, s:s, s:s, s:s, s:s, s:s}", "key", "pay:", key, "type", "payment",
                           "debt_id", debt_id, "at", ts, "amount", amount, "instrument_token", token);
    char *line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    if (!line)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    FILE *in = fmemopen(line, strlen(line), "rb");
    int rc;
    if (!in) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    } else {
        tm_import_opts o = {.name = p->name, .actor = "pay", .now = at};
        tm_event_stats es;
        rc = tm_apply_events(p->s, p->keys, in, &o, &es, err);
        fclose(in);
        if (rc == TM_OK && es.rejected)
            rc = tm_err_set(err, TM_EINVAL, "the approved charge could not be applied as a payment");
    }
    free(line);
    return rc;
}

static int take(pay_run *p, char *text, size_t len, long line, int64_t now, struct tm_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    /* The line may hold a card number: wipe it whatever happens next. */
    OPENSSL_cleanse(text, len);
    if (!json_is_object(j)) {
        json_decref(j);
        reject(p, line, "line", "not a JSON object: %s", je.text);
        return TM_OK;
    }
    char token[TM_PAY_TOKEN_LEN] = "";
    json_t *card = json_object_get(j, "card_number");
    int rc = TM_OK;
    struct tm_err e = {0};
    if (card) {
        const char *pan = json_string_value(card);
        if (!pan || tm_pay_tokenize(p->keys, pan, token, &e) != TM_OK) {
            reject(p, line, "card_number", "%s", pan ? e.msg : "must be a card number as a string of digits");
            token[0] = '\0';
        }
        if (pan)
            OPENSSL_cleanse((char *)pan, strlen(pan));
        if (!token[0])
            goto done;
    } else {
        const char *t = json_string_value(json_object_get(j, "token"));
        if (!t || strncmp(t, "tok_", 4) != 0 || strlen(t) >= sizeof token) {
            reject(p, line, "token", "a card_number or a token (\"tok_...\") is required");
            goto done;
        }
        snprintf(token, sizeof token, "%s", t);
    }
    const char *key = json_string_value(json_object_get(j, "key"));
    const char *debt_id = json_string_value(json_object_get(j, "debt_id"));
    json_t *amt = json_object_get(j, "amount");
    const char *at_s = json_string_value(json_object_get(j, "at"));
    if (!key || !*key || strlen(key) > 200) {
        reject(p, line, "key", "is required (a string of at most 200 bytes)");
        goto done;
    }
    if (!debt_id || !*debt_id) {
        reject(p, line, "debt_id", "is required");
        goto done;
    }
    int64_t at = now;
    int32_t ns = 0;
    int off = 0;
    if (at_s && tm_calendar_parse_rfc3339(at_s, &at, &ns, &off, &e) != TM_OK) {
        reject(p, line, "at", "%s", e.msg);
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
    if (json_is_string(amt)) {
        snprintf(amount, sizeof amount, "%s", json_string_value(amt));
    } else if (json_is_integer(amt)) {
        snprintf(amount, sizeof amount, "%lld", (long long)json_integer_value(amt));
    } else if (json_is_real(amt)) {
        /* A JSON number with a fraction is a binary float: 0.1 is not 0.10. */
        reject(p, line, "amount", "give an amount with cents as a string (\"25.10\"): a JSON number with a "
                                  "fraction may not hold the cents exactly");
        goto done;
    }
    tm_money money;
    if (!amount[0] || tm_money_parse(amount, d.currency, 0, &money, &e) != TM_OK || money.minor <= 0) {
        reject(p, line, "amount", "%s", amount[0] && e.msg[0] ? e.msg : "is required and must be more than zero");
        goto done;
    }
    /* Once per key: a final outcome is not charged again; a pending one is
     * retried with the same key, which the gateway answers without a second
     * charge if it did go through. */
    tm_pay_attempt prev;
    if ((rc = tm_store_pay_attempt_get(p->s, key, &prev, &found, err)) != TM_OK)
        goto done;
    if (found && strcmp(prev.outcome, "approved") == 0) {
        char evkey[260];
        int applied = 0;
        snprintf(evkey, sizeof evkey, "pay:%s", key);
        rc = tm_store_event_exists(p->s, evkey, &applied, err);
        if (rc == TM_OK && !applied)
            rc = apply_payment(p, key, debt_id, prev.at, amount, prev.token, err);
        p->duplicates++;
        goto done;
    }
    if (found && strcmp(prev.outcome, "timeout") != 0) {
        p->duplicates++;
        goto done;
    }
    if (!found) {
        int hit = 0;
        if ((rc = tm_pay_velocity_check(p->vel, token, debt_id, at, &hit, err)) != TM_OK)
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
    if ((rc = tm_pay_charge(&p->gw, token, money, key, &res, err)) != TM_OK)
        goto done;
    static const char *const outcomes[] = {"approved", "declined", "timeout"};
    const char *outcome = outcomes[res.outcome];
    tm_pay_attempt a = {.key = key, .debt = d.id, .token = token, .amount = money.minor,
                        .at = at, .outcome = outcome, .reference = res.reference, .reason = res.reason};
    memcpy(a.currency, money.currency, sizeof a.currency);
    rc = tm_store_begin(p->s, err);
    if (rc == TM_OK)
        rc = tm_store_pay_attempt_put(p->s, &a, err);
    if (rc == TM_OK) {
        json_t *dj = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "key", key, "instrument", token,
                               "amount_minor", (json_int_t)money.minor, "currency", money.currency,
                               "reference", res.reference, "reason", res.reason);
        char action[40];
        snprintf(action, sizeof action, "payment.%s", outcome);
        rc = dj ? audit(p, at, action, debt_id, dj, err) : tm_err_set(err, TM_ENOMEM, "out of memory");
        json_decref(dj);
    }
    if (rc == TM_OK)
        rc = tm_store_commit(p->s, err);
    else
        tm_store_rollback(p->s);
    /* The payment goes in after the attempt is on file: a crash between the
     * two is mended by the next run, which finds the approved attempt
     * without its payment (below). */
    if (rc == TM_OK && res.outcome == TM_PAY_APPROVED)
        rc = apply_payment(p, key, debt_id, at, amount, token, err);
    if (rc == TM_OK) {
        if (res.outcome == TM_PAY_APPROVED)
            p->approved++;
        else if (res.outcome == TM_PAY_DECLINED)
            p->declined++;
        else
            p->pending++;
    }
done:
    json_decref(j);
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
    int64_t now = (int64_t)time(NULL);
    /* The velocity limits count the attempts already on file (those of the
     * last week, which covers any window and requests dated a little back). */
    if (tm_store_pay_attempts_since(p.s, now - (int64_t)window * 60 - 7 * 86400, seed_velocity, &p, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto out;
    }
    char *lineb = NULL;
    size_t cap = 0;
    ssize_t n;
    long line = 0;
    code = TM_EXIT_OK;
    while ((n = getline(&lineb, &cap, in)) >= 0) {
        line++;
        size_t len = (size_t)n;
        while (len && (lineb[len - 1] == '\n' || lineb[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        if (take(&p, lineb, len, line, now, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s:%ld: %s\n", file, line, e.msg);
            code = TM_EXIT_FAIL;
            break;
        }
    }
    if (lineb) {
        OPENSSL_cleanse(lineb, cap);
        free(lineb);
    }
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
