/*
 * core/calendar.h: civil dates in the proleptic Gregorian calendar, RFC 3339
 * timestamps, US federal holidays (5 U.S.C. 6103) and business-day arithmetic.
 *
 * Pure computation: no I/O, no global state, no locale, no process time zone.
 * Every function is thread-safe. Time zones live in core/tz.h.
 */
#ifndef TM_CALENDAR_H
#define TM_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

/* A civil date. `month` is 1-12 and `day` 1-31; `year` is astronomical
 * (year 0 is 1 BC). Functions that take a tm_date validate it and return
 * TM_EINVAL for impossible dates such as 2026-02-30. */
typedef struct tm_date {
    int year;
    int month;
    int day;
} tm_date;

/* ---- Day numbers ------------------------------------------------------------------------- */

/* Returns the number of days from 1970-01-01 to year-month-day (negative before 1970).
 * Total: a month outside 1-12 rolls into adjacent years and a day outside the month counts
 * on linearly, so (2026, 13, 1) is 2027-01-01 and (2026, 3, 0) is 2026-02-28. Years are
 * clamped to +-10^15 so the arithmetic cannot overflow. Validate first with
 * tm_calendar_date_valid() when the input must be a real date. */
int64_t tm_calendar_days_from_civil(int64_t year, int month, int day);

/* Inverse of tm_calendar_days_from_civil() for any int64 day number. Each out pointer may be
 * NULL. */
void tm_calendar_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* Day of the week of a day number: 0 = Sunday ... 6 = Saturday. */
int tm_calendar_weekday(int64_t days);

/* 1 if `year` is a Gregorian leap year, else 0. */
int tm_calendar_is_leap(int64_t year);

/* Days in `month` of `year` (28-31), or 0 when month is not 1-12. */
int tm_calendar_days_in_month(int64_t year, int month);

/* 1 if year-month-day is a real date, else 0. Any year is accepted. */
int tm_calendar_date_valid(int64_t year, int month, int day);

/* TM_OK if `d` is a real date; else TM_EINVAL with a message naming the bad field
 * ("2026-02-30 is not a valid date: February 2026 has 28 days"). `err` may be NULL. */
int tm_calendar_date_check(tm_date d, struct tm_err *err);

/* Day number of a date; `d` is not validated (see tm_calendar_days_from_civil). */
int64_t tm_calendar_date_to_days(tm_date d);

/* Date of a day number. TM_EINVAL when the year does not fit in an int. `out` must not be
 * NULL. */
int tm_calendar_days_to_date(int64_t days, tm_date *out);

/* Day of the week of a date, 0 = Sunday. `d` is not validated. */
int tm_calendar_date_weekday(tm_date d);

/* *out = d + n days. TM_EINVAL (message in `err`, may be NULL) if `d` is invalid or the
 * result's year does not fit in an int. `out` must not be NULL. */
int tm_calendar_add_days(tm_date d, int64_t n, tm_date *out, struct tm_err *err);

/* Negative, zero or positive as a is before, equal to or after b. */
int tm_calendar_date_cmp(tm_date a, tm_date b);

/* ---- Text --------------------------------------------------------------------------------- */

/* Buffer sizes, including the terminating NUL. */
#define TM_CALENDAR_DATE_LEN 11    /* "YYYY-MM-DD" */
#define TM_CALENDAR_RFC3339_LEN 26 /* "YYYY-MM-DDTHH:MM:SS+HH:MM" */

/* Parses exactly "YYYY-MM-DD" (four-digit year 0000-9999, nothing before or after).
 * TM_EINVAL with a message for bad syntax or an impossible date. `s` NULL is TM_EINVAL.
 * `out` must not be NULL; it is written only on success. */
int tm_calendar_parse_date(const char *s, tm_date *out, struct tm_err *err);

/* Flags for tm_calendar_parse_clock(). */
#define TM_CLOCK_SECONDS 1u    /* ":SS" may follow the minutes */
#define TM_CLOCK_END_OF_DAY 2u /* "24:00" (and "24:00:00") is the end of the day, 86400 */

/* Parses a local time of day, "H:MM" or "HH:MM" (hours 0-23, minutes two digits 00-59), with
 * ":SS" after it when `flags` has TM_CLOCK_SECONDS, and "24:00" when it has
 * TM_CLOCK_END_OF_DAY; nothing before or after. The one reader of times of day for every
 * layer: regulation windows, decide requests' inconvenient ranges, tm.time.from_local.
 * On success *secs is the seconds since midnight (0..86399, or 86400). TM_EINVAL with a
 * message quoting the text otherwise (`s` NULL included); *secs is written only on success. */
int tm_calendar_parse_clock(const char *s, unsigned flags, int *secs, struct tm_err *err);

/* Writes "YYYY-MM-DD" into buf (size >= TM_CALENDAR_DATE_LEN). TM_EINVAL if the date is
 * invalid, the year is outside 0000-9999 or the buffer is too small (buf then holds ""
 * when size > 0). */
int tm_calendar_format_date(tm_date d, char *buf, size_t size, struct tm_err *err);

/* Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)".
 * 'T' and 'Z' may be lower case (RFC 3339 section 5.6). The fraction may have any number of
 * digits; nanoseconds keep the first nine (truncated). Second 60 (a leap second) is
 * rejected, as POSIX time cannot represent it; "-00:00" is read as UTC. On success stores
 * the UTC instant in *utc, the fraction in *nsec and the offset in seconds east of UTC in
 * *offset (each out pointer except `utc` may be NULL). TM_EINVAL with a message naming the
 * problem otherwise; nothing is written on failure. */
int tm_calendar_parse_rfc3339(const char *s, int64_t *utc, int32_t *nsec, int *offset,
                              struct tm_err *err);

/* Writes `utc` as an RFC 3339 local time at `offset` seconds east of UTC, "Z" for offset 0:
 * "2026-11-23T14:05:00Z", "2026-11-23T19:35:00+05:30". TM_EINVAL if the offset is not a
 * whole number of minutes below 24 hours, the local year is outside 0000-9999 or
 * size < TM_CALENDAR_RFC3339_LEN. */
int tm_calendar_format_rfc3339(int64_t utc, int offset, char *buf, size_t size,
                               struct tm_err *err);

/* ---- US federal holidays (5 U.S.C. 6103) ---------------------------------------------------
 * Rules follow the statute as amended: the Monday holidays from 1971, Martin Luther King Jr.
 * Day from 1986, Veterans Day on the fourth Monday of October in 1971-1977, Juneteenth from
 * 2021. A holiday on a Saturday is observed on the Friday before and one on a Sunday on the
 * Monday after (5 U.S.C. 6103(b), Executive Order 11582), so New Year's Day on a Saturday is
 * observed on Friday December 31 of the year before. Supported years: 1971-9999. One-off
 * closures by executive order (for example Christmas Eve in some years) are not statutory
 * and are not included; add them through tm_calendar_closed_fn. */
enum tm_holiday {
    TM_HOLIDAY_NONE = 0,
    TM_HOLIDAY_NEW_YEARS_DAY,
    TM_HOLIDAY_MLK_DAY,
    TM_HOLIDAY_WASHINGTONS_BIRTHDAY,
    TM_HOLIDAY_MEMORIAL_DAY,
    TM_HOLIDAY_JUNETEENTH,
    TM_HOLIDAY_INDEPENDENCE_DAY,
    TM_HOLIDAY_LABOR_DAY,
    TM_HOLIDAY_COLUMBUS_DAY,
    TM_HOLIDAY_VETERANS_DAY,
    TM_HOLIDAY_THANKSGIVING_DAY,
    TM_HOLIDAY_CHRISTMAS_DAY,
    TM_HOLIDAY_COUNT
};

#define TM_HOLIDAY_YEAR_MIN 1971
#define TM_HOLIDAY_YEAR_MAX 9999

/* What a date is, holiday-wise. `actual` is the holiday whose legal date this is and
 * `observed` the holiday observed (given the day off) on this date; either may be
 * TM_HOLIDAY_NONE. Example: Saturday 2026-07-04 is actual = INDEPENDENCE_DAY,
 * observed = NONE; Friday 2026-07-03 is actual = NONE, observed = INDEPENDENCE_DAY. */
typedef struct tm_holiday_info {
    int actual;
    int observed;
} tm_holiday_info;

/* Static English name of a holiday ("Independence Day"), "" for TM_HOLIDAY_NONE, NULL for
 * an unknown id. */
const char *tm_calendar_holiday_name(int holiday);

/* Classifies date `d`. TM_EINVAL if `d` is invalid or outside the supported years. */
int tm_calendar_us_holiday(tm_date d, tm_holiday_info *out, struct tm_err *err);

/* Legal and observed date of `holiday` in `year`. TM_ENOENT if the holiday did not exist
 * that year (Juneteenth before 2021, MLK Day before 1986); TM_EINVAL for a bad id or year.
 * Either out pointer may be NULL. The observed date of New Year's Day can fall in year-1. */
int tm_calendar_us_holiday_date(int year, int holiday, tm_date *actual, tm_date *observed,
                                struct tm_err *err);

/* ---- Business days -------------------------------------------------------------------------
 * A business day is Monday-Friday and not closed by the rule below. */

/* Which federal holiday dates close business (bit mask; 0 ignores federal holidays). */
#define TM_CALENDAR_CLOSE_OBSERVED 0x1u /* the observed day (Sat -> Fri, Sun -> Mon) */
#define TM_CALENDAR_CLOSE_ACTUAL 0x2u   /* the legal date itself, when a weekday */
#define TM_CALENDAR_CLOSE_SUN_TO_MON 0x4u /* the legal date, or the Monday after a Sunday
                                           * holiday; Saturday holidays are not moved
                                           * (the Federal Reserve and bank convention) */

/* Extra closed days (state holidays, office closures). Returns 1 when `d` is closed, 0 when
 * open, or a negative TM_E* code that aborts the calling function with that code. Called
 * only for Monday-Friday dates that the federal rule left open. */
typedef int (*tm_calendar_closed_fn)(void *ud, tm_date d);

typedef struct tm_calendar_bizrule {
    unsigned federal;             /* TM_CALENDAR_CLOSE_* bits */
    tm_calendar_closed_fn closed; /* optional, may be NULL */
    void *ud;                     /* passed to `closed` */
} tm_calendar_bizrule;

/* In the functions below a NULL rule means {TM_CALENDAR_CLOSE_OBSERVED, NULL, NULL}: the
 * federal observed holidays. Dates must be valid; federal rules need years 1971-9999. */

/* *is_business = 1 if `d` is a business day, else 0. */
int tm_calendar_is_business_day(tm_date d, const tm_calendar_bizrule *rule, int *is_business,
                                struct tm_err *err);

/* *out = the n-th business day after `d` (n > 0) or before it (n < 0); `d` itself is never
 * counted, so adding 1 to a Friday before a Monday holiday gives Tuesday. n == 0 returns `d`
 * unchanged even when it is not a business day. TM_EINVAL if a run of more than 3660 closed
 * days is met (a rule that closes everything) or the supported years are left. */
int tm_calendar_add_business_days(tm_date d, int64_t n, const tm_calendar_bizrule *rule,
                                  tm_date *out, struct tm_err *err);

/* *count = the signed number of business-day steps from `from` to `to`: the business days in
 * (from, to] when to >= from, minus those in [to, from) when to < from. So for a business day
 * `to`, tm_calendar_add_business_days(from, *count) == to in both directions. Example: Monday
 * 2026-11-23 to Monday 2026-11-30 is 4 (Thanksgiving is skipped), and back is -4. With a
 * non-business end the directions differ: Sat 2026-11-21 -> Mon 11-23 is 1, back is 0. */
int tm_calendar_count_business_days(tm_date from, tm_date to, const tm_calendar_bizrule *rule,
                                    int64_t *count, struct tm_err *err);

/* ---- Rolling windows ------------------------------------------------------------------- */

/* First date of the window of `ndays` consecutive days that ends on (and includes) `end`:
 * end - ndays + 1. Regulation F counts "within seven consecutive days" with the day of the
 * event as day 1, so the 7-day window ending 2026-11-23 starts on 2026-11-17. TM_EINVAL if
 * ndays < 1 or `end` is invalid. */
int tm_calendar_window_start(tm_date end, int64_t ndays, tm_date *start, struct tm_err *err);

/* One end of a period as people give it: a date (YYYY-MM-DD) is that whole
 * UTC day, so as a start (`end` 0) its first second and as an end (`end` 1,
 * exclusive) the next day's first second; or an RFC 3339 time as it stands.
 * TM_OK with *t in UTC seconds; TM_EINVAL for anything else. */
int tm_calendar_parse_bound(const char *text, int end, int64_t *t, struct tm_err *err);

#endif
