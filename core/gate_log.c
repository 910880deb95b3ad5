/*
 * core/gate_log.c: the gate's decision log (see gate_log.h): the request
 * encoding, the writer with its table of name numbers, the digest that binds
 * a batch of rows into the audit chain, and the names read back.
 */
#include "gate_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "tz.h"

/* ---------------------------------------------------------------------------
 * The encoding.
 */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} buf;

static void put_byte(buf *b, uint8_t v)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 128;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    b->p[b->n++] = v;
}

static void put_uv(buf *b, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put_byte(b, (uint8_t)v);
}

static uint64_t zig(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzig(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* A duration in seconds: whole minutes take a byte less for spans of days. */
static void put_span(buf *b, int64_t secs)
{
    if (secs % 60 == 0)
        put_uv(b, zig(secs / 60) << 1 | 1);
    else
        put_uv(b, zig(secs) << 1);
}

/* Presence bits and small enums of the request, in one varint: what most
 * requests set is in the low bits, so it mostly takes two bytes. */
enum {
    B_DEBT_ROW = 1, B_DEBT_INLINE = 2, /* bits 0-1: where the debt's own id comes from */
    B_TYPE = 2,                        /* bits 2-4: debt type */
    B_LP = 1 << 5, B_CO = 1 << 6, B_CITY = 1 << 7, B_CREDITOR = 1 << 8,
    B_PLACE = 9,                       /* bit 9 */
    B_PURPOSE = 10,                    /* bits 10-11 */
    B_COLLECTOR = 12,                  /* bits 12-13 */
    B_DISPUTE = 14,                    /* bits 14-15 */
    B_TB_GIVEN = 1 << 16,
    B_TB = 17,                         /* bits 17-18: time_barred as given */
    B_TOP = 19,                        /* bits from here on are never set */
};

/* Version 2: the optional facts, in a second varint after the history
 * (zero, one byte, for a request that gives none of them). The three enums
 * are kept as their value plus one, so 0 is "not given"; the rest are
 * presence bits for what follows, in this order. */
enum {
    X_OWNER = 0,                       /* bits 0-1: debt.owner + 1 */
    X_DIALER = 2,                      /* bits 2-3: dialer + 1 */
    X_LINE = 4,                        /* bits 4-5: line + 1 */
    X_LANGUAGE = 1 << 6, X_DEFAULT = 1 << 7, X_NOTICES = 1 << 8, X_ATTORNEY = 1 << 9,
    X_REQUESTS = 1 << 10, X_MORE_CALLS = 1 << 11,
    X_TOP = 12,
};

/* consumer.attorney's own varint: present, the two answers (TM_TRI_*), and
 * whether its two instants follow. */
enum {
    A_PRESENT = 1,                     /* bit 0 */
    A_CONSENTED = 1,                   /* bits 1-2 */
    A_RESPONDED = 3,                   /* bits 3-4 */
    A_SINCE = 1 << 5, A_ASKED = 1 << 6,
    A_TOP = 7,
};

/* A consumer request's varint: its type, its form plus one, and whether the
 * hours (no_calls_at) and the channels (contact_only_by) follow. */
enum { R_FORM = 2, R_HOURS = 1 << 4, R_CHANNELS = 1 << 5, R_TOP = 6 };

/* A history entry's varint: channel, outcome, place, direction and other
 * debt in bits 0-8 (version 1), then required_by_law (TM_TRI_*) and the
 * purpose plus one (version 2). */
enum { H_RBL = 9, H_PURPOSE = 11, H_TOP_V1 = 9, H_TOP = 14 };

typedef struct enc {
    buf b;
    tm_gate_intern_fn intern;
    void *ud;
    struct tm_err *err;
    int rc;
} enc;

static void put_name(enc *e, const char *name)
{
    int64_t id = 0;
    if (e->rc == TM_OK)
        e->rc = e->intern(e->ud, name, &id, e->err);
    put_uv(&e->b, (uint64_t)id);
}

/* Whether consumer.attorney holds anything to keep: it was given, or one
 * of its parts is set. */
static int attorney_given(const tm_attorney *a)
{
    return a->present || a->since_day != INT64_MIN || a->asked_at != INT64_MIN ||
           a->consented != TM_TRI_ABSENT || a->responded != TM_TRI_ABSENT;
}

/* Version 2's tail: the optional facts the request gives (gate_log.h). An
 * instant is kept as its age before the request's time, as the history's
 * are; a date as its day number. */
static void put_facts(enc *e, const tm_request *req)
{
    const tm_attorney *a = &req->attorney;
    uint64_t x = (uint64_t)(req->owner + 1) << X_OWNER | (uint64_t)(req->dialer + 1) << X_DIALER |
                 (uint64_t)(req->line + 1) << X_LINE;
    if (req->language[0])
        x |= X_LANGUAGE;
    if (req->default_day != INT64_MIN)
        x |= X_DEFAULT;
    if (req->nnotices)
        x |= X_NOTICES;
    if (attorney_given(a))
        x |= X_ATTORNEY;
    if (req->nrequests)
        x |= X_REQUESTS;
    if (req->more_calls_at != INT64_MIN)
        x |= X_MORE_CALLS;
    put_uv(&e->b, x);
    if (req->language[0])
        put_name(e, req->language);
    if (req->default_day != INT64_MIN)
        put_uv(&e->b, zig(req->default_day));
    if (req->nnotices) {
        put_uv(&e->b, (uint64_t)req->nnotices);
        for (int i = 0; i < req->nnotices; i++) {
            put_name(e, req->notices[i].name);
            put_uv(&e->b, zig(req->notices[i].day));
        }
    }
    if (attorney_given(a)) {
        put_uv(&e->b, (uint64_t)(a->present != 0) | (uint64_t)(a->consented & 3) << A_CONSENTED |
                          (uint64_t)(a->responded & 3) << A_RESPONDED |
                          (a->since_day != INT64_MIN ? A_SINCE : 0) |
                          (a->asked_at != INT64_MIN ? A_ASKED : 0));
        if (a->since_day != INT64_MIN)
            put_uv(&e->b, zig(a->since_day));
        if (a->asked_at != INT64_MIN)
            put_span(&e->b, req->now - a->asked_at);
    }
    if (req->nrequests) {
        put_uv(&e->b, (uint64_t)req->nrequests);
        for (int i = 0; i < req->nrequests; i++) {
            const tm_consumer_request *q = &req->requests[i];
            int hours = q->from_s != 0 || q->to_s != 0;
            put_uv(&e->b, (uint64_t)(q->type & 3) | (uint64_t)((q->form + 1) & 3) << R_FORM |
                              (hours ? R_HOURS : 0) | (q->channels ? R_CHANNELS : 0));
            put_span(&e->b, req->now - q->at);
            if (hours) {
                put_uv(&e->b, (uint64_t)q->from_s);
                put_uv(&e->b, (uint64_t)q->to_s);
            }
            if (q->channels)
                put_uv(&e->b, q->channels);
        }
    }
    if (req->more_calls_at != INT64_MIN)
        put_span(&e->b, req->now - req->more_calls_at);
}

int tm_gate_log_encode(const tm_request *req, int inline_debt, tm_gate_intern_fn intern, void *ud,
                       uint8_t **out, size_t *len, struct tm_err *err)
{
    *out = NULL;
    *len = 0;
    enc e = {.intern = intern, .ud = ud, .err = err, .rc = TM_OK};
    uint64_t bits = (uint64_t)req->debt_type << B_TYPE | (uint64_t)req->place << B_PLACE |
                    (uint64_t)req->purpose << B_PURPOSE | (uint64_t)req->collector << B_COLLECTOR |
                    (uint64_t)req->dispute << B_DISPUTE;
    if (req->debt_id)
        bits |= inline_debt ? B_DEBT_INLINE : B_DEBT_ROW;
    if (req->last_payment_day != INT64_MIN)
        bits |= B_LP;
    if (req->charge_off_day != INT64_MIN)
        bits |= B_CO;
    if (req->city)
        bits |= B_CITY;
    if (req->creditor)
        bits |= B_CREDITOR;
    if (req->time_barred_given)
        bits |= B_TB_GIVEN | (uint64_t)req->time_barred << B_TB;
    put_byte(&e.b, TM_GATE_LOG_VERSION);
    put_uv(&e.b, bits);
    put_byte(&e.b, (uint8_t)req->state[0]);
    put_byte(&e.b, (uint8_t)req->state[1]);
    if (req->city)
        put_name(&e, req->city);
    if (req->creditor)
        put_name(&e, req->creditor);
    if (req->debt_id && inline_debt) {
        size_t n = strlen(req->debt_id);
        put_uv(&e.b, n);
        for (size_t i = 0; i < n; i++)
            put_byte(&e.b, (uint8_t)req->debt_id[i]);
    }
    put_uv(&e.b, (uint64_t)req->nzones);
    for (int i = 0; i < req->nzones; i++)
        put_name(&e, tm_tz_name(req->zones[i]));
    put_uv(&e.b, req->flags);
    put_uv(&e.b, req->consent);
    put_uv(&e.b, req->optout);
    put_uv(&e.b, req->inconvenient_days);
    put_uv(&e.b, (uint64_t)req->nranges);
    for (int i = 0; i < req->nranges; i++) {
        put_uv(&e.b, (uint64_t)req->range_from[i]);
        put_uv(&e.b, (uint64_t)req->range_to[i]);
    }
    if (req->last_payment_day != INT64_MIN)
        put_uv(&e.b, zig(req->last_payment_day));
    if (req->charge_off_day != INT64_MIN)
        put_uv(&e.b, zig(req->charge_off_day));
    put_uv(&e.b, (uint64_t)req->nmsg);
    for (int i = 0; i < req->nmsg && e.rc == TM_OK; i++) {
        int64_t id = 0;
        e.rc = intern(ud, req->msg[i].name, &id, err);
        put_uv(&e.b, (uint64_t)id << 1 | (req->msg[i].value == TM_TRI_TRUE));
    }
    put_uv(&e.b, (uint64_t)req->nhistory);
    for (int i = 0; i < req->nhistory; i++) {
        const tm_history *h = &req->history[i];
        put_uv(&e.b, (uint64_t)h->channel | (uint64_t)h->outcome << 3 | (uint64_t)h->place << 6 |
                         (uint64_t)h->direction << 7 | (uint64_t)(h->other_debt != 0) << 8 |
                         (uint64_t)(h->required_by_law & 3) << H_RBL |
                         (uint64_t)(h->purpose + 1) << H_PURPOSE);
        put_span(&e.b, req->now - h->at);
    }
    put_facts(&e, req);
    if (e.rc == TM_OK && e.b.oom)
        e.rc = tm_err_set(err, TM_ENOMEM, "out of memory encoding a decision");
    if (e.rc != TM_OK) {
        free(e.b.p);
        return e.rc;
    }
    *out = e.b.p;
    *len = e.b.n;
    return TM_OK;
}

/* ---------------------------------------------------------------------------
 * Decoding: every read checked against the end, every count and enum
 * against its bound, so a row changed by hand is an error, never a crash.
 */
typedef struct dec {
    const uint8_t *p, *end;
    int bad;
} dec;

static uint64_t get_uv(dec *d)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (d->p >= d->end) {
            d->bad = 1;
            return 0;
        }
        uint8_t c = *d->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    d->bad = 1;
    return 0;
}

static int64_t get_span(dec *d)
{
    uint64_t v = get_uv(d);
    int64_t s = unzig(v >> 1);
    if (v & 1) {
        if (s > INT64_MAX / 60 || s < INT64_MIN / 60) {
            d->bad = 1;
            return 0;
        }
        s *= 60;
    }
    return s;
}

/* The dates and instants the wire format can give (years 0000 to 9999):
 * a decoded one outside them is damage, and is refused before the gate's
 * calendar arithmetic sees it. */
#define DAY_MIN (-719528)  /* 0000-01-01 */
#define DAY_MAX 2932896    /* 9999-12-31 */

static int64_t get_day(dec *d)
{
    int64_t v = unzig(get_uv(d));
    if (v < DAY_MIN || v > DAY_MAX) {
        d->bad = 1;
        return 0;
    }
    return v;
}

/* An instant kept as its age before `now`. */
static int64_t get_before(dec *d, int64_t now)
{
    int64_t s = get_span(d), t;
    if (__builtin_sub_overflow(now, s, &t) || t < (int64_t)DAY_MIN * 86400 ||
        t >= ((int64_t)DAY_MAX + 1) * 86400) {
        d->bad = 1;
        return 0;
    }
    return t;
}

static int bad_enc(struct tm_err *err, const char *what)
{
    return tm_err_set(err, TM_EINVAL, "the recorded request cannot be read: %s", what);
}

/* Version 2's tail (put_facts), into `req` (which holds no memory of its
 * own for it). Returns NULL, or what is wrong. */
static const char *get_facts(dec *d, tm_gate_name_fn name, void *ud, tm_request *req)
{
    uint64_t x = get_uv(d);
    int owner = (int)(x >> X_OWNER & 3) - 1, dialer = (int)(x >> X_DIALER & 3) - 1,
        line = (int)(x >> X_LINE & 3) - 1;
    if (d->bad)
        return "cut short";
    if (owner >= TM_OWNER__COUNT || dialer >= TM_DIALER__COUNT || line >= TM_LINE__COUNT ||
        (x >> X_TOP) != 0)
        return "an optional fact out of range";
    req->owner = owner;
    req->dialer = dialer;
    req->line = line;
    if (x & X_LANGUAGE) {
        const char *l = name(ud, (int64_t)get_uv(d));
        if (!l || !*l || strlen(l) >= sizeof req->language)
            return "the language is not kept";
        memcpy(req->language, l, strlen(l) + 1);
    }
    if (x & X_DEFAULT)
        req->default_day = get_day(d);
    if (x & X_NOTICES) {
        uint64_t n = get_uv(d);
        if (n == 0 || n > TM_GATE_MAX_NOTICES)
            return "too many notices";
        for (uint64_t i = 0; i < n && !d->bad; i++) {
            tm_notice *t = &req->notices[req->nnotices];
            const char *m = name(ud, (int64_t)get_uv(d));
            if (!m || !*m || strlen(m) >= sizeof t->name)
                return "a notice's name is not kept";
            memcpy(t->name, m, strlen(m) + 1);
            t->day = get_day(d);
            req->nnotices++;
        }
    }
    if (x & X_ATTORNEY) {
        tm_attorney *a = &req->attorney;
        uint64_t v = get_uv(d);
        a->present = (int)(v & A_PRESENT);
        a->consented = (int)(v >> A_CONSENTED & 3);
        a->responded = (int)(v >> A_RESPONDED & 3);
        if (a->consented > TM_TRI_TRUE || a->responded > TM_TRI_TRUE || (v >> A_TOP) != 0)
            return "the attorney out of range";
        if (v & A_SINCE)
            a->since_day = get_day(d);
        if (v & A_ASKED)
            a->asked_at = get_before(d, req->now);
    }
    if (x & X_REQUESTS) {
        uint64_t n = get_uv(d);
        if (n == 0 || n > TM_GATE_MAX_REQUESTS)
            return "too many consumer requests";
        for (uint64_t i = 0; i < n && !d->bad; i++) {
            tm_consumer_request *q = &req->requests[req->nrequests++];
            uint64_t v = get_uv(d);
            q->type = (int)(v & 3);
            q->form = (int)(v >> R_FORM & 3) - 1;
            if (q->type >= TM_CREQ__COUNT || q->form >= TM_FORM__COUNT || (v >> R_TOP) != 0)
                return "a consumer request out of range";
            q->at = get_before(d, req->now);
            if (v & R_HOURS) {
                uint64_t f = get_uv(d), t = get_uv(d);
                if (f > 86400 || t > 86400)
                    return "a consumer request's hours out of the day";
                q->from_s = (int)f;
                q->to_s = (int)t;
            }
            if (v & R_CHANNELS) {
                uint64_t c = get_uv(d);
                if (c == 0 || c >> TM_CH__COUNT)
                    return "a consumer request's channels out of range";
                q->channels = (uint32_t)c;
            }
        }
    }
    if (x & X_MORE_CALLS)
        req->more_calls_at = get_before(d, req->now);
    return NULL;
}

int tm_gate_log_decode(const uint8_t *bufp, size_t len, int64_t now, int channel,
                       const char *debt_ref, const char *id_json, tm_gate_name_fn name, void *ud,
                       tm_request *req, struct tm_err *err)
{
    /* What an older version does not carry is "not given", as a request
     * that leaves it out is read. */
    tm_gate_request_init(req);
    dec d = {bufp, bufp + len, 0};
    const char *why = NULL;
    if (len < 1 || bufp[0] < 1 || bufp[0] > TM_GATE_LOG_VERSION) {
        return tm_err_set(err, TM_EINVAL, "the recorded request is in encoding %d, this tallyman reads 1 to %d",
                          len ? bufp[0] : -1, TM_GATE_LOG_VERSION);
    }
    int version = *d.p++;
    req->now = now;
    req->channel = channel;
    if (channel < 0 || channel >= TM_CH__COUNT) {
        why = "channel out of range";
        goto out;
    }
    uint64_t bits = get_uv(&d);
    req->debt_type = (int)(bits >> B_TYPE & 7);
    req->place = (int)(bits >> B_PLACE & 1);
    req->purpose = (int)(bits >> B_PURPOSE & 3);
    req->collector = (int)(bits >> B_COLLECTOR & 3);
    req->dispute = (int)(bits >> B_DISPUTE & 3);
    if (req->debt_type >= TM_DT__COUNT || req->purpose >= TM_PU__COUNT ||
        req->collector >= TM_CO__COUNT || req->dispute >= TM_DISPUTE__COUNT ||
        (bits & 3) == 3 || (bits >> B_TOP) != 0) {
        why = "a field out of range";
        goto out;
    }
    if (bits & B_TB_GIVEN) {
        req->time_barred_given = 1;
        req->time_barred = (int)(bits >> B_TB & 3);
        if (req->time_barred != TM_TRI_TRUE && req->time_barred != TM_TRI_FALSE) {
            why = "time_barred out of range";
            goto out;
        }
    }
    if (d.end - d.p < 2) {
        why = "cut short";
        goto out;
    }
    req->state[0] = (char)*d.p++;
    req->state[1] = (char)*d.p++;
    req->state[2] = '\0';
    if (!tm_tz_state_zones(req->state)) {
        why = "the state is not known";
        goto out;
    }
    if (bits & B_CITY) {
        const char *c = name(ud, (int64_t)get_uv(&d));
        if (!c || !(req->city = strdup(c))) {
            why = c ? NULL : "the city's name is not kept";
            goto out;
        }
    }
    if (bits & B_CREDITOR) {
        const char *c = name(ud, (int64_t)get_uv(&d));
        if (!c || !(req->creditor = strdup(c))) {
            why = c ? NULL : "the creditor's name is not kept";
            goto out;
        }
    }
    if ((bits & 3) == B_DEBT_INLINE) {
        uint64_t n = get_uv(&d);
        if (d.bad || n > 128 || (uint64_t)(d.end - d.p) < n) {
            why = "the debt's id is cut short";
            goto out;
        }
        if (!(req->debt_id = strndup((const char *)d.p, (size_t)n)))
            goto out;
        d.p += n;
    } else if ((bits & 3) == B_DEBT_ROW && debt_ref && *debt_ref) {
        if (!(req->debt_id = strdup(debt_ref)))
            goto out;
    }
    uint64_t nz = get_uv(&d);
    if (nz > TM_GATE_MAX_ZONES) {
        why = "too many zones";
        goto out;
    }
    for (uint64_t i = 0; i < nz && !d.bad; i++) {
        const char *z = name(ud, (int64_t)get_uv(&d));
        const tm_zone *zone;
        if (!z || tm_tz_get(z, &zone, NULL) != TM_OK) {
            why = "a zone is not known";
            goto out;
        }
        req->zones[req->nzones++] = zone;
    }
    req->flags = (uint32_t)get_uv(&d);
    req->consent = (uint32_t)get_uv(&d);
    req->optout = (uint32_t)get_uv(&d);
    req->inconvenient_days = (uint8_t)get_uv(&d);
    uint64_t nr = get_uv(&d);
    if (nr > TM_GATE_MAX_RANGES) {
        why = "too many ranges";
        goto out;
    }
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t f = get_uv(&d), t = get_uv(&d);
        if (f > 86400 || t > 86400) {
            why = "a range out of the day";
            goto out;
        }
        req->range_from[req->nranges] = (int)f;
        req->range_to[req->nranges++] = (int)t;
    }
    if (bits & B_LP)
        req->last_payment_day = get_day(&d);
    if (bits & B_CO)
        req->charge_off_day = get_day(&d);
    uint64_t nm = get_uv(&d);
    if (nm > TM_GATE_MAX_MSGFIELDS) {
        why = "too many message fields";
        goto out;
    }
    for (uint64_t i = 0; i < nm && !d.bad; i++) {
        uint64_t v = get_uv(&d);
        const char *m = name(ud, (int64_t)(v >> 1));
        if (!m || strlen(m) >= sizeof req->msg[0].name) {
            why = "a message field is not kept";
            goto out;
        }
        snprintf(req->msg[req->nmsg].name, sizeof req->msg[0].name, "%s", m);
        req->msg[req->nmsg++].value = (v & 1) ? TM_TRI_TRUE : TM_TRI_FALSE;
    }
    uint64_t nh = get_uv(&d);
    if (d.bad || nh > (uint64_t)(d.end - d.p)) { /* each entry takes two bytes at least */
        why = "the history is cut short";
        goto out;
    }
    if (nh && !(req->history = calloc((size_t)nh, sizeof *req->history)))
        goto out;
    for (uint64_t i = 0; i < nh && !d.bad; i++) {
        uint64_t v = get_uv(&d);
        tm_history *h = &req->history[req->nhistory++];
        h->channel = (int)(v & 7);
        h->outcome = (int)(v >> 3 & 7);
        h->place = (int)(v >> 6 & 1);
        h->direction = (int)(v >> 7 & 1);
        h->other_debt = (int)(v >> 8 & 1);
        h->required_by_law = (int)(v >> H_RBL & 3);
        h->purpose = (int)(v >> H_PURPOSE & 7) - 1;
        if (h->channel >= TM_CH__COUNT || h->outcome >= TM_OUT__COUNT ||
            h->required_by_law > TM_TRI_TRUE || h->purpose >= TM_PU__COUNT ||
            (v >> (version == 1 ? H_TOP_V1 : H_TOP)) != 0) {
            why = "a history entry out of range";
            goto out;
        }
        h->at = get_before(&d, now);
    }
    if (version >= 2 && !d.bad && (why = get_facts(&d, name, ud, req)) != NULL)
        goto out;
    if (d.bad) {
        why = "cut short";
        goto out;
    }
    if (d.p != d.end) {
        why = "bytes after the end";
        goto out;
    }
    if (id_json && !(req->id_json = strdup(id_json)))
        goto out;
    return TM_OK;
out:
    tm_gate_request_free(req);
    if (why)
        return bad_enc(err, why);
    return tm_err_set(err, TM_ENOMEM, "out of memory decoding a decision");
}

/* The digest: each row's columns in a fixed text form, then its request's
 * bytes. */
typedef struct digest {
    EVP_MD_CTX *md;
    int64_t count;
} digest;

static int digest_row(void *ud, const tm_gate_log_row *r)
{
    digest *g = ud;
    char head[256];
    int n = snprintf(head, sizeof head, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%d,%d,%s%" PRId64 ",%s,%zu:",
                     r->id, r->debt, r->at, r->gen, r->channel, r->allow, r->has_next ? "" : "-",
                     r->has_next ? r->next : 0, r->rules, r->request_len);
    if (n < 0 || (size_t)n >= sizeof head || EVP_DigestUpdate(g->md, head, (size_t)n) != 1 ||
        (r->request_len && EVP_DigestUpdate(g->md, r->request, r->request_len) != 1))
        return TM_ECRYPTO;
    g->count++;
    return TM_OK;
}

/* ---------------------------------------------------------------------------
 * The writer: name numbers kept in memory, each checked once against the
 * store when it was learnt in a transaction that has since ended (it may
 * have been rolled back, taking the name with it).
 */
typedef struct name_ent {
    char *name;
    int64_t id;
    uint64_t tx;   /* the transaction it was learnt in; 0 once known to be committed */
} name_ent;

struct tm_gate_log {
    tm_store *s;
    name_ent *tab;
    size_t cap, n;
    int64_t from, to;   /* the rows added since the last seal */
    long count, allowed, blocked;
    EVP_MD_CTX *md;     /* their digest, as tm_gate_log_digest computes it */
};

int tm_gate_log_open(tm_store *s, tm_gate_log **out, struct tm_err *err)
{
    tm_gate_log *l = calloc(1, sizeof *l);
    if (!l || !(l->tab = calloc(256, sizeof *l->tab))) {
        free(l);
        *out = NULL;
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    l->s = s;
    l->cap = 256;
    if (!(l->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(l->md, EVP_sha256(), NULL) != 1) {
        tm_gate_log_close(l);
        *out = NULL;
        return tm_err_set(err, TM_ECRYPTO, "cannot start SHA-256");
    }
    *out = l;
    return TM_OK;
}

void tm_gate_log_close(tm_gate_log *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->cap; i++)
        free(l->tab[i].name);
    free(l->tab);
    EVP_MD_CTX_free(l->md);
    free(l);
}

static size_t slot(const name_ent *tab, size_t cap, const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    size_t i = (size_t)h & (cap - 1);
    while (tab[i].name && strcmp(tab[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(tm_gate_log *l, struct tm_err *err)
{
    size_t cap = l->cap * 2;
    name_ent *t = calloc(cap, sizeof *t);
    if (!t)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    for (size_t i = 0; i < l->cap; i++)
        if (l->tab[i].name)
            t[slot(t, cap, l->tab[i].name)] = l->tab[i];
    free(l->tab);
    l->tab = t;
    l->cap = cap;
    return TM_OK;
}

static int intern(void *ud, const char *name, int64_t *id, struct tm_err *err)
{
    tm_gate_log *l = ud;
    uint64_t tx = tm_store_tx_id(l->s);
    name_ent *e = &l->tab[slot(l->tab, l->cap, name)];
    int found = 0, rc;
    if (e->name) {
        if (e->tx == 0 || e->tx == tx) {
            *id = e->id;
            return TM_OK;
        }
        /* Learnt in a transaction that has ended: still there if it committed. */
        if ((rc = tm_store_gate_name_id(l->s, name, 0, id, &found, err)) != TM_OK)
            return rc;
        if (found && *id == e->id) {
            e->tx = 0;
            return TM_OK;
        }
        if ((rc = tm_store_gate_name_id(l->s, name, 1, id, &found, err)) != TM_OK)
            return rc;
        e->id = *id;
        e->tx = tx;
        return TM_OK;
    }
    if ((rc = tm_store_gate_name_id(l->s, name, 1, id, &found, err)) != TM_OK)
        return rc;
    if (!found)
        return tm_err_set(err, TM_ESTORE, "the name '%s' was not kept", name);
    if ((l->n + 1) * 2 > l->cap) {
        if ((rc = grow(l, err)) != TM_OK)
            return rc;
        e = &l->tab[slot(l->tab, l->cap, name)];
    }
    if (!(e->name = strdup(name)))
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    e->id = *id;
    e->tx = tx;
    l->n++;
    return TM_OK;
}

int tm_gate_log_add(tm_gate_log *l, int64_t debt, const tm_request *req, int allow,
                    const char *blocked, int64_t next_allowed, const char *gen, int64_t *id,
                    struct tm_err *err)
{
    tm_gate_log_row row = {.debt = debt, .debt_ref = req->debt_id, .at = req->now,
                           .channel = req->channel, .allow = allow != 0};
    int rc = intern(l, gen && *gen ? gen : "(no scripts)", &row.gen, err);
    char rules[1024] = "";
    size_t off = 0;
    for (const char *p = blocked ? blocked : ""; rc == TM_OK && *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        char qid[128];
        if (n >= sizeof qid)
            return tm_err_set(err, TM_EINVAL, "a rule id of %zu characters", n);
        memcpy(qid, p, n);
        qid[n] = '\0';
        int64_t rid = 0;
        rc = intern(l, qid, &rid, err);
        int w = snprintf(rules + off, sizeof rules - off, "%s%" PRId64, off ? "," : "", rid);
        if (w < 0 || (size_t)w >= sizeof rules - off)
            return tm_err_set(err, TM_EINVAL, "too many blocking rules to keep");
        off += (size_t)w;
        p += n + (c ? 1 : 0);
    }
    if (!allow && next_allowed != TM_GATE_NEVER) {
        row.has_next = 1;
        row.next = next_allowed - req->now;
    }
    row.rules = rules;
    uint8_t *bytes = NULL;
    if (rc == TM_OK)
        rc = tm_gate_log_encode(req, debt == 0, intern, l, &bytes, &row.request_len, err);
    row.request = bytes;
    if (rc == TM_OK)
        rc = tm_store_gate_log_add(l->s, &row, err);
    /* The batch's digest as it grows, so the seal reads nothing back. */
    digest g = {l->md, 0};
    if (rc == TM_OK && digest_row(&g, &row) != TM_OK)
        rc = tm_err_set(err, TM_ECRYPTO, "SHA-256 failed");
    free(bytes);
    if (rc != TM_OK)
        return rc;
    if (l->count == 0)
        l->from = row.id;
    l->to = row.id;
    l->count++;
    if (allow)
        l->allowed++;
    else
        l->blocked++;
    if (id)
        *id = row.id;
    return TM_OK;
}

void tm_gate_log_reset(tm_gate_log *l)
{
    l->from = l->to = 0;
    l->count = l->allowed = l->blocked = 0;
    EVP_DigestInit_ex(l->md, EVP_sha256(), NULL);
}

int tm_gate_log_digest(tm_store *s, int64_t from, int64_t to, char hex[65], int64_t *count,
                       struct tm_err *err)
{
    digest g = {EVP_MD_CTX_new(), 0};
    if (!g.md || EVP_DigestInit_ex(g.md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(g.md);
        return tm_err_set(err, TM_ECRYPTO, "cannot start SHA-256");
    }
    int rc = tm_store_gate_log_scan(s, 0, from, to, digest_row, &g, err);
    if (rc == TM_ECRYPTO)
        tm_err_set(err, rc, "SHA-256 failed");
    uint8_t out[32];
    unsigned int olen = 0;
    if (rc == TM_OK && EVP_DigestFinal_ex(g.md, out, &olen) != 1)
        rc = tm_err_set(err, TM_ECRYPTO, "SHA-256 failed");
    EVP_MD_CTX_free(g.md);
    if (rc != TM_OK)
        return rc;
    tm_hex(out, 32, hex);
    *count = g.count;
    return TM_OK;
}

int tm_gate_log_seal(tm_gate_log *l, tm_audit_writer *audit, int64_t at, const char *actor,
                     const char *subject, struct tm_err *err)
{
    if (l->count == 0)
        return TM_OK;
    uint8_t md[32];
    unsigned int mdlen = 0;
    char hex[65], details[400];
    if (EVP_DigestFinal_ex(l->md, md, &mdlen) != 1) {
        tm_gate_log_reset(l);
        return tm_err_set(err, TM_ECRYPTO, "SHA-256 failed");
    }
    tm_hex(md, 32, hex);
    snprintf(details, sizeof details,
             "{\"from\":%" PRId64 ",\"to\":%" PRId64 ",\"count\":%ld,\"allowed\":%ld,"
             "\"blocked\":%ld,\"sha256\":\"%s\"}",
             l->from, l->to, l->count, l->allowed, l->blocked, hex);
    int rc = tm_audit_write(audit, at, actor, "gate.decisions", subject, details, err);
    /* Sealed or not, the digest is spent: a failed seal rolls the batch back. */
    tm_gate_log_reset(l);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Names read back.
 */
struct tm_gate_names {
    char **by_id;
    int64_t n;
};

static int on_name(void *ud, int64_t id, const char *name)
{
    tm_gate_names *g = ud;
    if (id < 0 || id > (int64_t)1 << 30)
        return TM_OK; /* not one this build writes: no decision names it */
    if (id >= g->n) {
        int64_t n = g->n ? g->n : 256;
        while (n <= id)
            n *= 2;
        char **q = realloc(g->by_id, (size_t)n * sizeof *q);
        if (!q)
            return TM_ENOMEM;
        memset(q + g->n, 0, (size_t)(n - g->n) * sizeof *q);
        g->by_id = q;
        g->n = n;
    }
    free(g->by_id[id]);
    return (g->by_id[id] = strdup(name ? name : "")) ? TM_OK : TM_ENOMEM;
}

int tm_gate_names_load(tm_store *s, tm_gate_names **out, struct tm_err *err)
{
    *out = NULL;
    tm_gate_names *g = calloc(1, sizeof *g);
    if (!g)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    int rc = tm_store_gate_names(s, on_name, g, err);
    if (rc == TM_ENOMEM)
        tm_err_set(err, rc, "out of memory reading the gate's names");
    if (rc != TM_OK) {
        tm_gate_names_free(g);
        return rc;
    }
    *out = g;
    return TM_OK;
}

void tm_gate_names_free(tm_gate_names *g)
{
    if (!g)
        return;
    for (int64_t i = 0; i < g->n; i++)
        free(g->by_id[i]);
    free(g->by_id);
    free(g);
}

const char *tm_gate_names_get(void *ud, int64_t id)
{
    const tm_gate_names *g = ud;
    return id >= 0 && id < g->n ? g->by_id[id] : NULL;
}
