/*
 * core/pay.c: payment primitives (see pay.h for the contracts).
 *
 * Design notes. Money stays int64 minor units end to end; every sum is checked with the
 * __builtin overflow helpers rather than hoping balances stay small. Percentages are basis
 * points compared by cross-multiplication, split so it cannot overflow (see meets_bps). Card
 * numbers are copied only into fixed stack buffers that are wiped before every return, so no
 * PAN survives a call; tokens carry a keyed hash, the last four and the brand, nothing else.
 * The velocity counter and the test gateway are deliberately simple linear arrays: they hold
 * a rolling hour of attempts or one test's charges, not a production-size history.
 */
#include "pay.h"

#include <openssl/crypto.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Money ------------------------------------------------------------------------------- */

static int check_currency(const char *code, int *exponent, struct tm_err *err)
{
    struct tm_err e = {0};
    /* The code must fit the 3-letter field and be NUL-terminated there. */
    if (memchr(code, '\0', 4) == NULL || tm_valid_currency(code, exponent, &e) != TM_OK)
        return tm_err_set(err, TM_EINVAL, "invalid currency: %s", e.msg[0] ? e.msg : "bad code");
    return TM_OK;
}

static int same_currency(const tm_money *a, const tm_money *b, struct tm_err *err)
{
    int rc = check_currency(a->currency, NULL, err);
    if (rc == TM_OK)
        rc = check_currency(b->currency, NULL, err);
    if (rc != TM_OK)
        return rc;
    if (strcmp(a->currency, b->currency) != 0)
        return tm_err_set(err, TM_EINVAL, "currency mismatch: %s and %s", a->currency,
                          b->currency);
    return TM_OK;
}

int tm_money_add(tm_money a, tm_money b, tm_money *out, struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_money_add: out is NULL");
    int rc = same_currency(&a, &b, err);
    if (rc != TM_OK)
        return rc;
    int64_t r;
    if (__builtin_add_overflow(a.minor, b.minor, &r))
        return tm_err_set(err, TM_EINVAL, "amount overflow in addition");
    out->minor = r;
    memcpy(out->currency, a.currency, sizeof out->currency);
    return TM_OK;
}

int tm_money_sub(tm_money a, tm_money b, tm_money *out, struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_money_sub: out is NULL");
    int rc = same_currency(&a, &b, err);
    if (rc != TM_OK)
        return rc;
    int64_t r;
    if (__builtin_sub_overflow(a.minor, b.minor, &r))
        return tm_err_set(err, TM_EINVAL, "amount overflow in subtraction");
    out->minor = r;
    memcpy(out->currency, a.currency, sizeof out->currency);
    return TM_OK;
}

int tm_money_format(tm_money m, char *buf, size_t size, struct tm_err *err)
{
    if (buf == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_money_format: buf is NULL");
    if (size > 0)
        buf[0] = '\0';
    int exp;
    int rc = check_currency(m.currency, &exp, err);
    if (rc != TM_OK)
        return rc;

    /* Work on the magnitude as unsigned so INT64_MIN has a representable absolute value. */
    int neg = m.minor < 0;
    uint64_t mag = neg ? (uint64_t)0 - (uint64_t)m.minor : (uint64_t)m.minor;
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag > 0);
    while (nd <= exp) /* at least one integer digit: 5 cents is "0.05" */
        digits[nd++] = '0';

    char tmp[TM_MONEY_FMT_MAX];
    size_t o = 0;
    if (neg)
        tmp[o++] = '-';
    for (int i = nd - 1; i >= 0; i--) {
        int pos = i - exp; /* digits left of this one in the integer part */
        tmp[o++] = digits[i];
        if (pos > 0 && pos % 3 == 0)
            tmp[o++] = ',';
        if (i == exp && exp > 0)
            tmp[o++] = '.';
    }
    tmp[o++] = ' ';
    memcpy(tmp + o, m.currency, 3);
    o += 3;
    tmp[o] = '\0';
    if (o + 1 > size)
        return tm_err_set(err, TM_EINVAL, "buffer too small for amount (%zu bytes needed)", o + 1);
    memcpy(buf, tmp, o + 1);
    return TM_OK;
}

int tm_money_parse(const char *text, const char *currency, unsigned flags, tm_money *out,
                   struct tm_err *err)
{
    if (text == NULL || currency == NULL || out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_money_parse: NULL argument");
    if (strlen(currency) != 3)
        return tm_err_set(err, TM_EINVAL, "invalid currency: not a 3-letter code");
    int exp;
    int rc = check_currency(currency, &exp, err);
    if (rc != TM_OK)
        return rc;
    int64_t minor;
    struct tm_err e = {0};
    if (tm_parse_money(text, exp, flags, &minor, &e) != TM_OK)
        return tm_err_set(err, TM_EINVAL, "invalid amount: %s", e.msg);
    out->minor = minor;
    memcpy(out->currency, currency, 4);
    return TM_OK;
}

int tm_money_percent(int64_t minor, int64_t bps, int64_t *out, struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_money_percent: NULL argument");
    if (bps < 0 || bps > TM_MONEY_BPS_MAX)
        return tm_err_set(err, TM_EINVAL, "basis points %lld outside 0 to %d", (long long)bps,
                          TM_MONEY_BPS_MAX);
    if (minor > TM_MONEY_PERCENT_MAX || minor < -TM_MONEY_PERCENT_MAX)
        return tm_err_set(err, TM_EINVAL, "amount too large");
    int64_t p = minor * bps;
    /* C division truncates towards zero, so the remainder has the sign of p:
     * rounding half away from zero is one step further out when |r| >= 5000. */
    int64_t q = p / 10000, r = p % 10000;
    if (r >= 5000)
        q++;
    else if (r <= -5000)
        q--;
    *out = q;
    return TM_OK;
}

/* ---- Installment plans ------------------------------------------------------------------- */

/* Moves `d` forward to the first business day on or after it. */
static int next_business_day(tm_date d, tm_date *out, struct tm_err *err)
{
    int biz;
    int rc = tm_calendar_is_business_day(d, NULL, &biz, err);
    if (rc != TM_OK)
        return rc;
    if (biz) {
        *out = d;
        return TM_OK;
    }
    /* add_business_days never counts `d` itself, so +1 from a closed day is the next open one. */
    return tm_calendar_add_business_days(d, 1, NULL, out, err);
}

static int plan_date(tm_date first, int frequency, int i, tm_date *out, struct tm_err *err)
{
    if (frequency == TM_PAY_MONTHLY) {
        /* Months count from the anchor, never from the previous (clamped) date, so a Jan 31
         * plan returns to the 31st in March after February's clamp. */
        int64_t m0 = (int64_t)first.year * 12 + (first.month - 1) + i;
        int64_t y = m0 / 12; /* first.year >= 1971 here, so m0 is positive */
        int mon = (int)(m0 % 12) + 1;
        int dim = tm_calendar_days_in_month(y, mon);
        if (y > TM_HOLIDAY_YEAR_MAX)
            return tm_err_set(err, TM_EINVAL, "plan runs past year %d", TM_HOLIDAY_YEAR_MAX);
        *out = (tm_date){(int)y, mon, first.day < dim ? first.day : dim};
        return TM_OK;
    }
    int step = frequency == TM_PAY_WEEKLY ? 7 : 14;
    return tm_calendar_add_days(first, (int64_t)step * i, out, err);
}

int tm_pay_plan(tm_money total, int count, int frequency, tm_date first, int business_day_adjust,
                tm_pay_installment *out, size_t cap, struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_plan: out is NULL");
    if (count < 1 || count > TM_PAY_PLAN_MAX)
        return tm_err_set(err, TM_EINVAL, "installment count must be 1..%d", TM_PAY_PLAN_MAX);
    if ((size_t)count > cap)
        return tm_err_set(err, TM_EINVAL, "output holds %zu installments, %d needed", cap, count);
    if (total.minor <= 0)
        return tm_err_set(err, TM_EINVAL, "plan total must be positive");
    if (frequency != TM_PAY_WEEKLY && frequency != TM_PAY_BIWEEKLY &&
        frequency != TM_PAY_MONTHLY)
        return tm_err_set(err, TM_EINVAL, "unknown plan frequency %d", frequency);
    if (business_day_adjust != 0 && business_day_adjust != 1)
        return tm_err_set(err, TM_EINVAL, "business_day_adjust must be 0 or 1");
    int rc = check_currency(total.currency, NULL, err);
    if (rc != TM_OK)
        return rc;
    rc = tm_calendar_date_check(first, err);
    if (rc != TM_OK)
        return rc;
    if (first.year < TM_HOLIDAY_YEAR_MIN || first.year > TM_HOLIDAY_YEAR_MAX)
        return tm_err_set(err, TM_EINVAL, "first date must be in years %d-%d",
                          TM_HOLIDAY_YEAR_MIN, TM_HOLIDAY_YEAR_MAX);

    /* Build into a local array so `out` stays untouched when a late date fails. */
    tm_pay_installment tmp[TM_PAY_PLAN_MAX];
    int64_t each = total.minor / count;
    int64_t rem = total.minor % count;
    for (int i = 0; i < count; i++) {
        tm_date d;
        rc = plan_date(first, frequency, i, &d, err);
        if (rc == TM_OK && business_day_adjust)
            rc = next_business_day(d, &d, err);
        if (rc != TM_OK)
            return rc;
        tmp[i].due = d;
        tmp[i].amount.minor = each + (i == count - 1 ? rem : 0);
        memcpy(tmp[i].amount.currency, total.currency, sizeof total.currency);
    }
    memcpy(out, tmp, (size_t)count * sizeof *out);
    return TM_OK;
}

int tm_pay_plan_check(tm_money total, const tm_pay_installment *inst, size_t n,
                      struct tm_err *err)
{
    int rc = check_currency(total.currency, NULL, err);
    if (rc != TM_OK)
        return rc;
    if (total.minor <= 0)
        return tm_err_set(err, TM_EINVAL, "total: must be more than zero");
    if (n < 1 || n > TM_PAY_PLAN_MAX)
        return tm_err_set(err, TM_EINVAL, "installments: %zu installments, expected 1 to %d", n,
                          TM_PAY_PLAN_MAX);
    if (inst == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_plan_check: NULL installments");
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t a = inst[i].amount.minor;
        tm_date d = inst[i].due;
        if (a <= 0)
            return tm_err_set(err, TM_EINVAL, "installments[%zu].amount: must be more than zero",
                              i + 1);
        if (i > 0 && tm_calendar_date_cmp(d, inst[i - 1].due) <= 0)
            return tm_err_set(err, TM_EINVAL,
                              "installments[%zu].due: %04d-%02d-%02d is not after the installment "
                              "before",
                              i + 1, d.year, d.month, d.day);
        if (a > INT64_MAX - sum)
            return tm_err_set(err, TM_EINVAL, "installments[%zu].amount: the sum overflows", i + 1);
        sum += a;
    }
    if (sum != total.minor) {
        tm_money a = total;
        a.minor = sum;
        char as[TM_MONEY_FMT_MAX], ts[TM_MONEY_FMT_MAX];
        tm_money_format(a, as, sizeof as, NULL);
        tm_money_format(total, ts, sizeof ts, NULL);
        return tm_err_set(err, TM_EINVAL, "installments: add up to %s, not the total %s", as, ts);
    }
    return TM_OK;
}

/* ---- Settlement authority ---------------------------------------------------------------- */

/* 1 when offer * 10000 >= balance * bps, exactly, for offer, balance >= 0 and bps 0..10000.
 * balance = q*10000 + r, so the test is (offer - q*bps) * 10000 >= r*bps; q*bps <= balance
 * cannot overflow, and r*bps < 10^8 settles the comparison once the difference is >= 10000. */
static int meets_bps(int64_t offer, int64_t balance, int32_t bps)
{
    int64_t q = balance / 10000, r = balance % 10000;
    int64_t d = offer - q * bps;
    if (d < 0)
        return 0;
    if (d >= 10000)
        return 1;
    return d * 10000 >= r * bps;
}

static int str_match(const char *rule, const char *debt)
{
    if (rule == NULL)
        return 1;
    return debt != NULL && strcmp(rule, debt) == 0;
}

static void set_reason(tm_pay_decision *d, int verdict, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_reason(tm_pay_decision *d, int verdict, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
    d->verdict = verdict;
}

int tm_pay_settlement_check(tm_money balance, tm_money offer, const tm_pay_settle_limits *limits,
                            int role, int supervisor_override, tm_pay_decision *decision,
                            struct tm_err *err)
{
    if (limits == NULL || decision == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_settlement_check: NULL argument");
    if (limits->rules == NULL && limits->nrules > 0)
        return tm_err_set(err, TM_EINVAL, "settlement rules are NULL");
    if (balance.minor <= 0 || offer.minor <= 0)
        return tm_err_set(err, TM_EINVAL, "balance and offer must be positive");
    if (supervisor_override != 0 && supervisor_override != 1)
        return tm_err_set(err, TM_EINVAL, "supervisor_override must be 0 or 1");
    if (role < 0) /* TM_PAY_ROLE_ANY describes rules, never the person asking */
        return tm_err_set(err, TM_EINVAL, "role must be a concrete role");
    if (limits->floor_bps < 0 || limits->floor_bps > 10000)
        return tm_err_set(err, TM_EINVAL, "floor_bps must be 0..10000");
    int rc = same_currency(&balance, &offer, err);
    if (rc != TM_OK)
        return rc;

    int32_t min = -1;
    for (size_t i = 0; i < limits->nrules; i++) {
        const tm_pay_settle_rule *r = &limits->rules[i];
        if (r->min_bps < 0 || r->min_bps > 10000)
            return tm_err_set(err, TM_EINVAL, "rule %zu: min_bps must be 0..10000", i);
        if (r->role != TM_PAY_ROLE_ANY && r->role != role)
            continue;
        if (!str_match(r->state, limits->state) || !str_match(r->creditor, limits->creditor))
            continue;
        if (r->min_bps > min)
            min = r->min_bps;
    }

    memset(decision, 0, sizeof *decision);
    decision->min_bps = min;
    if (min < 0) {
        set_reason(decision, TM_PAY_REFUSED, "no settlement authority for this role");
        return TM_OK;
    }
    if (!meets_bps(offer.minor, balance.minor, limits->floor_bps)) {
        set_reason(decision, TM_PAY_REFUSED, "offer is below the hard floor of %d bps",
                   (int)limits->floor_bps);
        return TM_OK;
    }
    if (meets_bps(offer.minor, balance.minor, min)) {
        set_reason(decision, TM_PAY_ALLOWED, "offer meets the minimum of %d bps", (int)min);
        return TM_OK;
    }
    if (!supervisor_override) {
        set_reason(decision, TM_PAY_NEEDS_OVERRIDE,
                   "offer is below the minimum of %d bps: a supervisor override is needed",
                   (int)min);
        return TM_OK;
    }
    if (role != TM_PAY_ROLE_SUPERVISOR) {
        set_reason(decision, TM_PAY_REFUSED, "only a supervisor may override the minimum");
        return TM_OK;
    }
    decision->overridden = 1;
    set_reason(decision, TM_PAY_ALLOWED,
               "allowed by supervisor override below the minimum of %d bps", (int)min);
    return TM_OK;
}

/* ---- Promises to pay --------------------------------------------------------------------- */

int tm_pay_promise_status(const tm_pay_promise *promise, const tm_pay_payment *pays, size_t n,
                          tm_date today, int *state, int64_t *paid, struct tm_err *err)
{
    if (promise == NULL || state == NULL || (pays == NULL && n > 0))
        return tm_err_set(err, TM_EINVAL, "tm_pay_promise_status: NULL argument");
    if (promise->amount.minor <= 0)
        return tm_err_set(err, TM_EINVAL, "promised amount must be positive");
    if (promise->grace_days < 0 || promise->grace_days > 366)
        return tm_err_set(err, TM_EINVAL, "grace days must be 0..366");
    int rc = check_currency(promise->amount.currency, NULL, err);
    if (rc == TM_OK)
        rc = tm_calendar_date_check(promise->due, err);
    if (rc == TM_OK)
        rc = tm_calendar_date_check(today, err);
    if (rc != TM_OK)
        return rc;
    tm_date deadline;
    rc = tm_calendar_add_days(promise->due, promise->grace_days, &deadline, err);
    if (rc != TM_OK)
        return rc;

    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const tm_pay_payment *p = &pays[i];
        if (p->amount.minor <= 0)
            return tm_err_set(err, TM_EINVAL, "payment %zu: amount must be positive", i);
        rc = same_currency(&promise->amount, &p->amount, err);
        if (rc == TM_OK)
            rc = tm_calendar_date_check(p->date, err);
        if (rc != TM_OK)
            return rc;
        if (tm_calendar_date_cmp(p->date, deadline) > 0 || tm_calendar_date_cmp(p->date, today) > 0)
            continue;
        if (__builtin_add_overflow(sum, p->amount.minor, &sum))
            return tm_err_set(err, TM_EINVAL, "payment sum overflows");
    }

    if (sum >= promise->amount.minor)
        *state = TM_PAY_PROMISE_KEPT;
    else if (tm_calendar_date_cmp(today, deadline) <= 0)
        *state = TM_PAY_PROMISE_OPEN;
    else if (sum > 0)
        *state = TM_PAY_PROMISE_PARTIALLY_KEPT;
    else
        *state = TM_PAY_PROMISE_BROKEN;
    if (paid)
        *paid = sum;
    return TM_OK;
}

/* ---- Payment application ----------------------------------------------------------------- */

static int64_t take(int64_t *left, int64_t owed)
{
    int64_t t = *left < owed ? *left : owed;
    *left -= t;
    return owed - t;
}

int tm_pay_apply(tm_money amount, const tm_pay_buckets *in, tm_pay_buckets *out,
                 int64_t *overpayment, struct tm_err *err)
{
    if (in == NULL || out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_apply: NULL argument");
    if (amount.minor < 0)
        return tm_err_set(err, TM_EINVAL, "payment amount must not be negative");
    if (in->fees < 0 || in->interest < 0 || in->principal < 0)
        return tm_err_set(err, TM_EINVAL, "balances must not be negative");
    int rc = check_currency(amount.currency, NULL, err);
    if (rc != TM_OK)
        return rc;
    int64_t left = amount.minor;
    tm_pay_buckets b;
    b.fees = take(&left, in->fees);
    b.interest = take(&left, in->interest);
    b.principal = take(&left, in->principal);
    *out = b;
    if (overpayment)
        *overpayment = left;
    return TM_OK;
}

/* ---- Instrument checks ------------------------------------------------------------------- */

static const char *const brand_names[] = {"unknown", "visa", "mastercard", "amex", "discover"};

const char *tm_pay_brand_name(int brand)
{
    if (brand < 0 || brand > TM_PAY_BRAND_DISCOVER)
        return brand_names[0];
    return brand_names[brand];
}

int tm_pay_luhn_valid(const char *digits)
{
    if (digits == NULL || digits[0] == '\0')
        return 0;
    size_t len = strlen(digits);
    int sum = 0;
    for (size_t i = 0; i < len; i++) {
        char c = digits[len - 1 - i];
        if (c < '0' || c > '9')
            return 0;
        int v = c - '0';
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

#define PAN_MAX 19

/* The leading `n` digits of `d` as a number (n <= 6, d at least n digits long). */
static int prefix(const char *d, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (d[i] - '0');
    return v;
}

static int detect_brand(const char *d, size_t len)
{
    if (len < 13)
        return TM_PAY_BRAND_UNKNOWN;
    int p1 = prefix(d, 1), p2 = prefix(d, 2), p3 = prefix(d, 3), p4 = prefix(d, 4);
    int p6 = prefix(d, 6);
    if (p1 == 4)
        return (len == 13 || len == 16 || len == 19) ? TM_PAY_BRAND_VISA : TM_PAY_BRAND_UNKNOWN;
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
        return len == 16 ? TM_PAY_BRAND_MASTERCARD : TM_PAY_BRAND_UNKNOWN;
    if (p2 == 34 || p2 == 37)
        return len == 15 ? TM_PAY_BRAND_AMEX : TM_PAY_BRAND_UNKNOWN;
    if (p4 == 6011 || (p6 >= 622126 && p6 <= 622925) || (p3 >= 644 && p3 <= 649) || p2 == 65)
        return (len == 16 || len == 19) ? TM_PAY_BRAND_DISCOVER : TM_PAY_BRAND_UNKNOWN;
    return TM_PAY_BRAND_UNKNOWN;
}

/* Copies the digits of `number` into d (PAN_MAX + 1 bytes), dropping spaces and dashes.
 * Returns the brand or a negative code with err set. The caller wipes d on every path. */
static int card_digits(const char *number, char d[PAN_MAX + 1], struct tm_err *err)
{
    size_t n = 0;
    for (const char *p = number; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (*p < '0' || *p > '9')
            return tm_err_set(err, TM_EINVAL, "card number holds a character other than digits");
        if (n == PAN_MAX)
            return tm_err_set(err, TM_EINVAL, "card number is longer than %d digits", PAN_MAX);
        d[n++] = *p;
    }
    d[n] = '\0';
    int brand = detect_brand(d, n);
    if (brand == TM_PAY_BRAND_UNKNOWN)
        return tm_err_set(err, TM_EINVAL, "card number has no known brand for its prefix and "
                                          "length (%zu digits)", n);
    if (!tm_pay_luhn_valid(d))
        return tm_err_set(err, TM_EINVAL, "card number fails the Luhn check");
    return brand;
}

int tm_pay_card_check(const char *number, int *brand, struct tm_err *err)
{
    if (brand)
        *brand = TM_PAY_BRAND_UNKNOWN;
    if (number == NULL)
        return tm_err_set(err, TM_EINVAL, "card number is missing");
    char d[PAN_MAX + 1];
    int r = card_digits(number, d, err);
    OPENSSL_cleanse(d, sizeof d);
    if (r < 0)
        return r;
    if (brand)
        *brand = r;
    return TM_OK;
}

int tm_pay_aba_check(const char *routing, struct tm_err *err)
{
    static const int w[9] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
    if (routing == NULL)
        return tm_err_set(err, TM_EINVAL, "routing number is missing");
    int sum = 0;
    for (int i = 0; i < 9; i++) {
        if (routing[i] < '0' || routing[i] > '9')
            return tm_err_set(err, TM_EINVAL, "routing number must be exactly 9 digits");
        sum += w[i] * (routing[i] - '0');
    }
    if (routing[9] != '\0')
        return tm_err_set(err, TM_EINVAL, "routing number must be exactly 9 digits");
    if (sum % 10 != 0)
        return tm_err_set(err, TM_EINVAL, "routing number fails the checksum");
    return TM_OK;
}

/* ---- Tokenisation ------------------------------------------------------------------------ */

#define TOKEN_ID_HEX 12
#define TOKEN_MAC_HEX 12

/* The keyed hash that proves a token was issued under this key file: the first TOKEN_MAC_HEX
 * hex of tm_keys_lookup_hash() over the token's other parts, tagged apart from PAN hashes. */
static int token_mac(const tm_keys *k, const char *id, const char *last4, const char *brand,
                     char mac[TOKEN_MAC_HEX + 1])
{
    char input[64];
    char hash[TM_KEYS_HASH_HEX_LEN + 1];
    snprintf(input, sizeof input, "tok:%.*s_%.4s_%s", TOKEN_ID_HEX, id, last4, brand);
    int rc = tm_keys_lookup_hash(k, input, hash);
    if (rc == TM_OK)
        snprintf(mac, TOKEN_MAC_HEX + 1, "%.*s", TOKEN_MAC_HEX, hash);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

int tm_pay_tokenize(const tm_keys *k, const char *pan, char token[TM_PAY_TOKEN_LEN],
                    struct tm_err *err)
{
    if (token == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_tokenize: token is NULL");
    token[0] = '\0';
    if (k == NULL || pan == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_tokenize: NULL argument");

    char d[PAN_MAX + 1];
    char input[4 + PAN_MAX + 1];
    char hash[TM_KEYS_HASH_HEX_LEN + 1];
    char mac[TOKEN_MAC_HEX + 1];
    int rc = TM_OK;
    int brand = card_digits(pan, d, err);
    if (brand < 0) {
        rc = brand;
        goto out;
    }
    /* The field tag keeps PAN hashes apart from other lookup hashes under the same key. */
    snprintf(input, sizeof input, "pan:%s", d);
    size_t len = strlen(d);
    if (tm_keys_lookup_hash(k, input, hash) != TM_OK ||
        token_mac(k, hash, d + len - 4, tm_pay_brand_name(brand), mac) != TM_OK) {
        rc = tm_err_set(err, TM_ECRYPTO, "lookup hash failed");
        goto out;
    }
    snprintf(token, TM_PAY_TOKEN_LEN, "tok_%.*s%s_%s_%s", TOKEN_ID_HEX, hash, mac, d + len - 4,
             tm_pay_brand_name(brand));
out:
    OPENSSL_cleanse(d, sizeof d);
    OPENSSL_cleanse(input, sizeof input);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

static int lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int tm_pay_token_check(const tm_keys *k, const char *token, struct tm_err *err)
{
    if (k == NULL || token == NULL)
        return tm_err_set(err, TM_EINVAL, "a token is required");
    static const char shape[] = "is not a token (tok_<24 hex digits>_<last four>_<brand>)";
    size_t len = strnlen(token, TM_PAY_TOKEN_LEN);
    const size_t hex = TOKEN_ID_HEX + TOKEN_MAC_HEX;
    /* "tok_" hex "_" last4 "_" brand */
    if (len >= TM_PAY_TOKEN_LEN || len < 4 + hex + 1 + 4 + 2 || strncmp(token, "tok_", 4) != 0 ||
        !lower_hex(token + 4, hex) || token[4 + hex] != '_' || token[4 + hex + 5] != '_')
        return tm_err_set(err, TM_EINVAL, "%s", shape);
    const char *last4 = token + 4 + hex + 1, *brand = token + 4 + hex + 6;
    for (int i = 0; i < 4; i++)
        if (last4[i] < '0' || last4[i] > '9')
            return tm_err_set(err, TM_EINVAL, "%s", shape);
    int known = 0;
    for (int b = TM_PAY_BRAND_VISA; b <= TM_PAY_BRAND_DISCOVER; b++)
        known |= strcmp(brand, tm_pay_brand_name(b)) == 0;
    if (!known)
        return tm_err_set(err, TM_EINVAL, "%s", shape);
    char mac[TOKEN_MAC_HEX + 1];
    if (token_mac(k, token + 4, last4, brand, mac) != TM_OK)
        return tm_err_set(err, TM_ECRYPTO, "lookup hash failed");
    if (CRYPTO_memcmp(mac, token + 4 + TOKEN_ID_HEX, TOKEN_MAC_HEX) != 0)
        return tm_err_set(err, TM_EINVAL, "is not a token this engine issued (its keyed hash does "
                                          "not match this key file)");
    return TM_OK;
}

/* ---- Card numbers in text ---------------------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 1 when the digits of groups g[first..n) (their text in s) form a card number: 13..19
 * digits, not starting with 0, passing Luhn. */
static int groups_hold_pan(const char *s, const size_t *gs, const size_t *gl, int first, int n)
{
    char d[PAN_MAX + 1];
    size_t m = 0;
    for (int k = first; k < n; k++) {
        memcpy(d + m, s + gs[k], gl[k]);
        m += gl[k];
    }
    d[m] = '\0';
    int hit = d[0] != '0' && tm_pay_luhn_valid(d);
    OPENSSL_cleanse(d, sizeof d);
    return hit;
}

/* The scan itself, for a text with enough digits (kept apart so the quick refusals below cost
 * no stack frame of group tables). */
static int __attribute__((noinline)) find_pan(const char *s, size_t n)
{
    /* The digit groups of the current run, the latest PAN_MAX of them: a card number spans at
     * most PAN_MAX groups of at least one digit each. */
    size_t gs[PAN_MAX], gl[PAN_MAX];
    int ng = 0;
    size_t i = 0;
    while (i < n) {
        if (!is_digit(s[i])) {
            ng = 0;
            i++;
            continue;
        }
        size_t start = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (ng == PAN_MAX) {
            memmove(gs, gs + 1, sizeof gs[0] * (PAN_MAX - 1));
            memmove(gl, gl + 1, sizeof gl[0] * (PAN_MAX - 1));
            ng--;
        }
        gs[ng] = start;
        gl[ng] = i - start;
        ng++;
        /* Every run of whole groups that ends with this one. */
        size_t total = 0;
        for (int k = ng - 1; k >= 0; k--) {
            total += gl[k];
            if (total > PAN_MAX)
                break;
            if (total >= 13 && groups_hold_pan(s, gs, gl, k, ng))
                return 1;
        }
        /* One space or dash between digits keeps the run going ("4111 1111 ..."). */
        if (i + 1 < n && (s[i] == ' ' || s[i] == '-') && is_digit(s[i + 1]))
            i++;
        else
            ng = 0;
    }
    return 0;
}

int tm_pay_holds_card_number(const char *s, size_t n)
{
    if (s == NULL || n < 13)
        return 0;
    /* Most texts have too few digits to hold one: counted first, cheaply. */
    size_t digits = 0;
    for (size_t i = 0; i < n; i++)
        digits += (unsigned)(s[i] - '0') <= 9;
    return digits >= 13 && find_pan(s, n);
}

static int holds_pan(void *ud, const char *s, size_t n)
{
    (void)ud;
    return tm_pay_holds_card_number(s, n);
}

int tm_pay_json_find_card_number(const tm_json *j, const char *const *except, char *path,
                                 size_t cap)
{
    int t = tm_json_find_text(j, except, holds_pan, NULL, path, cap);
    return t == -2 ? TM_ENOMEM : t >= 0;
}

/* ---- Fraud velocity ---------------------------------------------------------------------- */

enum { KIND_TOKEN = 0, KIND_DEBT = 1 };

struct attempt {
    int64_t at;
    int kind;
    char key[TM_PAY_VELOCITY_KEY_MAX + 1];
};

struct tm_pay_velocity {
    int limit[2];
    int64_t window;
    struct attempt *a;
    size_t n, cap;
};

int tm_pay_velocity_new(int per_token, int per_debt, int64_t window_seconds,
                        tm_pay_velocity **out, struct tm_err *err)
{
    if (out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_velocity_new: out is NULL");
    *out = NULL;
    if (per_token < 0 || per_debt < 0 || window_seconds < 1)
        return tm_err_set(err, TM_EINVAL, "velocity limits must be >= 0 and the window >= 1 s");
    tm_pay_velocity *v = calloc(1, sizeof *v);
    if (v == NULL)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    v->limit[KIND_TOKEN] = per_token;
    v->limit[KIND_DEBT] = per_debt;
    v->window = window_seconds;
    *out = v;
    return TM_OK;
}

void tm_pay_velocity_free(tm_pay_velocity *v)
{
    if (v == NULL)
        return;
    free(v->a);
    free(v);
}

static int key_ok(const char *key)
{
    size_t len = strnlen(key, TM_PAY_VELOCITY_KEY_MAX + 1);
    return len > 0 && len <= TM_PAY_VELOCITY_KEY_MAX;
}

/* Attempts by `key` in (horizon, now]: one dated after `now` does not count against it. */
static int count_recent(const tm_pay_velocity *v, int kind, const char *key, int64_t horizon,
                        int64_t now)
{
    int c = 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->a[i].kind == kind && v->a[i].at > horizon && v->a[i].at <= now &&
            strcmp(v->a[i].key, key) == 0)
            c++;
    return c;
}

static int record(tm_pay_velocity *v, const char *token, const char *debt, int64_t at,
                  struct tm_err *err)
{
    if (v->cap - v->n < 2) {
        size_t ncap = v->cap ? v->cap * 2 : 16;
        struct attempt *na = realloc(v->a, ncap * sizeof *na);
        if (na == NULL)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        v->a = na;
        v->cap = ncap;
    }
    const char *keys[2] = {token, debt};
    for (int kind = 0; kind < 2; kind++) {
        struct attempt *a = &v->a[v->n++];
        a->at = at;
        a->kind = kind;
        snprintf(a->key, sizeof a->key, "%s", keys[kind]);
    }
    return TM_OK;
}

int tm_pay_velocity_record(tm_pay_velocity *v, const char *token, const char *debt, int64_t at,
                           struct tm_err *err)
{
    if (v == NULL || token == NULL || debt == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_velocity_record: NULL argument");
    if (!key_ok(token) || !key_ok(debt))
        return tm_err_set(err, TM_EINVAL, "token and debt must be 1..%d bytes",
                          TM_PAY_VELOCITY_KEY_MAX);
    return record(v, token, debt, at, err);
}

void tm_pay_velocity_clear(tm_pay_velocity *v)
{
    if (v)
        v->n = 0;
}

int tm_pay_velocity_check(tm_pay_velocity *v, const char *token, const char *debt, int64_t now,
                          int *hit, struct tm_err *err)
{
    if (v == NULL || token == NULL || debt == NULL || hit == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_velocity_check: NULL argument");
    if (!key_ok(token) || !key_ok(debt))
        return tm_err_set(err, TM_EINVAL, "token and debt must be 1..%d bytes",
                          TM_PAY_VELOCITY_KEY_MAX);

    /* The window is (now - window, now]. Attempts at or before its start are dropped: they
     * can count for no check at `now` or later. */
    int64_t horizon;
    if (__builtin_sub_overflow(now, v->window, &horizon))
        horizon = INT64_MIN;
    size_t w = 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->a[i].at > horizon)
            v->a[w++] = v->a[i];
    v->n = w;

    if (v->limit[KIND_TOKEN] > 0 &&
        count_recent(v, KIND_TOKEN, token, horizon, now) >= v->limit[KIND_TOKEN]) {
        *hit = TM_PAY_VELOCITY_TOKEN;
        return TM_OK;
    }
    if (v->limit[KIND_DEBT] > 0 &&
        count_recent(v, KIND_DEBT, debt, horizon, now) >= v->limit[KIND_DEBT]) {
        *hit = TM_PAY_VELOCITY_DEBT;
        return TM_OK;
    }
    int rc = record(v, token, debt, now, err);
    if (rc != TM_OK)
        return rc;
    *hit = TM_PAY_VELOCITY_OK;
    return TM_OK;
}

/* ---- Gateways ---------------------------------------------------------------------------- */

int tm_pay_charge(const tm_pay_gateway *gw, const char *token, tm_money amount,
                  const char *idempotency_key, tm_pay_result *out, struct tm_err *err)
{
    if (gw == NULL || gw->charge == NULL || token == NULL || idempotency_key == NULL ||
        out == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_charge: NULL argument");
    if (token[0] == '\0' || idempotency_key[0] == '\0')
        return tm_err_set(err, TM_EINVAL, "token and idempotency key must not be empty");
    if (amount.minor <= 0)
        return tm_err_set(err, TM_EINVAL, "charge amount must be positive");
    int rc = check_currency(amount.currency, NULL, err);
    if (rc != TM_OK)
        return rc;
    memset(out, 0, sizeof *out);
    rc = gw->charge(gw->ud, token, amount, idempotency_key, out);
    if (rc != TM_OK)
        return tm_err_set(err, rc, "gateway charge failed: %s", tm_strerror(rc));
    return TM_OK;
}

struct test_charge {
    char *key;
    char *token;
    tm_money amount;
    tm_pay_result result;
};

struct test_gw {
    struct test_charge *c;
    size_t n, cap;
    long attempts;
};

static int test_charge_fn(void *ud, const char *token, tm_money amount,
                          const char *idempotency_key, tm_pay_result *out)
{
    struct test_gw *g = ud;
    for (size_t i = 0; i < g->n; i++) {
        struct test_charge *c = &g->c[i];
        if (strcmp(c->key, idempotency_key) != 0)
            continue;
        /* A reused key with another request is a caller bug, not a replay. */
        if (strcmp(c->token, token) != 0 || c->amount.minor != amount.minor ||
            strcmp(c->amount.currency, amount.currency) != 0)
            return TM_EEXIST;
        *out = c->result;
        return TM_OK;
    }
    if (g->n == g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 8;
        struct test_charge *nc = realloc(g->c, ncap * sizeof *nc);
        if (nc == NULL)
            return TM_ENOMEM;
        g->c = nc;
        g->cap = ncap;
    }
    struct test_charge *c = &g->c[g->n];
    memset(c, 0, sizeof *c);
    c->key = strdup(idempotency_key);
    c->token = strdup(token);
    if (c->key == NULL || c->token == NULL) {
        free(c->key);
        free(c->token);
        return TM_ENOMEM;
    }
    c->amount = amount;
    g->attempts++;
    int64_t cents = amount.minor % 100;
    if (cents == 1) {
        c->result.outcome = TM_PAY_DECLINED;
        snprintf(c->result.reason, sizeof c->result.reason, "card declined");
    } else if (cents == 2) {
        c->result.outcome = TM_PAY_TIMEOUT;
        snprintf(c->result.reason, sizeof c->result.reason, "gateway timed out");
    } else {
        c->result.outcome = TM_PAY_APPROVED;
    }
    snprintf(c->result.reference, sizeof c->result.reference, "test_%ld", g->attempts);
    g->n++;
    *out = c->result;
    return TM_OK;
}

int tm_pay_test_gateway(tm_pay_gateway *gw, struct tm_err *err)
{
    if (gw == NULL)
        return tm_err_set(err, TM_EINVAL, "tm_pay_test_gateway: gw is NULL");
    struct test_gw *g = calloc(1, sizeof *g);
    if (g == NULL)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    gw->charge = test_charge_fn;
    gw->ud = g;
    return TM_OK;
}

long tm_pay_test_gateway_attempts(const tm_pay_gateway *gw)
{
    if (gw == NULL || gw->charge != test_charge_fn || gw->ud == NULL)
        return -1;
    return ((const struct test_gw *)gw->ud)->attempts;
}

void tm_pay_test_gateway_free(tm_pay_gateway *gw)
{
    if (gw == NULL || gw->charge != test_charge_fn)
        return;
    struct test_gw *g = gw->ud;
    if (g) {
        for (size_t i = 0; i < g->n; i++) {
            free(g->c[i].key);
            free(g->c[i].token);
        }
        free(g->c);
        free(g);
    }
    gw->charge = NULL;
    gw->ud = NULL;
}
