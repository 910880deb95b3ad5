/*
 * tests/unit/test_validate.c: the import field checks, each rule from both sides: values
 * just inside it are accepted and values just outside it are refused with a reason.
 */
#include "harness.h"

#include "tz.h"
#include "validate.h"

/* Expects `call` to refuse with TM_EINVAL and a reason containing `why`. */
#define REFUSED(call, why)                                                                    \
    do {                                                                                      \
        struct tm_err e_ = {0};                                                               \
        struct tm_err *err = &e_;                                                             \
        int rc_ = (call);                                                                     \
        if (rc_ != TM_EINVAL)                                                                 \
            TM_FAIL_("%s returned %d, expected TM_EINVAL", #call, rc_);                       \
        ASSERT_CONTAINS(e_.msg, why);                                                         \
        ASSERT_EQ(e_.code, TM_EINVAL);                                                        \
    } while (0)

/* Expects `call` to accept; `err` is in scope for the call, as in REFUSED. */
#define ACCEPTED(call)                                                                        \
    do {                                                                                      \
        struct tm_err e_ = {0};                                                               \
        struct tm_err *err = &e_;                                                             \
        int rc_ = (call);                                                                     \
        if (rc_ != TM_OK)                                                                     \
            TM_FAIL_("%s returned %d: %s", #call, rc_, e_.msg);                               \
    } while (0)

/* ---- States ------------------------------------------------------------------------------ */

static const char *const all_states[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
    "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
    "VA", "WA", "WV", "WI", "WY", "DC", "PR", "GU", "VI", "AS", "MP",
};

TEST(state_accepts_states_dc_and_territories)
{
    ASSERT_EQ(sizeof all_states / sizeof *all_states, 56);
    for (size_t i = 0; i < sizeof all_states / sizeof *all_states; i++) {
        ACCEPTED(tm_valid_state(all_states[i], err));
        /* The timezone can always be derived from an accepted state. */
        if (!tm_tz_state_zones(all_states[i]))
            TM_FAIL_("%s has no zones in tz", all_states[i]);
    }
    ASSERT_OK(tm_valid_state("MA", NULL));
}

TEST(state_refusals)
{
    REFUSED(tm_valid_state("ma", err), "upper case (MA)");
    REFUSED(tm_valid_state("Tx", err), "upper case (TX)");
    REFUSED(tm_valid_state("XX", err), "not a US state code");
    REFUSED(tm_valid_state("", err), "not a US state code");
    REFUSED(tm_valid_state("M", err), "not a US state code");
    REFUSED(tm_valid_state("MAS", err), "not a US state code");
    REFUSED(tm_valid_state(" MA", err), "not a US state code");
    REFUSED(tm_valid_state("MA ", err), "not a US state code");
    REFUSED(tm_valid_state("Massachusetts", err), "not a US state code");
    /* Freely associated states and military codes: not where state law is looked up. */
    const char *others[] = {"FM", "MH", "PW", "AA", "AE", "AP", "UM"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        REFUSED(tm_valid_state(others[i], err), "not a US state code");
    REFUSED(tm_valid_state(NULL, err), "missing");
    ASSERT_EQ(tm_valid_state("XX", NULL), TM_EINVAL);
}

/* ---- Dates ------------------------------------------------------------------------------- */

TEST(date_accepts_real_dates)
{
    int64_t d = -1;
    ASSERT_OK(tm_valid_date("1970-01-01", &d, NULL));
    ASSERT_EQ(d, 0);
    ASSERT_OK(tm_valid_date("2026-11-23", &d, NULL));
    ASSERT_EQ(d, 20780);
    ASSERT_OK(tm_valid_date("1969-12-31", &d, NULL));
    ASSERT_EQ(d, -1);
    ASSERT_OK(tm_valid_date("2024-02-29", &d, NULL)); /* leap year */
    ASSERT_OK(tm_valid_date("2000-02-29", NULL, NULL));
    ASSERT_OK(tm_valid_date("2026-12-31", NULL, NULL));
    ASSERT_OK(tm_valid_date("0000-01-01", NULL, NULL));
    ASSERT_OK(tm_valid_date("9999-12-31", NULL, NULL));
}

TEST(date_refusals)
{
    int64_t d = 42;
    REFUSED(tm_valid_date("2026-02-30", &d, err), "no such date");
    ASSERT_EQ(d, 42); /* untouched on failure */
    REFUSED(tm_valid_date("2025-02-29", &d, err), "no such date");
    REFUSED(tm_valid_date("1900-02-29", &d, err), "no such date");
    REFUSED(tm_valid_date("2026-04-31", &d, err), "no such date");
    REFUSED(tm_valid_date("2026-13-01", &d, err), "no such date");
    REFUSED(tm_valid_date("2026-00-10", &d, err), "no such date");
    REFUSED(tm_valid_date("2026-01-00", &d, err), "no such date");
    const char *shapes[] = {"2026-2-3", "20260203", "2026/02/03", "2026-02-03T00:00",
                            " 2026-02-03", "2026-02-03 ", "26-02-03", "02/03/2026", "",
                            "2026-02-0", "+026-02-03", "2026-02-0a", "12026-02-03"};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        REFUSED(tm_valid_date(shapes[i], &d, err), "not a date (YYYY-MM-DD)");
    REFUSED(tm_valid_date(NULL, &d, err), "missing");
}

/* ---- Currencies -------------------------------------------------------------------------- */

/* ISO 4217 List One (2026) codes with a minor unit: every one must be found, which also
 * proves the table is sorted (it is searched with bsearch). */
static const char all_currencies[] =
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN "
    "ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK "
    "JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD "
    "MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP "
    "PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP "
    "SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV "
    "WST XAD XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

static int expected_exponent(const char *code)
{
    static const char zero[] = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF "
                               "XOF XPF";
    static const char three[] = "BHD IQD JOD KWD LYD OMR TND";
    static const char four[] = "CLF UYW";
    if (strstr(zero, code))
        return 0;
    if (strstr(three, code))
        return 3;
    if (strstr(four, code))
        return 4;
    return 2;
}

TEST(currency_accepts_the_active_list)
{
    int count = 0;
    for (const char *p = all_currencies; *p; p += p[3] ? 4 : 3) {
        char code[4] = {p[0], p[1], p[2], '\0'};
        int exp = -1;
        struct tm_err err = {0};
        if (tm_valid_currency(code, &exp, &err) != TM_OK)
            TM_FAIL_("%s refused: %s", code, err.msg);
        if (exp != expected_exponent(code))
            TM_FAIL_("%s: exponent %d, expected %d", code, exp, expected_exponent(code));
        count++;
    }
    ASSERT_EQ(count, 165);
}

TEST(currency_exponents)
{
    const struct {
        const char *code;
        int exp;
    } cases[] = {{"USD", 2}, {"JPY", 0}, {"BHD", 3}, {"KWD", 3}, {"CLF", 4}, {"CAD", 2},
                 {"EUR", 2}, {"GBP", 2}, {"MXN", 2}, {"KRW", 0}, {"UYW", 4}, {"XCG", 2}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int exp = -1;
        ASSERT_OK(tm_valid_currency(cases[i].code, &exp, NULL));
        ASSERT_EQ(exp, cases[i].exp);
    }
    ASSERT_OK(tm_valid_currency("USD", NULL, NULL)); /* exponent pointer optional */
}

TEST(currency_refusals)
{
    int exp = 7;
    REFUSED(tm_valid_currency("usd", &exp, err), "upper case (USD)");
    REFUSED(tm_valid_currency("Eur", &exp, err), "upper case (EUR)");
    ASSERT_EQ(exp, 7);
    /* No minor unit: metals, SDR, test and "no currency" codes. */
    const char *na[] = {"XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA", "XBA", "XTS", "XXX"};
    for (size_t i = 0; i < sizeof na / sizeof *na; i++)
        REFUSED(tm_valid_currency(na[i], &exp, err), "not an active ISO 4217");
    /* Withdrawn. */
    const char *old[] = {"ANG", "BGN", "HRK", "CUC", "SLL", "ZWL", "VEF", "DEM", "LTL", "MRO"};
    for (size_t i = 0; i < sizeof old / sizeof *old; i++)
        REFUSED(tm_valid_currency(old[i], &exp, err), "not an active ISO 4217");
    const char *shapes[] = {"", "US", "USDD", " USD", "USD ", "$", "840", "U$D"};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        REFUSED(tm_valid_currency(shapes[i], &exp, err), "not an active ISO 4217");
    REFUSED(tm_valid_currency(NULL, &exp, err), "missing");
    ASSERT_EQ(exp, 7);
}

/* ---- Money ------------------------------------------------------------------------------- */

static int64_t money(const char *s, int exponent)
{
    int64_t v = -12345;
    struct tm_err err = {0};
    if (tm_parse_money(s, exponent, 0, &v, &err) != TM_OK)
        TM_FAIL_("money \"%s\" exponent %d refused: %s", s, exponent, err.msg);
    return v;
}

TEST(money_accepts_decimals)
{
    ASSERT_EQ(money("0", 2), 0);
    ASSERT_EQ(money("12", 2), 1200);
    ASSERT_EQ(money("12.5", 2), 1250);
    ASSERT_EQ(money("12.50", 2), 1250);
    ASSERT_EQ(money("0.01", 2), 1);
    ASSERT_EQ(money("1234.56", 2), 123456);
    ASSERT_EQ(money("007.10", 2), 710); /* leading zeros are harmless */
    ASSERT_EQ(money("1234", 0), 1234);  /* JPY */
    ASSERT_EQ(money("1.234", 3), 1234); /* KWD */
    ASSERT_EQ(money("1.2", 3), 1200);
    ASSERT_EQ(money("1.2345", 4), 12345); /* CLF */
    ASSERT_EQ(money("0.0000", 4), 0);
    /* The largest amount: INT64_MAX minor units, exactly. */
    ASSERT_EQ(money("92233720368547758.07", 2), INT64_MAX);
    ASSERT_EQ(money("9223372036854775807", 0), INT64_MAX);
    ASSERT_EQ(money("0.000000000000000001", 18), 1);
}

TEST(money_refuses_more_decimals_than_the_currency)
{
    int64_t v = 99;
    REFUSED(tm_parse_money("12.345", 2, 0, &v, err), "3 decimals, but the currency has 2");
    REFUSED(tm_parse_money("12.340", 2, 0, &v, err), "3 decimals, but the currency has 2");
    REFUSED(tm_parse_money("100.0", 0, 0, &v, err), "1 decimals, but the currency has none");
    REFUSED(tm_parse_money("1.23456", 4, 0, &v, err), "5 decimals, but the currency has 4");
    ASSERT_EQ(v, 99); /* untouched on failure */
}

TEST(money_refuses_other_shapes)
{
    int64_t v = 99;
    REFUSED(tm_parse_money("1,234.56", 2, 0, &v, err), "thousands separators");
    REFUSED(tm_parse_money("1e3", 2, 0, &v, err), "exponent notation");
    REFUSED(tm_parse_money("1.5E2", 2, 0, &v, err), "exponent notation");
    REFUSED(tm_parse_money("", 2, 0, &v, err), "empty");
    REFUSED(tm_parse_money(" 1", 2, 0, &v, err), "white space");
    REFUSED(tm_parse_money("1 ", 2, 0, &v, err), "white space");
    REFUSED(tm_parse_money("1 000", 2, 0, &v, err), "white space");
    REFUSED(tm_parse_money("+5", 2, 0, &v, err), "not a decimal amount");
    REFUSED(tm_parse_money(".5", 2, 0, &v, err), "a digit is needed before the point");
    REFUSED(tm_parse_money("5.", 2, 0, &v, err), "a digit is needed after the point");
    REFUSED(tm_parse_money("1.2.3", 2, 0, &v, err), "not a decimal amount");
    REFUSED(tm_parse_money("0x10", 2, 0, &v, err), "not a decimal amount");
    REFUSED(tm_parse_money("$12", 2, 0, &v, err), "not a decimal amount");
    REFUSED(tm_parse_money("12USD", 2, 0, &v, err), "not a decimal amount");
    REFUSED(tm_parse_money("NaN", 2, 0, &v, err), "not a decimal amount");
    REFUSED(tm_parse_money("1,5", 2, 0, &v, err), "thousands separators");
    REFUSED(tm_parse_money(NULL, 2, 0, &v, err), "missing");
    ASSERT_EQ(v, 99);
}

TEST(money_overflow)
{
    int64_t v = 99;
    REFUSED(tm_parse_money("92233720368547758.08", 2, 0, &v, err), "too large");
    REFUSED(tm_parse_money("92233720368547759", 2, 0, &v, err), "too large");
    REFUSED(tm_parse_money("9223372036854775808", 0, 0, &v, err), "too large");
    REFUSED(tm_parse_money("99999999999999999999999999999", 2, 0, &v, err), "too large");
    ACCEPTED(tm_parse_money("1", 18, 0, &v, err));
    ASSERT_EQ(v, 1000000000000000000);
    REFUSED(tm_parse_money("10", 18, 0, &v, err), "too large");
}

TEST(money_negative_amounts_need_the_flag)
{
    int64_t v = 99;
    REFUSED(tm_parse_money("-5", 2, 0, &v, err), "negative amounts are not allowed");
    REFUSED(tm_parse_money("-0", 2, 0, &v, err), "negative amounts are not allowed");
    ASSERT_EQ(v, 99);
    ASSERT_OK(tm_parse_money("-5", 2, TM_MONEY_ALLOW_NEGATIVE, &v, NULL));
    ASSERT_EQ(v, -500);
    ASSERT_OK(tm_parse_money("-0.01", 2, TM_MONEY_ALLOW_NEGATIVE, &v, NULL));
    ASSERT_EQ(v, -1);
    ASSERT_OK(tm_parse_money("-0", 2, TM_MONEY_ALLOW_NEGATIVE, &v, NULL));
    ASSERT_EQ(v, 0);
    ASSERT_OK(tm_parse_money("-92233720368547758.07", 2, TM_MONEY_ALLOW_NEGATIVE, &v, NULL));
    ASSERT_EQ(v, -INT64_MAX);
    REFUSED(tm_parse_money("-92233720368547758.08", 2, TM_MONEY_ALLOW_NEGATIVE, &v, err),
            "too large");
    REFUSED(tm_parse_money("--5", 2, TM_MONEY_ALLOW_NEGATIVE, &v, err), "not a decimal");
    REFUSED(tm_parse_money("-", 2, TM_MONEY_ALLOW_NEGATIVE, &v, err), "not a decimal");
    REFUSED(tm_parse_money("-.5", 2, TM_MONEY_ALLOW_NEGATIVE, &v, err), "a digit is needed");
}

TEST(money_bad_arguments)
{
    int64_t v = 99;
    REFUSED(tm_parse_money("1", -1, 0, &v, err), "bad arguments");
    REFUSED(tm_parse_money("1", 19, 0, &v, err), "bad arguments");
    REFUSED(tm_parse_money("1", 2, 0, NULL, err), "bad arguments");
    ASSERT_EQ(v, 99);
    ASSERT_EQ(tm_parse_money("x", 2, 0, &v, NULL), TM_EINVAL); /* err may be NULL */
}

/* ---- Integers ---------------------------------------------------------------------------- */

TEST(int_accepts_range)
{
    int64_t v = -1;
    ASSERT_OK(tm_parse_int("0", 0, 36500, &v, NULL));
    ASSERT_EQ(v, 0);
    ASSERT_OK(tm_parse_int("36500", 0, 36500, &v, NULL));
    ASSERT_EQ(v, 36500);
    ASSERT_OK(tm_parse_int("-5", -5, 5, &v, NULL));
    ASSERT_EQ(v, -5);
    ASSERT_OK(tm_parse_int("0042", 0, 100, &v, NULL));
    ASSERT_EQ(v, 42);
    ASSERT_OK(tm_parse_int("9223372036854775807", INT64_MIN, INT64_MAX, &v, NULL));
    ASSERT_EQ(v, INT64_MAX);
    ASSERT_OK(tm_parse_int("-9223372036854775808", INT64_MIN, INT64_MAX, &v, NULL));
    ASSERT_EQ(v, INT64_MIN);
}

TEST(int_refusals)
{
    int64_t v = 99;
    REFUSED(tm_parse_int("36501", 0, 36500, &v, err), "must be between 0 and 36500");
    REFUSED(tm_parse_int("-1", 0, 36500, &v, err), "must be between 0 and 36500");
    REFUSED(tm_parse_int("9223372036854775808", INT64_MIN, INT64_MAX, &v, err), "between");
    REFUSED(tm_parse_int("-9223372036854775809", INT64_MIN, INT64_MAX, &v, err), "between");
    REFUSED(tm_parse_int("99999999999999999999999", 0, 10, &v, err), "between 0 and 10");
    REFUSED(tm_parse_int("", 0, 10, &v, err), "empty");
    REFUSED(tm_parse_int("+1", 0, 10, &v, err), "not a whole number");
    REFUSED(tm_parse_int(" 1", 0, 10, &v, err), "white space");
    REFUSED(tm_parse_int("1 ", 0, 10, &v, err), "white space");
    REFUSED(tm_parse_int("1.0", 0, 10, &v, err), "not a whole number");
    REFUSED(tm_parse_int("1e2", 0, 1000, &v, err), "exponent notation");
    REFUSED(tm_parse_int("1,000", 0, 5000, &v, err), "thousands separators");
    REFUSED(tm_parse_int("abc", 0, 10, &v, err), "not a whole number");
    REFUSED(tm_parse_int("-", 0, 10, &v, err), "not a whole number");
    REFUSED(tm_parse_int(NULL, 0, 10, &v, err), "missing");
    REFUSED(tm_parse_int("1", 10, 0, &v, err), "bad arguments");
    REFUSED(tm_parse_int("1", 0, 10, NULL, err), "bad arguments");
    ASSERT_EQ(v, 99);
}

/* ---- Phones ------------------------------------------------------------------------------ */

TEST(phone_e164)
{
    ACCEPTED(tm_valid_phone_e164("+16175550100", err));
    ACCEPTED(tm_valid_phone_e164("+12345678", err));        /* 8 digits */
    ACCEPTED(tm_valid_phone_e164("+123456789012345", err)); /* 15 digits */
    ACCEPTED(tm_valid_phone_e164("+442079460000", err));
    REFUSED(tm_valid_phone_e164("+1234567", err), "8 to 15 digits");
    REFUSED(tm_valid_phone_e164("+1234567890123456", err), "8 to 15 digits");
    REFUSED(tm_valid_phone_e164("+", err), "8 to 15 digits");
    REFUSED(tm_valid_phone_e164("16175550100", err), "not an E.164 number");
    REFUSED(tm_valid_phone_e164("+06175550100", err), "do not start with 0");
    REFUSED(tm_valid_phone_e164("+1 6175550100", err), "only digits");
    REFUSED(tm_valid_phone_e164("+1-617-555-0100", err), "only digits");
    REFUSED(tm_valid_phone_e164("++16175550100", err), "only digits");
    REFUSED(tm_valid_phone_e164("+16175550100 ", err), "only digits");
    REFUSED(tm_valid_phone_e164("", err), "not an E.164 number");
    REFUSED(tm_valid_phone_e164(NULL, err), "missing");
}

static const char *phone(const char *in, unsigned flags)
{
    static char out[TM_PHONE_MAX];
    struct tm_err err = {0};
    if (tm_phone_normalise(in, flags, out, sizeof out, &err) != TM_OK)
        TM_FAIL_("phone \"%s\" refused: %s", in, err.msg);
    return out;
}

TEST(phone_normalise)
{
    ASSERT_STR_EQ(phone("+1 (617) 555-0100", 0), "+16175550100");
    ASSERT_STR_EQ(phone("  +44 20 7946 0000 \t", 0), "+442079460000");
    ASSERT_STR_EQ(phone("+1.617.555.0100", 0), "+16175550100");
    ASSERT_STR_EQ(phone("+16175550100", 0), "+16175550100");
    ASSERT_STR_EQ(phone("617-555-0100", TM_PHONE_ASSUME_NANP), "+16175550100");
    ASSERT_STR_EQ(phone("(617) 555 0100", TM_PHONE_ASSUME_NANP), "+16175550100");
    ASSERT_STR_EQ(phone("1-617-555-0100", TM_PHONE_ASSUME_NANP), "+16175550100");
    ASSERT_STR_EQ(phone("+44 20 7946 0000", TM_PHONE_ASSUME_NANP), "+442079460000");
}

TEST(phone_normalise_refusals)
{
    char out[TM_PHONE_MAX] = "junk";
    REFUSED(tm_phone_normalise("617-555-0100", 0, out, sizeof out, err), "no country code");
    ASSERT_STR_EQ(out, "");
    REFUSED(tm_phone_normalise("0175550100", TM_PHONE_ASSUME_NANP, out, sizeof out, err),
            "10-digit US number");
    REFUSED(tm_phone_normalise("16175550100", 0, out, sizeof out, err), "no country code");
    REFUSED(tm_phone_normalise("2-617-555-0100", TM_PHONE_ASSUME_NANP, out, sizeof out, err),
            "10-digit US number");
    REFUSED(tm_phone_normalise("555-0100", TM_PHONE_ASSUME_NANP, out, sizeof out, err),
            "10-digit US number");
    REFUSED(tm_phone_normalise("+1 617 555 0100 ext 5", 0, out, sizeof out, err),
            "not a phone number");
    REFUSED(tm_phone_normalise("tel:+16175550100", 0, out, sizeof out, err),
            "not a phone number");
    REFUSED(tm_phone_normalise("+1 617 CALL NOW", 0, out, sizeof out, err),
            "not a phone number");
    REFUSED(tm_phone_normalise("++16175550100", 0, out, sizeof out, err), "not a phone number");
    REFUSED(tm_phone_normalise("1+6175550100", 0, out, sizeof out, err), "not a phone number");
    REFUSED(tm_phone_normalise("+1 234 567 890 123 456", 0, out, sizeof out, err),
            "more than 15 digits");
    REFUSED(tm_phone_normalise("+0 617 555 0100", 0, out, sizeof out, err),
            "do not start with 0");
    REFUSED(tm_phone_normalise("+1 234 567", 0, out, sizeof out, err), "8 to 15 digits");
    REFUSED(tm_phone_normalise("   ", 0, out, sizeof out, err), "empty");
    REFUSED(tm_phone_normalise(NULL, 0, out, sizeof out, err), "missing");
    /* Output buffer: 13 bytes hold "+16175550100", 12 do not. */
    ACCEPTED(tm_phone_normalise("+1 617 555 0100", 0, out, 13, err));
    REFUSED(tm_phone_normalise("+1 617 555 0100", 0, out, 12, err), "buffer too small");
    ASSERT_STR_EQ(out, "");
    REFUSED(tm_phone_normalise("+16175550100", 0, NULL, 20, err), "no output buffer");
    REFUSED(tm_phone_normalise("+16175550100", 0, out, 0, err), "no output buffer");
}

/* ---- Email ------------------------------------------------------------------------------- */

/* "a" repeated n times, then `tail`. */
static const char *rep(size_t n, const char *tail)
{
    static char buf[600];
    ASSERT(n + strlen(tail) < sizeof buf);
    memset(buf, 'a', n);
    strcpy(buf + n, tail);
    return buf;
}

TEST(email_accepts)
{
    const char *ok[] = {"a@example.com", "first.last+tag@sub.example.co.uk", "o'brien@x-y.org",
                        "A@B.CO", "x@xn--bcher-kva.example", "user_name-1@d1.io",
                        "!#$%&'*+-/=?^_`{|}~@example.com", "a.b.c@e.f", "a@123.example.com"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        ACCEPTED(tm_valid_email(ok[i], err));
    ACCEPTED(tm_valid_email(rep(64, "@example.com"), err)); /* local part at the limit */
    /* 254 bytes in all: 64 + '@' + 63 + '.' + 63 + '.' + 61. */
    char long_ok[300];
    snprintf(long_ok, sizeof long_ok, "%s", rep(64, "@"));
    for (int i = 0; i < 2; i++) {
        memset(long_ok + strlen(long_ok), 'b', 63);
        long_ok[65 + 64 * i + 63] = '\0';
        strcat(long_ok, ".");
    }
    memset(long_ok + strlen(long_ok), 'c', 61);
    long_ok[254] = '\0';
    ASSERT_EQ(strlen(long_ok), 254);
    ACCEPTED(tm_valid_email(long_ok, err));
    strcat(long_ok, "c");
    REFUSED(tm_valid_email(long_ok, err), "longer than 254 bytes");
}

TEST(email_refusals)
{
    REFUSED(tm_valid_email("", err), "empty");
    REFUSED(tm_valid_email(NULL, err), "missing");
    REFUSED(tm_valid_email("plain", err), "no @");
    REFUSED(tm_valid_email("a@b", err), "needs a dot");
    REFUSED(tm_valid_email("@example.com", err), "nothing before @");
    REFUSED(tm_valid_email("a@", err), "nothing after @");
    REFUSED(tm_valid_email("a@@b.com", err), "more than one @");
    REFUSED(tm_valid_email("a@b@c.com", err), "more than one @");
    REFUSED(tm_valid_email("a b@c.com", err), "white space");
    REFUSED(tm_valid_email(" a@b.com", err), "white space");
    REFUSED(tm_valid_email("a@b.com\n", err), "white space");
    REFUSED(tm_valid_email(".a@b.com", err), "a dot at the start");
    REFUSED(tm_valid_email("a.@b.com", err), "a dot at the start");
    REFUSED(tm_valid_email("a..b@c.com", err), "two in a row");
    REFUSED(tm_valid_email("\"q\"@b.com", err), "a character not allowed before @");
    REFUSED(tm_valid_email("a(b)@c.com", err), "a character not allowed before @");
    REFUSED(tm_valid_email("jos\xC3\xA9@x.com", err), "a character not allowed before @");
    REFUSED(tm_valid_email(rep(65, "@example.com"), err), "more than 64 bytes before @");
    REFUSED(tm_valid_email("a@-b.com", err), "starts or ends with -");
    REFUSED(tm_valid_email("a@b-.com", err), "starts or ends with -");
    REFUSED(tm_valid_email("a@b.com-", err), "starts or ends with -");
    REFUSED(tm_valid_email("a@b..com", err), "empty domain label");
    REFUSED(tm_valid_email("a@.b.com", err), "empty domain label");
    REFUSED(tm_valid_email("a@b.com.", err), "empty domain label");
    REFUSED(tm_valid_email("a@b_c.com", err), "other than letters, digits");
    REFUSED(tm_valid_email("a@[1.2.3.4]", err), "other than letters, digits");
    REFUSED(tm_valid_email("a@b\xC3\xA9.com", err), "other than letters, digits");
    REFUSED(tm_valid_email("a@1.2.3.4", err), "top-level domain is a number");
    char label[100];
    snprintf(label, sizeof label, "x@%s", rep(63, ".com"));
    ACCEPTED(tm_valid_email(label, err)); /* 63-byte label */
    snprintf(label, sizeof label, "x@%s", rep(64, ".com"));
    REFUSED(tm_valid_email(label, err), "longer than 63");
}

TEST(email_normalise)
{
    char out[TM_EMAIL_MAX];
    ASSERT_OK(tm_email_normalise("  Foo.Bar@Example.COM \r\n", out, sizeof out, NULL));
    ASSERT_STR_EQ(out, "Foo.Bar@example.com"); /* the local part keeps its case */
    ASSERT_OK(tm_email_normalise("a@b.co", out, 7, NULL));
    ASSERT_STR_EQ(out, "a@b.co");
    REFUSED(tm_email_normalise("a@b.co", out, 6, err), "buffer too small");
    ASSERT_STR_EQ(out, "");
    REFUSED(tm_email_normalise(" not an email ", out, sizeof out, err), "white space");
    REFUSED(tm_email_normalise("x@y", out, sizeof out, err), "needs a dot");
    ASSERT_STR_EQ(out, "");
    REFUSED(tm_email_normalise("   ", out, sizeof out, err), "empty");
    REFUSED(tm_email_normalise(NULL, out, sizeof out, err), "missing");
    REFUSED(tm_email_normalise("a@b.co", NULL, 10, err), "no output buffer");
    REFUSED(tm_email_normalise(rep(300, "@b.co"), out, sizeof out, err), "longer than 254");
}

TEST(reasons_never_quote_personal_data)
{
    struct tm_err err = {0};
    tm_valid_email("secretperson@nowhere", &err);
    ASSERT(strstr(err.msg, "secret") == NULL && strstr(err.msg, "nowhere") == NULL);
    tm_phone_normalise("617-555-0199", 0, (char[TM_PHONE_MAX]){0}, TM_PHONE_MAX, &err);
    ASSERT(strstr(err.msg, "0199") == NULL);
    tm_valid_date("1961-02-30", NULL, &err);
    ASSERT(strstr(err.msg, "1961") == NULL);
    tm_valid_zip("9021O", &err);
    ASSERT(strstr(err.msg, "9021") == NULL);
}

/* ---- Zones, languages, debt types, ZIP codes --------------------------------------------- */

TEST(zone)
{
    ACCEPTED(tm_valid_zone("America/New_York", err));
    ACCEPTED(tm_valid_zone("America/Indiana/Knox", err));
    ACCEPTED(tm_valid_zone("Pacific/Guam", err));
    ACCEPTED(tm_valid_zone("UTC", err));
    const char *bad[] = {"America/Nowhere", "Mars/Base", "../etc/passwd", "", "America",
                         "america/new_york", "America/New York", "/usr/share/zoneinfo/UTC",
                         "EST 5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        REFUSED(tm_valid_zone(bad[i], err), "not an IANA time zone");
    REFUSED(tm_valid_zone(NULL, err), "missing");
}

TEST(language)
{
    const char *ok[] = {"en", "es", "fil", "en-US", "es-419", "zh-Hant", "zh-Hant-TW",
                        "EN-us", "sr-Latn-RS", "pt-BR", "yue-HK", "haw"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        ACCEPTED(tm_valid_language(ok[i], err));
    const char *bad[] = {"",         "e",         "engl",          "en_US",       "en-",
                         "en-U",     "en-USA",    "en-US-x",       "zh-Hant-TW-x", "de-DE-1996",
                         "en-x-abc", "x-klingon", "i-klingon",     "en-Latn-",    "en US",
                         "123",      "en-Hant1",  "en-12",         "en-1234",     "en--US",
                         "en-US ",   " en",       "e\xC3\xA9",     "en-Hant-Latn", "zh-yue-HK"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        REFUSED(tm_valid_language(bad[i], err), "not a language tag");
    REFUSED(tm_valid_language(NULL, err), "missing");
}

TEST(debt_type)
{
    const char *ok[] = {"credit_card", "personal_loan", "auto_loan", "medical",
                        "utility",     "telecom",       "other"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        ACCEPTED(tm_valid_debt_type(ok[i], err));
    const char *bad[] = {"Credit_Card", "credit card", "credit-card", "", "mortgage",
                         "other ",      "OTHER",       "student_loan"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        REFUSED(tm_valid_debt_type(bad[i], err), "not a debt type");
    REFUSED(tm_valid_debt_type(NULL, err), "missing");
}

TEST(zip)
{
    ACCEPTED(tm_valid_zip("02134", err));
    ACCEPTED(tm_valid_zip("02134-1234", err));
    ACCEPTED(tm_valid_zip("99950", err));
    const char *bad[] = {"2134",       "021345",     "02134-123", "02134-12345", "02134 1234",
                         "0213A",      "",           "02134-",    "021341234",   " 02134",
                         "02134 ",     "02134-abcd", "-02134",    "K1A 0B1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        REFUSED(tm_valid_zip(bad[i], err), "not a ZIP code");
    REFUSED(tm_valid_zip(NULL, err), "missing");
}
