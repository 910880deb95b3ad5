/*
 * core/gate.c: native rule evaluation and decisions for the compliance gate
 * (see gate.h); the wire format is gate_wire.c's.
 *
 * Every time rule is evaluated in every zone of the consumer: a contact is
 * inconvenient if it is inconvenient in any of them. A rule answers with the
 * earliest instant >= t at which it allows the contact (t itself when it
 * allows it now); the decision's next_allowed_at is the fixpoint of those
 * answers over all applicable rules. Frequency windows count local calendar
 * dates, as Regulation F counts "seven consecutive days" (the day of the
 * earlier contact is day 1), in each zone.
 */
#include "gate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "jscan.h"
#include "pay.h"

const char *const tm_gate_channel_names[] = {"call", "sms", "email", "letter", "push",
                                             "whatsapp", "visit", NULL};
const char *const tm_gate_place_names[] = {"personal", "work", NULL};
const char *const tm_gate_purpose_names[] = {"collection", "validation_notice", "verification",
                                             "cease_notice", NULL};
const char *const tm_gate_collector_names[] = {"third_party", "debt_buyer", "creditor", NULL};
const char *const tm_gate_outcome_names[] = {"attempt",   "not_connected", "voicemail",
                                             "conversation", "delivered", "failed", NULL};
const char *const tm_gate_flag_names[] = {"deceased", "bankruptcy",      "cease",        "attorney",
                                          "scra",     "no_work_contact", "incarcerated", NULL};
const char *const tm_gate_dispute_names[] = {"none", "pending", "verified", NULL};
const char *const tm_gate_debt_type_names[] = {"credit_card", "personal_loan", "auto_loan", "medical",
                                               "utility",     "telecom",       "other",     NULL};
const char *const tm_gate_weekday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};
const char *const tm_gate_direction_names[] = {"outbound", "inbound", NULL};
const char *const tm_gate_owner_names[] = {"original_creditor", "debt_buyer", NULL};
const char *const tm_gate_dialer_names[] = {"manual", "autodialer", "prerecorded", NULL};
const char *const tm_gate_line_names[] = {"cell", "landline", "voip", NULL};
const char *const tm_gate_creq_names[] = {"no_work_contact", "no_calls_at", "contact_only_by", NULL};
const char *const tm_gate_form_names[] = {"oral", "written", NULL};
const char *const tm_gate_accrual_names[] = {"default", "last_payment", "last_payment_plus_30d",
                                             "charge_off", "earliest", NULL};

#define HORIZON_SECS (400LL * 86400)
#define MAX_FIXPOINT_STEPS 400

int tm_gate_lookup(const char *const *table, const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; table[i]; i++)
        if (strcmp(table[i], name) == 0)
            return i;
    return -1;
}

/* A rule as the index names it: regulation and rule number. */
typedef struct ix_rule {
    int reg, rule;
} ix_rule;

/* The rules a request from one state can meet, in the gate's order: by
 * channel, collector and place, and by whether the consumer has any flag
 * (a rule that applies only to a flag is left out of the list for
 * consumers with none). A rule is left out only where rule_applies or
 * reg_applies would surely say no, so visiting the list gives what
 * visiting every rule gives. */
#define IX_LISTS (TM_CH__COUNT * 2 * TM_CO__COUNT * TM_PLACE__COUNT)
typedef struct ix_state {
    ix_rule *list[IX_LISTS];
    int n[IX_LISTS];
    int *regs;          /* the regulations whose states admit this one */
    int nregs;
    ix_rule *margins;   /* the MARGIN rules of those regulations */
    int nmargins;
    const tm_sol *sol;  /* the state's statute of limitations, or NULL */
} ix_state;

#define IX_SLOTS (26 * 26)

struct tm_gate {
    tm_regulation *regs;
    int nregs, capregs;
    tm_sol *sol;
    int nsol;
    char scripts[65];
    int reference;           /* tm_gate_set_reference: no index, no cache */
    ix_state *ix[IX_SLOTS];  /* built on a state's first request */
    struct sol_memo *sol_memo; /* with the index: statutes' last days worked out lately */
    unsigned char *reg_ok;   /* per decision: whether regulation i applies (ix regs only) */
};

void tm_gate_request_init(tm_request *req)
{
    memset(req, 0, sizeof *req);
    req->debt_type = TM_DT_OTHER;
    req->last_payment_day = req->charge_off_day = req->default_day = INT64_MIN;
    req->owner = req->dialer = req->line = TM_GATE_ABSENT;
    req->attorney.since_day = INT64_MIN;
    req->attorney.asked_at = INT64_MIN;
    req->more_calls_at = INT64_MIN;
}

int64_t tm_gate_notice(const tm_request *req, const char *name)
{
    for (int i = 0; i < req->nnotices; i++)
        if (strcmp(req->notices[i].name, name) == 0)
            return req->notices[i].day;
    return INT64_MIN;
}

void tm_gate_request_free(tm_request *req)
{
    free(req->id_json);
    free(req->city);
    free(req->creditor);
    free(req->debt_id);
    free(req->history);
    free(req->warnings);
    memset(req, 0, sizeof *req);
}

int tm_gate_msg(const tm_request *req, const char *name)
{
    for (int i = 0; i < req->nmsg; i++)
        if (strcmp(req->msg[i].name, name) == 0)
            return req->msg[i].value;
    return TM_TRI_ABSENT;
}

/* ---------------------------------------------------------------------------
 * Local time helpers.
 */
typedef struct local {
    int64_t day; /* days since 1970-01-01, local */
    int sec;     /* seconds of the local day */
    int wday;
} local;

/* The local times one decision has worked out: the same instants come back
 * in every rule, zone and step of the search (now, each history entry, the
 * consent), so each is converted once per zone. Direct-mapped on (zone,
 * instant); a miss converts afresh, so the answer never depends on what is
 * cached. A NULL cache converts every time (the reference path). */
#define LT_SLOTS 128
typedef struct ltcache {
    const tm_zone *zone[LT_SLOTS]; /* NULL: empty */
    int64_t t[LT_SLOTS];
    local l[LT_SLOTS];
} ltcache;

static void lt_reset(ltcache *lc)
{
    memset(lc->zone, 0, sizeof lc->zone);
}

static local to_local_calc(const tm_zone *z, int64_t t);

static local to_local(ltcache *lc, const tm_zone *z, int64_t t)
{
    if (!lc)
        return to_local_calc(z, t);
    uint64_t h = ((uint64_t)t * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(uintptr_t)z >> 4);
    unsigned k = (unsigned)(h >> 57) & (LT_SLOTS - 1);
    if (lc->zone[k] == z && lc->t[k] == t)
        return lc->l[k];
    local l = to_local_calc(z, t);
    lc->zone[k] = z;
    lc->t[k] = t;
    lc->l[k] = l;
    return l;
}

static local to_local_calc(const tm_zone *z, int64_t t)
{
    int off;
    if (tm_tz_offset_at(z, t, &off, NULL) == TM_OK) {
        /* The local date and second straight from the offset: no civil date. */
        int64_t lt = t + off;
        local l;
        l.day = lt >= 0 ? lt / 86400 : -((-lt + 86399) / 86400);
        l.sec = (int)(lt - l.day * 86400);
        l.wday = tm_calendar_weekday(l.day);
        return l;
    }
    tm_civil c;
    tm_tz_to_local(z, t, &c);
    local l;
    l.day = tm_calendar_days_from_civil(c.year, c.month, c.day);
    l.sec = c.hour * 3600 + c.min * 60 + c.sec;
    l.wday = c.wday;
    return l;
}

/* The UTC instant of local `day` at `sec` seconds (sec may be 86400). A time
 * skipped by a DST change moves forward by the gap, as tm_tz_from_local does. */
static int64_t from_local(const tm_zone *z, int64_t day, int sec)
{
    day += sec / 86400;
    sec %= 86400;
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(day, &y, &m, &d);
    tm_civil c = {0};
    c.year = (int)y;
    c.month = m;
    c.day = d;
    c.hour = sec / 3600;
    c.min = sec / 60 % 60;
    c.sec = sec % 60;
    int64_t utc = 0;
    if (tm_tz_from_local(z, &c, TM_TZ_EARLIER, &utc, NULL) != TM_OK)
        utc = day * 86400 + sec; /* out of the zone's range: treat as UTC */
    return utc;
}

static int64_t to_local_day(ltcache *lc, const tm_zone *z, int64_t t)
{
    return to_local(lc, z, t).day;
}

static void two_digits(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/* "HH:MM"; by hand, as blocked contacts' reasons are written by the million. */
static void fmt_clock(int secs, char *buf, size_t cap)
{
    int h = secs / 3600, m = secs / 60 % 60;
    if (cap < 6 || h < 0 || h > 99 || m < 0) {
        snprintf(buf, cap, "%02d:%02d", h, m);
        return;
    }
    two_digits(buf, h);
    buf[2] = ':';
    two_digits(buf + 3, m);
    buf[5] = '\0';
}

static void fmt_day(int64_t day, char *buf, size_t cap)
{
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(day, &y, &m, &d);
    if (cap < 11 || y < 0 || y > 9999) {
        snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
        return;
    }
    two_digits(buf, (int)(y / 100));
    two_digits(buf + 2, (int)(y % 100));
    buf[4] = '-';
    two_digits(buf + 5, m);
    buf[7] = '-';
    two_digits(buf + 8, d);
    buf[10] = '\0';
}

static int is_holiday(int64_t day, int mode)
{
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(day, &y, &m, &d);
    tm_date date = {(int)y, m, d};
    tm_holiday_info hi;
    if (tm_calendar_us_holiday(date, &hi, NULL) != TM_OK)
        return 0;
    return hi.observed != 0 || (mode == 2 && hi.actual != 0);
}

/* ---------------------------------------------------------------------------
 * Rule evaluation.
 */

/* Copies `src` into dst (cap bytes), cut short as snprintf("%s") would:
 * decisions copy names and reasons by the thousand. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
void tm_gate_result_require(struct tm_rule_result *res, const char *field)
{
    for (int i = 0; i < res->nrequires; i++)
        if (strcmp(res->requires[i], field) == 0)
            return;
    if (res->nrequires < TM_RULE_MAX_FIELDS)
        copy_str(res->requires[res->nrequires++], sizeof res->requires[0], field);
}

void tm_gate_result_assume(struct tm_rule_result *res, const char *path)
{
    if (!res)
        return;
    for (int i = 0; i < res->nassumed; i++)
        if (strcmp(res->assumed[i], path) == 0)
            return;
    if (res->nassumed < TM_RULE_MAX_FIELDS)
        copy_str(res->assumed[res->nassumed++], sizeof res->assumed[0], path);
}

/* The owner of the debt as far as the request tells: a debt buyer
 * collecting owns the debt, a creditor collecting its own debt is its
 * original creditor; a third party collects for whoever debt.owner names. */
static int debt_owner(const tm_request *req)
{
    if (req->collector == TM_CO_DEBT_BUYER)
        return TM_OWNER_DEBT_BUYER;
    if (req->collector == TM_CO_CREDITOR)
        return TM_OWNER_ORIGINAL_CREDITOR;
    return req->owner;
}

/* Whether a condition on an optional fact holds: the fact is in `mask`, or
 * absent (the rule then applies on the consumer's side and `path` is
 * noted in res). */
static int fact_matches(uint32_t mask, int value, const char *path, tm_rule_result *res)
{
    if (!mask)
        return 1;
    if (value == TM_GATE_ABSENT) {
        tm_gate_result_assume(res, path);
        return 1;
    }
    return (mask >> value) & 1;
}

/* Whether rule r applies to req at instant t. The conditions on facts the
 * request may leave out come last: a rule that applies only because one was
 * absent notes it in res (may be NULL). */
static int rule_applies(ltcache *lc, const tm_rule *r, const tm_request *req, int64_t t, tm_rule_result *res)
{
    if (r->channels && !(r->channels & (1u << req->channel)))
        return 0;
    if (r->places && !(r->places & (1u << req->place)))
        return 0;
    if (r->purposes && !(r->purposes & (1u << req->purpose)))
        return 0;
    if (r->collectors && !(r->collectors & (1u << req->collector)))
        return 0;
    if (r->debt_types && !(r->debt_types & (1u << req->debt_type)))
        return 0;
    if (r->disputes && !(r->disputes & (1u << req->dispute)))
        return 0;
    if (r->flags_any && !(r->flags_any & req->flags))
        return 0;
    if (r->flags_none & req->flags)
        return 0;
    if (r->time_barred != TM_TRI_ABSENT && r->time_barred != req->time_barred)
        return 0;
    if (r->effective_day != INT64_MIN || r->expires_day != INT64_MAX) {
        /* Dates are the consumer's local ones. With several zones the rule
         * applies while its dates hold in any of them: a new rule starts at
         * the first local midnight, an old one lasts until the last. */
        int in_force = 0;
        for (int i = 0; i < req->nzones && !in_force; i++) {
            int64_t day = to_local_day(lc, req->zones[i], t);
            in_force = day >= r->effective_day && day < r->expires_day;
        }
        if (!in_force)
            return 0;
    }
    /* Facts the request may not give. Checked without noting first, so a
     * rule that does not apply assumes nothing. */
    if ((r->owners && debt_owner(req) != TM_GATE_ABSENT && !((r->owners >> debt_owner(req)) & 1)) ||
        (r->dialers && req->dialer != TM_GATE_ABSENT && !((r->dialers >> req->dialer) & 1)) ||
        (r->lines && req->line != TM_GATE_ABSENT && !((r->lines >> req->line) & 1)))
        return 0;
    if (r->nwhen_msg) {
        int any = 0, absent = 0;
        for (int i = 0; i < r->nwhen_msg && !any; i++) {
            int v = tm_gate_msg(req, r->when_msg[i]);
            any = v == TM_TRI_TRUE;
            absent |= v == TM_TRI_ABSENT;
        }
        if (!any && !absent)
            return 0;
        if (!any && res) {
            char path[TM_GATE_PATH_LEN];
            for (int i = 0; i < r->nwhen_msg; i++) {
                if (tm_gate_msg(req, r->when_msg[i]) != TM_TRI_ABSENT)
                    continue;
                snprintf(path, sizeof path, "message.%s", r->when_msg[i]);
                tm_gate_result_assume(res, path);
            }
        }
    }
    fact_matches(r->owners, debt_owner(req), "debt.owner", res);
    fact_matches(r->dialers, req->dialer, "dialer", res);
    fact_matches(r->lines, req->line, "line", res);
    return 1;
}

/* Whether history entry h counts for the CAP or AFTER rule r. An entry that
 * does not say whether the law required it counts (the consumer's side)
 * and sets *assumed. */
static int history_matches(const tm_rule *r, const tm_history *h, int *assumed)
{
    if (r->per_debt && h->other_debt)
        return 0;
    if (r->of_channels && !(r->of_channels & (1u << h->channel)))
        return 0;
    if (r->of_outcomes && !(r->of_outcomes & (1u << h->outcome)))
        return 0;
    if (r->of_places && !(r->of_places & (1u << h->place)))
        return 0;
    if (r->of_direction >= 0 && r->of_direction != h->direction)
        return 0;
    if (r->except_required) {
        if (h->required_by_law == TM_TRI_TRUE)
            return 0;
        if (h->required_by_law == TM_TRI_ABSENT && assumed)
            *assumed = 1;
    }
    return 1;
}

/* Whether a call at instant `at` falls within the consumer's direct
 * consent to more calls (12 CFR 1006.14(b)(3)(i)) as rule r counts it: on
 * or after the consent, within r->consent_days local dates in zone z, the
 * consent's date being day 1. */
static int within_consent(ltcache *lc, const tm_rule *r, const tm_request *req, const tm_zone *z, int64_t at)
{
    if (r->consent_days <= 0 || req->more_calls_at == INT64_MIN || at < req->more_calls_at)
        return 0;
    int64_t first = to_local_day(lc, z, req->more_calls_at);
    return to_local_day(lc, z, at) <= first + r->consent_days - 1;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

static void channel_list(uint32_t mask, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (mask == 0) {
        snprintf(buf, cap, "contacts");
        return;
    }
    size_t n = 0;
    for (int i = 0; tm_gate_channel_names[i]; i++) {
        if (!(mask & (1u << i)))
            continue;
        int w = snprintf(buf + n, cap - n, "%s%s%s", n ? "/" : "", tm_gate_channel_names[i],
                         i == TM_CH_SMS ? "" : "s");
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}

/* Earliest instant >= t at which the CAP rule allows the contact, in zone z
 * (or for rolling durations, in absolute time). */
static int64_t cap_next(ltcache *lc, const tm_rule *r, const tm_request *req, const tm_zone *z, int64_t t,
                        int *count_out, int *assumed)
{
    *count_out = 0;
    if (within_consent(lc, r, req, z, t))
        return t; /* placed with the consumer's direct consent to more calls */
    int64_t stack_keys[64];
    int64_t *keys = req->nhistory <= 64 ? stack_keys : malloc(sizeof(int64_t) * (size_t)req->nhistory);
    if (!keys)
        return TM_GATE_NEVER;
    int n = 0, count = 0;
    int64_t next = t;
    if (r->window_secs > 0) {
        for (int i = 0; i < req->nhistory; i++) {
            const tm_history *h = &req->history[i];
            if (h->at <= t && h->at > t - r->window_secs && !within_consent(lc, r, req, z, h->at) &&
                history_matches(r, h, assumed))
                keys[n++] = h->at;
        }
        count = n;
        if (count >= r->count) {
            qsort(keys, (size_t)n, sizeof *keys, cmp_desc);
            next = r->count > 0 ? keys[r->count - 1] + r->window_secs : TM_GATE_NEVER;
        }
    } else {
        local lt = to_local(lc, z, t);
        int64_t first = lt.day - r->window_days + 1;
        for (int i = 0; i < req->nhistory; i++) {
            const tm_history *h = &req->history[i];
            if (h->at > t || within_consent(lc, r, req, z, h->at))
                continue;
            int64_t d = to_local(lc, z, h->at).day;
            if (d >= first && d <= lt.day && history_matches(r, h, assumed))
                keys[n++] = d;
        }
        count = n;
        if (count >= r->count) {
            qsort(keys, (size_t)n, sizeof *keys, cmp_desc);
            next = r->count > 0 ? from_local(z, keys[r->count - 1] + r->window_days, 0) : TM_GATE_NEVER;
            if (next <= t)
                next = t + 1;
        }
    }
    if (keys != stack_keys)
        free(keys);
    *count_out = count;
    return next;
}

/* Evaluates one rule at instant t: returns the earliest instant >= t at which
 * it allows the contact (t when it does now), or TM_GATE_NEVER. Fills the
 * reason when blocked, and requirements, into res (may be NULL: the search
 * for the next allowed instant, which needs no words, so none are made). */
static int64_t rule_next(ltcache *lc, const tm_rule *r, const tm_request *req, int64_t t, tm_rule_result *res,
                         int *failed)
{
    char tmp[256], a[16], b[16];
    int64_t next = t;
    tmp[0] = '\0';
    switch (r->kind) {
    case TM_RULE_WINDOW:
    case TM_RULE_DAYS:
    case TM_RULE_INCONVENIENT: {
        /* Move forward until every zone allows; each step jumps to the next
         * instant the offending zone could allow, so nothing is skipped. */
        for (int iter = 0; iter < 64; iter++) {
            int moved = 0;
            for (int zi = 0; zi < req->nzones; zi++) {
                const tm_zone *z = req->zones[zi];
                local l = to_local(lc, z, next);
                int64_t cand = next;
                if (r->kind == TM_RULE_WINDOW) {
                    int inside = r->from_s <= r->to_s ? (l.sec >= r->from_s && l.sec < r->to_s)
                                                      : (l.sec >= r->from_s || l.sec < r->to_s);
                    if (!inside) {
                        int64_t day = l.day;
                        if (r->from_s <= r->to_s && l.sec >= r->to_s)
                            day++;
                        cand = from_local(z, day, r->from_s);
                        if (res && !tmp[0]) {
                            fmt_clock(r->from_s, a, sizeof a);
                            fmt_clock(r->to_s, b, sizeof b);
                            char now_s[16];
                            fmt_clock(l.sec, now_s, sizeof now_s);
                            snprintf(tmp, sizeof tmp, "outside %s-%s local time in %s (%s there)", a, b,
                                     tm_tz_name(z), now_s);
                        }
                    }
                } else if (r->kind == TM_RULE_DAYS) {
                    int banned_day = (r->days_mask >> l.wday) & 1;
                    int holiday = r->holidays && is_holiday(l.day, r->holidays);
                    if (banned_day || holiday) {
                        cand = from_local(z, l.day + 1, 0);
                        if (res && !tmp[0]) {
                            fmt_day(l.day, a, sizeof a);
                            snprintf(tmp, sizeof tmp, "%s is a %s in %s", a,
                                     holiday ? "federal holiday" : tm_gate_weekday_names[l.wday],
                                     tm_tz_name(z));
                        }
                    }
                } else { /* the consumer's own designations */
                    if ((req->inconvenient_days >> l.wday) & 1) {
                        cand = from_local(z, l.day + 1, 0);
                        if (res && !tmp[0])
                            snprintf(tmp, sizeof tmp, "the consumer said %ss are inconvenient",
                                     tm_gate_weekday_names[l.wday]);
                    } else {
                        for (int k = 0; k < req->nranges; k++) {
                            int f = req->range_from[k], e = req->range_to[k];
                            int in = f <= e ? (l.sec >= f && l.sec < e) : (l.sec >= f || l.sec < e);
                            if (!in)
                                continue;
                            int64_t day = (f > e && l.sec >= f) ? l.day + 1 : l.day;
                            int64_t c2 = from_local(z, day, e);
                            if (c2 > cand)
                                cand = c2;
                            if (res && !tmp[0]) {
                                fmt_clock(f, a, sizeof a);
                                fmt_clock(e, b, sizeof b);
                                snprintf(tmp, sizeof tmp,
                                         "the consumer said %s-%s is inconvenient", a, b);
                            }
                        }
                    }
                }
                if (cand > next) {
                    next = cand;
                    moved = 1;
                } else if (cand < next) {
                    /* A DST gap can map the target back; never move backwards. */
                }
            }
            if (!moved)
                break;
            if (next - t > HORIZON_SECS)
                return TM_GATE_NEVER;
        }
        break;
    }
    case TM_RULE_CAP: {
        int count = 0, worst = 0, assumed = 0;
        for (int zi = 0; zi < (r->window_secs > 0 ? 1 : req->nzones); zi++) {
            int c = 0;
            int64_t n = cap_next(lc, r, req, req->zones[zi], t, &c, &assumed);
            if (c > worst)
                worst = c;
            if (n > next)
                next = n;
            if (c > count)
                count = c;
        }
        if (next > t && res) {
            char what[64];
            channel_list(r->of_channels, what, sizeof what);
            if (r->window_secs > 0)
                snprintf(tmp, sizeof tmp, "%d %s in the last %lld hours (at most %d)", worst, what,
                         (long long)(r->window_secs / 3600), r->count);
            else
                snprintf(tmp, sizeof tmp, "%d %s in the last %d days (at most %d)", worst, what,
                         r->window_days, r->count);
            if (assumed)
                tm_gate_result_assume(res, "history[].required_by_law");
        }
        break;
    }
    case TM_RULE_AFTER: {
        for (int zi = 0; zi < req->nzones; zi++) {
            const tm_zone *z = req->zones[zi];
            local lt = to_local(lc, z, t);
            int64_t last = INT64_MIN;
            if (within_consent(lc, r, req, z, t))
                continue; /* placed with the consumer's direct consent to more calls */
            for (int i = 0; i < req->nhistory; i++) {
                const tm_history *h = &req->history[i];
                if (h->at > t || within_consent(lc, r, req, z, h->at) || !history_matches(r, h, NULL))
                    continue;
                int64_t d = to_local(lc, z, h->at).day;
                if (d > last)
                    last = d;
            }
            if (last != INT64_MIN && lt.day <= last + r->window_days - 1) {
                int64_t n = from_local(z, last + r->window_days, 0);
                if (n > next)
                    next = n;
                if (res && !tmp[0]) {
                    fmt_day(last, a, sizeof a);
                    snprintf(tmp, sizeof tmp, "%s on %s; none for %d days", 
                             r->of_outcomes == (1u << TM_OUT_CONVERSATION) ? "telephone conversation"
                                                                            : "contact",
                             a, r->window_days);
                }
            }
        }
        break;
    }
    case TM_RULE_BLOCK:
        next = TM_GATE_NEVER;
        copy_str(tmp, sizeof tmp, "contact not allowed");
        break;
    case TM_RULE_REQUIRES:
        for (int i = 0; i < r->nfields; i++) {
            int v = tm_gate_msg(req, r->fields[i]);
            if (v == TM_TRI_FALSE) {
                next = TM_GATE_NEVER;
                snprintf(tmp, sizeof tmp, "the message must carry %s", r->fields[i]);
            } else if (v == TM_TRI_ABSENT && res) {
                tm_gate_result_require(res, r->fields[i]);
            }
        }
        break;
    case TM_RULE_FORBID:
        for (int i = 0; i < r->nfields; i++) {
            if (tm_gate_msg(req, r->fields[i]) == TM_TRI_TRUE) {
                next = TM_GATE_NEVER;
                snprintf(tmp, sizeof tmp, "the message must not carry %s", r->fields[i]);
            }
        }
        break;
    case TM_RULE_CONSENT: {
        uint32_t need = r->consent_bit ? r->consent_bit : 1u << req->channel;
        if (!(req->consent & need)) {
            next = TM_GATE_NEVER;
            snprintf(tmp, sizeof tmp, "no consent to %s on file",
                     r->consent_bit == TM_CONSENT_AUTODIAL ? "autodialed or prerecorded calls"
                                                            : tm_gate_channel_names[req->channel]);
        }
        break;
    }
    case TM_RULE_OPTOUT:
        if (req->optout & (1u << req->channel)) {
            next = TM_GATE_NEVER;
            snprintf(tmp, sizeof tmp, "the consumer opted out of %s",
                     tm_gate_channel_names[req->channel]);
        }
        break;
    case TM_RULE_CHECK: {
        int blocked = 0;
        int64_t n = TM_GATE_NEVER;
        tm_rule_result scratch = {0};
        int rc = r->check ? r->check(r->check_ud, r, req, t, &blocked, tmp, sizeof tmp, &n,
                                     res ? res : &scratch)
                          : TM_EINVAL;
        if (rc != TM_OK) {
            if (failed)
                *failed = 1;
            if (res)
                res->failed = 1;
            next = TM_GATE_NEVER;
            if (!tmp[0])
                snprintf(tmp, sizeof tmp, "rule failed");
        } else if (blocked) {
            next = n > t ? n : TM_GATE_NEVER;
            if (!tmp[0])
                snprintf(tmp, sizeof tmp, "blocked by the rule's check");
        }
        break;
    }
    case TM_RULE_REQUESTS:
        /* The first of the consumer's requests made by t that bears on this
         * contact blocks it, for good: none lapses. A time of day is
         * inconvenient when it is inside from..to in any zone. */
        for (int i = 0; i < req->nrequests && next == t; i++) {
            const tm_consumer_request *q = &req->requests[i];
            const char *why = NULL;
            if (q->at > t)
                continue;
            if (q->type == TM_CREQ_NO_WORK_CONTACT && req->place == TM_PLACE_WORK) {
                why = "the consumer asked not to be contacted at work (an inconvenient place)";
            } else if (q->type == TM_CREQ_NO_CALLS_AT && req->channel == TM_CH_CALL) {
                for (int zi = 0; zi < req->nzones && !why; zi++) {
                    int s = to_local(lc, req->zones[zi], t).sec;
                    int in = q->from_s <= q->to_s ? (s >= q->from_s && s < q->to_s)
                                                  : (s >= q->from_s || s < q->to_s);
                    if (in)
                        why = "the consumer asked not to be called at this time of day";
                }
            } else if (q->type == TM_CREQ_CONTACT_ONLY_BY && !(q->channels & (1u << req->channel))) {
                why = "the consumer asked to be contacted only by other media";
            }
            if (why) {
                next = TM_GATE_NEVER;
                if (res)
                    copy_str(tmp, sizeof tmp, why);
            }
        }
        break;
    case TM_RULE_MARGIN:
        break; /* applied when the debt's status is worked out, never a block */
    default:
        next = TM_GATE_NEVER;
        snprintf(tmp, sizeof tmp, "unknown rule kind");
    }
    if (res && next != t) {
        res->blocked = 1;
        res->next = next;
        copy_str(res->reason, sizeof res->reason,
                 r->reason && r->kind != TM_RULE_CHECK ? r->reason : tmp);
    }
    return next;
}

/* ---------------------------------------------------------------------------
 * The gate.
 */
static void ix_free_all(tm_gate *g);

tm_gate *tm_gate_new(void)
{
    tm_gate *g = calloc(1, sizeof *g);
    return g;
}

static void free_regulation(tm_regulation *reg)
{
    for (int i = 0; i < reg->nrules; i++) {
        free(reg->rules[i].cite);
        free(reg->rules[i].reason);
        free(reg->rules[i].missing);
        free(reg->rules[i].interpretation);
    }
    free(reg->rules);
    free(reg->name);
    free(reg->script);
    free(reg->checked);
    free(reg->finding);
    free(reg->missing);
    free(reg->interpretation);
    for (int i = 0; i < reg->ncities; i++)
        free(reg->cities[i]);
    for (int i = 0; i < reg->ncreditors; i++)
        free(reg->creditors[i]);
}

void tm_gate_free(tm_gate *g)
{
    if (!g)
        return;
    ix_free_all(g);
    for (int i = 0; i < g->nregs; i++)
        free_regulation(&g->regs[i]);
    free(g->regs);
    free(g->sol);
    free(g);
}

int tm_gate_add(tm_gate *g, tm_regulation *reg, struct tm_err *err)
{
    ix_free_all(g);
    if (g->nregs == g->capregs) {
        int cap = g->capregs ? g->capregs * 2 : 32;
        tm_regulation *q = realloc(g->regs, (size_t)cap * sizeof *q);
        if (!q)
            return tm_err_set(err, TM_ENOMEM, "out of memory adding a regulation");
        g->regs = q;
        g->capregs = cap;
    }
    g->regs[g->nregs++] = *reg;
    memset(reg, 0, sizeof *reg);
    return TM_OK;
}

void tm_gate_set_sol(tm_gate *g, const tm_sol *sol, int n)
{
    ix_free_all(g);
    free(g->sol);
    g->sol = n > 0 ? malloc(sizeof *sol * (size_t)n) : NULL;
    g->nsol = g->sol ? n : 0;
    if (g->sol)
        memcpy(g->sol, sol, sizeof *sol * (size_t)n);
}

void tm_gate_set_scripts_hash(tm_gate *g, const char *hex)
{
    snprintf(g->scripts, sizeof g->scripts, "%s", hex ? hex : "");
}

const char *tm_gate_scripts_hash(const tm_gate *g) { return g->scripts; }
int tm_gate_count(const tm_gate *g) { return g->nregs; }
const tm_regulation *tm_gate_regulation(const tm_gate *g, int i) { return &g->regs[i]; }

static int city_match(const char *a, const char *b)
{
    /* Case-insensitive, ignoring spaces and dots: "New York" ~ "new york". */
    for (;;) {
        while (*a == ' ' || *a == '.')
            a++;
        while (*b == ' ' || *b == '.')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y)
            return 0;
        a++, b++;
    }
}

/* Whether `reg` applies to `req`; with `states_known` its states are taken
 * as matching (the index only lists a state's own regulations). */
static int reg_applies_where(const tm_regulation *reg, const tm_request *req, int states_known)
{
    if (reg->collectors && !(reg->collectors & (1u << req->collector)))
        return 0;
    if (reg->nstates && !states_known) {
        int ok = 0;
        for (int i = 0; i < reg->nstates && !ok; i++)
            ok = strcmp(reg->states[i], req->state) == 0;
        if (!ok)
            return 0;
    }
    if (reg->ncities) {
        if (!req->city)
            return 0;
        int ok = 0;
        for (int i = 0; i < reg->ncities && !ok; i++)
            ok = city_match(reg->cities[i], req->city);
        if (!ok)
            return 0;
    }
    if (reg->ncreditors) {
        if (!req->creditor)
            return 0;
        int ok = 0;
        for (int i = 0; i < reg->ncreditors && !ok; i++)
            ok = strcmp(reg->creditors[i], req->creditor) == 0;
        if (!ok)
            return 0;
    }
    return 1;
}

static int reg_applies(const tm_regulation *reg, const tm_request *req)
{
    return reg_applies_where(reg, req, 0);
}

/* ---------------------------------------------------------------------------
 * Statutes of limitation.
 */
static int holiday_matches(const tm_sol_holiday *h, int64_t y, int64_t day)
{
    if ((h->from_year && y < h->from_year) || (h->to_year && y > h->to_year))
        return 0;
    if (h->nth == 0) {
        if (day - h->offset == tm_calendar_days_from_civil(y, h->month, h->day))
            return 1;
        if (!h->observed)
            return 0;
        /* Observed on the Friday before a Saturday, the Monday after a
         * Sunday (the year may differ: January 1 on a Saturday). */
        int wd = tm_calendar_weekday(day);
        int64_t fixed = wd == 5 ? day + 1 : wd == 1 ? day - 1 : INT64_MIN;
        if (fixed == INT64_MIN)
            return 0;
        int64_t fy;
        int fm, fd;
        tm_calendar_civil_from_days(fixed, &fy, &fm, &fd);
        return fm == h->month && fd == h->day && (!h->from_year || fy >= h->from_year) &&
               (!h->to_year || fy <= h->to_year);
    }
    /* The nth (or last) weekday of the month, plus the offset: look at the
     * date the offset came from. */
    int64_t base = day - h->offset, by;
    int bm, bd;
    tm_calendar_civil_from_days(base, &by, &bm, &bd);
    if (bm != h->month || tm_calendar_weekday(base) != h->wday)
        return 0;
    if (h->nth > 0)
        return (bd - 1) / 7 + 1 == h->nth;
    return bd + 7 > tm_calendar_days_in_month(by, bm);
}

int tm_gate_sol_is_holiday(const tm_sol *sol, int64_t day)
{
    if (!sol->roll)
        return 0;
    if ((sol->roll_weekdays >> tm_calendar_weekday(day)) & 1)
        return 1;
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(day, &y, &m, &d);
    if (sol->roll_federal) {
        tm_date date = {(int)y, m, d};
        tm_holiday_info hi;
        if (tm_calendar_us_holiday(date, &hi, NULL) == TM_OK && hi.actual)
            return 1;
    }
    for (int i = 0; i < sol->nholidays; i++)
        if (holiday_matches(&sol->holidays[i], y, day))
            return 1;
    return 0;
}

int64_t tm_gate_sol_last_day(const tm_sol *sol, int debt_type, int64_t accrual_day)
{
    if (debt_type < 0 || debt_type >= TM_DT__COUNT || sol->years[debt_type] <= 0)
        return INT64_MIN;
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(accrual_day, &y, &m, &d);
    y += sol->years[debt_type];
    int last = tm_calendar_days_in_month(y, m);
    int64_t day = tm_calendar_days_from_civil(y, m, d <= last ? d : last);
    /* A run of holidays is never longer than a few days; the bound only
     * guards a roll that would make every day a holiday. */
    for (int i = 0; i < 14 && tm_gate_sol_is_holiday(sol, day); i++)
        day++;
    return day;
}

/* The last days worked out lately, by statute, debt type and accrual day:
 * a portfolio's debts share a few states and dates. Direct-mapped; a miss
 * works the day out afresh. */
#define SOL_MEMO 256
typedef struct sol_memo {
    const tm_sol *sol[SOL_MEMO];
    int type[SOL_MEMO];
    int64_t accrual[SOL_MEMO], last[SOL_MEMO];
} sol_memo;

static int64_t sol_last_day(sol_memo *m, const tm_sol *sol, int debt_type, int64_t accrual)
{
    if (!m)
        return tm_gate_sol_last_day(sol, debt_type, accrual);
    uint64_t h = ((uint64_t)accrual * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(uintptr_t)sol >> 4) ^
                 (uint64_t)debt_type;
    unsigned k = (unsigned)(h >> 56) & (SOL_MEMO - 1);
    if (m->sol[k] == sol && m->type[k] == debt_type && m->accrual[k] == accrual)
        return m->last[k];
    int64_t last = tm_gate_sol_last_day(sol, debt_type, accrual);
    m->sol[k] = sol;
    m->type[k] = debt_type;
    m->accrual[k] = accrual;
    m->last[k] = last;
    return last;
}

static void decision_assume(tm_decision *d, const char *path)
{
    for (int i = 0; i < d->nassumed; i++)
        if (strcmp(d->assumed[i], path) == 0)
            return;
    if (d->nassumed < TM_GATE_MAX_ASSUMED)
        copy_str(d->assumed[d->nassumed++], sizeof d->assumed[0], path);
}

/* The day the claim accrued, as sol.lua says the state counts it for this
 * debt type, from the dates the request gives. A date that stands in for a
 * missing one is the earliest the law could support (the debt is then
 * treated as time-barred no later than the law makes it), and the missing
 * field is noted as assumed. INT64_MIN when the request gives no date. */
static int64_t accrual_day(const tm_sol *sol, const tm_request *req, tm_decision *d)
{
    int kind = sol->accrual[req->debt_type];
    int64_t paid = req->last_payment_day, dflt = req->default_day, off = req->charge_off_day;
    switch (kind) {
    case TM_ACCRUAL_CHARGE_OFF:
        if (off != INT64_MIN)
            return off;
        decision_assume(d, "debt.charge_off_date");
        kind = TM_ACCRUAL_DEFAULT;
        break;
    case TM_ACCRUAL_LAST_PAYMENT:
    case TM_ACCRUAL_LAST_PAYMENT_30: {
        int64_t plus = kind == TM_ACCRUAL_LAST_PAYMENT_30 ? 30 : 0;
        if (paid != INT64_MIN)
            return paid + plus;
        decision_assume(d, "debt.last_payment_date");
        if (dflt != INT64_MIN)
            return dflt;
        return off;
    }
    case TM_ACCRUAL_EARLIEST: {
        int64_t e = INT64_MAX;
        if (paid != INT64_MIN && paid < e)
            e = paid;
        if (dflt != INT64_MIN && dflt < e)
            e = dflt;
        if (off != INT64_MIN && off < e)
            e = off;
        return e == INT64_MAX ? INT64_MIN : e;
    }
    default:
        break;
    }
    /* The first missed payment after the last payment: given, or the last
     * payment itself (the default can only come after it), or at worst the
     * charge-off, the only date known. */
    if (dflt != INT64_MIN)
        return dflt; /* the request checked it is not before the last payment */
    if (paid != INT64_MIN || off != INT64_MIN)
        decision_assume(d, "debt.default_date");
    if (paid != INT64_MIN)
        return paid;
    if (off != INT64_MIN)
        decision_assume(d, "debt.last_payment_date");
    return off;
}

/* The consumer's local date at `now`: in the first of the consumer's
 * zones (the residence; the state's principal zone when none was given). */
static int64_t consumer_today(ltcache *lc, const tm_request *req)
{
    if (req->nzones > 0)
        return to_local_day(lc, req->zones[0], req->now);
    return req->now >= 0 ? req->now / 86400 : (req->now - 86399) / 86400;
}

/* Works out whether the debt is time-barred (when the request does not
 * say): the date the law makes it so, and a creditor policy's margin. With
 * the state's index `ix` only its statute and margin rules are looked at;
 * NULL looks at every one. */
static void work_out_time_barred(const tm_gate *g, const ix_state *ix, ltcache *lc,
                                 tm_request *req, tm_decision *d)
{
    d->time_barred_on = INT64_MIN;
    if (req->time_barred_given) {
        d->barred_by = TM_BARRED_REQUEST;
        return;
    }
    req->time_barred = TM_TRI_FALSE;
    const tm_sol *sol = NULL;
    if (ix) {
        sol = ix->sol;
    } else {
        for (int i = 0; i < g->nsol && !sol; i++)
            if (strcmp(g->sol[i].state, req->state) == 0)
                sol = &g->sol[i];
    }
    if (!sol || sol->years[req->debt_type] <= 0)
        return;
    int64_t start = accrual_day(sol, req, d);
    if (start == INT64_MIN)
        return;
    int64_t last = sol_last_day(ix ? g->sol_memo : NULL, sol, req->debt_type, start);
    if (last == INT64_MIN)
        return;
    d->time_barred_on = last + 1;
    d->barred_by = TM_BARRED_LAW;
    /* The largest margin of the creditor policies that apply. */
    if (ix) {
        for (int i = 0; i < ix->nmargins; i++) {
            const tm_rule *r = &g->regs[ix->margins[i].reg].rules[ix->margins[i].rule];
            if (g->reg_ok[ix->margins[i].reg] && rule_applies(lc, r, req, req->now, NULL) &&
                (!d->margin || r->margin_days > d->margin->margin_days))
                d->margin = r;
        }
    } else {
        for (int ri = 0; ri < g->nregs; ri++) {
            const tm_regulation *reg = &g->regs[ri];
            if (!reg_applies(reg, req))
                continue;
            for (int k = 0; k < reg->nrules; k++) {
                const tm_rule *r = &reg->rules[k];
                if (r->kind == TM_RULE_MARGIN && rule_applies(lc, r, req, req->now, NULL) &&
                    (!d->margin || r->margin_days > d->margin->margin_days))
                    d->margin = r;
            }
        }
    }
    int64_t today = consumer_today(lc, req);
    if (d->margin)
        d->margin_on = d->time_barred_on - d->margin->margin_days;
    if (today >= d->time_barred_on) {
        req->time_barred = TM_TRI_TRUE;
    } else if (d->margin && today >= d->margin_on) {
        req->time_barred = TM_TRI_TRUE;
        d->barred_by = TM_BARRED_POLICY;
    }
}

/* Adds a rule's requirements and assumptions to the decision. What a rule
 * assumed counts only when the rule then blocked or asked for content: a
 * rule that let the contact through unchanged did not turn on it. */
static void merge_result(tm_decision *d, const tm_rule_result *res)
{
    for (int i = 0; i < res->nrequires; i++) {
        int dup = 0;
        for (int j = 0; j < d->nrequires && !dup; j++)
            dup = strcmp(d->requires[j], res->requires[i]) == 0;
        if (!dup && d->nrequires < 16)
            copy_str(d->requires[d->nrequires++], sizeof d->requires[0], res->requires[i]);
    }
    if (res->blocked || res->nrequires)
        for (int i = 0; i < res->nassumed; i++)
            decision_assume(d, res->assumed[i]);
}

/* ---------------------------------------------------------------------------
 * The index: for each state, the rules a request can meet (ix_state). Built
 * on the first request from a state, dropped when the gate's regulations or
 * statutes change.
 */
/* The list for channel c, flagged f, collector co, place pl. */
static int ix_list(int c, int f, int co, int pl)
{
    return ((c * 2 + f) * TM_CO__COUNT + co) * TM_PLACE__COUNT + pl;
}

static void ix_free_all(tm_gate *g)
{
    for (int i = 0; i < IX_SLOTS; i++) {
        ix_state *x = g->ix[i];
        if (!x)
            continue;
        for (int l = 0; l < IX_LISTS; l++)
            free(x->list[l]);
        free(x->regs);
        free(x->margins);
        free(x);
        g->ix[i] = NULL;
    }
    free(g->reg_ok);
    g->reg_ok = NULL;
    free(g->sol_memo); /* its statutes' addresses may be reused */
    g->sol_memo = NULL;
}

static int ix_slot(const char *state)
{
    if (state[0] < 'A' || state[0] > 'Z' || state[1] < 'A' || state[1] > 'Z' || state[2])
        return -1;
    return (state[0] - 'A') * 26 + (state[1] - 'A');
}

static int ix_push(ix_rule **v, int *n, int reg, int rule)
{
    ix_rule *q = realloc(*v, (size_t)(*n + 1) * sizeof *q);
    if (!q)
        return TM_ENOMEM;
    q[*n] = (ix_rule){reg, rule};
    *v = q;
    (*n)++;
    return TM_OK;
}

static ix_state *ix_build(const tm_gate *g, const char *state)
{
    ix_state *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    int ok = 1;
    if (g->nregs && !(x->regs = malloc(sizeof *x->regs * (size_t)g->nregs)))
        ok = 0;
    for (int ri = 0; ok && ri < g->nregs; ri++) {
        const tm_regulation *reg = &g->regs[ri];
        if (reg->nstates) {
            int in = 0;
            for (int i = 0; i < reg->nstates && !in; i++)
                in = strcmp(reg->states[i], state) == 0;
            if (!in)
                continue;
        }
        x->regs[x->nregs++] = ri;
        for (int k = 0; ok && k < reg->nrules; k++) {
            const tm_rule *r = &reg->rules[k];
            if (r->kind == TM_RULE_MARGIN && ix_push(&x->margins, &x->nmargins, ri, k) != TM_OK)
                ok = 0;
            for (int c = 0; ok && c < TM_CH__COUNT; c++) {
                if (r->channels && !(r->channels & (1u << c)))
                    continue;
                for (int f = 0; ok && f < 2; f++) {
                    if (!f && r->flags_any)
                        continue; /* applies only to a flag, and there is none */
                    for (int co = 0; ok && co < TM_CO__COUNT; co++) {
                        if ((r->collectors && !(r->collectors & (1u << co))) ||
                            (reg->collectors && !(reg->collectors & (1u << co))))
                            continue;
                        for (int pl = 0; ok && pl < TM_PLACE__COUNT; pl++) {
                            if (r->places && !(r->places & (1u << pl)))
                                continue;
                            int l = ix_list(c, f, co, pl);
                            if (ix_push(&x->list[l], &x->n[l], ri, k) != TM_OK)
                                ok = 0;
                        }
                    }
                }
            }
        }
    }
    for (int i = 0; i < g->nsol && !x->sol; i++)
        if (strcmp(g->sol[i].state, state) == 0)
            x->sol = &g->sol[i];
    if (!ok) {
        for (int l = 0; l < IX_LISTS; l++)
            free(x->list[l]);
        free(x->regs);
        free(x->margins);
        free(x);
        return NULL;
    }
    return x;
}

/* The index for the request's state, built when first needed; NULL when the
 * request cannot use one (the reference path, a state that is not two
 * capital letters, a channel, collector or place out of range, no memory): every rule is then
 * visited, which gives the same answer more slowly. */
static ix_state *ix_get(tm_gate *g, const tm_request *req)
{
    int slot = ix_slot(req->state);
    if (g->reference || slot < 0 || req->channel < 0 || req->channel >= TM_CH__COUNT ||
        req->collector < 0 || req->collector >= TM_CO__COUNT || req->place < 0 ||
        req->place >= TM_PLACE__COUNT)
        return NULL;
    if (!g->reg_ok && g->nregs && !(g->reg_ok = malloc((size_t)g->nregs)))
        return NULL;
    if (!g->sol_memo && !(g->sol_memo = calloc(1, sizeof *g->sol_memo)))
        return NULL;
    if (!g->ix[slot])
        g->ix[slot] = ix_build(g, req->state);
    return g->ix[slot];
}

void tm_gate_set_reference(tm_gate *g, int on)
{
    g->reference = on != 0;
}

/* Walks the rules a decision visits, in the gate's order: the index's list
 * for the request (regulations that do not apply skipped), or every rule
 * of every regulation that applies. */
typedef struct walk {
    const tm_gate *g;
    const ix_state *ix;
    const tm_request *req;
    const ix_rule *list;
    int n, i, k;
} walk;

static void walk_start(walk *w, const tm_gate *g, const ix_state *ix, const tm_request *req)
{
    w->g = g;
    w->ix = ix;
    w->req = req;
    w->i = 0;
    w->k = 0;
    if (ix) {
        int l = ix_list(req->channel, req->flags != 0, req->collector, req->place);
        w->list = ix->list[l];
        w->n = ix->n[l];
    }
}

static const tm_rule *walk_next(walk *w)
{
    const tm_gate *g = w->g;
    if (w->ix) {
        while (w->i < w->n) {
            const ix_rule *e = &w->list[w->i++];
            if (g->reg_ok[e->reg])
                return &g->regs[e->reg].rules[e->rule];
        }
        return NULL;
    }
    while (w->i < g->nregs) {
        const tm_regulation *reg = &g->regs[w->i];
        if (w->k == 0 && !reg_applies(reg, w->req)) {
            w->i++;
            continue;
        }
        if (w->k < reg->nrules)
            return &reg->rules[w->k++];
        w->i++;
        w->k = 0;
    }
    return NULL;
}

int tm_gate_decide(tm_gate *g, tm_request *req, tm_decision *d)
{
    memset(d, 0, sizeof *d);
    ix_state *ix = ix_get(g, req);
    ltcache cache, *lc = NULL;
    if (ix) {
        lc = &cache;
        lt_reset(lc);
        for (int i = 0; i < ix->nregs; i++)
            g->reg_ok[ix->regs[i]] = (unsigned char)reg_applies_where(&g->regs[ix->regs[i]], req, 1);
    }
    work_out_time_barred(g, ix, lc, req, d);
    int cap = 0;
    int failed = 0;
    walk w;
    const tm_rule *r;
    /* 1. Every applicable rule at `now`. */
    walk_start(&w, g, ix, req);
    while ((r = walk_next(&w)) != NULL) {
        tm_rule_result res;
        /* The header only: the arrays are read no further than their counts. */
        res.rule = r;
        res.blocked = 0;
        res.next = 0;
        res.failed = 0;
        res.reason[0] = '\0';
        res.nrequires = 0;
        res.nassumed = 0;
        if (!rule_applies(lc, r, req, req->now, &res))
            continue;
        int f = 0;
        rule_next(lc, r, req, req->now, &res, &f);
        failed |= f;
        merge_result(d, &res);
        if (!res.blocked)
            continue;
        if (d->nblocked == cap) {
            cap = cap ? cap * 2 : 8;
            tm_rule_result *q = realloc(d->blocked, (size_t)cap * sizeof *q);
            if (!q)
                break;
            d->blocked = q;
        }
        d->blocked[d->nblocked++] = res;
    }
    d->error = failed;
    d->allow = d->nblocked == 0;
    if (d->allow) {
        d->next_allowed = req->now;
        return TM_OK;
    }
    /* 2. The earliest instant every rule allows: jump forward to each rule's
     * own answer until none moves; never when one says never. */
    int64_t t = req->now;
    for (int b = 0; b < d->nblocked; b++) {
        if (d->blocked[b].next == TM_GATE_NEVER) {
            d->next_allowed = TM_GATE_NEVER;
            return TM_OK;
        }
        if (d->blocked[b].next > t)
            t = d->blocked[b].next;
    }
    for (int step = 0; step < MAX_FIXPOINT_STEPS; step++) {
        int moved = 0;
        walk_start(&w, g, ix, req);
        while ((r = walk_next(&w)) != NULL) {
            if (!rule_applies(lc, r, req, t, NULL))
                continue;
            int f = 0;
            int64_t n = rule_next(lc, r, req, t, NULL, &f);
            if (n == TM_GATE_NEVER || f) {
                d->next_allowed = TM_GATE_NEVER;
                return TM_OK;
            }
            if (n > t) {
                t = n;
                moved = 1;
            }
        }
        if (!moved) {
            d->next_allowed = t;
            return TM_OK;
        }
        if (t - req->now > HORIZON_SECS)
            break;
    }
    d->next_allowed = TM_GATE_NEVER;
    return TM_OK;
}

void tm_gate_decision_free(tm_decision *d)
{
    free(d->blocked);
    memset(d, 0, sizeof *d);
}

/* ---------------------------------------------------------------------------
 * Explaining a decision. The verdicts come from the same reg_applies,
 * rule_applies and rule_next the decision uses; the words for a condition
 * that does not hold are found only after the real test said so, so the
 * explanation cannot disagree with the decision.
 */
void tm_gate_mask_names(uint32_t mask, const char *const *names, const char *sep, char *buf,
                        size_t cap)
{
    size_t n = 0;
    if (cap)
        buf[0] = '\0';
    for (int i = 0; names[i] && i < 32; i++) {
        if (!(mask & (1u << i)))
            continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n ? sep : "", names[i]);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}

/* Appends to buf (cap bytes, NUL-terminated) as snprintf would. */
static void cat(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static void list_states(const tm_regulation *reg, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int i = 0; i < reg->nstates; i++) {
        if (i == 8) {
            cat(buf, cap, " and %d more", reg->nstates - 8);
            break;
        }
        cat(buf, cap, "%s%s", i ? ", " : "", reg->states[i]);
    }
}

static void list_strings(char *const *v, int n, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        cat(buf, cap, "%s%s", i ? ", " : "", v[i]);
}

/* Where `reg` applies and what of the request matched it (applies), or the
 * condition that does not hold. */
static void reg_why(const tm_regulation *reg, const tm_request *req, int applies, char *why,
                    size_t cap)
{
    char list[200];
    why[0] = '\0';
    if (!applies) {
        /* Where first, then whom: either is a true reason, and a state is
         * what a reader looks for first. */
        if (reg->nstates) {
            int ok = 0;
            for (int i = 0; i < reg->nstates && !ok; i++)
                ok = strcmp(reg->states[i], req->state) == 0;
            if (!ok) {
                list_states(reg, list, sizeof list);
                snprintf(why, cap, "applies in %s only; the consumer's state is %s", list,
                         req->state);
            }
        }
        if (!why[0] && reg->ncities) {
            int ok = 0;
            for (int i = 0; req->city && i < reg->ncities && !ok; i++)
                ok = city_match(reg->cities[i], req->city);
            if (!ok) {
                list_strings(reg->cities, reg->ncities, list, sizeof list);
                if (req->city)
                    snprintf(why, cap, "applies in %s only; the consumer's city is %s", list,
                             req->city);
                else
                    snprintf(why, cap, "applies in %s only; the request gives no city", list);
            }
        }
        if (!why[0] && reg->collectors && !(reg->collectors & (1u << req->collector))) {
            tm_gate_mask_names(reg->collectors, tm_gate_collector_names, ", ", list, sizeof list);
            snprintf(why, cap, "binds %s collectors only; this collector is %s", list,
                     tm_gate_collector_names[req->collector]);
        }
        if (!why[0] && reg->ncreditors) {
            list_strings(reg->creditors, reg->ncreditors, list, sizeof list);
            if (req->creditor)
                snprintf(why, cap, "applies to creditor %s only; the creditor is %s", list,
                         req->creditor);
            else
                snprintf(why, cap, "applies to creditor %s only; the request names no creditor",
                         list);
        }
        if (!why[0])
            snprintf(why, cap, "a condition of where it applies does not hold");
        return;
    }
    if (reg->nstates)
        cat(why, cap, "the consumer's state is %s", req->state);
    else
        cat(why, cap, "every state");
    if (reg->ncities)
        cat(why, cap, "; the consumer's city is %s", req->city ? req->city : "");
    if (reg->ncreditors)
        cat(why, cap, "; the creditor is %s", req->creditor ? req->creditor : "");
    if (reg->collectors) {
        tm_gate_mask_names(reg->collectors, tm_gate_collector_names, ", ", list, sizeof list);
        cat(why, cap, "; binds %s collectors, this one is %s", list,
            tm_gate_collector_names[req->collector]);
    } else {
        cat(why, cap, "; every collector");
    }
}

/* The first condition of rule `r` that does not hold for `req` at `t`
 * (rule_applies said one does not). */
static void rule_why_not(const tm_rule *r, const tm_request *req, int64_t t, char *why, size_t cap)
{
    char list[200];
#define ONLY(mask, value, names, what)                                                         \
    if ((mask) && !((mask) & (1u << (value)))) {                                               \
        tm_gate_mask_names(mask, names, ", ", list, sizeof list);                              \
        snprintf(why, cap, "applies to %s %.120s only; this one is %s", what, list, names[value]); \
        return;                                                                                \
    }
    ONLY(r->channels, req->channel, tm_gate_channel_names, "channel")
    ONLY(r->places, req->place, tm_gate_place_names, "place")
    ONLY(r->purposes, req->purpose, tm_gate_purpose_names, "purpose")
    ONLY(r->collectors, req->collector, tm_gate_collector_names, "collector")
    ONLY(r->debt_types, req->debt_type, tm_gate_debt_type_names, "debt type")
    ONLY(r->disputes, req->dispute, tm_gate_dispute_names, "dispute")
#undef ONLY
    if (r->flags_any && !(r->flags_any & req->flags)) {
        tm_gate_mask_names(r->flags_any, tm_gate_flag_names, ", ", list, sizeof list);
        snprintf(why, cap, "applies when the consumer is flagged %.120s; no such flag", list);
        return;
    }
    if (r->flags_none & req->flags) {
        tm_gate_mask_names(r->flags_none & req->flags, tm_gate_flag_names, ", ", list, sizeof list);
        snprintf(why, cap, "does not apply when the consumer is flagged %.120s, as this one is", list);
        return;
    }
    if (r->time_barred != TM_TRI_ABSENT && r->time_barred != req->time_barred) {
        snprintf(why, cap, "%s",
                 r->time_barred == TM_TRI_TRUE
                     ? "applies to time-barred debts only; this one is not"
                     : "applies to debts that are not time-barred; this one is");
        return;
    }
#define ONLY_FACT(mask, value, names, what)                                                     \
    if ((mask) && (value) != TM_GATE_ABSENT && !((mask) & (1u << (value)))) {                  \
        tm_gate_mask_names(mask, names, ", ", list, sizeof list);                              \
        snprintf(why, cap, "applies to %s %.120s only; this one is %s", what, list, names[value]); \
        return;                                                                                \
    }
    ONLY_FACT(r->owners, debt_owner(req), tm_gate_owner_names, "debt owner")
    ONLY_FACT(r->dialers, req->dialer, tm_gate_dialer_names, "dialer")
    ONLY_FACT(r->lines, req->line, tm_gate_line_names, "line")
#undef ONLY_FACT
    if (r->nwhen_msg) {
        int any = 0;
        for (int i = 0; i < r->nwhen_msg && !any; i++)
            any = tm_gate_msg(req, r->when_msg[i]) == TM_TRI_TRUE;
        if (!any) {
            list[0] = '\0';
            for (int i = 0; i < r->nwhen_msg; i++)
                cat(list, sizeof list, "%s%s", i ? " or " : "", r->when_msg[i]);
            snprintf(why, cap, "applies when the message carries %.120s; it does not", list);
            return;
        }
    }
    if (r->effective_day != INT64_MIN || r->expires_day != INT64_MAX) {
        char a[16], b[16];
        int64_t day = req->nzones ? to_local_day(NULL, req->zones[0], t) : t / 86400;
        if (r->effective_day != INT64_MIN && day < r->effective_day) {
            fmt_day(r->effective_day, a, sizeof a);
            snprintf(why, cap, "in force from %s only", a);
        } else if (r->expires_day != INT64_MAX) {
            fmt_day(r->expires_day, b, sizeof b);
            snprintf(why, cap, "in force until %s only", b);
        } else {
            snprintf(why, cap, "not in force on this date");
        }
        return;
    }
    snprintf(why, cap, "a condition of the rule does not hold");
}

void tm_gate_explain_free(tm_explain *x)
{
    for (int i = 0; i < x->nregs; i++)
        free(x->regs[i].rules);
    free(x->regs);
    tm_gate_decision_free(&x->d);
    memset(x, 0, sizeof *x);
}

int tm_gate_explain(tm_gate *g, tm_request *req, tm_explain *x)
{
    memset(x, 0, sizeof *x);
    tm_gate_decide(g, req, &x->d); /* also works out debt.time_barred */
    if (g->nregs && !(x->regs = calloc((size_t)g->nregs, sizeof *x->regs))) {
        tm_gate_explain_free(x);
        return TM_ENOMEM;
    }
    for (int ri = 0; ri < g->nregs; ri++) {
        const tm_regulation *reg = &g->regs[ri];
        tm_reg_explain *re = &x->regs[x->nregs++];
        re->reg = reg;
        re->applies = reg_applies(reg, req);
        reg_why(reg, req, re->applies, re->why, sizeof re->why);
        if (!re->applies || reg->nrules == 0)
            continue;
        if (!(re->rules = calloc((size_t)reg->nrules, sizeof *re->rules))) {
            tm_gate_explain_free(x);
            return TM_ENOMEM;
        }
        for (int k = 0; k < reg->nrules; k++) {
            const tm_rule *r = &reg->rules[k];
            tm_rule_explain *e = &re->rules[re->nrules++];
            e->rule = r;
            e->res.rule = r;
            if (!rule_applies(NULL, r, req, req->now, &e->res)) {
                e->verdict = TM_VERDICT_NOT_APPLICABLE;
                rule_why_not(r, req, req->now, e->why, sizeof e->why);
                continue;
            }
            int f = 0;
            rule_next(NULL, r, req, req->now, &e->res, &f);
            e->verdict = e->res.blocked ? TM_VERDICT_BLOCKED : TM_VERDICT_ALLOWED;
        }
    }
    return TM_OK;
}
