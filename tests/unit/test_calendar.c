/*
 * tests/unit/test_calendar.c: civil date arithmetic, RFC 3339, US federal holidays and
 * business days.
 *
 * Oracles: glibc's gmtime_r/timegm (proleptic Gregorian) for the day-number conversions, and
 * a holiday table for 2020-2035 written out from the calendar and checked against OPM's
 * published lists for 2020-2026 (e.g. 2021-06-18 and 2021-12-31 observed), not produced by
 * the code under test.
 */
#include "harness.h"

#include "calendar.h"

#include <time.h>

static tm_date D(int y, int m, int d)
{
    return (tm_date){y, m, d};
}

#define ASSERT_DATE(got, y, m, d)                                                               \
    do {                                                                                        \
        tm_date g_ = (got);                                                                     \
        if (g_.year != (y) || g_.month != (m) || g_.day != (d))                                 \
            TM_FAIL_("%s: got %04d-%02d-%02d, want %04d-%02d-%02d", #got, g_.year, g_.month,     \
                     g_.day, (y), (m), (d));                                                    \
    } while (0)

/* ---- Day numbers ---------------------------------------------------------------------- */

TEST(days_known_values)
{
    ASSERT_EQ(tm_calendar_days_from_civil(1970, 1, 1), 0);
    ASSERT_EQ(tm_calendar_days_from_civil(1969, 12, 31), -1);
    ASSERT_EQ(tm_calendar_days_from_civil(2000, 3, 1), 11017);
    ASSERT_EQ(tm_calendar_days_from_civil(2026, 11, 23), 20780);
    ASSERT_EQ(tm_calendar_days_from_civil(9999, 12, 31), 2932896);
    ASSERT_EQ(tm_calendar_days_from_civil(0, 3, 1), -719468);
    /* Out-of-range months and days roll over rather than fail. */
    ASSERT_EQ(tm_calendar_days_from_civil(2026, 13, 1), tm_calendar_days_from_civil(2027, 1, 1));
    ASSERT_EQ(tm_calendar_days_from_civil(2026, 0, 1), tm_calendar_days_from_civil(2025, 12, 1));
    ASSERT_EQ(tm_calendar_days_from_civil(2026, 3, 0), tm_calendar_days_from_civil(2026, 2, 28));
    ASSERT_EQ(tm_calendar_days_from_civil(2024, 3, 0), tm_calendar_days_from_civil(2024, 2, 29));
}

TEST(days_match_glibc_gmtime_years_minus_10000_to_10000)
{
    /* glibc's gmtime is proleptic Gregorian with astronomical years; walk every day. */
    int64_t first = tm_calendar_days_from_civil(-10000, 1, 1);
    int64_t last = tm_calendar_days_from_civil(10000, 12, 31);
    for (int64_t d = first; d <= last; d++) {
        time_t t = (time_t)(d * 86400);
        struct tm g;
        ASSERT(gmtime_r(&t, &g) != NULL);
        int64_t y;
        int m, dd;
        tm_calendar_civil_from_days(d, &y, &m, &dd);
        if (y != (int64_t)g.tm_year + 1900 || m != g.tm_mon + 1 || dd != g.tm_mday)
            TM_FAIL_("day %lld: got %lld-%d-%d, glibc %d-%d-%d", (long long)d, (long long)y, m,
                     dd, g.tm_year + 1900, g.tm_mon + 1, g.tm_mday);
        ASSERT_EQ(tm_calendar_weekday(d), g.tm_wday);
        ASSERT_EQ(tm_calendar_days_from_civil(y, m, dd), d);
    }
}

TEST(days_round_trip_extremes)
{
    /* Huge day numbers must not overflow (UBSan checks the arithmetic). */
    int64_t probes[] = {INT64_MIN, INT64_MIN + 1, -(INT64_C(1) << 62), -1, 0, 1,
                        (INT64_C(1) << 62), INT64_MAX - 1, INT64_MAX};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int64_t y;
        int m, d;
        tm_calendar_civil_from_days(probes[i], &y, &m, &d);
        ASSERT(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        int w = tm_calendar_weekday(probes[i]);
        ASSERT(w >= 0 && w <= 6);
    }
    int64_t y;
    tm_calendar_civil_from_days(INT64_C(1) << 40, &y, NULL, NULL);
    ASSERT_EQ(tm_calendar_days_from_civil(y, 1, 1) <= (INT64_C(1) << 40), 1);
    /* Years beyond the clamp saturate instead of overflowing. */
    (void)tm_calendar_days_from_civil(INT64_MAX, 1, 1);
    (void)tm_calendar_days_from_civil(INT64_MIN, 12, 31);
    (void)tm_calendar_days_from_civil(2026, -2147483647 - 1, 1);
    (void)tm_calendar_days_from_civil(2026, 2147483647, 2147483647);
    for (int64_t yy = -2000000; yy <= 2000000; yy += 997) {
        for (int mm = 1; mm <= 12; mm++) {
            int64_t d = tm_calendar_days_from_civil(yy, mm, 1), y2;
            int m2, d2;
            tm_calendar_civil_from_days(d, &y2, &m2, &d2);
            ASSERT_EQ(y2, yy);
            ASSERT_EQ(m2, mm);
            ASSERT_EQ(d2, 1);
        }
    }
}

TEST(weekdays)
{
    ASSERT_EQ(tm_calendar_weekday(0), 4); /* 1970-01-01 Thursday */
    ASSERT_EQ(tm_calendar_date_weekday(D(2026, 11, 23)), 1);
    ASSERT_EQ(tm_calendar_date_weekday(D(2000, 1, 1)), 6);
    ASSERT_EQ(tm_calendar_date_weekday(D(2026, 1, 1)), 4);
    ASSERT_EQ(tm_calendar_date_weekday(D(1969, 12, 28)), 0);
}

TEST(leap_years_and_validity)
{
    ASSERT_EQ(tm_calendar_is_leap(1900), 0);
    ASSERT_EQ(tm_calendar_is_leap(2000), 1);
    ASSERT_EQ(tm_calendar_is_leap(2024), 1);
    ASSERT_EQ(tm_calendar_is_leap(2026), 0);
    ASSERT_EQ(tm_calendar_is_leap(2100), 0);
    ASSERT_EQ(tm_calendar_is_leap(2400), 1);
    ASSERT_EQ(tm_calendar_is_leap(0), 1);
    ASSERT_EQ(tm_calendar_is_leap(-4), 1);
    ASSERT_EQ(tm_calendar_is_leap(-100), 0);
    ASSERT_EQ(tm_calendar_days_in_month(2024, 2), 29);
    ASSERT_EQ(tm_calendar_days_in_month(2026, 2), 28);
    ASSERT_EQ(tm_calendar_days_in_month(2026, 4), 30);
    ASSERT_EQ(tm_calendar_days_in_month(2026, 12), 31);
    ASSERT_EQ(tm_calendar_days_in_month(2026, 0), 0);
    ASSERT_EQ(tm_calendar_days_in_month(2026, 13), 0);
    ASSERT_EQ(tm_calendar_date_valid(2026, 2, 30), 0);
    ASSERT_EQ(tm_calendar_date_valid(2026, 2, 29), 0);
    ASSERT_EQ(tm_calendar_date_valid(2024, 2, 29), 1);
    ASSERT_EQ(tm_calendar_date_valid(2000, 2, 29), 1);
    ASSERT_EQ(tm_calendar_date_valid(1900, 2, 29), 0);
    ASSERT_EQ(tm_calendar_date_valid(2026, 4, 31), 0);
    ASSERT_EQ(tm_calendar_date_valid(2026, 4, 30), 1);
    ASSERT_EQ(tm_calendar_date_valid(2026, 1, 0), 0);
    ASSERT_EQ(tm_calendar_date_valid(2026, 1, 32), 0);
    ASSERT_EQ(tm_calendar_date_valid(2026, 0, 1), 0);
    ASSERT_EQ(tm_calendar_date_valid(2026, 13, 1), 0);
    ASSERT_EQ(tm_calendar_date_valid(2026, 12, 31), 1);
    ASSERT_EQ(tm_calendar_date_valid(2026, -1, 1), 0);
}

TEST(date_check_messages)
{
    struct tm_err err = {0};
    ASSERT_EQ(tm_calendar_date_check(D(2026, 2, 30), &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "2026-02-30 is not a valid date");
    ASSERT_CONTAINS(err.msg, "February 2026 has 28 days");
    ASSERT_EQ(err.code, TM_EINVAL);
    ASSERT_EQ(tm_calendar_date_check(D(2026, 13, 1), &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "month 13");
    ASSERT_EQ(tm_calendar_date_check(D(2024, 2, 29), &err), TM_OK);
    ASSERT_EQ(tm_calendar_date_check(D(2024, 2, 30), NULL), TM_EINVAL);
}

TEST(add_days_and_compare)
{
    tm_date out;
    ASSERT_OK(tm_calendar_add_days(D(2026, 2, 28), 1, &out, NULL));
    ASSERT_DATE(out, 2026, 3, 1);
    ASSERT_OK(tm_calendar_add_days(D(2024, 2, 28), 1, &out, NULL));
    ASSERT_DATE(out, 2024, 2, 29);
    ASSERT_OK(tm_calendar_add_days(D(2026, 1, 1), -1, &out, NULL));
    ASSERT_DATE(out, 2025, 12, 31);
    ASSERT_OK(tm_calendar_add_days(D(2026, 11, 23), 365, &out, NULL));
    ASSERT_DATE(out, 2027, 11, 23);
    struct tm_err err = {0};
    ASSERT_EQ(tm_calendar_add_days(D(2026, 2, 30), 1, &out, &err), TM_EINVAL);
    ASSERT_EQ(tm_calendar_add_days(D(2026, 1, 1), INT64_MAX, &out, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "out of range");
    ASSERT(tm_calendar_date_cmp(D(2026, 1, 2), D(2026, 1, 1)) > 0);
    ASSERT(tm_calendar_date_cmp(D(2025, 12, 31), D(2026, 1, 1)) < 0);
    ASSERT(tm_calendar_date_cmp(D(2026, 3, 1), D(2026, 2, 28)) > 0);
    ASSERT_EQ(tm_calendar_date_cmp(D(2026, 3, 1), D(2026, 3, 1)), 0);
    ASSERT_EQ(tm_calendar_days_to_date(INT64_C(1) << 50, &out), TM_EINVAL);
}

/* ---- Text --------------------------------------------------------------------------------- */

TEST(parse_date_good_and_bad)
{
    tm_date d = {0};
    struct tm_err err = {0};
    ASSERT_OK(tm_calendar_parse_date("2026-11-23", &d, &err));
    ASSERT_DATE(d, 2026, 11, 23);
    ASSERT_OK(tm_calendar_parse_date("2024-02-29", &d, &err));
    ASSERT_DATE(d, 2024, 2, 29);
    ASSERT_OK(tm_calendar_parse_date("0000-01-01", &d, &err));
    ASSERT_DATE(d, 0, 1, 1);
    ASSERT_OK(tm_calendar_parse_date("9999-12-31", &d, &err));
    const char *bad[] = {"", "2026-1-23", "2026-11-3", "2026-11-23 ", " 2026-11-23", "2026/11/23",
                         "2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-11-31",
                         "2026-11-00", "abcd-ef-gh", "+2026-11-23", "99999-01-01", "2026-11",
                         "2026-11-23T00:00:00Z", "2026-11-2\x01", "1900-02-29"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = D(1, 1, 1);
        err.msg[0] = '\0';
        if (tm_calendar_parse_date(bad[i], &d, &err) != TM_EINVAL)
            TM_FAIL_("accepted bad date \"%s\"", bad[i]);
        ASSERT_CONTAINS(err.msg, "invalid date");
        ASSERT_DATE(d, 1, 1, 1); /* untouched on failure */
    }
    ASSERT_EQ(tm_calendar_parse_date(NULL, &d, &err), TM_EINVAL);
    ASSERT_EQ(tm_calendar_parse_date("2026-02-30", &d, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "day 30 is not in February 2026 (28 days)");
    ASSERT_EQ(tm_calendar_parse_date("2026-13-01", &d, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "month 13 is not 01-12");
    /* Hostile bytes are not echoed raw into messages. */
    ASSERT_EQ(tm_calendar_parse_date("\x1b[31mevil", &d, &err), TM_EINVAL);
    ASSERT(strchr(err.msg, '\x1b') == NULL);
}

TEST(format_date)
{
    char buf[TM_CALENDAR_DATE_LEN];
    ASSERT_OK(tm_calendar_format_date(D(2026, 7, 3), buf, sizeof buf, NULL));
    ASSERT_STR_EQ(buf, "2026-07-03");
    ASSERT_OK(tm_calendar_format_date(D(5, 1, 9), buf, sizeof buf, NULL));
    ASSERT_STR_EQ(buf, "0005-01-09");
    char small[10] = "xxxxxxxxx";
    ASSERT_EQ(tm_calendar_format_date(D(2026, 7, 3), small, sizeof small, NULL), TM_EINVAL);
    ASSERT_STR_EQ(small, "");
    ASSERT_EQ(tm_calendar_format_date(D(10000, 1, 1), buf, sizeof buf, NULL), TM_EINVAL);
    ASSERT_EQ(tm_calendar_format_date(D(-1, 1, 1), buf, sizeof buf, NULL), TM_EINVAL);
    ASSERT_EQ(tm_calendar_format_date(D(2026, 2, 29), buf, sizeof buf, NULL), TM_EINVAL);
    ASSERT_EQ(tm_calendar_format_date(D(2026, 2, 1), NULL, 0, NULL), TM_EINVAL);
    /* Round trip over every day of 1999-2001. */
    for (int64_t day = tm_calendar_days_from_civil(1999, 1, 1);
         day <= tm_calendar_days_from_civil(2001, 12, 31); day++) {
        tm_date a, b;
        ASSERT_OK(tm_calendar_days_to_date(day, &a));
        ASSERT_OK(tm_calendar_format_date(a, buf, sizeof buf, NULL));
        ASSERT_OK(tm_calendar_parse_date(buf, &b, NULL));
        ASSERT_EQ(tm_calendar_date_cmp(a, b), 0);
    }
}

/* Times of day: every HH:MM and HH:MM:SS of the day read back to its own seconds
 * (checked against the value the loop builds, not against the parser), and the
 * forms around the edges refused or accepted by flag. */
TEST(parse_clock_every_minute_and_edges)
{
    int secs = -1;
    char b[40];
    for (int h = 0; h < 24; h++)
        for (int m = 0; m < 60; m++) {
            snprintf(b, sizeof b, "%02d:%02d", h, m);
            ASSERT_OK(tm_calendar_parse_clock(b, 0, &secs, NULL));
            ASSERT_EQ(secs, h * 3600 + m * 60);
            snprintf(b, sizeof b, "%02d:%02d:%02d", h, m, (h + m) % 60);
            ASSERT_OK(tm_calendar_parse_clock(b, TM_CLOCK_SECONDS, &secs, NULL));
            ASSERT_EQ(secs, h * 3600 + m * 60 + (h + m) % 60);
            ASSERT_EQ(tm_calendar_parse_clock(b, 0, &secs, NULL), TM_EINVAL);
        }
    ASSERT_OK(tm_calendar_parse_clock("9:05", 0, &secs, NULL));
    ASSERT_EQ(secs, 9 * 3600 + 300);
    ASSERT_OK(tm_calendar_parse_clock("24:00", TM_CLOCK_END_OF_DAY, &secs, NULL));
    ASSERT_EQ(secs, 86400);
    ASSERT_OK(tm_calendar_parse_clock("24:00:00", TM_CLOCK_END_OF_DAY | TM_CLOCK_SECONDS, &secs,
                                      NULL));
    ASSERT_EQ(secs, 86400);
    secs = -1;
    static const char *const bad[] = {"24:00", "24:01", "25:00", "12:60", "12:5", "123:00",
                                      " 9:00", "+9:00", "-0:00", "09: 5", "0900", "09:00 ",
                                      "09:00:", "09:00:60", "", ":00", "9", "09:00:00"};
    struct tm_err err = {0};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ASSERT_EQ(tm_calendar_parse_clock(bad[i], 0, &secs, &err), TM_EINVAL);
        ASSERT_CONTAINS(err.msg, "expected HH:MM");
    }
    ASSERT_EQ(tm_calendar_parse_clock("24:01", TM_CLOCK_END_OF_DAY, &secs, NULL), TM_EINVAL);
    ASSERT_EQ(tm_calendar_parse_clock("24:00:01", TM_CLOCK_END_OF_DAY | TM_CLOCK_SECONDS, &secs,
                                      NULL), TM_EINVAL);
    ASSERT_EQ(tm_calendar_parse_clock(NULL, 0, &secs, NULL), TM_EINVAL);
    ASSERT_EQ(tm_calendar_parse_clock("09:00", 8u, &secs, NULL), TM_EINVAL);
    ASSERT_EQ(secs, -1); /* untouched on failure */
}

TEST(rfc3339_parse_good)
{
    int64_t t = 0;
    int32_t ns = -1;
    int off = -1;
    struct tm_err err = {0};
    ASSERT_OK(tm_calendar_parse_rfc3339("2026-11-23T14:05:00Z", &t, &ns, &off, &err));
    ASSERT_EQ(t, 1795442700);
    ASSERT_EQ(ns, 0);
    ASSERT_EQ(off, 0);
    ASSERT_OK(tm_calendar_parse_rfc3339("2026-11-23T14:05:00+05:30", &t, &ns, &off, &err));
    ASSERT_EQ(t, 1795442700 - 19800);
    ASSERT_EQ(off, 19800);
    ASSERT_OK(tm_calendar_parse_rfc3339("2026-11-23T14:05:00-08:00", &t, NULL, &off, &err));
    ASSERT_EQ(t, 1795442700 + 28800);
    ASSERT_EQ(off, -28800);
    ASSERT_OK(tm_calendar_parse_rfc3339("2026-11-23t14:05:00.5z", &t, &ns, &off, &err));
    ASSERT_EQ(t, 1795442700);
    ASSERT_EQ(ns, 500000000);
    ASSERT_OK(tm_calendar_parse_rfc3339("2026-11-23T14:05:00.123456789123Z", &t, &ns, NULL, &err));
    ASSERT_EQ(ns, 123456789);
    ASSERT_OK(tm_calendar_parse_rfc3339("2026-11-23T14:05:00.000001-00:00", &t, &ns, &off, &err));
    ASSERT_EQ(ns, 1000);
    ASSERT_EQ(off, 0);
    ASSERT_OK(tm_calendar_parse_rfc3339("1970-01-01T00:00:00Z", &t, NULL, NULL, &err));
    ASSERT_EQ(t, 0);
    ASSERT_OK(tm_calendar_parse_rfc3339("1969-12-31T23:59:59Z", &t, NULL, NULL, &err));
    ASSERT_EQ(t, -1);
    ASSERT_OK(tm_calendar_parse_rfc3339("9999-12-31T23:59:59Z", &t, NULL, NULL, &err));
    ASSERT_EQ(t, INT64_C(253402300799));
    ASSERT_OK(tm_calendar_parse_rfc3339("0001-01-01T00:00:00Z", &t, NULL, NULL, &err));
    ASSERT_EQ(t, INT64_C(-62135596800));
    /* An offset can move the instant into the previous year. */
    ASSERT_OK(tm_calendar_parse_rfc3339("2026-01-01T00:30:00+01:00", &t, NULL, NULL, &err));
    ASSERT_EQ(t, tm_calendar_days_from_civil(2025, 12, 31) * 86400 + 23 * 3600 + 30 * 60);
    ASSERT_OK(tm_calendar_parse_rfc3339("2024-02-29T23:59:59+23:59", &t, NULL, NULL, &err));
}

TEST(rfc3339_parse_bad)
{
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"", "expected YYYY-MM-DD"},
        {"2026-11-23", "expected 'T'"},
        {"2026-11-23 14:05:00Z", "expected 'T'"},
        {"2026-11-23T24:00:00Z", "out of range"},
        {"2026-11-23T23:60:00Z", "out of range"},
        {"2026-11-23T23:59:61Z", "out of range"},
        {"2026-12-31T23:59:60Z", "leap second"},
        {"2026-02-29T10:00:00Z", "day 29 is not in February 2026"},
        {"2026-02-30T10:00:00Z", "day 30"},
        {"2026-13-01T10:00:00Z", "month 13"},
        {"2026-11-23T14:05Z", "expected HH:MM:SS"},
        {"2026-11-23T1:05:00Z", "expected HH:MM:SS"},
        {"2026-11-23T14:05:00", "missing time zone offset"},
        {"2026-11-23T14:05:00+0530", "expected offset"},
        {"2026-11-23T14:05:00+5:30", "expected offset"},
        {"2026-11-23T14:05:00+24:00", "offset 24:00 is out of range"},
        {"2026-11-23T14:05:00+05:60", "out of range"},
        {"2026-11-23T14:05:00.Z", "followed by digits"},
        {"2026-11-23T14:05:00ZZ", "unexpected text"},
        {"2026-11-23T14:05:00Z ", "unexpected text"},
        {"2026-11-23T14:05:00+05:30:00", "unexpected text"},
        {"2026-11-23T14:05:00UTC", "missing time zone offset"},
        {"20261123T140500Z", "expected YYYY-MM-DD"},
        {"-2026-11-23T14:05:00Z", "expected YYYY-MM-DD"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tm_err err = {0};
        int64_t t = 42;
        if (tm_calendar_parse_rfc3339(bad[i].in, &t, NULL, NULL, &err) != TM_EINVAL)
            TM_FAIL_("accepted bad timestamp \"%s\"", bad[i].in);
        ASSERT_EQ(t, 42);
        if (!strstr(err.msg, bad[i].why))
            TM_FAIL_("\"%s\": message \"%s\" lacks \"%s\"", bad[i].in, err.msg, bad[i].why);
    }
    int64_t t;
    ASSERT_EQ(tm_calendar_parse_rfc3339(NULL, &t, NULL, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_calendar_parse_rfc3339("2026-11-23T14:05:00Z", NULL, NULL, NULL, NULL), TM_EINVAL);
}

TEST(rfc3339_format_and_round_trip)
{
    char buf[TM_CALENDAR_RFC3339_LEN];
    ASSERT_OK(tm_calendar_format_rfc3339(0, 0, buf, sizeof buf, NULL));
    ASSERT_STR_EQ(buf, "1970-01-01T00:00:00Z");
    ASSERT_OK(tm_calendar_format_rfc3339(1795442700, 0, buf, sizeof buf, NULL));
    ASSERT_STR_EQ(buf, "2026-11-23T14:05:00Z");
    ASSERT_OK(tm_calendar_format_rfc3339(1795442700, 19800, buf, sizeof buf, NULL));
    ASSERT_STR_EQ(buf, "2026-11-23T19:35:00+05:30");
    ASSERT_OK(tm_calendar_format_rfc3339(1795442700, -28800, buf, sizeof buf, NULL));
    ASSERT_STR_EQ(buf, "2026-11-23T06:05:00-08:00");
    ASSERT_OK(tm_calendar_format_rfc3339(-1, -12600, buf, sizeof buf, NULL));
    ASSERT_STR_EQ(buf, "1969-12-31T20:29:59-03:30");
    struct tm_err err = {0};
    ASSERT_EQ(tm_calendar_format_rfc3339(0, 30, buf, sizeof buf, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "whole minutes");
    ASSERT_EQ(tm_calendar_format_rfc3339(0, 86400, buf, sizeof buf, &err), TM_EINVAL);
    ASSERT_EQ(tm_calendar_format_rfc3339(INT64_C(253402300800), 0, buf, sizeof buf, &err),
              TM_EINVAL);
    ASSERT_EQ(tm_calendar_format_rfc3339(INT64_MAX, 0, buf, sizeof buf, &err), TM_EINVAL);
    ASSERT_EQ(tm_calendar_format_rfc3339(INT64_MIN, 0, buf, sizeof buf, &err), TM_EINVAL);
    char small[25];
    ASSERT_EQ(tm_calendar_format_rfc3339(0, 0, small, sizeof small, &err), TM_EINVAL);
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t t = (int64_t)(x % UINT64_C(253402300799));
        int off = ((int)((x >> 40) % 2879) - 1439) * 60; /* -23:59 .. +23:59 */
        int64_t back;
        int off2;
        ASSERT_OK(tm_calendar_format_rfc3339(t, off, buf, sizeof buf, NULL));
        ASSERT_OK(tm_calendar_parse_rfc3339(buf, &back, NULL, &off2, NULL));
        ASSERT_EQ(back, t);
        ASSERT_EQ(off2, off);
        time_t tt = (time_t)t;
        struct tm g;
        gmtime_r(&tt, &g);
        char want[32];
        if (off == 0) {
            strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &g);
            ASSERT_STR_EQ(buf, want);
        }
    }
}

/* ---- Holidays ----------------------------------------------------------------------------- */

/* Every federal holiday 2020-2035: legal date and observed date. */
static const struct {
    int year, id;
    tm_date actual, observed;
} holidays[] = {
    {2020, TM_HOLIDAY_NEW_YEARS_DAY, {2020, 1, 1}, {2020, 1, 1}}, /* Wed */
    {2020, TM_HOLIDAY_MLK_DAY, {2020, 1, 20}, {2020, 1, 20}}, /* Mon */
    {2020, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2020, 2, 17}, {2020, 2, 17}}, /* Mon */
    {2020, TM_HOLIDAY_MEMORIAL_DAY, {2020, 5, 25}, {2020, 5, 25}}, /* Mon */
    {2020, TM_HOLIDAY_INDEPENDENCE_DAY, {2020, 7, 4}, {2020, 7, 3}}, /* Sat -> Fri */
    {2020, TM_HOLIDAY_LABOR_DAY, {2020, 9, 7}, {2020, 9, 7}}, /* Mon */
    {2020, TM_HOLIDAY_COLUMBUS_DAY, {2020, 10, 12}, {2020, 10, 12}}, /* Mon */
    {2020, TM_HOLIDAY_VETERANS_DAY, {2020, 11, 11}, {2020, 11, 11}}, /* Wed */
    {2020, TM_HOLIDAY_THANKSGIVING_DAY, {2020, 11, 26}, {2020, 11, 26}}, /* Thu */
    {2020, TM_HOLIDAY_CHRISTMAS_DAY, {2020, 12, 25}, {2020, 12, 25}}, /* Fri */
    {2021, TM_HOLIDAY_NEW_YEARS_DAY, {2021, 1, 1}, {2021, 1, 1}}, /* Fri */
    {2021, TM_HOLIDAY_MLK_DAY, {2021, 1, 18}, {2021, 1, 18}}, /* Mon */
    {2021, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2021, 2, 15}, {2021, 2, 15}}, /* Mon */
    {2021, TM_HOLIDAY_MEMORIAL_DAY, {2021, 5, 31}, {2021, 5, 31}}, /* Mon */
    {2021, TM_HOLIDAY_JUNETEENTH, {2021, 6, 19}, {2021, 6, 18}}, /* Sat -> Fri */
    {2021, TM_HOLIDAY_INDEPENDENCE_DAY, {2021, 7, 4}, {2021, 7, 5}}, /* Sun -> Mon */
    {2021, TM_HOLIDAY_LABOR_DAY, {2021, 9, 6}, {2021, 9, 6}}, /* Mon */
    {2021, TM_HOLIDAY_COLUMBUS_DAY, {2021, 10, 11}, {2021, 10, 11}}, /* Mon */
    {2021, TM_HOLIDAY_VETERANS_DAY, {2021, 11, 11}, {2021, 11, 11}}, /* Thu */
    {2021, TM_HOLIDAY_THANKSGIVING_DAY, {2021, 11, 25}, {2021, 11, 25}}, /* Thu */
    {2021, TM_HOLIDAY_CHRISTMAS_DAY, {2021, 12, 25}, {2021, 12, 24}}, /* Sat -> Fri */
    {2022, TM_HOLIDAY_NEW_YEARS_DAY, {2022, 1, 1}, {2021, 12, 31}}, /* Sat -> Fri */
    {2022, TM_HOLIDAY_MLK_DAY, {2022, 1, 17}, {2022, 1, 17}}, /* Mon */
    {2022, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2022, 2, 21}, {2022, 2, 21}}, /* Mon */
    {2022, TM_HOLIDAY_MEMORIAL_DAY, {2022, 5, 30}, {2022, 5, 30}}, /* Mon */
    {2022, TM_HOLIDAY_JUNETEENTH, {2022, 6, 19}, {2022, 6, 20}}, /* Sun -> Mon */
    {2022, TM_HOLIDAY_INDEPENDENCE_DAY, {2022, 7, 4}, {2022, 7, 4}}, /* Mon */
    {2022, TM_HOLIDAY_LABOR_DAY, {2022, 9, 5}, {2022, 9, 5}}, /* Mon */
    {2022, TM_HOLIDAY_COLUMBUS_DAY, {2022, 10, 10}, {2022, 10, 10}}, /* Mon */
    {2022, TM_HOLIDAY_VETERANS_DAY, {2022, 11, 11}, {2022, 11, 11}}, /* Fri */
    {2022, TM_HOLIDAY_THANKSGIVING_DAY, {2022, 11, 24}, {2022, 11, 24}}, /* Thu */
    {2022, TM_HOLIDAY_CHRISTMAS_DAY, {2022, 12, 25}, {2022, 12, 26}}, /* Sun -> Mon */
    {2023, TM_HOLIDAY_NEW_YEARS_DAY, {2023, 1, 1}, {2023, 1, 2}}, /* Sun -> Mon */
    {2023, TM_HOLIDAY_MLK_DAY, {2023, 1, 16}, {2023, 1, 16}}, /* Mon */
    {2023, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2023, 2, 20}, {2023, 2, 20}}, /* Mon */
    {2023, TM_HOLIDAY_MEMORIAL_DAY, {2023, 5, 29}, {2023, 5, 29}}, /* Mon */
    {2023, TM_HOLIDAY_JUNETEENTH, {2023, 6, 19}, {2023, 6, 19}}, /* Mon */
    {2023, TM_HOLIDAY_INDEPENDENCE_DAY, {2023, 7, 4}, {2023, 7, 4}}, /* Tue */
    {2023, TM_HOLIDAY_LABOR_DAY, {2023, 9, 4}, {2023, 9, 4}}, /* Mon */
    {2023, TM_HOLIDAY_COLUMBUS_DAY, {2023, 10, 9}, {2023, 10, 9}}, /* Mon */
    {2023, TM_HOLIDAY_VETERANS_DAY, {2023, 11, 11}, {2023, 11, 10}}, /* Sat -> Fri */
    {2023, TM_HOLIDAY_THANKSGIVING_DAY, {2023, 11, 23}, {2023, 11, 23}}, /* Thu */
    {2023, TM_HOLIDAY_CHRISTMAS_DAY, {2023, 12, 25}, {2023, 12, 25}}, /* Mon */
    {2024, TM_HOLIDAY_NEW_YEARS_DAY, {2024, 1, 1}, {2024, 1, 1}}, /* Mon */
    {2024, TM_HOLIDAY_MLK_DAY, {2024, 1, 15}, {2024, 1, 15}}, /* Mon */
    {2024, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2024, 2, 19}, {2024, 2, 19}}, /* Mon */
    {2024, TM_HOLIDAY_MEMORIAL_DAY, {2024, 5, 27}, {2024, 5, 27}}, /* Mon */
    {2024, TM_HOLIDAY_JUNETEENTH, {2024, 6, 19}, {2024, 6, 19}}, /* Wed */
    {2024, TM_HOLIDAY_INDEPENDENCE_DAY, {2024, 7, 4}, {2024, 7, 4}}, /* Thu */
    {2024, TM_HOLIDAY_LABOR_DAY, {2024, 9, 2}, {2024, 9, 2}}, /* Mon */
    {2024, TM_HOLIDAY_COLUMBUS_DAY, {2024, 10, 14}, {2024, 10, 14}}, /* Mon */
    {2024, TM_HOLIDAY_VETERANS_DAY, {2024, 11, 11}, {2024, 11, 11}}, /* Mon */
    {2024, TM_HOLIDAY_THANKSGIVING_DAY, {2024, 11, 28}, {2024, 11, 28}}, /* Thu */
    {2024, TM_HOLIDAY_CHRISTMAS_DAY, {2024, 12, 25}, {2024, 12, 25}}, /* Wed */
    {2025, TM_HOLIDAY_NEW_YEARS_DAY, {2025, 1, 1}, {2025, 1, 1}}, /* Wed */
    {2025, TM_HOLIDAY_MLK_DAY, {2025, 1, 20}, {2025, 1, 20}}, /* Mon */
    {2025, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2025, 2, 17}, {2025, 2, 17}}, /* Mon */
    {2025, TM_HOLIDAY_MEMORIAL_DAY, {2025, 5, 26}, {2025, 5, 26}}, /* Mon */
    {2025, TM_HOLIDAY_JUNETEENTH, {2025, 6, 19}, {2025, 6, 19}}, /* Thu */
    {2025, TM_HOLIDAY_INDEPENDENCE_DAY, {2025, 7, 4}, {2025, 7, 4}}, /* Fri */
    {2025, TM_HOLIDAY_LABOR_DAY, {2025, 9, 1}, {2025, 9, 1}}, /* Mon */
    {2025, TM_HOLIDAY_COLUMBUS_DAY, {2025, 10, 13}, {2025, 10, 13}}, /* Mon */
    {2025, TM_HOLIDAY_VETERANS_DAY, {2025, 11, 11}, {2025, 11, 11}}, /* Tue */
    {2025, TM_HOLIDAY_THANKSGIVING_DAY, {2025, 11, 27}, {2025, 11, 27}}, /* Thu */
    {2025, TM_HOLIDAY_CHRISTMAS_DAY, {2025, 12, 25}, {2025, 12, 25}}, /* Thu */
    {2026, TM_HOLIDAY_NEW_YEARS_DAY, {2026, 1, 1}, {2026, 1, 1}}, /* Thu */
    {2026, TM_HOLIDAY_MLK_DAY, {2026, 1, 19}, {2026, 1, 19}}, /* Mon */
    {2026, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2026, 2, 16}, {2026, 2, 16}}, /* Mon */
    {2026, TM_HOLIDAY_MEMORIAL_DAY, {2026, 5, 25}, {2026, 5, 25}}, /* Mon */
    {2026, TM_HOLIDAY_JUNETEENTH, {2026, 6, 19}, {2026, 6, 19}}, /* Fri */
    {2026, TM_HOLIDAY_INDEPENDENCE_DAY, {2026, 7, 4}, {2026, 7, 3}}, /* Sat -> Fri */
    {2026, TM_HOLIDAY_LABOR_DAY, {2026, 9, 7}, {2026, 9, 7}}, /* Mon */
    {2026, TM_HOLIDAY_COLUMBUS_DAY, {2026, 10, 12}, {2026, 10, 12}}, /* Mon */
    {2026, TM_HOLIDAY_VETERANS_DAY, {2026, 11, 11}, {2026, 11, 11}}, /* Wed */
    {2026, TM_HOLIDAY_THANKSGIVING_DAY, {2026, 11, 26}, {2026, 11, 26}}, /* Thu */
    {2026, TM_HOLIDAY_CHRISTMAS_DAY, {2026, 12, 25}, {2026, 12, 25}}, /* Fri */
    {2027, TM_HOLIDAY_NEW_YEARS_DAY, {2027, 1, 1}, {2027, 1, 1}}, /* Fri */
    {2027, TM_HOLIDAY_MLK_DAY, {2027, 1, 18}, {2027, 1, 18}}, /* Mon */
    {2027, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2027, 2, 15}, {2027, 2, 15}}, /* Mon */
    {2027, TM_HOLIDAY_MEMORIAL_DAY, {2027, 5, 31}, {2027, 5, 31}}, /* Mon */
    {2027, TM_HOLIDAY_JUNETEENTH, {2027, 6, 19}, {2027, 6, 18}}, /* Sat -> Fri */
    {2027, TM_HOLIDAY_INDEPENDENCE_DAY, {2027, 7, 4}, {2027, 7, 5}}, /* Sun -> Mon */
    {2027, TM_HOLIDAY_LABOR_DAY, {2027, 9, 6}, {2027, 9, 6}}, /* Mon */
    {2027, TM_HOLIDAY_COLUMBUS_DAY, {2027, 10, 11}, {2027, 10, 11}}, /* Mon */
    {2027, TM_HOLIDAY_VETERANS_DAY, {2027, 11, 11}, {2027, 11, 11}}, /* Thu */
    {2027, TM_HOLIDAY_THANKSGIVING_DAY, {2027, 11, 25}, {2027, 11, 25}}, /* Thu */
    {2027, TM_HOLIDAY_CHRISTMAS_DAY, {2027, 12, 25}, {2027, 12, 24}}, /* Sat -> Fri */
    {2028, TM_HOLIDAY_NEW_YEARS_DAY, {2028, 1, 1}, {2027, 12, 31}}, /* Sat -> Fri */
    {2028, TM_HOLIDAY_MLK_DAY, {2028, 1, 17}, {2028, 1, 17}}, /* Mon */
    {2028, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2028, 2, 21}, {2028, 2, 21}}, /* Mon */
    {2028, TM_HOLIDAY_MEMORIAL_DAY, {2028, 5, 29}, {2028, 5, 29}}, /* Mon */
    {2028, TM_HOLIDAY_JUNETEENTH, {2028, 6, 19}, {2028, 6, 19}}, /* Mon */
    {2028, TM_HOLIDAY_INDEPENDENCE_DAY, {2028, 7, 4}, {2028, 7, 4}}, /* Tue */
    {2028, TM_HOLIDAY_LABOR_DAY, {2028, 9, 4}, {2028, 9, 4}}, /* Mon */
    {2028, TM_HOLIDAY_COLUMBUS_DAY, {2028, 10, 9}, {2028, 10, 9}}, /* Mon */
    {2028, TM_HOLIDAY_VETERANS_DAY, {2028, 11, 11}, {2028, 11, 10}}, /* Sat -> Fri */
    {2028, TM_HOLIDAY_THANKSGIVING_DAY, {2028, 11, 23}, {2028, 11, 23}}, /* Thu */
    {2028, TM_HOLIDAY_CHRISTMAS_DAY, {2028, 12, 25}, {2028, 12, 25}}, /* Mon */
    {2029, TM_HOLIDAY_NEW_YEARS_DAY, {2029, 1, 1}, {2029, 1, 1}}, /* Mon */
    {2029, TM_HOLIDAY_MLK_DAY, {2029, 1, 15}, {2029, 1, 15}}, /* Mon */
    {2029, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2029, 2, 19}, {2029, 2, 19}}, /* Mon */
    {2029, TM_HOLIDAY_MEMORIAL_DAY, {2029, 5, 28}, {2029, 5, 28}}, /* Mon */
    {2029, TM_HOLIDAY_JUNETEENTH, {2029, 6, 19}, {2029, 6, 19}}, /* Tue */
    {2029, TM_HOLIDAY_INDEPENDENCE_DAY, {2029, 7, 4}, {2029, 7, 4}}, /* Wed */
    {2029, TM_HOLIDAY_LABOR_DAY, {2029, 9, 3}, {2029, 9, 3}}, /* Mon */
    {2029, TM_HOLIDAY_COLUMBUS_DAY, {2029, 10, 8}, {2029, 10, 8}}, /* Mon */
    {2029, TM_HOLIDAY_VETERANS_DAY, {2029, 11, 11}, {2029, 11, 12}}, /* Sun -> Mon */
    {2029, TM_HOLIDAY_THANKSGIVING_DAY, {2029, 11, 22}, {2029, 11, 22}}, /* Thu */
    {2029, TM_HOLIDAY_CHRISTMAS_DAY, {2029, 12, 25}, {2029, 12, 25}}, /* Tue */
    {2030, TM_HOLIDAY_NEW_YEARS_DAY, {2030, 1, 1}, {2030, 1, 1}}, /* Tue */
    {2030, TM_HOLIDAY_MLK_DAY, {2030, 1, 21}, {2030, 1, 21}}, /* Mon */
    {2030, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2030, 2, 18}, {2030, 2, 18}}, /* Mon */
    {2030, TM_HOLIDAY_MEMORIAL_DAY, {2030, 5, 27}, {2030, 5, 27}}, /* Mon */
    {2030, TM_HOLIDAY_JUNETEENTH, {2030, 6, 19}, {2030, 6, 19}}, /* Wed */
    {2030, TM_HOLIDAY_INDEPENDENCE_DAY, {2030, 7, 4}, {2030, 7, 4}}, /* Thu */
    {2030, TM_HOLIDAY_LABOR_DAY, {2030, 9, 2}, {2030, 9, 2}}, /* Mon */
    {2030, TM_HOLIDAY_COLUMBUS_DAY, {2030, 10, 14}, {2030, 10, 14}}, /* Mon */
    {2030, TM_HOLIDAY_VETERANS_DAY, {2030, 11, 11}, {2030, 11, 11}}, /* Mon */
    {2030, TM_HOLIDAY_THANKSGIVING_DAY, {2030, 11, 28}, {2030, 11, 28}}, /* Thu */
    {2030, TM_HOLIDAY_CHRISTMAS_DAY, {2030, 12, 25}, {2030, 12, 25}}, /* Wed */
    {2031, TM_HOLIDAY_NEW_YEARS_DAY, {2031, 1, 1}, {2031, 1, 1}}, /* Wed */
    {2031, TM_HOLIDAY_MLK_DAY, {2031, 1, 20}, {2031, 1, 20}}, /* Mon */
    {2031, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2031, 2, 17}, {2031, 2, 17}}, /* Mon */
    {2031, TM_HOLIDAY_MEMORIAL_DAY, {2031, 5, 26}, {2031, 5, 26}}, /* Mon */
    {2031, TM_HOLIDAY_JUNETEENTH, {2031, 6, 19}, {2031, 6, 19}}, /* Thu */
    {2031, TM_HOLIDAY_INDEPENDENCE_DAY, {2031, 7, 4}, {2031, 7, 4}}, /* Fri */
    {2031, TM_HOLIDAY_LABOR_DAY, {2031, 9, 1}, {2031, 9, 1}}, /* Mon */
    {2031, TM_HOLIDAY_COLUMBUS_DAY, {2031, 10, 13}, {2031, 10, 13}}, /* Mon */
    {2031, TM_HOLIDAY_VETERANS_DAY, {2031, 11, 11}, {2031, 11, 11}}, /* Tue */
    {2031, TM_HOLIDAY_THANKSGIVING_DAY, {2031, 11, 27}, {2031, 11, 27}}, /* Thu */
    {2031, TM_HOLIDAY_CHRISTMAS_DAY, {2031, 12, 25}, {2031, 12, 25}}, /* Thu */
    {2032, TM_HOLIDAY_NEW_YEARS_DAY, {2032, 1, 1}, {2032, 1, 1}}, /* Thu */
    {2032, TM_HOLIDAY_MLK_DAY, {2032, 1, 19}, {2032, 1, 19}}, /* Mon */
    {2032, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2032, 2, 16}, {2032, 2, 16}}, /* Mon */
    {2032, TM_HOLIDAY_MEMORIAL_DAY, {2032, 5, 31}, {2032, 5, 31}}, /* Mon */
    {2032, TM_HOLIDAY_JUNETEENTH, {2032, 6, 19}, {2032, 6, 18}}, /* Sat -> Fri */
    {2032, TM_HOLIDAY_INDEPENDENCE_DAY, {2032, 7, 4}, {2032, 7, 5}}, /* Sun -> Mon */
    {2032, TM_HOLIDAY_LABOR_DAY, {2032, 9, 6}, {2032, 9, 6}}, /* Mon */
    {2032, TM_HOLIDAY_COLUMBUS_DAY, {2032, 10, 11}, {2032, 10, 11}}, /* Mon */
    {2032, TM_HOLIDAY_VETERANS_DAY, {2032, 11, 11}, {2032, 11, 11}}, /* Thu */
    {2032, TM_HOLIDAY_THANKSGIVING_DAY, {2032, 11, 25}, {2032, 11, 25}}, /* Thu */
    {2032, TM_HOLIDAY_CHRISTMAS_DAY, {2032, 12, 25}, {2032, 12, 24}}, /* Sat -> Fri */
    {2033, TM_HOLIDAY_NEW_YEARS_DAY, {2033, 1, 1}, {2032, 12, 31}}, /* Sat -> Fri */
    {2033, TM_HOLIDAY_MLK_DAY, {2033, 1, 17}, {2033, 1, 17}}, /* Mon */
    {2033, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2033, 2, 21}, {2033, 2, 21}}, /* Mon */
    {2033, TM_HOLIDAY_MEMORIAL_DAY, {2033, 5, 30}, {2033, 5, 30}}, /* Mon */
    {2033, TM_HOLIDAY_JUNETEENTH, {2033, 6, 19}, {2033, 6, 20}}, /* Sun -> Mon */
    {2033, TM_HOLIDAY_INDEPENDENCE_DAY, {2033, 7, 4}, {2033, 7, 4}}, /* Mon */
    {2033, TM_HOLIDAY_LABOR_DAY, {2033, 9, 5}, {2033, 9, 5}}, /* Mon */
    {2033, TM_HOLIDAY_COLUMBUS_DAY, {2033, 10, 10}, {2033, 10, 10}}, /* Mon */
    {2033, TM_HOLIDAY_VETERANS_DAY, {2033, 11, 11}, {2033, 11, 11}}, /* Fri */
    {2033, TM_HOLIDAY_THANKSGIVING_DAY, {2033, 11, 24}, {2033, 11, 24}}, /* Thu */
    {2033, TM_HOLIDAY_CHRISTMAS_DAY, {2033, 12, 25}, {2033, 12, 26}}, /* Sun -> Mon */
    {2034, TM_HOLIDAY_NEW_YEARS_DAY, {2034, 1, 1}, {2034, 1, 2}}, /* Sun -> Mon */
    {2034, TM_HOLIDAY_MLK_DAY, {2034, 1, 16}, {2034, 1, 16}}, /* Mon */
    {2034, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2034, 2, 20}, {2034, 2, 20}}, /* Mon */
    {2034, TM_HOLIDAY_MEMORIAL_DAY, {2034, 5, 29}, {2034, 5, 29}}, /* Mon */
    {2034, TM_HOLIDAY_JUNETEENTH, {2034, 6, 19}, {2034, 6, 19}}, /* Mon */
    {2034, TM_HOLIDAY_INDEPENDENCE_DAY, {2034, 7, 4}, {2034, 7, 4}}, /* Tue */
    {2034, TM_HOLIDAY_LABOR_DAY, {2034, 9, 4}, {2034, 9, 4}}, /* Mon */
    {2034, TM_HOLIDAY_COLUMBUS_DAY, {2034, 10, 9}, {2034, 10, 9}}, /* Mon */
    {2034, TM_HOLIDAY_VETERANS_DAY, {2034, 11, 11}, {2034, 11, 10}}, /* Sat -> Fri */
    {2034, TM_HOLIDAY_THANKSGIVING_DAY, {2034, 11, 23}, {2034, 11, 23}}, /* Thu */
    {2034, TM_HOLIDAY_CHRISTMAS_DAY, {2034, 12, 25}, {2034, 12, 25}}, /* Mon */
    {2035, TM_HOLIDAY_NEW_YEARS_DAY, {2035, 1, 1}, {2035, 1, 1}}, /* Mon */
    {2035, TM_HOLIDAY_MLK_DAY, {2035, 1, 15}, {2035, 1, 15}}, /* Mon */
    {2035, TM_HOLIDAY_WASHINGTONS_BIRTHDAY, {2035, 2, 19}, {2035, 2, 19}}, /* Mon */
    {2035, TM_HOLIDAY_MEMORIAL_DAY, {2035, 5, 28}, {2035, 5, 28}}, /* Mon */
    {2035, TM_HOLIDAY_JUNETEENTH, {2035, 6, 19}, {2035, 6, 19}}, /* Tue */
    {2035, TM_HOLIDAY_INDEPENDENCE_DAY, {2035, 7, 4}, {2035, 7, 4}}, /* Wed */
    {2035, TM_HOLIDAY_LABOR_DAY, {2035, 9, 3}, {2035, 9, 3}}, /* Mon */
    {2035, TM_HOLIDAY_COLUMBUS_DAY, {2035, 10, 8}, {2035, 10, 8}}, /* Mon */
    {2035, TM_HOLIDAY_VETERANS_DAY, {2035, 11, 11}, {2035, 11, 12}}, /* Sun -> Mon */
    {2035, TM_HOLIDAY_THANKSGIVING_DAY, {2035, 11, 22}, {2035, 11, 22}}, /* Thu */
    {2035, TM_HOLIDAY_CHRISTMAS_DAY, {2035, 12, 25}, {2035, 12, 25}}, /* Tue */
};

#define NHOL (sizeof holidays / sizeof holidays[0])

TEST(holiday_table_2020_2035)
{
    ASSERT_EQ(NHOL, 175); /* 16 years x 11, less Juneteenth in 2020 */
    for (size_t i = 0; i < NHOL; i++) {
        tm_date a, o;
        struct tm_err err = {0};
        if (tm_calendar_us_holiday_date(holidays[i].year, holidays[i].id, &a, &o, &err) != TM_OK)
            TM_FAIL_("%d %s: %s", holidays[i].year, tm_calendar_holiday_name(holidays[i].id),
                     err.msg);
        if (tm_calendar_date_cmp(a, holidays[i].actual) || tm_calendar_date_cmp(o, holidays[i].observed))
            TM_FAIL_("%d %s: got %04d-%02d-%02d observed %04d-%02d-%02d", holidays[i].year,
                     tm_calendar_holiday_name(holidays[i].id), a.year, a.month, a.day, o.year,
                     o.month, o.day);
        tm_holiday_info info;
        ASSERT_OK(tm_calendar_us_holiday(a, &info, NULL));
        ASSERT_EQ(info.actual, holidays[i].id);
        ASSERT_OK(tm_calendar_us_holiday(o, &info, NULL));
        ASSERT_EQ(info.observed, holidays[i].id);
        /* Observed days are always weekdays, next to or on the legal date. */
        int wd = tm_calendar_date_weekday(o);
        ASSERT(wd >= 1 && wd <= 5);
    }
}

TEST(holiday_no_extra_days_2020_2035)
{
    /* Walk every day: exactly the table's dates are holidays, nothing else. */
    int nact = 0, nobs = 0;
    for (int64_t day = tm_calendar_days_from_civil(2020, 1, 1);
         day <= tm_calendar_days_from_civil(2035, 12, 31); day++) {
        tm_date d;
        tm_calendar_days_to_date(day, &d);
        tm_holiday_info info;
        ASSERT_OK(tm_calendar_us_holiday(d, &info, NULL));
        int want_act = 0, want_obs = 0;
        for (size_t i = 0; i < NHOL; i++) {
            if (!tm_calendar_date_cmp(d, holidays[i].actual))
                want_act = holidays[i].id;
            if (!tm_calendar_date_cmp(d, holidays[i].observed))
                want_obs = holidays[i].id;
        }
        /* 2036's New Year's Day is a Tuesday, so no observed day spills into 2035. */
        if (info.actual != want_act || info.observed != want_obs)
            TM_FAIL_("%04d-%02d-%02d: got actual %d observed %d, want %d %d", d.year, d.month,
                     d.day, info.actual, info.observed, want_act, want_obs);
        nact += info.actual != 0;
        nobs += info.observed != 0;
    }
    ASSERT_EQ(nact, 175);
    ASSERT_EQ(nobs, 175);
}

TEST(holiday_observed_rules)
{
    tm_holiday_info info;
    /* 2022 New Year's Day (Saturday) is observed Friday 2021-12-31. */
    ASSERT_OK(tm_calendar_us_holiday(D(2021, 12, 31), &info, NULL));
    ASSERT_EQ(info.actual, TM_HOLIDAY_NONE);
    ASSERT_EQ(info.observed, TM_HOLIDAY_NEW_YEARS_DAY);
    ASSERT_OK(tm_calendar_us_holiday(D(2022, 1, 1), &info, NULL));
    ASSERT_EQ(info.actual, TM_HOLIDAY_NEW_YEARS_DAY);
    ASSERT_EQ(info.observed, TM_HOLIDAY_NONE);
    /* 2026: July 4 is a Saturday, observed Friday July 3. */
    ASSERT_OK(tm_calendar_us_holiday(D(2026, 7, 3), &info, NULL));
    ASSERT_EQ(info.observed, TM_HOLIDAY_INDEPENDENCE_DAY);
    ASSERT_EQ(info.actual, TM_HOLIDAY_NONE);
    ASSERT_OK(tm_calendar_us_holiday(D(2026, 7, 4), &info, NULL));
    ASSERT_EQ(info.actual, TM_HOLIDAY_INDEPENDENCE_DAY);
    ASSERT_EQ(info.observed, TM_HOLIDAY_NONE);
    /* A weekday holiday is both. */
    ASSERT_OK(tm_calendar_us_holiday(D(2026, 11, 26), &info, NULL));
    ASSERT_EQ(info.actual, TM_HOLIDAY_THANKSGIVING_DAY);
    ASSERT_EQ(info.observed, TM_HOLIDAY_THANKSGIVING_DAY);
    ASSERT_OK(tm_calendar_us_holiday(D(2026, 11, 27), &info, NULL));
    ASSERT_EQ(info.actual, TM_HOLIDAY_NONE);
    ASSERT_EQ(info.observed, TM_HOLIDAY_NONE);
    /* Juneteenth: first federal holiday 2021, observed Friday June 18 that year. */
    tm_date a, o;
    struct tm_err err = {0};
    ASSERT_EQ(tm_calendar_us_holiday_date(2020, TM_HOLIDAY_JUNETEENTH, &a, &o, &err), TM_ENOENT);
    ASSERT_CONTAINS(err.msg, "was not a federal holiday in 2020");
    ASSERT_OK(tm_calendar_us_holiday_date(2021, TM_HOLIDAY_JUNETEENTH, &a, &o, NULL));
    ASSERT_DATE(o, 2021, 6, 18);
    ASSERT_OK(tm_calendar_us_holiday(D(2020, 6, 19), &info, NULL));
    ASSERT_EQ(info.actual, TM_HOLIDAY_NONE);
    /* MLK Day from 1986 (January 20, 1986). */
    ASSERT_EQ(tm_calendar_us_holiday_date(1985, TM_HOLIDAY_MLK_DAY, &a, &o, NULL), TM_ENOENT);
    ASSERT_OK(tm_calendar_us_holiday_date(1986, TM_HOLIDAY_MLK_DAY, &a, &o, NULL));
    ASSERT_DATE(a, 1986, 1, 20);
    /* Veterans Day: 4th Monday of October 1971-1977, November 11 again from 1978. */
    ASSERT_OK(tm_calendar_us_holiday_date(1975, TM_HOLIDAY_VETERANS_DAY, &a, &o, NULL));
    ASSERT_DATE(a, 1975, 10, 27);
    ASSERT_OK(tm_calendar_us_holiday_date(1978, TM_HOLIDAY_VETERANS_DAY, &a, &o, NULL));
    ASSERT_DATE(a, 1978, 11, 11);
    ASSERT_DATE(o, 1978, 11, 10);
    /* Further Saturday New Year's Days: 2028 and 2033 observed on Dec 31 before. */
    ASSERT_OK(tm_calendar_us_holiday_date(2028, TM_HOLIDAY_NEW_YEARS_DAY, &a, &o, NULL));
    ASSERT_DATE(o, 2027, 12, 31);
    ASSERT_OK(tm_calendar_us_holiday(D(2032, 12, 31), &info, NULL));
    ASSERT_EQ(info.observed, TM_HOLIDAY_NEW_YEARS_DAY);
    /* The far end of the range: 10000-01-01 is a Saturday, observed 9999-12-31. */
    ASSERT_OK(tm_calendar_us_holiday(D(9999, 12, 31), &info, NULL));
    ASSERT_EQ(info.observed, TM_HOLIDAY_NEW_YEARS_DAY);
}

TEST(holiday_names_and_errors)
{
    ASSERT_STR_EQ(tm_calendar_holiday_name(TM_HOLIDAY_INDEPENDENCE_DAY), "Independence Day");
    ASSERT_STR_EQ(tm_calendar_holiday_name(TM_HOLIDAY_NEW_YEARS_DAY), "New Year's Day");
    ASSERT_STR_EQ(tm_calendar_holiday_name(TM_HOLIDAY_JUNETEENTH),
                  "Juneteenth National Independence Day");
    ASSERT_STR_EQ(tm_calendar_holiday_name(TM_HOLIDAY_NONE), "");
    ASSERT(tm_calendar_holiday_name(TM_HOLIDAY_COUNT) == NULL);
    ASSERT(tm_calendar_holiday_name(-1) == NULL);
    for (int h = 1; h < TM_HOLIDAY_COUNT; h++)
        ASSERT(strlen(tm_calendar_holiday_name(h)) > 0);
    tm_holiday_info info;
    struct tm_err err = {0};
    ASSERT_EQ(tm_calendar_us_holiday(D(1970, 7, 4), &info, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "1971-9999");
    ASSERT_EQ(tm_calendar_us_holiday(D(10000, 1, 1), &info, &err), TM_EINVAL);
    ASSERT_EQ(tm_calendar_us_holiday(D(2026, 2, 29), &info, &err), TM_EINVAL);
    ASSERT_EQ(tm_calendar_us_holiday_date(2026, 0, NULL, NULL, &err), TM_EINVAL);
    ASSERT_EQ(tm_calendar_us_holiday_date(2026, TM_HOLIDAY_COUNT, NULL, NULL, &err), TM_EINVAL);
    ASSERT_OK(tm_calendar_us_holiday_date(2026, TM_HOLIDAY_LABOR_DAY, NULL, NULL, &err));
}

/* ---- Business days ------------------------------------------------------------------------ */

static int is_biz(tm_date d, const tm_calendar_bizrule *rule)
{
    int b = -1;
    struct tm_err err = {0};
    if (tm_calendar_is_business_day(d, rule, &b, &err) != TM_OK)
        TM_FAIL_("is_business_day %04d-%02d-%02d: %s", d.year, d.month, d.day, err.msg);
    return b;
}

static tm_date add_biz(tm_date d, int64_t n, const tm_calendar_bizrule *rule)
{
    tm_date out = {0};
    struct tm_err err = {0};
    if (tm_calendar_add_business_days(d, n, rule, &out, &err) != TM_OK)
        TM_FAIL_("add_business_days: %s", err.msg);
    return out;
}

static int64_t count_biz(tm_date a, tm_date b, const tm_calendar_bizrule *rule)
{
    int64_t c = 0;
    struct tm_err err = {0};
    if (tm_calendar_count_business_days(a, b, rule, &c, &err) != TM_OK)
        TM_FAIL_("count_business_days: %s", err.msg);
    return c;
}

TEST(business_days_federal_observed)
{
    ASSERT_EQ(is_biz(D(2026, 7, 3), NULL), 0);  /* observed Independence Day */
    ASSERT_EQ(is_biz(D(2026, 7, 4), NULL), 0);  /* Saturday */
    ASSERT_EQ(is_biz(D(2026, 7, 6), NULL), 1);
    ASSERT_EQ(is_biz(D(2026, 11, 26), NULL), 0);
    ASSERT_EQ(is_biz(D(2026, 11, 27), NULL), 1);
    ASSERT_EQ(is_biz(D(2021, 12, 31), NULL), 0); /* 2022 New Year's Day observed */
    ASSERT_EQ(is_biz(D(2026, 11, 23), NULL), 1);
    /* Thursday before the July 3 observed holiday + 1 -> Monday. */
    ASSERT_DATE(add_biz(D(2026, 7, 2), 1, NULL), 2026, 7, 6);
    /* Friday before MLK Day + 1 -> Tuesday. */
    ASSERT_DATE(add_biz(D(2026, 1, 16), 1, NULL), 2026, 1, 20);
    ASSERT_DATE(add_biz(D(2026, 1, 20), -1, NULL), 2026, 1, 16);
    /* Christmas Friday: Wed Dec 23 + 2 = Mon Dec 28. */
    ASSERT_DATE(add_biz(D(2026, 12, 23), 2, NULL), 2026, 12, 28);
    /* Across the year with New Year's observed on Friday Dec 31, 2021. */
    ASSERT_DATE(add_biz(D(2021, 12, 30), 1, NULL), 2022, 1, 3);
    ASSERT_DATE(add_biz(D(2022, 1, 3), -1, NULL), 2021, 12, 30);
    /* Starting on a non-business day: that day is never counted. */
    ASSERT_DATE(add_biz(D(2026, 7, 4), 1, NULL), 2026, 7, 6);
    ASSERT_DATE(add_biz(D(2026, 7, 4), -1, NULL), 2026, 7, 2);
    ASSERT_DATE(add_biz(D(2026, 7, 4), 0, NULL), 2026, 7, 4);
    /* Ten business days over Thanksgiving 2026. */
    ASSERT_DATE(add_biz(D(2026, 11, 20), 10, NULL), 2026, 12, 7);
    ASSERT_EQ(count_biz(D(2026, 7, 2), D(2026, 7, 6), NULL), 1);
    ASSERT_EQ(count_biz(D(2026, 11, 23), D(2026, 11, 30), NULL), 4);
    ASSERT_EQ(count_biz(D(2026, 11, 30), D(2026, 11, 23), NULL), -4);
    ASSERT_EQ(count_biz(D(2026, 11, 23), D(2026, 11, 23), NULL), 0);
    ASSERT_EQ(count_biz(D(2026, 11, 21), D(2026, 11, 23), NULL), 1);
    ASSERT_EQ(count_biz(D(2026, 11, 23), D(2026, 11, 21), NULL), 0);
    ASSERT_EQ(count_biz(D(2026, 11, 20), D(2026, 11, 23), NULL), 1);
    ASSERT_EQ(count_biz(D(2026, 11, 23), D(2026, 11, 20), NULL), -1);
    ASSERT_EQ(count_biz(D(2025, 12, 31), D(2026, 12, 31), NULL), 250); /* 261 weekdays - 11 */
}

TEST(business_days_add_count_agree)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    int64_t base = tm_calendar_days_from_civil(2020, 1, 1);
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        tm_date from, to;
        tm_calendar_days_to_date(base + (int64_t)(x % 5000), &from);
        int64_t n = (int64_t)((x >> 20) % 121) - 60;
        to = add_biz(from, n, NULL);
        ASSERT_EQ(is_biz(to, NULL) || n == 0, 1);
        ASSERT_EQ(count_biz(from, to, NULL), n);
    }
}

TEST(business_days_rule_variants)
{
    const tm_calendar_bizrule weekends = {0, NULL, NULL};
    const tm_calendar_bizrule actual = {TM_CALENDAR_CLOSE_ACTUAL, NULL, NULL};
    const tm_calendar_bizrule bank = {TM_CALENDAR_CLOSE_SUN_TO_MON, NULL, NULL};
    const tm_calendar_bizrule both = {TM_CALENDAR_CLOSE_ACTUAL | TM_CALENDAR_CLOSE_OBSERVED,
                                      NULL, NULL};
    ASSERT_EQ(is_biz(D(2026, 7, 3), &weekends), 1);
    ASSERT_EQ(is_biz(D(2026, 7, 3), &actual), 1);   /* only the Saturday is the holiday */
    ASSERT_EQ(is_biz(D(2026, 7, 3), &bank), 1);     /* Saturday holidays are not moved */
    ASSERT_EQ(is_biz(D(2026, 7, 3), &both), 0);
    ASSERT_EQ(is_biz(D(2022, 6, 20), &bank), 0);    /* Juneteenth on Sunday -> Monday */
    ASSERT_EQ(is_biz(D(2022, 6, 20), &actual), 1);
    ASSERT_EQ(is_biz(D(2021, 12, 31), &bank), 1);
    ASSERT_EQ(is_biz(D(2023, 1, 2), &bank), 0);     /* New Year's Day 2023 was a Sunday */
    ASSERT_EQ(is_biz(D(2026, 11, 26), &weekends), 1);
    ASSERT_EQ(is_biz(D(2026, 11, 26), &actual), 0);
    ASSERT_EQ(is_biz(D(2026, 11, 28), &weekends), 0);
    ASSERT_EQ(count_biz(D(2025, 12, 31), D(2026, 12, 31), &weekends), 261);
    /* Weekend-only rules work outside the federal holiday years. */
    ASSERT_EQ(is_biz(D(1900, 1, 1), &weekends), 1);
    int b;
    struct tm_err err = {0};
    ASSERT_EQ(tm_calendar_is_business_day(D(1900, 1, 1), NULL, &b, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "1971-9999");
    ASSERT_EQ(tm_calendar_is_business_day(D(2026, 2, 30), NULL, &b, &err), TM_EINVAL);
}

static int closed_day_after_thanksgiving(void *ud, tm_date d)
{
    int *calls = ud;
    (*calls)++;
    return d.month == 11 && d.day >= 23 && d.day <= 29 && tm_calendar_date_weekday(d) == 5;
}

static int closed_always(void *ud, tm_date d)
{
    (void)ud, (void)d;
    return 1;
}

static int closed_fails(void *ud, tm_date d)
{
    (void)ud, (void)d;
    return TM_EIO;
}

TEST(business_days_callback)
{
    int calls = 0;
    const tm_calendar_bizrule rule = {TM_CALENDAR_CLOSE_OBSERVED, closed_day_after_thanksgiving,
                                      &calls};
    ASSERT_EQ(is_biz(D(2026, 11, 27), &rule), 0);
    ASSERT_EQ(is_biz(D(2026, 11, 26), &rule), 0);
    ASSERT_DATE(add_biz(D(2026, 11, 25), 1, &rule), 2026, 11, 30);
    ASSERT(calls > 0);
    /* The callback sees only weekdays left open by the federal rule. */
    calls = 0;
    ASSERT_EQ(is_biz(D(2026, 11, 28), &rule), 0);
    ASSERT_EQ(is_biz(D(2026, 11, 26), &rule), 0);
    ASSERT_EQ(calls, 0);

    const tm_calendar_bizrule never = {0, closed_always, NULL};
    tm_date out;
    struct tm_err err = {0};
    ASSERT_EQ(tm_calendar_add_business_days(D(2026, 1, 1), 1, &never, &out, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "no business day within");
    const tm_calendar_bizrule failing = {0, closed_fails, NULL};
    ASSERT_EQ(tm_calendar_add_business_days(D(2026, 1, 1), 3, &failing, &out, &err), TM_EIO);
    ASSERT_CONTAINS(err.msg, "callback failed");
    int64_t c;
    ASSERT_EQ(tm_calendar_count_business_days(D(2026, 1, 1), D(2026, 1, 9), &failing, &c, &err),
              TM_EIO);
}

/* ---- Windows ------------------------------------------------------------------------------ */

TEST(rolling_window_start)
{
    tm_date s;
    struct tm_err err = {0};
    ASSERT_OK(tm_calendar_window_start(D(2026, 11, 23), 7, &s, &err));
    ASSERT_DATE(s, 2026, 11, 17);
    ASSERT_OK(tm_calendar_window_start(D(2026, 11, 23), 1, &s, &err));
    ASSERT_DATE(s, 2026, 11, 23);
    ASSERT_OK(tm_calendar_window_start(D(2026, 3, 3), 7, &s, &err));
    ASSERT_DATE(s, 2026, 2, 25);
    ASSERT_OK(tm_calendar_window_start(D(2024, 3, 1), 2, &s, &err));
    ASSERT_DATE(s, 2024, 2, 29);
    ASSERT_OK(tm_calendar_window_start(D(2027, 1, 3), 7, &s, &err));
    ASSERT_DATE(s, 2026, 12, 28);
    ASSERT_EQ(tm_calendar_window_start(D(2026, 11, 23), 0, &s, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "at least 1 day");
    ASSERT_EQ(tm_calendar_window_start(D(2026, 11, 23), -7, &s, &err), TM_EINVAL);
    ASSERT_EQ(tm_calendar_window_start(D(2026, 11, 31), 7, &s, &err), TM_EINVAL);
}
