/*
 * core/pay.h: payment primitives. Money as int64 minor units plus an ISO 4217 code, installment
 * plans, settlement authority checks, promise-to-pay status, the order a payment is applied
 * in, card and ABA routing checks, card tokenisation, a fraud velocity counter and the payment
 * gateway interface with a deterministic test gateway.
 *
 * No floating point touches money anywhere in this module. Depends on core/calendar (dates,
 * business days), core/validate (currency exponents, amount parsing), core/keys (the lookup
 * hash behind tokens) and libcrypto (OPENSSL_cleanse). Functions return TM_OK or a negative
 * TM_E* code and fill an optional `struct tm_err *`; messages never quote a card number.
 * Everything is thread-safe except that one tm_pay_velocity or one test gateway must not be
 * used from two threads at once.
 */
#ifndef TM_PAY_H
#define TM_PAY_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "jscan.h"
#include "keys.h"
#include "tm_status.h"
#include "validate.h" /* TM_MONEY_* flags for tm_money_parse() */

/* ---- Money ------------------------------------------------------------------------------- */

/* An amount in minor units (cents for USD, yen for JPY, fils for KWD) of an upper-case ISO
 * 4217 code. Functions below refuse a currency that tm_valid_currency() refuses. */
typedef struct tm_money {
    int64_t minor;
    char currency[4];
} tm_money;

/* *out = a + b. TM_EINVAL for a NULL out, an invalid currency or different currencies (the
 * message names both codes); TM_EINVAL on int64 overflow. *out is written only on success. */
int tm_money_add(tm_money a, tm_money b, tm_money *out, struct tm_err *err);

/* *out = a - b, with the same errors as tm_money_add(). */
int tm_money_sub(tm_money a, tm_money b, tm_money *out, struct tm_err *err);

/* Buffer size that always fits tm_money_format() output, NUL included. */
#define TM_MONEY_FMT_MAX 40

/* Writes `m` for people with the currency's exponent and comma thousands separators:
 * "1,234.56 USD", "-0.05 USD", "1,000 JPY", "12.345 KWD". TM_EINVAL for a NULL buf, an invalid
 * currency or a buffer too small (buf then holds "" when size > 0). INT64_MIN is handled. */
int tm_money_format(tm_money m, char *buf, size_t size, struct tm_err *err);

/* Parses major-unit text ("1234.56") in `currency` with tm_parse_money() (same grammar and
 * flags, TM_MONEY_ALLOW_NEGATIVE included). TM_EINVAL for a NULL argument, an invalid currency
 * or refused text. *out is written only on success. */
int tm_money_parse(const char *text, const char *currency, unsigned flags, tm_money *out,
                   struct tm_err *err);

/* The largest share tm_money_percent() takes, in basis points (100 times the amount). */
#define TM_MONEY_BPS_MAX 1000000

/* *out = minor * bps / 10000, rounded half away from zero: the integer way to take "60% of the
 * balance" (bps 6000) without a float. `bps` is 0..TM_MONEY_BPS_MAX and |minor| at most
 * TM_MONEY_PERCENT_MAX, so the product stays inside int64. TM_EINVAL for a NULL out, a bps or an
 * amount outside those ranges (the message says which); *out is written only on success. */
#define TM_MONEY_PERCENT_MAX (INT64_MAX / TM_MONEY_BPS_MAX)
int tm_money_percent(int64_t minor, int64_t bps, int64_t *out, struct tm_err *err);

/* ---- Installment plans ------------------------------------------------------------------- */

enum tm_pay_frequency {
    TM_PAY_WEEKLY = 1,   /* every 7 days */
    TM_PAY_BIWEEKLY = 2, /* every 14 days */
    TM_PAY_MONTHLY = 3   /* same day of month as the first date, clamped to month end */
};

#define TM_PAY_PLAN_MAX 120

typedef struct tm_pay_installment {
    tm_date due;
    tm_money amount;
} tm_pay_installment;

/* Splits `total` (> 0) into `count` (1..TM_PAY_PLAN_MAX) installments written to out[0..count)
 * (`cap` entries available, cap >= count). Every installment is total/count minor units and
 * the last also takes the remainder, so the amounts always sum to total exactly. Installment
 * i is due first + 7i or 14i days, or for monthly plans in month first.month + i on first.day
 * clamped to that month's length: a plan anchored on Jan 31 runs Feb 28 (29), Mar 31, Apr 30.
 * With business_day_adjust = 1, a due date that is not a business day (federal observed
 * holidays, tm_calendar_is_business_day with a NULL rule) moves to the next business day; the
 * schedule itself keeps its anchor, so one moved date never shifts the next.
 * TM_EINVAL for a NULL out, a count or total out of range, a bad frequency, an invalid
 * currency or first date, business_day_adjust not 0/1, or a date outside the calendar's
 * business-day years (1971-9999). out is left untouched on failure. */
int tm_pay_plan(tm_money total, int count, int frequency, tm_date first, int business_day_adjust,
                tm_pay_installment *out, size_t cap, struct tm_err *err);

/* Checks a plan written by hand (or changed by an agent) against `total`: 1..TM_PAY_PLAN_MAX
 * installments (inst[0..n)), each a positive amount, due dates strictly in order, amounts
 * adding up to total exactly; the installments' own currencies are not read (the plan is in
 * total's). TM_OK when it holds. TM_EINVAL otherwise, with a message naming the first problem
 * by field: "total: must be more than zero", "installments: 130 installments, expected 1 to
 * 120", "installments[3].amount: must be more than zero", "installments[2].due: 2026-01-01 is
 * not after the installment before", "installments[4].amount: the sum overflows",
 * "installments: add up to 99.00 USD, not the total 100.00 USD"; also for an invalid currency,
 * or a NULL inst with n > 0. inst is read only when total and n are in range. */
int tm_pay_plan_check(tm_money total, const tm_pay_installment *inst, size_t n,
                      struct tm_err *err);

/* ---- Settlement authority ---------------------------------------------------------------- */

enum tm_pay_role {
    TM_PAY_ROLE_ANY = -1, /* in a rule only: applies to every role */
    TM_PAY_ROLE_AGENT = 0,
    TM_PAY_ROLE_SUPERVISOR = 1,
    TM_PAY_ROLE_MANAGER = 2
};

/* One authority rule: `role` may settle a debt for at least min_bps basis points (0..10000) of
 * the balance. `state` (USPS code) and `creditor` restrict the rule to debts of that state or
 * creditor; NULL matches any. Strings are borrowed. */
typedef struct tm_pay_settle_rule {
    int role;
    const char *state;
    const char *creditor;
    int32_t min_bps;
} tm_pay_settle_rule;

/* The rules plus the debt they are applied to. `floor_bps` (0..10000, 0 = none) is a hard
 * floor no override can go below. All pointers are borrowed; state/creditor may be NULL, and a
 * rule naming a state (creditor) then does not apply. */
typedef struct tm_pay_settle_limits {
    const tm_pay_settle_rule *rules;
    size_t nrules;
    const char *state;
    const char *creditor;
    int32_t floor_bps;
} tm_pay_settle_limits;

enum tm_pay_verdict {
    TM_PAY_ALLOWED = 0,
    TM_PAY_NEEDS_OVERRIDE = 1,
    TM_PAY_REFUSED = 2
};

typedef struct tm_pay_decision {
    int verdict;        /* TM_PAY_ALLOWED / NEEDS_OVERRIDE / REFUSED */
    int overridden;     /* 1 when allowed only by a supervisor override: the caller must audit */
    int32_t min_bps;    /* the strictest applicable minimum, or -1 when no rule applied */
    char reason[160];   /* a sentence saying why */
} tm_pay_decision;

/* Decides whether `offer` may settle `balance`. The applicable rules are those whose role is
 * `role` or TM_PAY_ROLE_ANY and whose state/creditor match the debt; the strictest (highest
 * min_bps) wins. The test is exact integer arithmetic: offer * 10000 >= balance * min_bps.
 *   - no applicable rule: REFUSED (no authority is not an implied 0%);
 *   - offer below limits->floor_bps: REFUSED, override or not;
 *   - offer meets the minimum: ALLOWED (an offer >= balance is always at least that);
 *   - below the minimum, supervisor_override = 1 and role == TM_PAY_ROLE_SUPERVISOR: ALLOWED
 *     with overridden = 1;
 *   - below the minimum with an override from any other role: REFUSED;
 *   - below the minimum, no override: NEEDS_OVERRIDE.
 * Returns TM_OK with *decision filled for every verdict. TM_EINVAL for NULL limits/decision,
 * rules NULL with nrules > 0, a negative role (TM_PAY_ROLE_ANY), balance or offer <= 0,
 * different or invalid currencies, a min_bps or floor_bps outside 0..10000, or
 * supervisor_override not 0/1. */
int tm_pay_settlement_check(tm_money balance, tm_money offer, const tm_pay_settle_limits *limits,
                            int role, int supervisor_override, tm_pay_decision *decision,
                            struct tm_err *err);

/* ---- Promises to pay --------------------------------------------------------------------- */

typedef struct tm_pay_promise {
    tm_money amount; /* > 0 */
    tm_date due;
    int grace_days;  /* 0..366 */
} tm_pay_promise;

typedef struct tm_pay_payment {
    tm_money amount; /* > 0, same currency as the promise */
    tm_date date;
} tm_pay_payment;

enum tm_pay_promise_state {
    TM_PAY_PROMISE_OPEN = 0,
    TM_PAY_PROMISE_KEPT = 1,
    TM_PAY_PROMISE_PARTIALLY_KEPT = 2,
    TM_PAY_PROMISE_BROKEN = 3
};

/* Status of `promise` on `today`. Payments count when dated on or before due + grace_days and
 * on or before today (a future-dated payment has not happened). With `paid` their sum:
 *   paid >= amount                         KEPT (even before the due date)
 *   today <= due + grace, paid < amount    OPEN
 *   today >  due + grace, 0 < paid         PARTIALLY_KEPT
 *   today >  due + grace, paid == 0        BROKEN
 * *state gets the status and *paid (may be NULL) the counted sum. TM_EINVAL for NULL promise or
 * state, pays NULL with n > 0, invalid dates, a non-positive amount, a currency mismatch, a
 * grace outside 0..366 or an overflowing sum. */
int tm_pay_promise_status(const tm_pay_promise *promise, const tm_pay_payment *pays, size_t n,
                          tm_date today, int *state, int64_t *paid, struct tm_err *err);

/* ---- Payment application ----------------------------------------------------------------- */

/* Balances owed, in minor units of the payment's currency, each >= 0. */
typedef struct tm_pay_buckets {
    int64_t fees;
    int64_t interest;
    int64_t principal;
} tm_pay_buckets;

/* Applies `amount` (>= 0) to `in`: fees first, then interest, then principal. *out gets the
 * remaining balances and *overpayment (may be NULL) what was left over. `out` may equal `in`.
 * TM_EINVAL for NULL in/out, a negative amount or bucket, or an invalid currency; out is
 * written only on success. */
int tm_pay_apply(tm_money amount, const tm_pay_buckets *in, tm_pay_buckets *out,
                 int64_t *overpayment, struct tm_err *err);

/* ---- Instrument checks ------------------------------------------------------------------- */

enum tm_pay_brand {
    TM_PAY_BRAND_UNKNOWN = 0,
    TM_PAY_BRAND_VISA,
    TM_PAY_BRAND_MASTERCARD,
    TM_PAY_BRAND_AMEX,
    TM_PAY_BRAND_DISCOVER
};

/* Static lower-case name: "visa", "mastercard", "amex", "discover", "unknown" (also for an
 * out-of-range id). Never NULL. */
const char *tm_pay_brand_name(int brand);

/* 1 if `digits` is a non-empty string of ASCII digits passing the Luhn (mod 10) check, else 0.
 * NULL gives 0. */
int tm_pay_luhn_valid(const char *digits);

/* Checks a card number: spaces and dashes are dropped, anything else but digits is refused,
 * then the brand is found by prefix and length (Visa 4, 13/16/19 digits; Mastercard 51-55 or
 * 2221-2720, 16; Amex 34/37, 15; Discover 6011, 622126-622925, 644-649, 65, 16/19) and the
 * Luhn check digit is verified. On TM_OK *brand (may be NULL) is the brand; on failure it is
 * TM_PAY_BRAND_UNKNOWN. TM_EINVAL with a reason that never quotes the number: NULL, bad
 * characters, no known brand/length, failed Luhn. The local digit copy is wiped. */
int tm_pay_card_check(const char *number, int *brand, struct tm_err *err);

/* An ABA routing number: exactly 9 ASCII digits whose 3-7-1 weighted sum is a multiple of 10
 * (021000021 passes). Prefix ranges are not checked. TM_EINVAL otherwise (NULL included). */
int tm_pay_aba_check(const char *routing, struct tm_err *err);

/* ---- Tokenisation ------------------------------------------------------------------------ */

/* Buffer size for a token, NUL included: "tok_" + 24 hex + "_" + 4 digits + "_" + brand. */
#define TM_PAY_TOKEN_LEN 48

/* Writes "tok_<12 hex id><12 hex mac>_<last4>_<brand>" ("tok_3f9a..._4242_visa") for a card
 * number that passes tm_pay_card_check(). The id is the first 12 hex of tm_keys_lookup_hash()
 * of "pan:" + digits, so one card gives one token under one key file; the mac is the first 12
 * hex of the lookup hash of "tok:" + id + "_" + last4 + "_" + brand, so tm_pay_token_check()
 * can tell a token this key file issued from any other string. The token reveals nothing
 * beyond the last four and brand. The card number is not stored: every local copy (digits,
 * hash input, full hash) is wiped with OPENSSL_cleanse before returning.
 * TM_EINVAL for NULL k/pan/token or a number tm_pay_card_check() refuses; TM_ECRYPTO if the
 * hash fails. token is "" on failure. */
int tm_pay_tokenize(const tm_keys *k, const char *pan, char token[TM_PAY_TOKEN_LEN],
                    struct tm_err *err);

/* TM_OK when `token` is one tm_pay_tokenize() issued under the key file `k`: exactly the shape
 * above (lower-case hex, four digits, a known brand) with a mac that matches (compared in
 * constant time). TM_EINVAL otherwise, with a reason that never quotes the token (it may be
 * anything, a card number included); TM_ECRYPTO if the hash fails. */
int tm_pay_token_check(const tm_keys *k, const char *token, struct tm_err *err);

/* 1 when the `n` bytes at `s` hold a card number anywhere: a run of 13..19 digits, not
 * starting with 0, that passes the Luhn check, written whole or in groups joined by one space
 * or dash ("4111 1111 1111 1111", "4111-1111-1111-1111"); "tok_4111111111111111" and
 * "card 4111 1111 1111 1111 exp 12 27" hold one. Runs are cut at group boundaries only, so a
 * longer digit string (a 20-digit id) is not read as a card number inside it. Else 0 (also
 * for NULL). Every local copy of the digits is wiped. */
int tm_pay_holds_card_number(const char *s, size_t n);

/* 1 when some member name or value of the scanned document `j` holds a card number
 * (tm_pay_holds_card_number; numbers as written), `path` (cap bytes, may be NULL) then naming
 * where (tm_json_find_text: "consumer.city", never the text itself); 0 when none does;
 * TM_ENOMEM. The values of the top-level members named in `except` (NULL-terminated; NULL:
 * none) are passed over: the one field meant to carry a card number, and a field holding a
 * token that tm_pay_token_check() accepted (its hash digits may happen to read as one). */
int tm_pay_json_find_card_number(const tm_json *j, const char *const *except, char *path,
                                 size_t cap);

/* ---- Fraud velocity ---------------------------------------------------------------------- */

typedef struct tm_pay_velocity tm_pay_velocity;

enum tm_pay_velocity_hit {
    TM_PAY_VELOCITY_OK = 0,    /* allowed (and recorded) */
    TM_PAY_VELOCITY_TOKEN = 1, /* the instrument token reached its limit */
    TM_PAY_VELOCITY_DEBT = 2   /* the debt reached its limit */
};

/* Longest token or debt id the counter accepts, without the NUL. */
#define TM_PAY_VELOCITY_KEY_MAX 63

/* Creates a counter allowing `per_token` attempts per instrument token and `per_debt` per debt
 * within any rolling window of `window_seconds` (3600 for an hour); a limit of 0 disables that
 * rule. *out owns the counter; free with tm_pay_velocity_free(). TM_EINVAL for NULL out, a
 * negative limit or window_seconds < 1; TM_ENOMEM. */
int tm_pay_velocity_new(int per_token, int per_debt, int64_t window_seconds,
                        tm_pay_velocity **out, struct tm_err *err);

/* Frees `v`; NULL is a no-op. */
void tm_pay_velocity_free(tm_pay_velocity *v);

/* Counts an attempt at `now` (seconds, any epoch) for `token` and `debt`. The attempts that
 * count are those recorded at a time in (now - window, now]: one exactly one window old has
 * expired, and one dated after `now` does not count against it. If either count already
 * equals its limit, *hit names the rule (the token rule is checked first) and the attempt is
 * NOT recorded, since it will not be sent; otherwise *hit is TM_PAY_VELOCITY_OK and the
 * attempt is recorded against both. Returns TM_OK in both cases. Attempts at or before
 * now - window are dropped, so a counter that is checked with times out of order must be
 * cleared and given the attempts of each check's window again (tm_pay_velocity_clear, then
 * tm_pay_velocity_record). TM_EINVAL for NULL arguments, an empty key or one over
 * TM_PAY_VELOCITY_KEY_MAX; TM_ENOMEM (nothing recorded). */
int tm_pay_velocity_check(tm_pay_velocity *v, const char *token, const char *debt, int64_t now,
                          int *hit, struct tm_err *err);

/* Records an attempt already made at `at` (one read back from the store) against `token` and
 * `debt`, whatever the limits: a limit reached in the past stays reached. Errors as for
 * tm_pay_velocity_check(). */
int tm_pay_velocity_record(tm_pay_velocity *v, const char *token, const char *debt, int64_t at,
                           struct tm_err *err);

/* Forgets every attempt recorded; the limits stay. NULL is a no-op. */
void tm_pay_velocity_clear(tm_pay_velocity *v);

/* ---- Gateways ---------------------------------------------------------------------------- */

enum tm_pay_outcome {
    TM_PAY_APPROVED = 0,
    TM_PAY_DECLINED = 1,
    TM_PAY_TIMEOUT = 2 /* outcome unknown: retry with the same idempotency key */
};

typedef struct tm_pay_result {
    int outcome;        /* TM_PAY_APPROVED / DECLINED / TIMEOUT */
    char reference[32]; /* gateway reference of the attempt, "" when none */
    char reason[64];    /* decline or timeout reason, "" when approved */
} tm_pay_result;

/* A payment gateway adapter. `charge` charges `amount` to the instrument `token` once per
 * `idempotency_key`: a repeated key must return the first result without charging again. It
 * returns TM_OK whenever *out holds an outcome (a decline is a TM_OK outcome) and a TM_E* code
 * only when it could not produce one. `ud` is the adapter's state. */
typedef struct tm_pay_gateway {
    int (*charge)(void *ud, const char *token, tm_money amount, const char *idempotency_key,
                  tm_pay_result *out);
    void *ud;
} tm_pay_gateway;

/* Validates the request and calls gw->charge. TM_EINVAL for NULL gw/charge/token/key/out, an
 * empty token or key, amount <= 0 or an invalid currency; otherwise whatever charge returns
 * (a non-OK return from charge is reported in err). */
int tm_pay_charge(const tm_pay_gateway *gw, const char *token, tm_money amount,
                  const char *idempotency_key, tm_pay_result *out, struct tm_err *err);

/* Fills *gw with a deterministic in-memory gateway for tests. By the last two digits of
 * amount.minor: 01 declines ("card declined"), 02 times out, anything else approves with
 * reference "test_<n>". A repeated idempotency key with the same token and amount returns the
 * first result (timeouts included) without a new attempt; with a different token or amount the
 * charge returns TM_EEXIST. Free with tm_pay_test_gateway_free(). TM_EINVAL for NULL gw;
 * TM_ENOMEM. */
int tm_pay_test_gateway(tm_pay_gateway *gw, struct tm_err *err);

/* Attempts the test gateway really processed (replays excluded); -1 if gw is not one. */
long tm_pay_test_gateway_attempts(const tm_pay_gateway *gw);

/* Frees the test gateway's state and zeroes *gw. NULL, or a zeroed gw, is a no-op. */
void tm_pay_test_gateway_free(tm_pay_gateway *gw);

#endif
