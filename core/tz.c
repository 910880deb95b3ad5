/*
 * core/tz.c: a TZif reader (RFC 9636, versions 1-4) over the system tz database, with the
 * POSIX TZ footer rules, a process-wide zone cache and the US state -> zones table.
 * Depends on core/calendar for civil date arithmetic; never calls tzset() or localtime().
 *
 * Design. A TZif file lists transition instants, each switching to a "local time type"
 * (UT offset, DST flag), and ends (v2+) with a POSIX TZ string such as
 * "EST5EDT,M3.2.0,M11.1.0" that governs every instant after the last transition. At load
 * time we flatten both into one sorted table of (instant, offset, dst) entries, dropping
 * entries that change nothing, and extend it with the footer's own transitions up to
 * 2100-01-01 (EXT_END). A lookup is then a binary search over a few hundred int64s, which a
 * per-zone bucket index (one entry per ~24 days of 1970-2100) narrows to one or two entries;
 * only instants from 2100 on (or zones whose footer starts before 1900) evaluate the footer
 * rule directly. The generated entries come from the same footer_dst() / footer_next() code
 * used beyond 2100, so the two paths cannot disagree.
 *
 * Local -> UTC. Every UTC offset a zone ever uses lies in [min_off, max_off], so any
 * instant u whose local time is L lies in [L - max_off, L - min_off], a window of at most
 * 52 hours (offsets are limited to RFC 9636's -25h..+26h). We walk the constant-offset
 * pieces of the zone across that window and keep each piece whose candidate L - offset
 * falls inside it: none is a gap, two are an overlap.
 *
 * Zones are immutable once built and are published through a list guarded by a rwlock,
 * so the conversion functions need no locking at all.
 */
#include "tz.h"

#include "calendar.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TZDIR "/usr/share/zoneinfo"
#define NAME_MAX_LEN 255
#define PATH_MAX_LEN 4096
#define FILE_MAX (1u << 20)            /* real TZif files are < 4 KiB */
#define UTOFF_MIN (-89999)             /* RFC 9636 3.2: offsets SHOULD be > -25 h ... */
#define UTOFF_MAX 93599                /* ... and < 26 h */
#define EXT_END INT64_C(4102444800)    /* 2100-01-01T00:00:00Z: end of the flattened table */
#define GEN_MIN INT64_C(-2208988800)   /* 1900-01-01T00:00:00Z: earliest footer expansion */
#define EVAL_LIMIT (INT64_C(1) << 40)  /* footer maths is clamped here (~ +-34,800 years) */
#define IDX_SHIFT 21                   /* lookup index buckets of 2^21 s (~24 days) ... */
#define IDX_START INT64_C(0)           /* ... covering 1970 to EXT_END: <= 1956 buckets */

/* ---- POSIX TZ strings (the TZif footer) --------------------------------------------------
 * std offset [dst [offset] [,start[/time],end[/time]]] with RFC 9636 section 3.3 extensions:
 * rule times may be negative or exceed 24 h (-167..167 h). Dates are Jn (1-365, February 29
 * never counted), n (0-365, counted) or Mm.w.d (day d of week w of month m, w = 5 = last). */

struct posix_rule {
    char kind; /* 'J', 'n' or 'M' */
    int day;   /* J and n forms */
    int mon, week, wday;
    int32_t secs; /* local time of day of the change, default 02:00 */
};

struct posix_tz {
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    struct posix_rule start, end; /* start: std -> dst; end: dst -> std */
};

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Zone abbreviation: three or more letters, or <...> holding letters, digits, '+', '-'. */
static int parse_abbr(const char **pp)
{
    const char *p = *pp, *s;
    if (*p == '<') {
        s = ++p;
        while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-')
            p++;
        if (*p != '>' || p - s < 3)
            return 0;
        p++;
    } else {
        s = p;
        while (is_alpha(*p))
            p++;
        if (p - s < 3)
            return 0;
    }
    *pp = p;
    return 1;
}

/* Unsigned number of 1..maxdigits digits, value <= maxval. */
static int parse_num(const char **pp, int maxdigits, int maxval, int *out)
{
    const char *p = *pp;
    int v = 0, n = 0;
    while (is_digit(*p) && n < maxdigits) {
        v = v * 10 + (*p++ - '0');
        n++;
    }
    if (n == 0 || is_digit(*p) || v > maxval)
        return 0;
    *pp = p;
    *out = v;
    return 1;
}

/* [+-]hh[:mm[:ss]] with hh <= 167, as seconds. */
static int parse_hms(const char **pp, int32_t *out)
{
    const char *p = *pp;
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!parse_num(&p, 3, 167, &h))
        return 0;
    if (*p == ':') {
        p++;
        if (!parse_num(&p, 2, 59, &m))
            return 0;
        if (*p == ':') {
            p++;
            if (!parse_num(&p, 2, 59, &s))
                return 0;
        }
    }
    *pp = p;
    *out = sign * (h * 3600 + m * 60 + s);
    return 1;
}

static int parse_rule(const char **pp, struct posix_rule *r)
{
    const char *p = *pp;
    if (*p == 'J') {
        p++;
        r->kind = 'J';
        if (!parse_num(&p, 3, 365, &r->day) || r->day < 1)
            return 0;
    } else if (*p == 'M') {
        p++;
        r->kind = 'M';
        if (!parse_num(&p, 2, 12, &r->mon) || r->mon < 1 || *p++ != '.' ||
            !parse_num(&p, 1, 5, &r->week) || r->week < 1 || *p++ != '.' ||
            !parse_num(&p, 1, 6, &r->wday))
            return 0;
    } else {
        r->kind = 'n';
        if (!parse_num(&p, 3, 365, &r->day))
            return 0;
    }
    r->secs = 2 * 3600;
    if (*p == '/') {
        p++;
        if (!parse_hms(&p, &r->secs))
            return 0;
    }
    *pp = p;
    return 1;
}

static int offset_ok(int32_t off)
{
    return off >= UTOFF_MIN && off <= UTOFF_MAX;
}

/* Parses a whole TZ string. 0 on any syntax error or out-of-range value. */
static int parse_posix_tz(const char *s, struct posix_tz *tz)
{
    const char *p = s;
    int32_t off;
    memset(tz, 0, sizeof *tz);
    if (!parse_abbr(&p) || !parse_hms(&p, &off))
        return 0;
    tz->std_off = -off; /* POSIX offsets are west-positive */
    if (!offset_ok(tz->std_off))
        return 0;
    if (*p == '\0')
        return 1;
    if (!parse_abbr(&p))
        return 0;
    tz->has_dst = 1;
    tz->dst_off = tz->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!parse_hms(&p, &off))
            return 0;
        tz->dst_off = -off;
    }
    if (!offset_ok(tz->dst_off))
        return 0;
    if (*p == '\0') {
        /* No rule: POSIX leaves this to the implementation; tzcode and glibc (through
         * posixrules, which is America/New_York) both use the current US rules. */
        p = ",M3.2.0,M11.1.0";
    }
    if (*p++ != ',' || !parse_rule(&p, &tz->start) || *p++ != ',' || !parse_rule(&p, &tz->end))
        return 0;
    return *p == '\0';
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t clamp_eval(int64_t t)
{
    return t < -EVAL_LIMIT ? -EVAL_LIMIT : t > EVAL_LIMIT ? EVAL_LIMIT : t;
}

static int64_t year_of(int64_t t)
{
    int64_t y;
    tm_calendar_civil_from_days(floor_div(t, 86400), &y, NULL, NULL);
    return y;
}

/* UTC instant at which rule r fires in `year`, given the offset in force before it. */
static int64_t rule_instant(const struct posix_rule *r, int64_t year, int32_t before)
{
    int64_t jan1 = tm_calendar_days_from_civil(year, 1, 1), day;
    if (r->kind == 'J') {
        day = jan1 + r->day - 1 + (tm_calendar_is_leap(year) && r->day >= 60);
    } else if (r->kind == 'n') {
        day = jan1 + r->day;
    } else {
        int64_t first = tm_calendar_days_from_civil(year, r->mon, 1);
        int dim = tm_calendar_days_in_month(year, r->mon);
        int dd = (r->wday - tm_calendar_weekday(first) + 7) % 7 + 7 * (r->week - 1);
        while (dd >= dim)
            dd -= 7;
        day = first + dd;
    }
    return day * 86400 + r->secs - before;
}

struct rule_event {
    int64_t t;
    int to_dst;
};

/* The 2 * nyears changes of years y0.., sorted by time. At equal times the change to
 * standard time sorts first, so a DST start coinciding with the previous DST end wins: that
 * is how RFC 9636 spells "DST all year" ("EST5EDT,0/0,J365/25"). */
static void rule_events(const struct posix_tz *tz, int64_t y0, int nyears, struct rule_event *ev)
{
    int n = 0;
    for (int i = 0; i < nyears; i++) {
        ev[n++] = (struct rule_event){rule_instant(&tz->start, y0 + i, tz->std_off), 1};
        ev[n++] = (struct rule_event){rule_instant(&tz->end, y0 + i, tz->dst_off), 0};
    }
    for (int i = 1; i < n; i++) {
        struct rule_event e = ev[i];
        int j = i;
        while (j > 0 && (ev[j - 1].t > e.t || (ev[j - 1].t == e.t && ev[j - 1].to_dst > e.to_dst))) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = e;
    }
}

/* DST state of a footer at t: the last change at or before t. Changes of year Y-2 happen
 * before Y-1 begins even with +167 h rule times, so four years always contain one. */
static int footer_dst(const struct posix_tz *tz, int64_t t)
{
    if (!tz->has_dst)
        return 0;
    t = clamp_eval(t);
    struct rule_event ev[8];
    rule_events(tz, year_of(t) - 2, 4, ev);
    int dst = !ev[0].to_dst;
    for (int i = 0; i < 8 && ev[i].t <= t; i++)
        dst = ev[i].to_dst;
    return dst;
}

/* First instant strictly after t at which the footer's state changes. 0 if none (no DST, or
 * DST all year, or t beyond the evaluation limit). */
static int footer_next(const struct posix_tz *tz, int64_t t, int64_t *when)
{
    if (!tz->has_dst || t >= EVAL_LIMIT)
        return 0;
    t = clamp_eval(t);
    struct rule_event ev[10];
    rule_events(tz, year_of(t) - 2, 5, ev);
    int cur = !ev[0].to_dst, i = 0;
    for (; i < 10 && ev[i].t <= t; i++)
        cur = ev[i].to_dst;
    while (i < 10) {
        int j = i;
        while (j + 1 < 10 && ev[j + 1].t == ev[i].t)
            j++;
        if (ev[j].to_dst != cur) {
            *when = ev[i].t;
            return 1;
        }
        i = j + 1;
    }
    return 0;
}

/* ---- Zones ------------------------------------------------------------------------------ */

struct tm_zone {
    struct tm_zone *next; /* cache list */
    char *name;           /* as requested, e.g. "US/Eastern" */
    char *path;           /* cache key: $TZDIR/name */

    /* Flattened history: from times[i] until times[i + 1] the offset is offs[i]. Before
     * times[0] (or always, when n == 0 and there is no footer) type 0 applies. */
    size_t n;
    int64_t *times;
    int32_t *offs;
    uint8_t *dsts;
    int32_t off0;
    int dst0;

    /* The table is authoritative for t < ext_end; from ext_end on the footer rule is
     * evaluated. INT64_MAX without a footer. With no transitions at all the footer (if
     * any) governs every instant. */
    int64_t ext_end;
    int has_rule;
    struct posix_tz rule;

    int32_t min_off, max_off; /* bounds over every offset that lookup() can return */

    /* Optional index over [idx_base, idx_base + nidx << IDX_SHIFT): idx[k] is the last entry
     * at or before the start of bucket k, so a lookup searches only idx[k]..idx[k + 1]
     * (usually one entry) instead of the whole table. NULL if it could not be built. */
    int64_t idx_base;
    size_t nidx;
    uint32_t *idx;
};

/* Offset and DST flag at t, and optionally `until`: an instant > t before which they do not
 * change (INT64_MAX if never). `until` need not be a change itself. */
static void lookup(const struct tm_zone *z, int64_t t, int32_t *off, int *dst, int64_t *until)
{
    if (z->has_rule && (z->n == 0 || t >= z->ext_end)) {
        int d = footer_dst(&z->rule, t);
        *off = d ? z->rule.dst_off : z->rule.std_off;
        *dst = d;
        if (until) {
            int64_t w;
            *until = footer_next(&z->rule, t, &w) ? w : INT64_MAX;
        }
        return;
    }
    if (z->n == 0 || t < z->times[0]) {
        *off = z->off0;
        *dst = z->dst0;
        if (until)
            *until = z->n ? z->times[0] : INT64_MAX;
        return;
    }
    size_t lo = 0, hi = z->n; /* invariant: times[lo] <= t < times[hi] (times[n] = +inf) */
    if (t >= z->idx_base && (uint64_t)(t - z->idx_base) >> IDX_SHIFT < z->nidx) {
        size_t k = (size_t)((uint64_t)(t - z->idx_base) >> IDX_SHIFT);
        lo = z->idx[k];
        hi = k + 1 < z->nidx ? z->idx[k + 1] + (size_t)1 : z->n;
    }
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    *off = z->offs[lo];
    *dst = z->dsts[lo];
    if (until) {
        int64_t u = lo + 1 < z->n ? z->times[lo + 1] : INT64_MAX;
        *until = u < z->ext_end ? u : z->ext_end;
    }
}

static int in_range(int64_t utc)
{
    return utc >= TM_TZ_UTC_MIN && utc <= TM_TZ_UTC_MAX;
}

const char *tm_tz_name(const tm_zone *z)
{
    return z ? z->name : NULL;
}

int tm_tz_offset_at(const tm_zone *z, int64_t utc, int *offset, int *is_dst)
{
    if (!z || !in_range(utc))
        return TM_EINVAL;
    int32_t off;
    int dst;
    lookup(z, utc, &off, &dst, NULL);
    if (offset)
        *offset = off;
    if (is_dst)
        *is_dst = dst;
    return TM_OK;
}

int tm_tz_to_local(const tm_zone *z, int64_t utc, tm_civil *out)
{
    if (!out)
        return TM_EINVAL;
    if (!z || !in_range(utc)) {
        memset(out, 0, sizeof *out);
        return TM_EINVAL;
    }
    int32_t off;
    int dst;
    lookup(z, utc, &off, &dst, NULL);
    int64_t local = utc + off;
    int64_t days = floor_div(local, 86400), secs = local - days * 86400;
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(days, &y, &m, &d);
    out->year = (int)y;
    out->month = m;
    out->day = d;
    out->hour = (int)(secs / 3600);
    out->min = (int)(secs / 60 % 60);
    out->sec = (int)(secs % 60);
    static const short before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    out->wday = tm_calendar_weekday(days);
    out->yday = before_month[m - 1] + d - 1 + (m > 2 && tm_calendar_is_leap(y));
    out->offset = off;
    out->is_dst = dst;
    return TM_OK;
}

int tm_tz_from_local(const tm_zone *z, const tm_civil *local, int which, int64_t *utc,
                     struct tm_err *err)
{
    if (!z || !local || !utc)
        return tm_err_set(err, TM_EINVAL, "tm_tz_from_local: NULL argument");
    if (which != TM_TZ_EARLIER && which != TM_TZ_LATER)
        return tm_err_set(err, TM_EINVAL, "tm_tz_from_local: `which` must be TM_TZ_EARLIER or "
                          "TM_TZ_LATER, not %d", which);
    const tm_civil *c = local;
    if (c->year < 0 || c->year > 9999)
        return tm_err_set(err, TM_EINVAL, "local year %d is outside 0000-9999", c->year);
    if (!tm_calendar_date_valid(c->year, c->month, c->day))
        return tm_err_set(err, TM_EINVAL, "%04d-%02d-%02d is not a valid date", c->year,
                          c->month, c->day);
    if (c->hour < 0 || c->hour > 23 || c->min < 0 || c->min > 59 || c->sec < 0 || c->sec > 59)
        return tm_err_set(err, TM_EINVAL, "%02d:%02d:%02d is not a valid time of day", c->hour,
                          c->min, c->sec);
    int64_t L = tm_calendar_days_from_civil(c->year, c->month, c->day) * 86400 +
                c->hour * 3600 + c->min * 60 + c->sec;
    int64_t hi = L - z->min_off;
    int64_t piece_start = INT64_MIN, until, first = 0, last = 0, gap = 0;
    int found = 0, have_gap = 0;
    int32_t off;
    int dst;
    lookup(z, L - z->max_off, &off, &dst, &until);
    for (;;) {
        int64_t cand = L - off;
        if (cand >= piece_start && cand < until) {
            if (!found)
                first = cand;
            last = cand;
            found = 1;
        }
        if (until > hi)
            break;
        int32_t off2;
        int dst2;
        int64_t until2;
        lookup(z, until, &off2, &dst2, &until2);
        /* The clocks jumped over L: read it with the offset from before the jump. */
        if (!have_gap && cand >= until && L - off2 < until) {
            gap = cand;
            have_gap = 1;
        }
        piece_start = until;
        off = off2;
        until = until2;
    }
    int64_t r;
    if (found)
        r = which == TM_TZ_EARLIER ? first : last;
    else if (have_gap)
        r = gap;
    else
        return tm_err_set(err, TM_EINVAL, "no UTC instant has local time %04d-%02d-%02d "
                          "%02d:%02d:%02d in %s", c->year, c->month, c->day, c->hour, c->min,
                          c->sec, z->name);
    if (!in_range(r))
        return tm_err_set(err, TM_EINVAL, "local time %04d-%02d-%02d %02d:%02d:%02d in %s is "
                          "outside the supported range", c->year, c->month, c->day, c->hour,
                          c->min, c->sec, z->name);
    *utc = r;
    return TM_OK;
}

int tm_tz_next_transition(const tm_zone *z, int64_t utc, int64_t *when)
{
    if (!z || !when || !in_range(utc))
        return TM_EINVAL;
    int32_t off, off2;
    int dst, dst2;
    int64_t until, until2;
    lookup(z, utc, &off, &dst, &until);
    /* `until` is a change except at the type-0 -> table and table -> footer seams, so this
     * loop runs at most a few times. */
    while (until != INT64_MAX) {
        lookup(z, until, &off2, &dst2, &until2);
        if (off2 != off || dst2 != dst) {
            *when = until;
            return TM_OK;
        }
        until = until2;
    }
    return TM_ENOENT;
}

/* ---- TZif parsing ----------------------------------------------------------------------- */

struct tzif {
    uint32_t timecnt, typecnt;
    int64_t *times; /* malloc'd, timecnt entries, strictly ascending */
    uint8_t *idx;   /* malloc'd, timecnt entries, each < typecnt */
    int32_t utoff[256];
    uint8_t isdst[256];
    int has_rule;
    struct posix_tz rule;
};

struct tzif_counts {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
    /* Two's complement without relying on implementation-defined conversion. */
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static int64_t sbe32(const uint8_t *p)
{
    uint32_t u = be32(p);
    return u <= (uint32_t)INT32_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

#define TZIF_HEADER 44

/* Reads a header at buf[pos]; *version is 1 for version byte 0, else 2-4. */
static const char *read_header(const uint8_t *buf, size_t len, size_t pos, int *version,
                               struct tzif_counts *c)
{
    if (len - pos < TZIF_HEADER)
        return "truncated header";
    const uint8_t *h = buf + pos;
    if (memcmp(h, "TZif", 4) != 0)
        return "not a TZif file (bad magic)";
    if (h[4] == 0)
        *version = 1;
    else if (h[4] >= '2' && h[4] <= '4')
        *version = h[4] - '0';
    else
        return "unsupported TZif version";
    c->isutcnt = be32(h + 20);
    c->isstdcnt = be32(h + 24);
    c->leapcnt = be32(h + 28);
    c->timecnt = be32(h + 32);
    c->typecnt = be32(h + 36);
    c->charcnt = be32(h + 40);
    return NULL;
}

static uint64_t block_size(const struct tzif_counts *c, int tsize)
{
    return (uint64_t)c->timecnt * (uint64_t)tsize + c->timecnt + (uint64_t)c->typecnt * 6 +
           c->charcnt + (uint64_t)c->leapcnt * (uint64_t)(tsize + 4) + c->isstdcnt + c->isutcnt;
}

/* Parses and validates one data block of `tsize`-byte times at buf[pos]. */
static const char *read_block(const uint8_t *buf, size_t len, size_t pos, int tsize,
                              const struct tzif_counts *c, struct tzif *out)
{
    if (c->typecnt == 0 || c->typecnt > 256)
        return "local time type count must be 1-256";
    if (c->charcnt == 0)
        return "empty time zone designations";
    if (c->isstdcnt != 0 && c->isstdcnt != c->typecnt)
        return "standard/wall indicator count differs from type count";
    if (c->isutcnt != 0 && c->isutcnt != c->typecnt)
        return "UT/local indicator count differs from type count";
    if (c->leapcnt != 0)
        return "leap-second records present (a \"right/\" zone); only POSIX-time zones are "
               "supported";
    if (block_size(c, tsize) > len - pos)
        return "truncated data block";
    const uint8_t *p = buf + pos;
    out->timecnt = c->timecnt;
    out->typecnt = c->typecnt;
    if (c->timecnt) {
        out->times = malloc(sizeof *out->times * c->timecnt);
        out->idx = malloc(c->timecnt);
        if (!out->times || !out->idx)
            return "out of memory";
    }
    for (uint32_t i = 0; i < c->timecnt; i++, p += tsize) {
        out->times[i] = tsize == 8 ? be64(p) : sbe32(p);
        if (i > 0 && out->times[i] <= out->times[i - 1])
            return "transition times are not strictly ascending";
    }
    for (uint32_t i = 0; i < c->timecnt; i++, p++) {
        if (*p >= c->typecnt)
            return "transition refers to a nonexistent local time type";
        out->idx[i] = *p;
    }
    for (uint32_t i = 0; i < c->typecnt; i++, p += 6) {
        int64_t off = sbe32(p);
        if (off < UTOFF_MIN || off > UTOFF_MAX)
            return "UT offset outside -25h..+26h";
        if (p[4] > 1)
            return "DST indicator is not 0 or 1";
        if (p[5] >= c->charcnt)
            return "designation index out of range";
        out->utoff[i] = (int32_t)off;
        out->isdst[i] = p[4];
    }
    p += c->charcnt;
    for (uint32_t i = 0; i < c->isstdcnt + c->isutcnt; i++, p++)
        if (*p > 1)
            return "standard/wall or UT/local indicator is not 0 or 1";
    return NULL;
}

/* Parses a whole TZif image. Returns NULL on success or a static reason. out->times and
 * out->idx may be allocated either way; the caller frees them. */
static const char *parse_tzif(const uint8_t *buf, size_t len, struct tzif *out)
{
    int version, v2;
    struct tzif_counts c;
    const char *why = read_header(buf, len, 0, &version, &c);
    if (why)
        return why;
    if (version == 1)
        return read_block(buf, len, TZIF_HEADER, 4, &c, out);

    /* Version 2+: skip the 32-bit block (readers must ignore it), then read the 64-bit one. */
    uint64_t skip = block_size(&c, 4);
    if (skip > len - TZIF_HEADER)
        return "truncated version 1 data block";
    size_t pos = TZIF_HEADER + (size_t)skip;
    if ((why = read_header(buf, len, pos, &v2, &c)) != NULL)
        return why;
    if (v2 < 2)
        return "second header is not version 2 or later";
    pos += TZIF_HEADER;
    if ((why = read_block(buf, len, pos, 8, &c, out)) != NULL)
        return why;
    pos += (size_t)block_size(&c, 8);

    /* Footer: "\n" TZ-string "\n"; an empty string means no rule. */
    if (pos >= len || buf[pos] != '\n')
        return "missing footer";
    const uint8_t *s = buf + pos + 1, *e = memchr(s, '\n', len - pos - 1);
    if (!e)
        return "unterminated footer";
    if (e - s > 255)
        return "footer TZ string too long";
    char tzs[256];
    for (const uint8_t *q = s; q < e; q++)
        if (*q < 0x20 || *q >= 0x7f)
            return "footer TZ string contains a non-printable byte";
    memcpy(tzs, s, (size_t)(e - s));
    tzs[e - s] = '\0';
    if (tzs[0] != '\0') {
        if (!parse_posix_tz(tzs, &out->rule))
            return "invalid TZ string in footer";
        out->has_rule = 1;
    }
    return NULL;
}

static int append_entry(struct tm_zone *z, size_t cap, int64_t t, int32_t off, int dst)
{
    if (z->n > 0 && z->offs[z->n - 1] == off && z->dsts[z->n - 1] == dst)
        return 1; /* no change: drop, so every table entry is a real transition */
    if (z->n > 0 && z->times[z->n - 1] == t) {
        z->offs[z->n - 1] = off; /* same instant: the later entry wins */
        z->dsts[z->n - 1] = (uint8_t)dst;
        return 1;
    }
    if (z->n >= cap)
        return 0;
    z->times[z->n] = t;
    z->offs[z->n] = off;
    z->dsts[z->n] = (uint8_t)dst;
    z->n++;
    return 1;
}

static void note_offset(struct tm_zone *z, int32_t off)
{
    if (off < z->min_off)
        z->min_off = off;
    if (off > z->max_off)
        z->max_off = off;
}

/* Builds the lookup index over the part of the table inside 1970..EXT_END. Purely an
 * optimisation: on allocation failure lookups fall back to a full binary search. */
static void build_index(struct tm_zone *z)
{
    if (z->n == 0 || z->n > UINT32_MAX)
        return;
    int64_t base = z->times[0] > IDX_START ? z->times[0] : IDX_START;
    int64_t end = z->ext_end < EXT_END ? z->ext_end : EXT_END;
    if (base >= end)
        return;
    size_t nb = (size_t)((end - base) >> IDX_SHIFT) + 1;
    z->idx = malloc(sizeof *z->idx * nb);
    if (!z->idx)
        return;
    size_t i = 0;
    for (size_t k = 0; k < nb; k++) {
        int64_t start = base + ((int64_t)k << IDX_SHIFT);
        while (i + 1 < z->n && z->times[i + 1] <= start)
            i++;
        z->idx[k] = (uint32_t)i;
    }
    z->idx_base = base;
    z->nidx = nb;
}

/* Builds the flattened table from a parsed file. Returns TM_OK or TM_ENOMEM. */
static int build_zone(struct tm_zone *z, const struct tzif *f)
{
    z->off0 = f->utoff[0];
    z->dst0 = f->isdst[0];
    z->has_rule = f->has_rule;
    z->rule = f->rule;
    z->ext_end = INT64_MAX;
    z->min_off = z->max_off = z->off0;
    if (f->has_rule) {
        note_offset(z, f->rule.std_off);
        if (f->rule.has_dst)
            note_offset(z, f->rule.dst_off);
    }
    if (f->timecnt == 0)
        return TM_OK;

    int64_t last = f->times[f->timecnt - 1];
    int expand = f->has_rule && f->rule.has_dst && last >= GEN_MIN && last < EXT_END;
    /* Two changes per year from the last transition to EXT_END, plus slack. */
    size_t cap = f->timecnt + 1 + (expand ? (size_t)(2 * ((EXT_END - last) / 31536000 + 3)) : 0);
    z->times = malloc(sizeof *z->times * cap);
    z->offs = malloc(sizeof *z->offs * cap);
    z->dsts = malloc(cap);
    if (!z->times || !z->offs || !z->dsts)
        return TM_ENOMEM;
    for (uint32_t i = 0; i < f->timecnt; i++) {
        int ty = f->idx[i];
        append_entry(z, cap, f->times[i], f->utoff[ty], f->isdst[ty]);
    }
    if (f->has_rule) {
        /* From the last transition on the footer governs, as in glibc and tzcode, even if a
         * sloppy file's last type disagrees with it. */
        int d = footer_dst(&f->rule, last);
        append_entry(z, cap, last, d ? f->rule.dst_off : f->rule.std_off, d);
        if (expand) {
            int64_t t = last, w;
            while (footer_next(&f->rule, t, &w) && w < EXT_END) {
                d = footer_dst(&f->rule, w);
                /* At most two changes a year, so `cap` cannot run out. */
                if (!append_entry(z, cap, w, d ? f->rule.dst_off : f->rule.std_off, d))
                    return TM_ENOMEM;
                t = w;
            }
            z->ext_end = EXT_END;
        } else {
            z->ext_end = last;
        }
    }
    for (size_t i = 0; i < z->n; i++)
        note_offset(z, z->offs[i]);
    build_index(z);
    return TM_OK;
}

static void zone_free(struct tm_zone *z)
{
    if (!z)
        return;
    free(z->name);
    free(z->path);
    free(z->times);
    free(z->offs);
    free(z->dsts);
    free(z->idx);
    free(z);
}

/* Copies untrusted text for a message: printable ASCII only, at most 64 characters. */
static const char *quote(const char *s, char *buf, size_t size)
{
    size_t i = 0;
    for (; s[i] && i + 4 < size && i < 64; i++) {
        unsigned char ch = (unsigned char)s[i];
        buf[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    if (s[i] && i + 4 <= size) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static int check_name(const char *name, struct tm_err *err)
{
    char q[80];
    if (!name || !*name)
        return tm_err_set(err, TM_EINVAL, "time zone name is empty");
    size_t len = strlen(name);
    if (len > NAME_MAX_LEN)
        return tm_err_set(err, TM_EINVAL, "time zone name \"%s\" is longer than %d characters",
                          quote(name, q, sizeof q), NAME_MAX_LEN);
    if (strstr(name, ".."))
        return tm_err_set(err, TM_EINVAL, "invalid time zone name \"%s\": \"..\" is not allowed",
                          quote(name, q, sizeof q));
    if (name[0] == '/')
        return tm_err_set(err, TM_EINVAL, "invalid time zone name \"%s\": absolute paths are not "
                          "allowed", quote(name, q, sizeof q));
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!is_alpha(ch) && !is_digit(ch) && ch != '_' && ch != '+' && ch != '-' && ch != '/')
            return tm_err_set(err, TM_EINVAL, "invalid time zone name \"%s\": only letters, "
                              "digits, '_', '+', '-' and '/' are allowed",
                              quote(name, q, sizeof q));
    }
    if (strstr(name, "//") || name[len - 1] == '/')
        return tm_err_set(err, TM_EINVAL, "invalid time zone name \"%s\": empty path component",
                          quote(name, q, sizeof q));
    /* These resolve through host configuration (/etc/localtime), not to a fixed zone. */
    if (strcmp(name, "localtime") == 0 || strcmp(name, "posixrules") == 0)
        return tm_err_set(err, TM_ENOENT, "\"%s\" is host configuration, not a time zone name",
                          name);
    return TM_OK;
}

/* Reads the whole file at `path` (at most FILE_MAX bytes). */
static int read_file(const char *path, const char *name, const char *tzdir, uint8_t **data,
                     size_t *size, struct tm_err *err)
{
    /* O_NONBLOCK so a FIFO planted in TZDIR cannot hang us; it is then rejected below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR || e == ELOOP || e == ENAMETOOLONG)
            return tm_err_set(err, TM_ENOENT, "unknown time zone \"%s\" (not found in %s)", name,
                              tzdir);
        return tm_err_set(err, TM_EIO, "time zone \"%s\": cannot open %s: %s", name, path,
                          strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return tm_err_set(err, TM_EIO, "time zone \"%s\": cannot stat %s: %s", name, path,
                          strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return tm_err_set(err, TM_ENOENT, "unknown time zone \"%s\" (a directory in %s, not a "
                          "zone)", name, tzdir);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return tm_err_set(err, TM_EINVAL, "time zone \"%s\": %s is not a regular file", name,
                          path);
    }
    if (st.st_size > (off_t)FILE_MAX) {
        close(fd);
        return tm_err_set(err, TM_EINVAL, "time zone \"%s\": %s is too large for a TZif file "
                          "(%lld bytes)", name, path, (long long)st.st_size);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return tm_err_set(err, TM_ENOMEM, "time zone \"%s\": out of memory", name);
    }
    /* Read to EOF but never past cap: a file growing under us is cut, then fails to parse. */
    while (len < cap) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return tm_err_set(err, TM_EIO, "time zone \"%s\": cannot read %s: %s", name, path,
                              strerror(e));
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = len;
    return TM_OK;
}

static int load_zone(const char *name, const char *path, const char *tzdir, struct tm_zone **out,
                     struct tm_err *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_file(path, name, tzdir, &data, &len, err);
    if (rc != TM_OK)
        return rc;
    struct tzif f;
    memset(&f, 0, sizeof f);
    const char *why = parse_tzif(data, len, &f);
    free(data);
    struct tm_zone *z = NULL;
    if (!why) {
        z = calloc(1, sizeof *z);
        if (!z || !(z->name = strdup(name)) || !(z->path = strdup(path)) ||
            build_zone(z, &f) != TM_OK)
            why = "out of memory";
    }
    free(f.times);
    free(f.idx);
    if (why) {
        zone_free(z);
        if (strcmp(why, "out of memory") == 0)
            return tm_err_set(err, TM_ENOMEM, "time zone \"%s\": out of memory", name);
        return tm_err_set(err, TM_EINVAL, "time zone \"%s\": malformed TZif file %s: %s", name,
                          path, why);
    }
    *out = z;
    return TM_OK;
}

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct tm_zone *cache_head;

static const struct tm_zone *cache_find(const char *path)
{
    for (const struct tm_zone *z = cache_head; z; z = z->next)
        if (strcmp(z->path, path) == 0)
            return z;
    return NULL;
}

int tm_tz_get(const char *name, const tm_zone **out, struct tm_err *err)
{
    if (!out)
        return tm_err_set(err, TM_EINVAL, "tm_tz_get: NULL out pointer");
    int rc = check_name(name, err);
    if (rc != TM_OK)
        return rc;
    const char *tzdir = getenv("TZDIR");
    if (!tzdir || !*tzdir)
        tzdir = DEFAULT_TZDIR;
    char path[PATH_MAX_LEN];
    int n = snprintf(path, sizeof path, "%s/%s", tzdir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return tm_err_set(err, TM_EINVAL, "time zone path too long (TZDIR=%.64s...)", tzdir);

    pthread_rwlock_rdlock(&cache_lock);
    const struct tm_zone *z = cache_find(path);
    pthread_rwlock_unlock(&cache_lock);
    if (z) {
        *out = z;
        return TM_OK;
    }
    /* Load under the write lock: loads are rare and this keeps one copy per path. */
    pthread_rwlock_wrlock(&cache_lock);
    z = cache_find(path);
    if (!z) {
        struct tm_zone *nz = NULL;
        rc = load_zone(name, path, tzdir, &nz, err);
        if (nz) { /* set only on success */
            nz->next = cache_head;
            cache_head = nz;
            z = nz;
        }
    }
    pthread_rwlock_unlock(&cache_lock);
    if (z)
        *out = z;
    return z ? TM_OK : rc;
}

/* ---- US states ---------------------------------------------------------------------------
 * From the federal time zone boundaries (49 CFR part 71) and the tz database's zone.tab
 * comments. Where a county keeps another zone's time by local custom, that zone is listed
 * too, since the consumer's clock is what the law protects. */

#define ZL(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NY "America/New_York"
#define CHI "America/Chicago"
#define DEN "America/Denver"
#define LA "America/Los_Angeles"

static const struct state_zones {
    const char *code;
    const char *const *zones;
} state_table[] = {
    {"AK", ZL("America/Anchorage", "America/Juneau", "America/Sitka", "America/Metlakatla",
              "America/Yakutat", "America/Nome", "America/Adak")},
    {"AL", ZL(CHI, NY)}, /* Phenix City area (Lee, Russell counties) keeps Eastern by custom */
    {"AR", ZL(CHI)},
    {"AS", ZL("Pacific/Pago_Pago")},
    {"AZ", ZL("America/Phoenix", DEN)}, /* the Navajo Nation observes DST */
    {"CA", ZL(LA)},
    {"CO", ZL(DEN)},
    {"CT", ZL(NY)},
    {"DC", ZL(NY)},
    {"DE", ZL(NY)},
    {"FL", ZL(NY, CHI)}, /* panhandle west of the Apalachicola River is Central */
    {"FM", ZL("Pacific/Chuuk", "Pacific/Pohnpei", "Pacific/Kosrae")},
    {"GA", ZL(NY)},
    {"GU", ZL("Pacific/Guam")},
    {"HI", ZL("Pacific/Honolulu")},
    {"IA", ZL(CHI)},
    {"ID", ZL("America/Boise", LA)}, /* north of the Salmon River is Pacific */
    {"IL", ZL(CHI)},
    /* Indiana: tz splits it by county history; the Chicago and Evansville areas are Central,
     * the Cincinnati (Dearborn, Ohio) and Louisville (Clark, Floyd, Harrison) suburbs are
     * kept in America/New_York and America/Kentucky/Louisville. Since 2007 all of these
     * follow either Eastern or Central US rules; both come first, so a caller that keeps
     * only the first few zones still sees every offset in use. */
    {"IN", ZL("America/Indiana/Indianapolis", CHI, "America/Indiana/Knox",
              "America/Indiana/Tell_City", "America/Indiana/Vincennes", "America/Indiana/Winamac",
              "America/Indiana/Marengo", "America/Indiana/Petersburg", "America/Indiana/Vevay",
              NY, "America/Kentucky/Louisville")},
    {"KS", ZL(CHI, DEN)}, /* Greeley, Hamilton, Sherman, Wallace counties are Mountain */
    {"KY", ZL(NY, "America/Kentucky/Louisville", "America/Kentucky/Monticello", CHI)},
    {"LA", ZL(CHI)},
    {"MA", ZL(NY)},
    {"MD", ZL(NY)},
    {"ME", ZL(NY)},
    {"MH", ZL("Pacific/Majuro", "Pacific/Kwajalein")},
    {"MI", ZL("America/Detroit", "America/Menominee")},
    {"MN", ZL(CHI)},
    {"MO", ZL(CHI)},
    {"MP", ZL("Pacific/Saipan")},
    {"MS", ZL(CHI)},
    {"MT", ZL(DEN)},
    {"NC", ZL(NY)},
    {"ND", ZL(CHI, DEN, "America/North_Dakota/Center", "America/North_Dakota/New_Salem",
              "America/North_Dakota/Beulah")},
    {"NE", ZL(CHI, DEN)},
    {"NH", ZL(NY)},
    {"NJ", ZL(NY)},
    {"NM", ZL(DEN)},
    /* West Wendover is legally Mountain; Jackpot and Owyhee keep Mountain (Idaho) time. */
    {"NV", ZL(LA, DEN, "America/Boise")},
    {"NY", ZL(NY)},
    {"OH", ZL(NY)},
    {"OK", ZL(CHI, DEN)}, /* Kenton keeps Mountain time by custom */
    {"OR", ZL(LA, "America/Boise")}, /* most of Malheur County is Mountain */
    {"PA", ZL(NY)},
    {"PR", ZL("America/Puerto_Rico")},
    {"PW", ZL("Pacific/Palau")},
    {"RI", ZL(NY)},
    {"SC", ZL(NY)},
    {"SD", ZL(CHI, DEN)},
    {"TN", ZL(CHI, NY)},
    {"TX", ZL(CHI, DEN)}, /* El Paso and Hudspeth counties are Mountain */
    {"UT", ZL(DEN)},
    {"VA", ZL(NY)},
    {"VI", ZL("America/St_Thomas")},
    {"VT", ZL(NY)},
    {"WA", ZL(LA)},
    {"WI", ZL(CHI)},
    {"WV", ZL(NY)},
    {"WY", ZL(DEN)},
};

#define NSTATES (sizeof state_table / sizeof state_table[0])

const char *const *tm_tz_state_zones(const char *usps)
{
    if (!usps)
        return NULL;
    for (size_t i = 0; i < NSTATES; i++)
        if (strcmp(state_table[i].code, usps) == 0)
            return state_table[i].zones;
    return NULL;
}

static const char *state_codes[NSTATES + 1];

static void init_state_codes(void)
{
    for (size_t i = 0; i < NSTATES; i++)
        state_codes[i] = state_table[i].code;
}

const char *const *tm_tz_state_codes(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_state_codes);
    return state_codes;
}
