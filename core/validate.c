/*
 * core/validate.c: field checks for imported portfolio rows (see validate.h).
 *
 * Tables (states, currencies, debt types) are sorted arrays searched with bsearch(). The
 * number parsers accumulate the magnitude in uint64_t and check against INT64_MAX before
 * every step, so no input can overflow. Character classes are spelled out instead of using
 * <ctype.h>, whose answers depend on the locale.
 */
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "tz.h"

#define MISSING(err) tm_err_set((err), TM_EINVAL, "missing")

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static int to_lower(int c)
{
    return is_upper(c) ? c + ('a' - 'A') : c;
}

static int to_upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

static int has_space(const char *s)
{
    for (; *s; s++)
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f')
            return 1;
    return 0;
}

static int cmp_str(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

/* ---- States ------------------------------------------------------------------------------ */

/* The 50 states, DC and the five inhabited territories, sorted. */
static const char *const states[] = {
    "AK", "AL", "AR", "AS", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "GU", "HI",
    "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MP",
    "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA",
    "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VI", "VT", "WA", "WI", "WV", "WY",
};
#define NSTATES (sizeof states / sizeof *states)

static int state_known(const char *s)
{
    return strlen(s) == 2 && bsearch(s, states, NSTATES, sizeof *states, cmp_str) != NULL;
}

int tm_valid_state(const char *s, struct tm_err *err)
{
    if (!s)
        return MISSING(err);
    if (state_known(s))
        return TM_OK;
    if (strlen(s) == 2) {
        char up[3] = {(char)to_upper(s[0]), (char)to_upper(s[1]), '\0'};
        if (state_known(up))
            return tm_err_set(err, TM_EINVAL, "state codes are upper case (%s)", up);
    }
    return tm_err_set(err, TM_EINVAL, "not a US state code (USPS, e.g. MA)");
}

/* ---- Dates ------------------------------------------------------------------------------- */

int tm_valid_date(const char *s, int64_t *days, struct tm_err *err)
{
    if (!s)
        return MISSING(err);
    /* The shape is checked here so the reason is short; the calendar says if it is real. */
    for (int i = 0; i < 10; i++) {
        int want_dash = i == 4 || i == 7;
        if (s[i] == '\0' || (want_dash ? s[i] != '-' : !is_digit(s[i])))
            return tm_err_set(err, TM_EINVAL, "not a date (YYYY-MM-DD)");
    }
    if (s[10] != '\0')
        return tm_err_set(err, TM_EINVAL, "not a date (YYYY-MM-DD)");
    tm_date d;
    if (tm_calendar_parse_date(s, &d, NULL) != TM_OK)
        return tm_err_set(err, TM_EINVAL, "no such date (month 01-12, day within the month)");
    if (days)
        *days = tm_calendar_date_to_days(d);
    return TM_OK;
}

/* ---- Currencies -------------------------------------------------------------------------- */

struct currency {
    char code[4];
    int exponent;
};

/* ISO 4217 List One as published 2026-01-01: every active currency and fund code with a
 * minor unit, sorted. Left out: the codes with no minor unit (XAG, XAU, XBA-XBD, XDR, XPD,
 * XPT, XSU, XTS, XUA, XXX) and the codes since withdrawn (ANG for XCG in 2025, BGN for EUR
 * in 2026, CUC, HRK, SLL for SLE, ZWL for ZWG, ...). Fund codes (BOV, CHE, CHW, CLF, COU,
 * MXV, USN, UYI, UYW, XAD) stay: they are units contracts are written in. */
static const struct currency currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2},
    {"BWP", 2}, {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2},
    {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2},
    {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
    {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2},
    {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2},
    {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
    {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2},
    {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3},
    {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2},
    {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2},
    {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
    {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2},
    {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2},
    {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2},
    {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2},
    {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0},
    {"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0},
    {"WST", 2}, {"XAD", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0},
    {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};
#define NCURRENCIES (sizeof currencies / sizeof *currencies)

static int cmp_currency(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const struct currency *)elem)->code);
}

static const struct currency *currency_find(const char *code)
{
    if (strlen(code) != 3)
        return NULL;
    return bsearch(code, currencies, NCURRENCIES, sizeof *currencies, cmp_currency);
}

int tm_valid_currency(const char *code, int *exponent, struct tm_err *err)
{
    if (!code)
        return MISSING(err);
    const struct currency *cur = currency_find(code);
    if (cur) {
        if (exponent)
            *exponent = cur->exponent;
        return TM_OK;
    }
    if (strlen(code) == 3) {
        char up[4] = {(char)to_upper(code[0]), (char)to_upper(code[1]), (char)to_upper(code[2]),
                      '\0'};
        if (currency_find(up))
            return tm_err_set(err, TM_EINVAL, "currency codes are upper case (%s)", up);
    }
    return tm_err_set(err, TM_EINVAL, "not an active ISO 4217 currency code (e.g. USD)");
}

/* ---- Numbers ----------------------------------------------------------------------------- */

/* Why a number did not parse, from the first character that did not fit. */
static int number_refusal(char c, const char *shape, struct tm_err *err)
{
    if (c == ',')
        return tm_err_set(err, TM_EINVAL, "thousands separators are not allowed (%s)", shape);
    if (c == 'e' || c == 'E')
        return tm_err_set(err, TM_EINVAL, "exponent notation is not allowed (%s)", shape);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        return tm_err_set(err, TM_EINVAL, "white space is not allowed (%s)", shape);
    return tm_err_set(err, TM_EINVAL, "not a %s", shape);
}

/* Appends decimal digit d to *v unless that would pass `limit`. */
static int push_digit(uint64_t *v, int d, uint64_t limit)
{
    if (*v > (limit - (uint64_t)d) / 10)
        return -1;
    *v = *v * 10 + (uint64_t)d;
    return 0;
}

int tm_parse_money(const char *s, int exponent, unsigned flags, int64_t *minor,
                   struct tm_err *err)
{
    static const char shape[] = "decimal amount, e.g. 1234.56";
    if (!minor || exponent < 0 || exponent > 18)
        return tm_err_set(err, TM_EINVAL, "money: bad arguments");
    if (!s)
        return MISSING(err);
    if (*s == '\0')
        return tm_err_set(err, TM_EINVAL, "empty");
    const char *p = s;
    int neg = 0;
    if (*p == '-') {
        if (!(flags & TM_MONEY_ALLOW_NEGATIVE))
            return tm_err_set(err, TM_EINVAL, "negative amounts are not allowed");
        neg = 1;
        p++;
    }
    const uint64_t limit = (uint64_t)INT64_MAX;
    uint64_t v = 0;
    int overflow = 0, nint = 0, nfrac = 0;
    for (; is_digit(*p); p++, nint++)
        overflow |= push_digit(&v, *p - '0', limit);
    if (nint == 0)
        return *p == '.' ? tm_err_set(err, TM_EINVAL, "a digit is needed before the point")
                         : number_refusal(*p, shape, err);
    if (*p == '.') {
        p++;
        for (; is_digit(*p); p++, nfrac++)
            overflow |= push_digit(&v, *p - '0', limit);
        if (nfrac == 0 && *p == '\0')
            return tm_err_set(err, TM_EINVAL, "a digit is needed after the point");
    }
    if (*p != '\0')
        return number_refusal(*p, shape, err);
    if (nfrac > exponent) {
        if (exponent == 0)
            return tm_err_set(err, TM_EINVAL,
                              "%d decimals, but the currency has none (no decimal point)",
                              nfrac);
        return tm_err_set(err, TM_EINVAL, "%d decimals, but the currency has %d", nfrac,
                          exponent);
    }
    for (int i = nfrac; i < exponent; i++)
        overflow |= push_digit(&v, 0, limit);
    if (overflow)
        return tm_err_set(err, TM_EINVAL, "amount too large");
    *minor = neg ? -(int64_t)v : (int64_t)v;
    return TM_OK;
}

int tm_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, struct tm_err *err)
{
    if (!out || min > max)
        return tm_err_set(err, TM_EINVAL, "int: bad arguments");
    if (!s)
        return MISSING(err);
    if (*s == '\0')
        return tm_err_set(err, TM_EINVAL, "empty");
    const char *p = s;
    int neg = *p == '-';
    p += neg;
    /* The magnitude of INT64_MIN is one more than INT64_MAX. */
    const uint64_t limit = (uint64_t)INT64_MAX + (uint64_t)neg;
    uint64_t v = 0;
    int overflow = 0, n = 0;
    for (; is_digit(*p); p++, n++)
        overflow |= push_digit(&v, *p - '0', limit);
    if (n == 0 || *p != '\0')
        return number_refusal(*p, "whole number", err);
    int64_t x = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (overflow || x < min || x > max)
        return tm_err_set(err, TM_EINVAL, "must be between %lld and %lld", (long long)min,
                          (long long)max);
    *out = x;
    return TM_OK;
}

/* ---- Phones ------------------------------------------------------------------------------ */

int tm_valid_phone_e164(const char *s, struct tm_err *err)
{
    if (!s)
        return MISSING(err);
    if (s[0] != '+')
        return tm_err_set(err, TM_EINVAL, "not an E.164 number (+ and country code, e.g. "
                                          "+16175550100)");
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (!is_digit(*p))
            return tm_err_set(err, TM_EINVAL, "not an E.164 number (only digits after +)");
    if (n < 8 || n > 15)
        return tm_err_set(err, TM_EINVAL, "not an E.164 number (8 to 15 digits after +)");
    if (s[1] == '0')
        return tm_err_set(err, TM_EINVAL, "not an E.164 number (country codes do not start "
                                          "with 0)");
    return TM_OK;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int tm_phone_normalise(const char *in, unsigned flags, char *out, size_t cap,
                       struct tm_err *err)
{
    if (!out || cap == 0)
        return tm_err_set(err, TM_EINVAL, "phone: no output buffer");
    out[0] = '\0';
    if (!in)
        return MISSING(err);
    const char *p = in, *e = in + strlen(in);
    while (p < e && is_blank(*p))
        p++;
    while (e > p && is_blank(e[-1]))
        e--;
    if (p == e)
        return tm_err_set(err, TM_EINVAL, "empty");
    int plus = *p == '+';
    p += plus;
    char digits[16];
    size_t n = 0;
    for (; p < e; p++) {
        if (is_digit(*p)) {
            if (n == 15)
                return tm_err_set(err, TM_EINVAL, "not a phone number (more than 15 digits)");
            digits[n++] = *p;
        } else if (*p != ' ' && *p != '-' && *p != '.' && *p != '(' && *p != ')') {
            return tm_err_set(err, TM_EINVAL, "not a phone number (digits, spaces, - . ( ) "
                                              "after an optional +)");
        }
    }
    char e164[TM_PHONE_MAX];
    if (plus) {
        snprintf(e164, sizeof e164, "+%.*s", (int)n, digits);
    } else if ((flags & TM_PHONE_ASSUME_NANP) && n == 10 && digits[0] >= '2') {
        snprintf(e164, sizeof e164, "+1%.*s", (int)n, digits);
    } else if ((flags & TM_PHONE_ASSUME_NANP) && n == 11 && digits[0] == '1' &&
               digits[1] >= '2') {
        snprintf(e164, sizeof e164, "+%.*s", (int)n, digits);
    } else {
        return tm_err_set(err, TM_EINVAL, "%s",
                          (flags & TM_PHONE_ASSUME_NANP)
                              ? "not a phone number (10-digit US number or + and country code)"
                              : "no country code (E.164 numbers start with +)");
    }
    int rc = tm_valid_phone_e164(e164, err);
    if (rc != TM_OK)
        return rc;
    if (strlen(e164) >= cap)
        return tm_err_set(err, TM_EINVAL, "phone: output buffer too small");
    memcpy(out, e164, strlen(e164) + 1);
    return TM_OK;
}

/* ---- Email ------------------------------------------------------------------------------- */

static int is_atext(int c)
{
    return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int check_domain(const char *d, struct tm_err *err)
{
    int labels = 0;
    const char *label = d;
    for (const char *p = d;; p++) {
        if (*p != '.' && *p != '\0') {
            if (!is_alpha(*p) && !is_digit(*p) && *p != '-')
                return tm_err_set(err, TM_EINVAL, "not an email address (the domain has a "
                                                  "character other than letters, digits, - .)");
            continue;
        }
        size_t n = (size_t)(p - label);
        if (n == 0)
            return tm_err_set(err, TM_EINVAL, "not an email address (empty domain label)");
        if (n > 63)
            return tm_err_set(err, TM_EINVAL, "not an email address (domain label longer "
                                              "than 63)");
        if (label[0] == '-' || p[-1] == '-')
            return tm_err_set(err, TM_EINVAL, "not an email address (domain label starts or "
                                              "ends with -)");
        labels++;
        if (*p == '\0')
            break;
        label = p + 1;
    }
    if (labels < 2)
        return tm_err_set(err, TM_EINVAL, "not an email address (the domain needs a dot, e.g. "
                                          "example.com)");
    int all_digits = 1;
    for (const char *p = label; *p; p++)
        all_digits &= is_digit(*p);
    if (all_digits)
        return tm_err_set(err, TM_EINVAL, "not an email address (top-level domain is a number)");
    return TM_OK;
}

int tm_valid_email(const char *s, struct tm_err *err)
{
    if (!s)
        return MISSING(err);
    if (*s == '\0')
        return tm_err_set(err, TM_EINVAL, "empty");
    if (has_space(s))
        return tm_err_set(err, TM_EINVAL, "not an email address (white space)");
    size_t len = strlen(s);
    if (len > 254)
        return tm_err_set(err, TM_EINVAL, "not an email address (longer than 254 bytes)");
    const char *at = strchr(s, '@');
    if (!at)
        return tm_err_set(err, TM_EINVAL, "not an email address (no @)");
    if (strchr(at + 1, '@'))
        return tm_err_set(err, TM_EINVAL, "not an email address (more than one @)");
    size_t local = (size_t)(at - s);
    if (local == 0)
        return tm_err_set(err, TM_EINVAL, "not an email address (nothing before @)");
    if (local > 64)
        return tm_err_set(err, TM_EINVAL, "not an email address (more than 64 bytes before @)");
    for (size_t i = 0; i < local; i++) {
        if (s[i] == '.') {
            if (i == 0 || i == local - 1 || s[i + 1] == '.')
                return tm_err_set(err, TM_EINVAL, "not an email address (a dot at the start "
                                                  "or end of the name, or two in a row)");
        } else if (!is_atext((unsigned char)s[i])) {
            return tm_err_set(err, TM_EINVAL, "not an email address (a character not allowed "
                                              "before @)");
        }
    }
    if (at[1] == '\0')
        return tm_err_set(err, TM_EINVAL, "not an email address (nothing after @)");
    return check_domain(at + 1, err);
}

int tm_email_normalise(const char *in, char *out, size_t cap, struct tm_err *err)
{
    if (!out || cap == 0)
        return tm_err_set(err, TM_EINVAL, "email: no output buffer");
    out[0] = '\0';
    if (!in)
        return MISSING(err);
    const char *p = in, *e = in + strlen(in);
    while (p < e && is_blank(*p))
        p++;
    while (e > p && is_blank(e[-1]))
        e--;
    size_t n = (size_t)(e - p);
    char tmp[TM_EMAIL_MAX];
    if (n > 254)
        return tm_err_set(err, TM_EINVAL, "not an email address (longer than 254 bytes)");
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    int rc = tm_valid_email(tmp, err);
    if (rc != TM_OK)
        return rc;
    if (n >= cap)
        return tm_err_set(err, TM_EINVAL, "email: output buffer too small");
    for (char *d = strchr(tmp, '@') + 1; *d; d++)
        *d = (char)to_lower(*d);
    memcpy(out, tmp, n + 1);
    return TM_OK;
}

/* ---- Zones, languages, debt types, ZIP codes --------------------------------------------- */

int tm_valid_zone(const char *s, struct tm_err *err)
{
    if (!s)
        return MISSING(err);
    const tm_zone *z;
    struct tm_err e = {0};
    int rc = tm_tz_get(s, &z, &e);
    if (rc == TM_OK)
        return TM_OK;
    if (rc == TM_EINVAL || rc == TM_ENOENT)
        return tm_err_set(err, TM_EINVAL, "not an IANA time zone (e.g. America/New_York)");
    return tm_err_set(err, rc, "%s", e.msg);
}

/* Length of the run of characters at s that satisfy `ok`. */
static size_t span(const char *s, int (*ok)(int))
{
    size_t n = 0;
    while (s[n] && ok((unsigned char)s[n]))
        n++;
    return n;
}

int tm_valid_language(const char *s, struct tm_err *err)
{
    static const char why[] = "not a language tag (BCP 47, e.g. en, en-US, zh-Hant-TW)";
    if (!s)
        return MISSING(err);
    size_t n = span(s, is_alpha);
    if (n < 2 || n > 3)
        return tm_err_set(err, TM_EINVAL, "%s", why);
    s += n;
    if (*s == '-' && span(s + 1, is_alpha) == 4 && (s[5] == '-' || s[5] == '\0'))
        s += 5; /* -Script */
    if (*s == '-') {
        size_t a = span(s + 1, is_alpha), d = span(s + 1, is_digit);
        if ((a == 2 && s[3] == '\0') || (d == 3 && s[4] == '\0'))
            return TM_OK; /* -REGION */
        return tm_err_set(err, TM_EINVAL, "%s", why);
    }
    return *s == '\0' ? TM_OK : tm_err_set(err, TM_EINVAL, "%s", why);
}

static const char *const debt_types[] = {
    "auto_loan", "credit_card", "medical", "other", "personal_loan", "telecom", "utility",
};

int tm_valid_debt_type(const char *s, struct tm_err *err)
{
    if (!s)
        return MISSING(err);
    if (bsearch(s, debt_types, sizeof debt_types / sizeof *debt_types, sizeof *debt_types,
                cmp_str))
        return TM_OK;
    return tm_err_set(err, TM_EINVAL, "not a debt type (credit_card, personal_loan, "
                                      "auto_loan, medical, utility, telecom, other)");
}

int tm_valid_zip(const char *s, struct tm_err *err)
{
    if (!s)
        return MISSING(err);
    size_t n = span(s, is_digit);
    if (n == 5 && (s[5] == '\0' || (s[5] == '-' && span(s + 6, is_digit) == 4 && s[10] == '\0')))
        return TM_OK;
    return tm_err_set(err, TM_EINVAL, "not a ZIP code (12345 or 12345-6789)");
}
