/*
 * core/calendar.c: proleptic Gregorian arithmetic, RFC 3339, US federal holidays and
 * business days. Depends only on tm_status.
 *
 * Day numbers count days from 1970-01-01 so they line up with POSIX time (utc / 86400,
 * floored). The civil conversions are Howard Hinnant's era algorithms ("chrono-compatible
 * low-level date algorithms"): a 400-year era has exactly 146097 days, so dates reduce to
 * an era number plus an offset inside the era, with March as the first month so that the
 * leap day falls at the end of the computational year. All divisions that can see negative
 * operands go through floor_div/floor_mod, because C division truncates toward zero.
 *
 * Holidays are computed from the statute each time (a few integer operations), never from
 * a table, so every year in the supported range is covered by the same code the tests check.
 */
#include "calendar.h"

#include <stdio.h>
#include <string.h>

#define YEAR_CLAMP INT64_C(1000000000000000) /* 10^15: keeps era * 146097 far from overflow */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b; /* computed directly: a - floor_div(a, b) * b overflows near INT64_MIN */
    if (r != 0 && ((r < 0) != (b < 0)))
        r += b;
    return r;
}

int64_t tm_calendar_days_from_civil(int64_t year, int month, int day)
{
    /* Roll any month into 1-12 first so callers may normalise "month 13" cheaply. */
    int64_t m0 = (int64_t)month - 1;
    year += floor_div(m0, 12);
    int64_t m = floor_mod(m0, 12) + 1;
    if (year > YEAR_CLAMP)
        year = YEAR_CLAMP;
    if (year < -YEAR_CLAMP)
        year = -YEAR_CLAMP;

    int64_t y = year - (m <= 2);
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;         /* [0, 365], day 1 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468 + ((int64_t)day - 1);
}

void tm_calendar_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    /* Split before adding the 1970 -> 0000-03-01 shift so that INT64_MIN/MAX cannot
     * overflow: days = q * 146097 + r with r in [0, 146096]. */
    int64_t q = floor_div(days, 146097);
    int64_t r = floor_mod(days, 146097) + 719468;
    int64_t era = q + r / 146097;
    int64_t doe = r % 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    if (year)
        *year = y;
    if (month)
        *month = m;
    if (day)
        *day = d;
}

int tm_calendar_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (4). Reduce first so days + 4 cannot overflow. */
    return (int)((floor_mod(days, 7) + 4) % 7);
}

int tm_calendar_is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int tm_calendar_days_in_month(int64_t year, int month)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return mdays[month - 1] + (month == 2 && tm_calendar_is_leap(year));
}

int tm_calendar_date_valid(int64_t year, int month, int day)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= tm_calendar_days_in_month(year, month);
}

static const char *const month_names[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};

int tm_calendar_date_check(tm_date d, struct tm_err *err)
{
    if (d.month < 1 || d.month > 12)
        return tm_err_set(err, TM_EINVAL, "%04d-%02d-%02d is not a valid date: month %d is not 1-12",
                          d.year, d.month, d.day, d.month);
    int dim = tm_calendar_days_in_month(d.year, d.month);
    if (d.day < 1 || d.day > dim)
        return tm_err_set(err, TM_EINVAL, "%04d-%02d-%02d is not a valid date: %s %d has %d days",
                          d.year, d.month, d.day, month_names[d.month - 1], d.year, dim);
    return TM_OK;
}

int64_t tm_calendar_date_to_days(tm_date d)
{
    return tm_calendar_days_from_civil(d.year, d.month, d.day);
}

int tm_calendar_days_to_date(int64_t days, tm_date *out)
{
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(days, &y, &m, &d);
    if (y < INT32_MIN || y > INT32_MAX)
        return TM_EINVAL;
    out->year = (int)y;
    out->month = m;
    out->day = d;
    return TM_OK;
}

int tm_calendar_date_weekday(tm_date d)
{
    return tm_calendar_weekday(tm_calendar_date_to_days(d));
}

int tm_calendar_add_days(tm_date d, int64_t n, tm_date *out, struct tm_err *err)
{
    int rc = tm_calendar_date_check(d, err);
    if (rc != TM_OK)
        return rc;
    int64_t days = tm_calendar_date_to_days(d);
    /* 2^40 days is ~3 billion years, beyond any int year; refuse before adding. */
    if (n > (INT64_C(1) << 40) || n < -(INT64_C(1) << 40) ||
        tm_calendar_days_to_date(days + n, out) != TM_OK)
        return tm_err_set(err, TM_EINVAL, "date out of range: %04d-%02d-%02d %+lld days", d.year,
                          d.month, d.day, (long long)n);
    return TM_OK;
}

int tm_calendar_date_cmp(tm_date a, tm_date b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    if (a.day != b.day)
        return a.day < b.day ? -1 : 1;
    return 0;
}

/* ---- Text ------------------------------------------------------------------------------- */

/* Copies at most 48 characters of untrusted input into buf for an error message, replacing
 * anything that is not printable ASCII, so a hostile string cannot forge log lines. */
static const char *quote_input(const char *s, char *buf, size_t size)
{
    size_t i = 0;
    for (; s[i] && i + 4 < size && i < 48; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (s[i] && i + 4 <= size) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* Reads exactly n decimal digits at *p into *val and advances *p. 0 if any is missing. */
static int digits(const char **p, int n, int *val)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *val = v;
    return 1;
}

/* Parses "YYYY-MM-DD" at *p, advancing it. Returns TM_OK or TM_EINVAL with a message that
 * quotes `whole` (the entire input) and says what `what` it was parsing. */
static int parse_date_part(const char **p, const char *whole, const char *what, tm_date *out,
                           struct tm_err *err)
{
    char q[64];
    int y, m, d;
    const char *s = *p;
    if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &m) || *s++ != '-' ||
        !digits(&s, 2, &d))
        return tm_err_set(err, TM_EINVAL, "invalid %s \"%s\": expected YYYY-MM-DD", what,
                          quote_input(whole, q, sizeof q));
    if (m < 1 || m > 12)
        return tm_err_set(err, TM_EINVAL, "invalid %s \"%s\": month %02d is not 01-12", what,
                          quote_input(whole, q, sizeof q), m);
    int dim = tm_calendar_days_in_month(y, m);
    if (d < 1 || d > dim)
        return tm_err_set(err, TM_EINVAL, "invalid %s \"%s\": day %02d is not in %s %04d (%d days)",
                          what, quote_input(whole, q, sizeof q), d, month_names[m - 1], y, dim);
    *p = s;
    out->year = y;
    out->month = m;
    out->day = d;
    return TM_OK;
}

int tm_calendar_parse_date(const char *s, tm_date *out, struct tm_err *err)
{
    char q[64];
    if (!s)
        return tm_err_set(err, TM_EINVAL, "invalid date: NULL");
    const char *p = s;
    tm_date d;
    int rc = parse_date_part(&p, s, "date", &d, err);
    if (rc != TM_OK)
        return rc;
    if (*p != '\0')
        return tm_err_set(err, TM_EINVAL, "invalid date \"%s\": unexpected text after YYYY-MM-DD",
                          quote_input(s, q, sizeof q));
    *out = d;
    return TM_OK;
}

int tm_calendar_parse_clock(const char *s, unsigned flags, int *secs, struct tm_err *err)
{
    char q[48];
    const char *p = s;
    int h = 0, m = 0, sec = 0;
    if (s == NULL || (flags & ~(TM_CLOCK_SECONDS | TM_CLOCK_END_OF_DAY)) != 0)
        return tm_err_set(err, TM_EINVAL, "tm_calendar_parse_clock: NULL text or unknown flags");
    /* One or two hour digits: "9:00" is as common as "09:00". */
    if (!digits(&p, 1, &h))
        goto bad;
    int h2;
    if (digits(&p, 1, &h2))
        h = h * 10 + h2;
    if (*p++ != ':' || !digits(&p, 2, &m))
        goto bad;
    if ((flags & TM_CLOCK_SECONDS) && *p == ':') {
        p++;
        if (!digits(&p, 2, &sec))
            goto bad;
    }
    if (*p != '\0' || m > 59 || sec > 59)
        goto bad;
    if (h > 23 && !(h == 24 && m == 0 && sec == 0 && (flags & TM_CLOCK_END_OF_DAY)))
        goto bad;
    *secs = h * 3600 + m * 60 + sec;
    return TM_OK;
bad:
    return tm_err_set(err, TM_EINVAL, "invalid time of day \"%s\": expected %s",
                      quote_input(s, q, sizeof q),
                      flags & TM_CLOCK_SECONDS ? "HH:MM or HH:MM:SS" : "HH:MM");
}

int tm_calendar_format_date(tm_date d, char *buf, size_t size, struct tm_err *err)
{
    if (buf && size > 0)
        buf[0] = '\0';
    if (!buf || size < TM_CALENDAR_DATE_LEN)
        return tm_err_set(err, TM_EINVAL, "date buffer too small (%zu < %d)", size,
                          TM_CALENDAR_DATE_LEN);
    int rc = tm_calendar_date_check(d, err);
    if (rc != TM_OK)
        return rc;
    if (d.year < 0 || d.year > 9999)
        return tm_err_set(err, TM_EINVAL, "year %d cannot be written as YYYY", d.year);
    snprintf(buf, size, "%04d-%02d-%02d", d.year, d.month, d.day);
    return TM_OK;
}

int tm_calendar_parse_rfc3339(const char *s, int64_t *utc, int32_t *nsec, int *offset,
                              struct tm_err *err)
{
    char q[64];
    if (!s || !utc)
        return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp: NULL");
    const char *p = s;
    tm_date d;
    int rc = parse_date_part(&p, s, "RFC 3339 timestamp", &d, err);
    if (rc != TM_OK)
        return rc;
    if (*p != 'T' && *p != 't')
        return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": expected 'T' after "
                          "the date", quote_input(s, q, sizeof q));
    p++;
    int hh, mm, ss;
    if (!digits(&p, 2, &hh) || *p++ != ':' || !digits(&p, 2, &mm) || *p++ != ':' ||
        !digits(&p, 2, &ss))
        return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": expected HH:MM:SS",
                          quote_input(s, q, sizeof q));
    if (hh > 23 || mm > 59 || ss > 60)
        return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": time %02d:%02d:%02d "
                          "is out of range", quote_input(s, q, sizeof q), hh, mm, ss);
    if (ss == 60)
        return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": leap second :60 "
                          "cannot be represented in POSIX time", quote_input(s, q, sizeof q));
    int32_t ns = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 9)
                ns = ns * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": '.' must be "
                              "followed by digits", quote_input(s, q, sizeof q));
        for (; n < 9; n++)
            ns *= 10;
    }
    int off;
    if (*p == 'Z' || *p == 'z') {
        off = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om))
            return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": expected offset "
                              "+HH:MM or -HH:MM", quote_input(s, q, sizeof q));
        if (oh > 23 || om > 59)
            return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": offset "
                              "%02d:%02d is out of range", quote_input(s, q, sizeof q), oh, om);
        off = sign * (oh * 3600 + om * 60);
    } else {
        return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": missing time zone "
                          "offset ('Z' or +HH:MM)", quote_input(s, q, sizeof q));
    }
    if (*p != '\0')
        return tm_err_set(err, TM_EINVAL, "invalid RFC 3339 timestamp \"%s\": unexpected text "
                          "after the offset", quote_input(s, q, sizeof q));
    int64_t local = tm_calendar_date_to_days(d) * 86400 + hh * 3600 + mm * 60 + ss;
    *utc = local - off;
    if (nsec)
        *nsec = ns;
    if (offset)
        *offset = off;
    return TM_OK;
}

int tm_calendar_format_rfc3339(int64_t utc, int offset, char *buf, size_t size,
                               struct tm_err *err)
{
    if (buf && size > 0)
        buf[0] = '\0';
    if (!buf || size < TM_CALENDAR_RFC3339_LEN)
        return tm_err_set(err, TM_EINVAL, "timestamp buffer too small (%zu < %d)", size,
                          TM_CALENDAR_RFC3339_LEN);
    if (offset % 60 != 0 || offset <= -86400 || offset >= 86400)
        return tm_err_set(err, TM_EINVAL, "offset %d s cannot be written in RFC 3339 (whole "
                          "minutes under 24 hours only)", offset);
    /* 253402300799 is 9999-12-31T23:59:59Z; bounding first keeps utc + offset exact. */
    if (utc < INT64_C(-62167219200) - 86400 || utc > INT64_C(253402300799) + 86400)
        return tm_err_set(err, TM_EINVAL, "time %lld is outside years 0000-9999", (long long)utc);
    int64_t local = utc + offset;
    int64_t days = floor_div(local, 86400), secs = floor_mod(local, 86400);
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return tm_err_set(err, TM_EINVAL, "time %lld is outside years 0000-9999", (long long)utc);
    int hh = (int)(secs / 3600), mi = (int)(secs / 60 % 60), ss = (int)(secs % 60);
    if (offset == 0) {
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d, hh, mi, ss);
    } else {
        int a = offset < 0 ? -offset : offset;
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (int)y, m, d, hh, mi, ss,
                 offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
    }
    return TM_OK;
}

/* ---- Holidays --------------------------------------------------------------------------- */

static const char *const holiday_names[TM_HOLIDAY_COUNT] = {
    "",
    "New Year's Day",
    "Birthday of Martin Luther King, Jr.",
    "Washington's Birthday",
    "Memorial Day",
    "Juneteenth National Independence Day",
    "Independence Day",
    "Labor Day",
    "Columbus Day",
    "Veterans Day",
    "Thanksgiving Day",
    "Christmas Day",
};

const char *tm_calendar_holiday_name(int holiday)
{
    if (holiday < 0 || holiday >= TM_HOLIDAY_COUNT)
        return NULL;
    return holiday_names[holiday];
}

/* Day number of the n-th `wday` (0 = Sunday) of year/month; n = -1 means the last. */
static int64_t nth_weekday(int year, int month, int wday, int n)
{
    if (n < 0) {
        int64_t last = tm_calendar_days_from_civil(year, month, tm_calendar_days_in_month(year,
                                                                                        month));
        return last - floor_mod(tm_calendar_weekday(last) - wday, 7);
    }
    int64_t first = tm_calendar_days_from_civil(year, month, 1);
    return first + floor_mod(wday - tm_calendar_weekday(first), 7) + 7 * (n - 1);
}

/* Legal date (day number) of a holiday in `year`, or INT64_MIN if it did not exist then.
 * `year` must be within the supported range. */
static int64_t holiday_actual(int year, int h)
{
    enum { MON = 1, THU = 4 }; /* weekdays, 0 = Sunday */
    switch (h) {
    case TM_HOLIDAY_NEW_YEARS_DAY:
        return tm_calendar_days_from_civil(year, 1, 1);
    case TM_HOLIDAY_MLK_DAY: /* Pub. L. 98-144, first observed 1986 */
        return year >= 1986 ? nth_weekday(year, 1, MON, 3) : INT64_MIN;
    case TM_HOLIDAY_WASHINGTONS_BIRTHDAY:
        return nth_weekday(year, 2, MON, 3);
    case TM_HOLIDAY_MEMORIAL_DAY:
        return nth_weekday(year, 5, MON, -1);
    case TM_HOLIDAY_JUNETEENTH: /* Pub. L. 117-17, enacted 2021-06-17 */
        return year >= 2021 ? tm_calendar_days_from_civil(year, 6, 19) : INT64_MIN;
    case TM_HOLIDAY_INDEPENDENCE_DAY:
        return tm_calendar_days_from_civil(year, 7, 4);
    case TM_HOLIDAY_LABOR_DAY:
        return nth_weekday(year, 9, MON, 1);
    case TM_HOLIDAY_COLUMBUS_DAY:
        return nth_weekday(year, 10, MON, 2);
    case TM_HOLIDAY_VETERANS_DAY: /* Pub. L. 90-363 moved it to October 1971-1977 */
        return year <= 1977 ? nth_weekday(year, 10, MON, 4)
                            : tm_calendar_days_from_civil(year, 11, 11);
    case TM_HOLIDAY_THANKSGIVING_DAY:
        return nth_weekday(year, 11, THU, 4);
    case TM_HOLIDAY_CHRISTMAS_DAY:
        return tm_calendar_days_from_civil(year, 12, 25);
    default:
        return INT64_MIN;
    }
}

static int64_t observed_of(int64_t actual)
{
    int wd = tm_calendar_weekday(actual);
    return wd == 6 ? actual - 1 : wd == 0 ? actual + 1 : actual;
}

static int check_holiday_year(int year, struct tm_err *err)
{
    if (year < TM_HOLIDAY_YEAR_MIN || year > TM_HOLIDAY_YEAR_MAX)
        return tm_err_set(err, TM_EINVAL, "federal holidays are implemented for %d-%d, not %d",
                          TM_HOLIDAY_YEAR_MIN, TM_HOLIDAY_YEAR_MAX, year);
    return TM_OK;
}

int tm_calendar_us_holiday_date(int year, int holiday, tm_date *actual, tm_date *observed,
                                struct tm_err *err)
{
    int rc = check_holiday_year(year, err);
    if (rc != TM_OK)
        return rc;
    if (holiday <= TM_HOLIDAY_NONE || holiday >= TM_HOLIDAY_COUNT)
        return tm_err_set(err, TM_EINVAL, "unknown holiday id %d", holiday);
    int64_t a = holiday_actual(year, holiday);
    if (a == INT64_MIN)
        return tm_err_set(err, TM_ENOENT, "%s was not a federal holiday in %d",
                          holiday_names[holiday], year);
    if (actual)
        tm_calendar_days_to_date(a, actual);
    if (observed)
        tm_calendar_days_to_date(observed_of(a), observed);
    return TM_OK;
}

/* The holidays that can touch one calendar year: its own eleven plus the next year's New
 * Year's Day, whose observed day may be December 31. Computed once per year by callers that
 * walk many days. */
struct holiday_year {
    int year;
    int n;
    int id[TM_HOLIDAY_COUNT + 1];
    int64_t actual[TM_HOLIDAY_COUNT + 1];
};

static void holiday_year_fill(struct holiday_year *hy, int year)
{
    hy->year = year;
    hy->n = 0;
    for (int h = TM_HOLIDAY_NONE + 1; h < TM_HOLIDAY_COUNT; h++) {
        int64_t a = holiday_actual(year, h);
        if (a != INT64_MIN) {
            hy->id[hy->n] = h;
            hy->actual[hy->n++] = a;
        }
    }
    hy->id[hy->n] = TM_HOLIDAY_NEW_YEARS_DAY;
    hy->actual[hy->n++] = tm_calendar_days_from_civil((int64_t)year + 1, 1, 1);
}

static void holiday_lookup(const struct holiday_year *hy, int64_t day, tm_holiday_info *out)
{
    out->actual = TM_HOLIDAY_NONE;
    out->observed = TM_HOLIDAY_NONE;
    for (int i = 0; i < hy->n; i++) {
        /* The next year's New Year's Day only counts through its observed Dec 31. */
        if (hy->actual[i] == day && i != hy->n - 1)
            out->actual = hy->id[i];
        if (observed_of(hy->actual[i]) == day)
            out->observed = hy->id[i];
    }
}

int tm_calendar_us_holiday(tm_date d, tm_holiday_info *out, struct tm_err *err)
{
    int rc = tm_calendar_date_check(d, err);
    if (rc == TM_OK)
        rc = check_holiday_year(d.year, err);
    if (rc != TM_OK)
        return rc;
    struct holiday_year hy;
    holiday_year_fill(&hy, d.year);
    holiday_lookup(&hy, tm_calendar_date_to_days(d), out);
    return TM_OK;
}

/* ---- Business days ---------------------------------------------------------------------- */

static const tm_calendar_bizrule default_rule = {TM_CALENDAR_CLOSE_OBSERVED, NULL, NULL};

/* Walks day by day, caching the holiday set of the current year. */
struct biz_walker {
    const tm_calendar_bizrule *rule;
    struct holiday_year hy;
    int have_year;
};

/* 1 if `day` is a business day, 0 if not, negative TM_E* on error. */
static int biz_check(struct biz_walker *w, int64_t day, struct tm_err *err)
{
    int wd = tm_calendar_weekday(day);
    if (wd == 0 || wd == 6)
        return 0;
    tm_date d;
    if (tm_calendar_days_to_date(day, &d) != TM_OK)
        return tm_err_set(err, TM_EINVAL, "date out of range (day %lld)", (long long)day);
    unsigned fed = w->rule->federal;
    if (fed) {
        if (!w->have_year || w->hy.year != d.year) {
            int rc = check_holiday_year(d.year, err);
            if (rc != TM_OK)
                return rc;
            holiday_year_fill(&w->hy, d.year);
            w->have_year = 1;
        }
        for (int i = 0; i < w->hy.n; i++) {
            int64_t a = w->hy.actual[i];
            int next_year = i == w->hy.n - 1;
            if ((fed & TM_CALENDAR_CLOSE_OBSERVED) && observed_of(a) == day)
                return 0;
            if ((fed & (TM_CALENDAR_CLOSE_ACTUAL | TM_CALENDAR_CLOSE_SUN_TO_MON)) && a == day &&
                !next_year)
                return 0;
            if ((fed & TM_CALENDAR_CLOSE_SUN_TO_MON) && tm_calendar_weekday(a) == 0 &&
                a + 1 == day)
                return 0;
        }
    }
    if (w->rule->closed) {
        int c = w->rule->closed(w->rule->ud, d);
        if (c < 0)
            return tm_err_set(err, c, "closed-day callback failed for %04d-%02d-%02d (%s)",
                              d.year, d.month, d.day, tm_strerror(c));
        if (c)
            return 0;
    }
    return 1;
}

int tm_calendar_is_business_day(tm_date d, const tm_calendar_bizrule *rule, int *is_business,
                                struct tm_err *err)
{
    int rc = tm_calendar_date_check(d, err);
    if (rc != TM_OK)
        return rc;
    struct biz_walker w = {rule ? rule : &default_rule, {0}, 0};
    int b = biz_check(&w, tm_calendar_date_to_days(d), err);
    if (b < 0)
        return b;
    *is_business = b;
    return TM_OK;
}

#define MAX_CLOSED_RUN 3660 /* ten years of closed days means the rule closes everything */

int tm_calendar_add_business_days(tm_date d, int64_t n, const tm_calendar_bizrule *rule,
                                  tm_date *out, struct tm_err *err)
{
    int rc = tm_calendar_date_check(d, err);
    if (rc != TM_OK)
        return rc;
    struct biz_walker w = {rule ? rule : &default_rule, {0}, 0};
    int64_t day = tm_calendar_date_to_days(d);
    int64_t step = n < 0 ? -1 : 1;
    int64_t left = n < 0 ? -n : n;
    if (n < -(INT64_C(1) << 40) || n > (INT64_C(1) << 40))
        return tm_err_set(err, TM_EINVAL, "business-day count %lld out of range", (long long)n);
    int64_t closed_run = 0;
    while (left > 0) {
        day += step;
        int b = biz_check(&w, day, err);
        if (b < 0)
            return b;
        if (b) {
            left--;
            closed_run = 0;
        } else if (++closed_run > MAX_CLOSED_RUN) {
            return tm_err_set(err, TM_EINVAL, "no business day within %d days of %04d-%02d-%02d",
                              MAX_CLOSED_RUN, d.year, d.month, d.day);
        }
    }
    if (tm_calendar_days_to_date(day, out) != TM_OK)
        return tm_err_set(err, TM_EINVAL, "date out of range");
    return TM_OK;
}

int tm_calendar_count_business_days(tm_date from, tm_date to, const tm_calendar_bizrule *rule,
                                    int64_t *count, struct tm_err *err)
{
    int rc = tm_calendar_date_check(from, err);
    if (rc == TM_OK)
        rc = tm_calendar_date_check(to, err);
    if (rc != TM_OK)
        return rc;
    int64_t a = tm_calendar_date_to_days(from), b = tm_calendar_date_to_days(to);
    /* Forward: days in (a, b]. Backward: days in [b, a), negated. Both are the steps that
     * tm_calendar_add_business_days() takes to get from `from` to `to`. */
    int64_t lo = a + 1, hi = b, sign = 1;
    if (b < a) {
        lo = b;
        hi = a - 1;
        sign = -1;
    }
    struct biz_walker w = {rule ? rule : &default_rule, {0}, 0};
    int64_t c = 0;
    for (int64_t day = lo; day <= hi; day++) {
        int r = biz_check(&w, day, err);
        if (r < 0)
            return r;
        c += r;
    }
    *count = sign * c;
    return TM_OK;
}

int tm_calendar_window_start(tm_date end, int64_t ndays, tm_date *start, struct tm_err *err)
{
    if (ndays < 1)
        return tm_err_set(err, TM_EINVAL, "a window must span at least 1 day, not %lld",
                          (long long)ndays);
    return tm_calendar_add_days(end, -(ndays - 1), start, err);
}

int tm_calendar_parse_bound(const char *text, int end, int64_t *t, struct tm_err *err)
{
    tm_date d;
    int32_t ns;
    int off;
    if (tm_calendar_parse_date(text, &d, NULL) == TM_OK) {
        *t = (tm_calendar_date_to_days(d) + (end ? 1 : 0)) * 86400;
        return TM_OK;
    }
    if (tm_calendar_parse_rfc3339(text, t, &ns, &off, NULL) == TM_OK)
        return TM_OK;
    return tm_err_set(err, TM_EINVAL, "needs a date (YYYY-MM-DD) or an RFC 3339 time");
}
