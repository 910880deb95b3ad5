/*
 * tests/gate_gen.h: random but valid contact requests for the gate, built
 * field by field as the daily cycle builds them, for the differential test
 * (tests/sandbox/test_gate_diff.c) and the gate benchmark.
 *
 * Every request is one the wire would accept (times not after now, dates
 * not after the consumer's date, a default not before the last payment, an
 * owner that agrees with the collector), and each field is drawn so that
 * the rules' boundaries come up often: local times a second either side of
 * the windows' ends, days around DST changes and federal holidays, history
 * entries a day's width either side of each cap's window, limitation
 * periods ending within days of now, rules' effective and expiry dates,
 * every channel, place, purpose, collector, flag, state and the cities and
 * creditors the gate names. Deterministic for a seed.
 *
 * Header only: every function is static.
 */
#ifndef TM_TESTS_GATE_GEN_H
#define TM_TESTS_GATE_GEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "gate.h"
#include "tz.h"

typedef struct tm_ggen {
    uint64_t s;
    /* Drawn from the gate, so the generator follows the library. */
    char msgs[64][32];
    int nmsgs;
    char states[80][3];
    int nstates;
    char *cities[64];
    int ncities;
    char *creditors[32];
    int ncreditors;
    int64_t days[128]; /* rules' effective and expiry dates */
    int ndays;
    const tm_zone *zones[16];
    int nzones;
} tm_ggen;

static uint64_t tm_ggen_u64(tm_ggen *g)
{
    /* splitmix64 */
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int tm_ggen_n(tm_ggen *g, int n) { return n > 0 ? (int)(tm_ggen_u64(g) % (uint64_t)n) : 0; }
static int tm_ggen_p(tm_ggen *g, int percent) { return tm_ggen_n(g, 100) < percent; }

static void tm_ggen_add_msg(tm_ggen *g, const char *name)
{
    for (int i = 0; i < g->nmsgs; i++)
        if (strcmp(g->msgs[i], name) == 0)
            return;
    if (g->nmsgs < 64)
        snprintf(g->msgs[g->nmsgs++], sizeof g->msgs[0], "%s", name);
}

static void tm_ggen_add_day(tm_ggen *g, int64_t day)
{
    if (day == INT64_MIN || day == INT64_MAX || g->ndays >= 128)
        return;
    for (int i = 0; i < g->ndays; i++)
        if (g->days[i] == day)
            return;
    g->days[g->ndays++] = day;
}

/* Sets up a generator for `gate` with `seed`. */
static void tm_ggen_init(tm_ggen *g, const tm_gate *gate, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->s = seed;
    static const char *const known_msgs[] = {"optout_notice", "threatens_suit", "time_barred_notice",
                                             "nv_medical_debt_notice", NULL};
    for (int i = 0; known_msgs[i]; i++)
        tm_ggen_add_msg(g, known_msgs[i]);
    for (int i = 0; i < tm_gate_count(gate); i++) {
        const tm_regulation *reg = tm_gate_regulation(gate, i);
        for (int k = 0; k < reg->nstates; k++) {
            int dup = 0;
            for (int j = 0; j < g->nstates && !dup; j++)
                dup = strcmp(g->states[j], reg->states[k]) == 0;
            if (!dup && g->nstates < 80)
                memcpy(g->states[g->nstates++], reg->states[k], 3);
        }
        for (int k = 0; k < reg->ncities && g->ncities < 64; k++)
            g->cities[g->ncities++] = reg->cities[k];
        for (int k = 0; k < reg->ncreditors && g->ncreditors < 32; k++)
            g->creditors[g->ncreditors++] = reg->creditors[k];
        for (int k = 0; k < reg->nrules; k++) {
            const tm_rule *r = &reg->rules[k];
            for (int f = 0; f < r->nfields; f++)
                tm_ggen_add_msg(g, r->fields[f]);
            for (int f = 0; f < r->nwhen_msg; f++)
                tm_ggen_add_msg(g, r->when_msg[f]);
            tm_ggen_add_day(g, r->effective_day);
            tm_ggen_add_day(g, r->expires_day);
        }
    }
    /* States no regulation names, and one with its own zones. */
    static const char *const more[] = {"KS", "NE", "ID", "AK", "HI", "AZ", "IN", "KY", "ND", "PR", NULL};
    for (int i = 0; more[i] && g->nstates < 80; i++)
        if (tm_tz_state_zones(more[i]))
            memcpy(g->states[g->nstates++], more[i], 3);
    static const char *const zn[] = {"America/New_York", "America/Chicago", "America/Denver",
                                     "America/Los_Angeles", "America/Phoenix", "America/Anchorage",
                                     "Pacific/Honolulu", "America/Puerto_Rico", "Europe/London",
                                     "America/Indiana/Indianapolis", "Asia/Tokyo", NULL};
    for (int i = 0; zn[i]; i++) {
        const tm_zone *z;
        if (tm_tz_get(zn[i], &z, NULL) == TM_OK)
            g->zones[g->nzones++] = z;
    }
}

static int64_t tm_ggen_local_day(const tm_zone *z, int64_t t)
{
    tm_civil c;
    tm_tz_to_local(z, t, &c);
    return tm_calendar_days_from_civil(c.year, c.month, c.day);
}

/* An instant on local `day` at `sec` in zone z. */
static int64_t tm_ggen_at(const tm_zone *z, int64_t day, int sec)
{
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
    int64_t utc = day * 86400 + sec;
    tm_tz_from_local(z, &c, TM_TZ_EARLIER, &utc, NULL);
    return utc;
}

/* The local date `now` falls on: near a DST change, a federal holiday, a
 * rule's effective or expiry date, or any day of 2021-2027. */
static int64_t tm_ggen_day(tm_ggen *g)
{
    int y = 2021 + tm_ggen_n(g, 7);
    switch (tm_ggen_n(g, 6)) {
    case 0: /* the second Sunday of March, the first of November, give or take */
    {
        int march = tm_ggen_p(g, 50);
        int64_t first = tm_calendar_days_from_civil(y, march ? 3 : 11, 1);
        int wd = tm_calendar_weekday(first);
        int64_t sunday = first + (7 - wd) % 7 + (march ? 7 : 0);
        return sunday - 2 + tm_ggen_n(g, 5);
    }
    case 1: /* around a federal holiday */
    {
        static const int md[][2] = {{1, 1}, {7, 4}, {12, 25}, {11, 11}, {6, 19}, {12, 31}, {7, 3}, {7, 5}};
        int k = tm_ggen_n(g, 8);
        return tm_calendar_days_from_civil(y, md[k][0], md[k][1]) - 1 + tm_ggen_n(g, 3);
    }
    case 2:
        if (g->ndays)
            return g->days[tm_ggen_n(g, g->ndays)] - 1 + tm_ggen_n(g, 3);
        /* fall through */
    default:
        return tm_calendar_days_from_civil(y, 1, 1) + tm_ggen_n(g, 365);
    }
}

/* A second of the local day, a second either side of the rules' and the
 * consumer's boundaries more often than not. */
static int tm_ggen_sec(tm_ggen *g)
{
    static const int edges[] = {8 * 3600, 21 * 3600, 9 * 3600, 20 * 3600, 0, 12 * 3600, 17 * 3600, 22 * 3600};
    if (tm_ggen_p(g, 40))
        return tm_ggen_n(g, 86400);
    int s = edges[tm_ggen_n(g, 8)] + tm_ggen_n(g, 3) - 1;
    return s < 0 ? 0 : s >= 86400 ? 86399 : s;
}

static uint32_t tm_ggen_mask(tm_ggen *g, int n, int percent)
{
    uint32_t m = 0;
    for (int i = 0; i < n; i++)
        if (tm_ggen_p(g, percent))
            m |= 1u << i;
    return m;
}

/* Fills *req (tm_gate_request_free frees it) with request number `i`. */
static void tm_ggen_request(tm_ggen *g, tm_request *req, long i)
{
    tm_gate_request_init(req);
    char id[32];
    snprintf(id, sizeof id, "\"g%ld\"", i);
    req->id_json = strdup(id);
    memcpy(req->state, g->states[tm_ggen_n(g, g->nstates)], 3);
    /* Zones: the state's own (most often), or one to three of the list. */
    const char *const *sz = tm_tz_state_zones(req->state);
    if (sz && tm_ggen_p(g, 60)) {
        for (int k = 0; sz[k] && req->nzones < TM_GATE_MAX_ZONES; k++) {
            const tm_zone *z;
            if (tm_tz_get(sz[k], &z, NULL) == TM_OK)
                req->zones[req->nzones++] = z;
        }
    }
    if (req->nzones == 0) {
        int n = 1 + tm_ggen_n(g, 3);
        for (int k = 0; k < n; k++)
            req->zones[req->nzones++] = g->zones[tm_ggen_n(g, g->nzones)];
    }
    const tm_zone *z0 = req->zones[0];
    int64_t today = tm_ggen_day(g);
    req->now = tm_ggen_at(req->zones[tm_ggen_n(g, req->nzones)], today, tm_ggen_sec(g));
    today = tm_ggen_local_day(z0, req->now);
    req->channel = tm_ggen_n(g, TM_CH__COUNT);
    req->place = tm_ggen_p(g, 80) ? TM_PLACE_PERSONAL : TM_PLACE_WORK;
    req->purpose = tm_ggen_p(g, 75) ? TM_PU_COLLECTION : tm_ggen_n(g, TM_PU__COUNT);
    req->collector = tm_ggen_n(g, TM_CO__COUNT);
    if (g->ncities && tm_ggen_p(g, 15))
        req->city = strdup(g->cities[tm_ggen_n(g, g->ncities)]);
    else if (tm_ggen_p(g, 10))
        req->city = strdup("Springfield");
    if (g->ncreditors && tm_ggen_p(g, 20))
        req->creditor = strdup(g->creditors[tm_ggen_n(g, g->ncreditors)]);
    else if (tm_ggen_p(g, 10))
        req->creditor = strdup("Other Bank");
    req->flags = tm_ggen_p(g, 70) ? 0 : tm_ggen_mask(g, TM_FL__COUNT, 20);
    req->consent = tm_ggen_mask(g, TM_CH__COUNT, 50) | (tm_ggen_p(g, 30) ? TM_CONSENT_AUTODIAL : 0);
    req->optout = tm_ggen_p(g, 80) ? 0 : tm_ggen_mask(g, TM_CH__COUNT, 25);
    if (tm_ggen_p(g, 15))
        req->inconvenient_days = (uint8_t)tm_ggen_mask(g, 7, 25);
    if (tm_ggen_p(g, 15)) {
        req->nranges = 1 + tm_ggen_n(g, 2);
        for (int k = 0; k < req->nranges; k++) {
            req->range_from[k] = tm_ggen_sec(g) / 60 * 60;
            req->range_to[k] = tm_ggen_sec(g) / 60 * 60;
        }
    }
    if (tm_ggen_p(g, 90)) {
        snprintf(id, sizeof id, "D%ld", i % 1000);
        req->debt_id = strdup(id);
    }
    req->debt_type = tm_ggen_n(g, TM_DT__COUNT);
    req->dispute = tm_ggen_p(g, 85) ? TM_DISPUTE_NONE : tm_ggen_n(g, TM_DISPUTE__COUNT);
    /* Limitation periods of 2 to 10 years that end within days of today. */
    if (tm_ggen_p(g, 80)) {
        int years = 2 + tm_ggen_n(g, 9);
        int64_t base = today - (int64_t)years * 365 - years / 4 + tm_ggen_n(g, 9) - 4;
        if (tm_ggen_p(g, 10))
            base = today - tm_ggen_n(g, 5000);
        if (tm_ggen_p(g, 70))
            req->last_payment_day = base;
        if (tm_ggen_p(g, 40))
            req->default_day = (req->last_payment_day != INT64_MIN ? req->last_payment_day : base) +
                               tm_ggen_n(g, 60);
        if (tm_ggen_p(g, 40))
            req->charge_off_day = base + tm_ggen_n(g, 200) - 20;
        if (req->default_day != INT64_MIN && req->default_day > today)
            req->default_day = today;
        if (req->charge_off_day != INT64_MIN && req->charge_off_day > today)
            req->charge_off_day = today;
    }
    if (tm_ggen_p(g, 10)) {
        req->time_barred_given = 1;
        req->time_barred = tm_ggen_p(g, 50) ? TM_TRI_TRUE : TM_TRI_FALSE;
    }
    int nm = tm_ggen_n(g, 4);
    for (int k = 0; k < nm && req->nmsg < TM_GATE_MAX_MSGFIELDS; k++) {
        const char *name = g->msgs[tm_ggen_n(g, g->nmsgs)];
        int dup = 0;
        for (int j = 0; j < req->nmsg && !dup; j++)
            dup = strcmp(req->msg[j].name, name) == 0;
        if (dup)
            continue;
        snprintf(req->msg[req->nmsg].name, sizeof req->msg[0].name, "%s", name);
        req->msg[req->nmsg++].value = tm_ggen_p(g, 60) ? TM_TRI_TRUE : TM_TRI_FALSE;
    }
    /* Facts a rule may turn on. */
    if (tm_ggen_p(g, 40)) {
        req->owner = tm_ggen_n(g, TM_OWNER__COUNT);
        if (req->collector == TM_CO_DEBT_BUYER)
            req->owner = TM_OWNER_DEBT_BUYER;
        else if (req->collector == TM_CO_CREDITOR)
            req->owner = TM_OWNER_ORIGINAL_CREDITOR;
    }
    if (tm_ggen_p(g, 40))
        req->dialer = tm_ggen_n(g, TM_DIALER__COUNT);
    if (tm_ggen_p(g, 40))
        req->line = tm_ggen_n(g, TM_LINE__COUNT);
    if (tm_ggen_p(g, 40)) {
        static const char *const langs[] = {"en", "en-US", "es", "es-US", "zh-Hant", "fr"};
        snprintf(req->language, sizeof req->language, "%s", langs[tm_ggen_n(g, 6)]);
    }
    if (tm_ggen_p(g, 20)) {
        static const char *const names[] = {"medical_60_day", "validation", "time_barred"};
        int n = 1 + tm_ggen_n(g, 3);
        for (int k = 0; k < n; k++) {
            snprintf(req->notices[req->nnotices].name, sizeof req->notices[0].name, "%s", names[k]);
            req->notices[req->nnotices++].day = today - tm_ggen_n(g, 70);
        }
    }
    if ((req->flags & (1u << TM_FL_ATTORNEY)) || tm_ggen_p(g, 5)) {
        tm_attorney *a = &req->attorney;
        if (tm_ggen_p(g, 70)) {
            a->present = 1;
            if (tm_ggen_p(g, 50))
                a->since_day = today - tm_ggen_n(g, 90);
            a->consented = tm_ggen_n(g, 3);
            a->responded = tm_ggen_n(g, 3);
            if (tm_ggen_p(g, 60))
                a->asked_at = req->now - (int64_t)tm_ggen_n(g, 40) * 86400 - tm_ggen_n(g, 3) + 1;
            if (a->asked_at != INT64_MIN && a->asked_at > req->now)
                a->asked_at = req->now;
        }
    }
    if (tm_ggen_p(g, 20)) {
        int n = 1 + tm_ggen_n(g, 3);
        for (int k = 0; k < n; k++) {
            tm_consumer_request *q = &req->requests[req->nrequests++];
            q->type = tm_ggen_n(g, TM_CREQ__COUNT);
            q->at = req->now - (int64_t)tm_ggen_n(g, 20) * 86400 - tm_ggen_n(g, 86400);
            q->form = tm_ggen_p(g, 30) ? TM_GATE_ABSENT : tm_ggen_n(g, TM_FORM__COUNT);
            if (q->type == TM_CREQ_NO_CALLS_AT) {
                q->from_s = tm_ggen_sec(g) / 60 * 60;
                q->to_s = tm_ggen_sec(g) / 60 * 60;
            }
            if (q->type == TM_CREQ_CONTACT_ONLY_BY)
                q->channels = tm_ggen_mask(g, TM_CH__COUNT, 40) | (1u << tm_ggen_n(g, TM_CH__COUNT));
        }
    }
    if (tm_ggen_p(g, 10))
        req->more_calls_at = req->now - (int64_t)tm_ggen_n(g, 9) * 86400 - tm_ggen_n(g, 86400);
    /* History: entries a day's width either side of 1, 7 and 30 days back. */
    int nh = tm_ggen_p(g, 15) ? 0 : tm_ggen_n(g, 12);
    if (nh) {
        req->history = calloc((size_t)nh, sizeof *req->history);
        for (int k = 0; req->history && k < nh; k++) {
            tm_history *h = &req->history[req->nhistory++];
            h->channel = tm_ggen_p(g, 60) ? TM_CH_CALL : tm_ggen_n(g, TM_CH__COUNT);
            h->outcome = tm_ggen_n(g, TM_OUT__COUNT);
            h->place = tm_ggen_p(g, 80) ? TM_PLACE_PERSONAL : TM_PLACE_WORK;
            h->direction = tm_ggen_p(g, 85) ? TM_DIR_OUTBOUND : TM_DIR_INBOUND;
            h->other_debt = tm_ggen_p(g, 10);
            h->required_by_law = tm_ggen_n(g, 3);
            h->purpose = tm_ggen_p(g, 50) ? TM_GATE_ABSENT : tm_ggen_n(g, TM_PU__COUNT);
            static const int back[] = {0, 1, 6, 7, 8, 29, 30, 31};
            int64_t days = tm_ggen_p(g, 50) ? back[tm_ggen_n(g, 8)] : tm_ggen_n(g, 35);
            int64_t at = req->now - days * 86400 + tm_ggen_n(g, 7201) - 3600;
            if (tm_ggen_p(g, 20))
                at = tm_ggen_at(z0, today - days, tm_ggen_sec(g));
            h->at = at > req->now ? req->now : at;
        }
    }
}

#endif
