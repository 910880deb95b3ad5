/*
 * core/gate_wire.c: the decide wire format (gate_wire.h). Reads a contact
 * request's JSON line into a tm_request and writes a decision as its JSON
 * line, both as CONTRACT.md fixes them; judging the request is gate.c's.
 *
 * Both directions are on the hot path of `tallyman decide`: requests are
 * read in place with the token scanner (jscan.h) and decisions written by
 * hand into the caller's buffer, with no allocation per field.
 */
#include "gate_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "jscan.h"
#include "pay.h"
#include "text.h"

/* ---------------------------------------------------------------------------
 * Request parsing. Requests are read with the in-place scanner (jscan.h):
 * `tallyman decide` parses hundreds of thousands of them a second. Every
 * problem names the field it is in.
 */
#define MAX_TOKENS 4096

typedef struct jctx {
    tm_json j;
    struct tm_err *err;
} jctx;

static int bad(struct tm_err *err, const char *field, const char *fmt, const char *v)
    __attribute__((format(printf, 3, 0)));

static int bad(struct tm_err *err, const char *field, const char *fmt, const char *v)
{
    if (!err)
        return TM_EINVAL;
    char m[300];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(m, sizeof m, fmt, v);
#pragma GCC diagnostic pop
    return tm_err_set(err, TM_EINVAL, "%s: %s", field, m);
}

static int jtype(const jctx *c, int i) { return i >= 0 ? c->j.tok[i].type : 0; }
static int jnull(const jctx *c, int i) { return i < 0 || c->j.tok[i].type == TM_J_NULL; }
static int jbool(const jctx *c, int i)
{
    return jtype(c, i) == TM_J_TRUE || jtype(c, i) == TM_J_FALSE;
}

/* The string at token i, decoded into buf; NULL when not a string or too long. */
static const char *jstr(const jctx *c, int i, char *buf, size_t cap)
{
    return tm_json_str(&c->j, i, buf, cap) >= 0 ? buf : NULL;
}

/* An empty object where a list is expected is taken as an empty list: an
 * empty Lua table (specs, scripts) is written as {}. */
static int is_list(const jctx *c, int i)
{
    return jtype(c, i) == TM_J_ARRAY || (jtype(c, i) == TM_J_OBJECT && c->j.tok[i].count == 0);
}

#define J_FOREACH(c, arr, idx, e)                                                              \
    for (uint32_t idx = 0, e = (uint32_t)(arr) + 1; idx < (c)->j.tok[arr].count;              \
         idx++, e = (c)->j.tok[e].next)

/* ---------------------------------------------------------------------------
 * Fields the gate does not read. A request may carry fields a newer caller
 * knows and this engine does not: the decision is still given, and the
 * field is named in its `warnings` (with the known field it is nearest
 * to), so a misspelt "timezone" does not go unnoticed while the rules run
 * on the default zones.
 */
static const char *const top_fields[] = {"id", "now", "channel", "place", "purpose", "collector",
                                         "consumer", "debt", "message", "history", "dialer",
                                         "line", "creditor",
                                         "record", /* the service's: keep the decision */
                                         NULL};
static const char *const consumer_fields[] = {"state", "city", "timezones", "flags", "consent",
                                              "optout", "inconvenient", "language", "requests",
                                              "attorney", NULL};
static const char *const debt_fields[] = {"id", "type", "dispute", "last_payment_date",
                                          "charge_off_date", "default_date", "time_barred", "owner",
                                          "notices",
                                          "creditor", NULL};
static const char *const history_fields[] = {"channel", "at", "outcome", "place", "debt",
                                             "direction", "required_by_law", "purpose", NULL};
static const char *const inconvenient_fields[] = {"days", "from", "to", NULL};

/* Adds a warning line to req->warnings; out of memory drops it (a warning
 * is advice, never a reason to refuse). */
static void warn(tm_request *req, const char *text)
{
    size_t have = req->warnings ? strlen(req->warnings) : 0, n = strlen(text);
    char *q = realloc(req->warnings, have + n + 2);
    if (!q)
        return;
    if (have)
        q[have++] = '\n';
    memcpy(q + have, text, n + 1);
    req->warnings = q;
}

/* Warns of every member of object `obj` (at `path`, "" for the request
 * itself) whose name is not in `known`. */
static void unknown_members(const jctx *c, int obj, const char *path, const char *const *known,
                            tm_request *req)
{
    if (jtype(c, obj) != TM_J_OBJECT)
        return;
    uint32_t k = (uint32_t)obj + 1;
    for (uint32_t m = 0; m < c->j.tok[obj].count; m++) {
        int ok = 0;
        for (int i = 0; known[i] && !ok; i++)
            ok = tm_json_streq(&c->j, (int)k, known[i]);
        if (!ok) {
            char name[64], line[300];
            int nl = tm_json_str(&c->j, (int)k, name, sizeof name);
            if (nl < 0)
                snprintf(name, sizeof name, "(a long name)");
            const char *near = nl > 0 ? tm_text_nearest_name(name, (size_t)nl, known) : NULL;
            if (near)
                snprintf(line, sizeof line, "%s%s%s: unknown field, not read (did you mean \"%s\"?)",
                         path, *path ? "." : "", name, near);
            else
                snprintf(line, sizeof line, "%s%s%s: unknown field, not read", path,
                         *path ? "." : "", name);
            warn(req, line);
        }
        k = c->j.tok[k + 1].next;
    }
}

/* Every object of the request whose fields the gate knows. */
static void unknown_fields(const jctx *c, tm_request *req)
{
    unknown_members(c, 0, "", top_fields, req);
    int co = tm_json_get(&c->j, 0, "consumer");
    unknown_members(c, co, "consumer", consumer_fields, req);
    int inc = tm_json_get(&c->j, co, "inconvenient");
    if (jtype(c, inc) == TM_J_ARRAY)
        J_FOREACH(c, inc, i, e) {
            char path[48];
            snprintf(path, sizeof path, "consumer.inconvenient[%u]", i);
            unknown_members(c, (int)e, path, inconvenient_fields, req);
        }
    unknown_members(c, tm_json_get(&c->j, 0, "debt"), "debt", debt_fields, req);
    int h = tm_json_get(&c->j, 0, "history");
    if (jtype(c, h) == TM_J_ARRAY)
        J_FOREACH(c, h, i, e) {
            char path[32];
            snprintf(path, sizeof path, "history[%u]", i);
            unknown_members(c, (int)e, path, history_fields, req);
        }
}

static int parse_time(const jctx *c, int v, const char *field, int64_t *out, struct tm_err *err)
{
    char buf[64];
    const char *s = jstr(c, v, buf, sizeof buf);
    if (!s)
        return bad(err, field, "%s", "must be an RFC 3339 time string");
    int32_t nsec;
    int offset;
    struct tm_err e2 = {0};
    if (tm_calendar_parse_rfc3339(s, out, &nsec, &offset, err ? &e2 : NULL) != TM_OK)
        return err ? tm_err_set(err, TM_EINVAL, "%s: %s", field, e2.msg) : TM_EINVAL;
    return TM_OK;
}

static int parse_day(const jctx *c, int v, const char *field, int64_t *out, struct tm_err *err)
{
    char buf[64];
    const char *s = jstr(c, v, buf, sizeof buf);
    if (!s)
        return bad(err, field, "%s", "must be a YYYY-MM-DD date string");
    tm_date d;
    struct tm_err e2 = {0};
    if (tm_calendar_parse_date(s, &d, &e2) != TM_OK)
        return tm_err_set(err, TM_EINVAL, "%s: %s", field, e2.msg);
    *out = tm_calendar_date_to_days(d);
    return TM_OK;
}

/* An enum-valued string member `key` of `obj`: absent or null gives `def`. */
static int parse_enum(const jctx *c, int obj, const char *key, const char *field,
                      const char *const *names, int def, int *out, struct tm_err *err)
{
    int v = tm_json_get(&c->j, obj, key);
    if (jnull(c, v)) {
        *out = def;
        return TM_OK;
    }
    char buf[64];
    const char *s = jstr(c, v, buf, sizeof buf);
    if (!s)
        return bad(err, field, "%s", "must be a known name (a string)");
    int i = tm_gate_lookup(names, s);
    if (i < 0)
        return bad(err, field, "unknown value '%.60s'", s);
    *out = i;
    return TM_OK;
}

static int parse_clock(const jctx *c, int v, const char *field, int *secs, struct tm_err *err)
{
    char buf[16];
    const char *s = jstr(c, v, buf, sizeof buf);
    if (!s || tm_calendar_parse_clock(s, TM_CLOCK_END_OF_DAY, secs, NULL) != TM_OK)
        return bad(err, field, "%s", "must be a local time \"HH:MM\"");
    return TM_OK;
}

/* A list of names (flags, channels) into a bit mask. */
static int parse_names(const jctx *c, int arr, const char *field, const char *const *names,
                       const char *what, uint32_t *mask, struct tm_err *err)
{
    if (jnull(c, arr))
        return TM_OK;
    if (!is_list(c, arr))
        return bad(err, field, "%s", "must be an array");
    J_FOREACH(c, arr, i, e) {
        char buf[64], f[96], m[64];
        const char *s = jstr(c, (int)e, buf, sizeof buf);
        int k = s ? tm_gate_lookup(names, s) : -1;
        if (k < 0) {
            snprintf(f, sizeof f, "%s[%u]", field, i);
            snprintf(m, sizeof m, "unknown %s '%%.40s'", what);
            return bad(err, f, m, s ? s : "(not a string)");
        }
        *mask |= 1u << k;
    }
    return TM_OK;
}

/* The latest local date of `req->now` among the consumer's zones: a date
 * the request gives is "after now" when it is later than this. */
static int64_t latest_local_day(const tm_request *req)
{
    int64_t best = INT64_MIN;
    for (int i = 0; i < req->nzones; i++) {
        tm_civil cv;
        tm_tz_to_local(req->zones[i], req->now, &cv);
        int64_t d = tm_calendar_days_from_civil(cv.year, cv.month, cv.day);
        if (d > best)
            best = d;
    }
    if (best == INT64_MIN)
        best = req->now >= 0 ? req->now / 86400 : (req->now - 86399) / 86400;
    return best;
}

/* Each member of object `obj` is one of `keys`; otherwise the member is
 * named as "<field>.<key>: unknown field". */
static int known_keys(const jctx *c, int obj, const char *field, const char *const *keys,
                      struct tm_err *err)
{
    uint32_t k = (uint32_t)obj + 1;
    for (uint32_t m = 0; m < c->j.tok[obj].count; m++) {
        char key[48], f[120];
        if (!jstr(c, (int)k, key, sizeof key) || tm_gate_lookup(keys, key) < 0) {
            snprintf(f, sizeof f, "%s.%s", field, jstr(c, (int)k, key, sizeof key) ? key : "?");
            return bad(err, f, "%s", "unknown field");
        }
        k = c->j.tok[k + 1].next;
    }
    return TM_OK;
}

/* A boolean member: absent or null leaves TM_TRI_ABSENT. */
static int parse_tri(const jctx *c, int obj, const char *key, const char *field, int *out,
                     struct tm_err *err)
{
    int v = tm_json_get(&c->j, obj, key);
    *out = TM_TRI_ABSENT;
    if (jnull(c, v))
        return TM_OK;
    if (!jbool(c, v))
        return bad(err, field, "%s", "must be true or false");
    *out = jtype(c, v) == TM_J_TRUE ? TM_TRI_TRUE : TM_TRI_FALSE;
    return TM_OK;
}

/* An instant the consumer or the collector already acted at: not after now. */
static int parse_past_time(const jctx *c, int v, const char *field, const tm_request *req,
                           int64_t *out, struct tm_err *err)
{
    if (parse_time(c, v, field, out, err) != TM_OK)
        return TM_EINVAL;
    if (*out > req->now)
        return bad(err, field, "%s", "is after now (the request's now)");
    return TM_OK;
}

/* A date something already happened on: not after the consumer's date now. */
static int parse_past_day(const jctx *c, int v, const char *field, const tm_request *req,
                          int64_t *out, struct tm_err *err)
{
    if (parse_day(c, v, field, out, err) != TM_OK)
        return TM_EINVAL;
    if (*out > latest_local_day(req))
        return bad(err, field, "%s", "is after now (the consumer's date at the request's now)");
    return TM_OK;
}

/* A BCP 47 language tag as far as the gate reads one: a primary language
 * subtag of 2 or 3 letters, then subtags of 1 to 8 letters or digits. */
static int is_language_tag(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n < 2 || n > 3)
        return 0;
    s += n;
    while (*s == '-') {
        s++;
        n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        if (n < 1 || n > 8)
            return 0;
        s += n;
    }
    return *s == '\0';
}

/* consumer.attorney: the attorney exceptions of 15 U.S.C. 1692c(a)(2). */
static int parse_attorney(const jctx *c, int a, tm_request *req, struct tm_err *err)
{
    static const char *const keys[] = {"since", "consented", "responded", "asked_at", NULL};
    if (jtype(c, a) != TM_J_OBJECT)
        return bad(err, "consumer.attorney", "%s",
                   "must be an object {since, consented, responded, asked_at}");
    if (known_keys(c, a, "consumer.attorney", keys, err) != TM_OK)
        return TM_EINVAL;
    tm_attorney *at = &req->attorney;
    at->present = 1;
    req->flags |= 1u << TM_FL_ATTORNEY; /* represented, whatever the exceptions say */
    int v = tm_json_get(&c->j, a, "since");
    if (!jnull(c, v) &&
        parse_past_day(c, v, "consumer.attorney.since", req, &at->since_day, err) != TM_OK)
        return TM_EINVAL;
    v = tm_json_get(&c->j, a, "asked_at");
    if (!jnull(c, v) &&
        parse_past_time(c, v, "consumer.attorney.asked_at", req, &at->asked_at, err) != TM_OK)
        return TM_EINVAL;
    if (parse_tri(c, a, "consented", "consumer.attorney.consented", &at->consented, err) != TM_OK ||
        parse_tri(c, a, "responded", "consumer.attorney.responded", &at->responded, err) != TM_OK)
        return TM_EINVAL;
    return TM_OK;
}

/* consumer.requests: the consumer's own requests about contact. */
static int parse_requests(const jctx *c, int arr, tm_request *req, struct tm_err *err)
{
    static const char *const keys[] = {"type", "at", "form", "from", "to", "channels", NULL};
    if (!is_list(c, arr))
        return bad(err, "consumer.requests", "%s", "must be an array");
    J_FOREACH(c, arr, i, ue) {
        int e = (int)ue;
        char field[64], f2[100];
        snprintf(field, sizeof field, "consumer.requests[%u]", i);
        if (jtype(c, e) != TM_J_OBJECT)
            return bad(err, field, "%s", "must be an object {type, at, form, ...}");
        if (req->nrequests >= TM_GATE_MAX_REQUESTS)
            return bad(err, field, "%s", "too many requests (at most 16)");
        if (known_keys(c, e, field, keys, err) != TM_OK)
            return TM_EINVAL;
        tm_consumer_request *q = &req->requests[req->nrequests];
        memset(q, 0, sizeof *q);
        snprintf(f2, sizeof f2, "%s.type", field);
        if (tm_json_get(&c->j, e, "type") < 0)
            return bad(err, f2, "%s", "is required (no_work_contact, no_calls_at, contact_only_by)");
        if (parse_enum(c, e, "type", f2, tm_gate_creq_names, 0, &q->type, err) != TM_OK)
            return TM_EINVAL;
        snprintf(f2, sizeof f2, "%s.form", field);
        if (parse_enum(c, e, "form", f2, tm_gate_form_names, TM_GATE_ABSENT, &q->form, err) != TM_OK)
            return TM_EINVAL;
        snprintf(f2, sizeof f2, "%s.at", field);
        int at = tm_json_get(&c->j, e, "at");
        if (jnull(c, at))
            return bad(err, f2, "%s", "is required (when the consumer made the request)");
        if (parse_past_time(c, at, f2, req, &q->at, err) != TM_OK)
            return TM_EINVAL;
        int from = tm_json_get(&c->j, e, "from"), to = tm_json_get(&c->j, e, "to");
        if (q->type == TM_CREQ_NO_CALLS_AT) {
            if (from < 0 || to < 0)
                return bad(err, field, "%s", "no_calls_at needs both from and to (\"HH:MM\")");
            snprintf(f2, sizeof f2, "%s.from", field);
            if (parse_clock(c, from, f2, &q->from_s, err) != TM_OK)
                return TM_EINVAL;
            snprintf(f2, sizeof f2, "%s.to", field);
            if (parse_clock(c, to, f2, &q->to_s, err) != TM_OK)
                return TM_EINVAL;
        } else if (from >= 0 || to >= 0) {
            return bad(err, field, "%s", "from and to belong to a no_calls_at request");
        }
        int chans = tm_json_get(&c->j, e, "channels");
        snprintf(f2, sizeof f2, "%s.channels", field);
        if (q->type == TM_CREQ_CONTACT_ONLY_BY) {
            if (jnull(c, chans) || !is_list(c, chans) || c->j.tok[chans].count == 0)
                return bad(err, f2, "%s", "contact_only_by needs a non-empty array of channels");
            if (parse_names(c, chans, f2, tm_gate_channel_names, "channel", &q->channels, err) !=
                TM_OK)
                return TM_EINVAL;
        } else if (chans >= 0) {
            return bad(err, field, "%s", "channels belong to a contact_only_by request");
        }
        req->nrequests++;
    }
    return TM_OK;
}

static int parse_consumer(const jctx *c, int co, tm_request *req, struct tm_err *err)
{
    if (jtype(c, co) != TM_J_OBJECT)
        return bad(err, "consumer", "%s", "is required and must be an object");
    char buf[128];
    const char *code = jstr(c, tm_json_get(&c->j, co, "state"), buf, sizeof buf);
    if (!code)
        return bad(err, "consumer.state", "%s", "is required (a USPS state code)");
    const char *const *szones = tm_tz_state_zones(code);
    if (strlen(code) != 2 || szones == NULL)
        return bad(err, "consumer.state", "unknown state '%.20s'", code);
    memcpy(req->state, code, 3);
    int city = tm_json_get(&c->j, co, "city");
    if (!jnull(c, city)) {
        const char *s = jstr(c, city, buf, sizeof buf);
        if (!s)
            return bad(err, "consumer.city", "%s", "must be a string (at most 127 bytes)");
        req->city = strdup(s);
    }
    int tzs = tm_json_get(&c->j, co, "timezones");
    if (!jnull(c, tzs)) {
        if (!is_list(c, tzs) || c->j.tok[tzs].count == 0)
            return bad(err, "consumer.timezones", "%s", "must be a non-empty array of zone names");
        J_FOREACH(c, tzs, i, e) {
            char field[64];
            snprintf(field, sizeof field, "consumer.timezones[%u]", i);
            const char *s = jstr(c, (int)e, buf, sizeof buf);
            if (!s)
                return bad(err, field, "%s", "must be an IANA zone name");
            if (req->nzones >= TM_GATE_MAX_ZONES)
                return bad(err, field, "%s", "too many zones (at most 16)");
            const tm_zone *zone;
            if (tm_tz_get(s, &zone, NULL) != TM_OK)
                return bad(err, field, "unknown time zone '%.60s'", s);
            req->zones[req->nzones++] = zone;
        }
    } else {
        for (int i = 0; szones[i] && req->nzones < TM_GATE_MAX_ZONES; i++) {
            const tm_zone *zone;
            if (tm_tz_get(szones[i], &zone, NULL) == TM_OK)
                req->zones[req->nzones++] = zone;
        }
        if (req->nzones == 0)
            return bad(err, "consumer.state", "no time zone data for '%s'", code);
    }
    if (parse_names(c, tm_json_get(&c->j, co, "flags"), "consumer.flags", tm_gate_flag_names,
                    "flag", &req->flags, err) != TM_OK ||
        parse_names(c, tm_json_get(&c->j, co, "optout"), "consumer.optout", tm_gate_channel_names,
                    "channel", &req->optout, err) != TM_OK)
        return TM_EINVAL;
    int consent = tm_json_get(&c->j, co, "consent");
    if (!jnull(c, consent)) {
        if (jtype(c, consent) != TM_J_OBJECT)
            return bad(err, "consumer.consent", "%s", "must be an object of booleans");
        uint32_t k = (uint32_t)consent + 1;
        for (uint32_t m = 0; m < c->j.tok[consent].count; m++) {
            uint32_t v = k + 1;
            char key[48], field[80];
            if (!jstr(c, (int)k, key, sizeof key))
                snprintf(key, sizeof key, "?");
            snprintf(field, sizeof field, "consumer.consent.%s", key);
            if (strcmp(key, "more_calls_at") == 0) {
                /* 12 CFR 1006.14(b)(3)(i): when the consumer last gave direct
                 * consent to more calls. */
                if (!jnull(c, (int)v) &&
                    parse_past_time(c, (int)v, field, req, &req->more_calls_at, err) != TM_OK)
                    return TM_EINVAL;
                k = c->j.tok[v].next;
                continue;
            }
            if (!jbool(c, (int)v))
                return bad(err, field, "%s", "must be true or false");
            uint32_t bit;
            int ch = tm_gate_lookup(tm_gate_channel_names, key);
            if (ch >= 0)
                bit = 1u << ch;
            else if (strcmp(key, "autodial") == 0)
                bit = TM_CONSENT_AUTODIAL;
            else
                return bad(err, field, "unknown consent '%.40s'", key);
            if (jtype(c, (int)v) == TM_J_TRUE)
                req->consent |= bit;
            k = c->j.tok[v].next;
        }
    }
    int inc = tm_json_get(&c->j, co, "inconvenient");
    if (!jnull(c, inc)) {
        if (!is_list(c, inc))
            return bad(err, "consumer.inconvenient", "%s", "must be an array");
        J_FOREACH(c, inc, i, e) {
            char field[80];
            snprintf(field, sizeof field, "consumer.inconvenient[%u]", i);
            if (jtype(c, (int)e) != TM_J_OBJECT)
                return bad(err, field, "%s", "must be an object with days and/or from/to");
            int days = tm_json_get(&c->j, (int)e, "days");
            if (days >= 0) {
                if (!is_list(c, days))
                    return bad(err, field, "%s", "days must be an array of sun..sat");
                J_FOREACH(c, days, di, d) {
                    (void)di;
                    const char *s = jstr(c, (int)d, buf, sizeof buf);
                    int k = s ? tm_gate_lookup(tm_gate_weekday_names, s) : -1;
                    if (k < 0)
                        return bad(err, field, "unknown day '%.20s' (sun..sat)",
                                   s ? s : "(not a string)");
                    req->inconvenient_days |= (uint8_t)(1u << k);
                }
            }
            int from = tm_json_get(&c->j, (int)e, "from"), to = tm_json_get(&c->j, (int)e, "to");
            if (from >= 0 || to >= 0) {
                if (from < 0 || to < 0)
                    return bad(err, field, "%s", "needs both from and to");
                if (req->nranges >= TM_GATE_MAX_RANGES)
                    return bad(err, field, "%s", "too many ranges (at most 8)");
                char f2[100];
                snprintf(f2, sizeof f2, "%s.from", field);
                if (parse_clock(c, from, f2, &req->range_from[req->nranges], err) != TM_OK)
                    return TM_EINVAL;
                snprintf(f2, sizeof f2, "%s.to", field);
                if (parse_clock(c, to, f2, &req->range_to[req->nranges], err) != TM_OK)
                    return TM_EINVAL;
                req->nranges++;
            }
            if (days < 0 && from < 0 && to < 0)
                return bad(err, field, "%s", "must give days and/or from/to");
        }
    }
    int lang = tm_json_get(&c->j, co, "language");
    if (!jnull(c, lang)) {
        const char *s = jstr(c, lang, buf, sizeof buf);
        if (!s || strlen(s) >= sizeof req->language || !is_language_tag(s))
            return bad(err, "consumer.language", "'%.40s' is not a BCP 47 language tag (\"en\", \"es-US\")",
                       s ? s : "(not a string)");
        snprintf(req->language, sizeof req->language, "%s", s);
    }
    int att = tm_json_get(&c->j, co, "attorney");
    if (!jnull(c, att) && parse_attorney(c, att, req, err) != TM_OK)
        return TM_EINVAL;
    int reqs = tm_json_get(&c->j, co, "requests");
    if (!jnull(c, reqs) && parse_requests(c, reqs, req, err) != TM_OK)
        return TM_EINVAL;
    return TM_OK;
}

/* debt.notices: an object of notice name -> the date it was sent. */
static int parse_notices(const jctx *c, int n, tm_request *req, struct tm_err *err)
{
    if (jtype(c, n) != TM_J_OBJECT)
        return bad(err, "debt.notices", "%s", "must be an object of notice name -> \"YYYY-MM-DD\"");
    uint32_t k = (uint32_t)n + 1;
    for (uint32_t m = 0; m < c->j.tok[n].count; m++) {
        uint32_t v = k + 1;
        char key[48], field[96];
        int kl = tm_json_str(&c->j, (int)k, key, sizeof key);
        snprintf(field, sizeof field, "debt.notices.%s", kl >= 0 ? key : "?");
        if (kl <= 0 || (size_t)kl >= sizeof req->notices[0].name ||
            strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") != (size_t)kl)
            return bad(err, field, "%s", "a notice name is 1 to 31 of a-z, 0-9 and _");
        if (req->nnotices >= TM_GATE_MAX_NOTICES)
            return bad(err, field, "%s", "too many notices (at most 8)");
        if (!jnull(c, (int)v)) {
            tm_notice *x = &req->notices[req->nnotices];
            if (parse_past_day(c, (int)v, field, req, &x->day, err) != TM_OK)
                return TM_EINVAL;
            memcpy(x->name, key, (size_t)kl + 1);
            req->nnotices++;
        }
        k = c->j.tok[v].next;
    }
    return TM_OK;
}

static int parse_debt(const jctx *c, int d, tm_request *req, struct tm_err *err)
{
    if (jnull(c, d))
        return TM_OK;
    if (jtype(c, d) != TM_J_OBJECT)
        return bad(err, "debt", "%s", "must be an object");
    char buf[256];
    int id = tm_json_get(&c->j, d, "id");
    if (!jnull(c, id)) {
        int64_t n;
        if (jstr(c, id, buf, sizeof buf))
            req->debt_id = strdup(buf);
        else if (tm_json_int(&c->j, id, &n) == 0) {
            snprintf(buf, sizeof buf, "%lld", (long long)n);
            req->debt_id = strdup(buf);
        } else
            return bad(err, "debt.id", "%s", "must be a string");
    }
    if (parse_enum(c, d, "type", "debt.type", tm_gate_debt_type_names, TM_DT_OTHER, &req->debt_type,
                   err) != TM_OK ||
        parse_enum(c, d, "dispute", "debt.dispute", tm_gate_dispute_names, TM_DISPUTE_NONE,
                   &req->dispute, err) != TM_OK)
        return TM_EINVAL;
    int v = tm_json_get(&c->j, d, "last_payment_date");
    if (!jnull(c, v) && parse_day(c, v, "debt.last_payment_date", &req->last_payment_day, err) != TM_OK)
        return TM_EINVAL;
    v = tm_json_get(&c->j, d, "charge_off_date");
    if (!jnull(c, v) && parse_day(c, v, "debt.charge_off_date", &req->charge_off_day, err) != TM_OK)
        return TM_EINVAL;
    v = tm_json_get(&c->j, d, "default_date");
    if (!jnull(c, v)) {
        if (parse_day(c, v, "debt.default_date", &req->default_day, err) != TM_OK)
            return TM_EINVAL;
        if (req->last_payment_day != INT64_MIN && req->default_day < req->last_payment_day)
            return bad(err, "debt.default_date", "%s",
                       "is before debt.last_payment_date (it is the first missed payment after it)");
    }
    if (parse_enum(c, d, "owner", "debt.owner", tm_gate_owner_names, TM_GATE_ABSENT, &req->owner,
                   err) != TM_OK)
        return TM_EINVAL;
    if (req->owner != TM_GATE_ABSENT && req->collector != TM_CO_THIRD_PARTY &&
        (req->owner == TM_OWNER_DEBT_BUYER) != (req->collector == TM_CO_DEBT_BUYER))
        return bad(err, "debt.owner", "'%s' contradicts the collector (a debt buyer owns the debts "
                   "it collects, a creditor its own)", tm_gate_owner_names[req->owner]);
    v = tm_json_get(&c->j, d, "notices");
    if (!jnull(c, v) && parse_notices(c, v, req, err) != TM_OK)
        return TM_EINVAL;
    v = tm_json_get(&c->j, d, "time_barred");
    if (!jnull(c, v)) {
        if (!jbool(c, v))
            return bad(err, "debt.time_barred", "%s", "must be true or false");
        req->time_barred = jtype(c, v) == TM_J_TRUE ? TM_TRI_TRUE : TM_TRI_FALSE;
        req->time_barred_given = 1;
    }
    v = tm_json_get(&c->j, d, "creditor");
    if (!req->creditor && jstr(c, v, buf, sizeof buf))
        req->creditor = strdup(buf);
    return TM_OK;
}

static int parse_history(const jctx *c, int h, tm_request *req, struct tm_err *err)
{
    if (jnull(c, h))
        return TM_OK;
    if (!is_list(c, h))
        return bad(err, "history", "%s", "must be an array");
    uint32_t n = c->j.tok[h].count;
    if (n == 0)
        return TM_OK;
    req->history = calloc(n, sizeof *req->history);
    if (req->history == NULL)
        return tm_err_set(err, TM_ENOMEM, "history: out of memory");
    const char *const *dirs = tm_gate_direction_names;
    J_FOREACH(c, h, i, ue) {
        int e = (int)ue;
        /* Field names for messages are only built when something is wrong:
         * this loop runs for every earlier contact of every request. */
        char f2[120];
#define HFIELD(name) (snprintf(f2, sizeof f2, "history[%u]%s", i, name), f2)
        if (jtype(c, e) != TM_J_OBJECT)
            return bad(err, HFIELD(""), "%s", "must be an object");
        tm_history *x = &req->history[req->nhistory];
        int ch = tm_json_get(&c->j, e, "channel");
        if (ch < 0)
            return bad(err, HFIELD(".channel"), "%s", "is required");
        if (parse_enum(c, e, "channel", NULL, tm_gate_channel_names, 0, &x->channel, NULL) != TM_OK)
            return parse_enum(c, e, "channel", HFIELD(".channel"), tm_gate_channel_names, 0,
                              &x->channel, err);
        if (parse_enum(c, e, "outcome", NULL, tm_gate_outcome_names, TM_OUT_ATTEMPT, &x->outcome,
                       NULL) != TM_OK)
            return parse_enum(c, e, "outcome", HFIELD(".outcome"), tm_gate_outcome_names, 0,
                              &x->outcome, err);
        if (parse_enum(c, e, "place", NULL, tm_gate_place_names, TM_PLACE_PERSONAL, &x->place,
                       NULL) != TM_OK)
            return parse_enum(c, e, "place", HFIELD(".place"), tm_gate_place_names, 0, &x->place,
                              err);
        if (parse_enum(c, e, "direction", NULL, dirs, TM_DIR_OUTBOUND, &x->direction, NULL) != TM_OK)
            return parse_enum(c, e, "direction", HFIELD(".direction"), dirs, 0, &x->direction, err);
        if (parse_enum(c, e, "purpose", NULL, tm_gate_purpose_names, TM_GATE_ABSENT, &x->purpose,
                       NULL) != TM_OK)
            return parse_enum(c, e, "purpose", HFIELD(".purpose"), tm_gate_purpose_names, 0,
                              &x->purpose, err);
        if (parse_tri(c, e, "required_by_law", NULL, &x->required_by_law, NULL) != TM_OK)
            return parse_tri(c, e, "required_by_law", HFIELD(".required_by_law"),
                             &x->required_by_law, err);
        int at = tm_json_get(&c->j, e, "at");
        if (at < 0)
            return bad(err, HFIELD(".at"), "%s", "is required");
        if (parse_time(c, at, NULL, &x->at, NULL) != TM_OK)
            return parse_time(c, at, HFIELD(".at"), &x->at, err);
        if (x->at > req->now)
            return bad(err, HFIELD(".at"), "%s", "is in the future (after the request's now)");
#undef HFIELD
        int debt = tm_json_get(&c->j, e, "debt");
        if (jtype(c, debt) == TM_J_STRING && req->debt_id)
            x->other_debt = !tm_json_streq(&c->j, debt, req->debt_id);
        req->nhistory++;
    }
    return TM_OK;
}

int tm_gate_request_parse(const char *text, size_t len, int64_t default_now, tm_request *req,
                          char **id_json, struct tm_err *err)
{
    tm_gate_request_init(req);
    *id_json = NULL;
    tm_jtok stack_toks[512];
    tm_jtok *toks = stack_toks;
    jctx c = {.err = err};
    struct tm_err e2 = {0};
    int rc = tm_json_scan(text, len, toks, 512, &c.j, &e2);
    if (rc == TM_ENOMEM) {
        /* A long history: scan again with room for it. */
        toks = malloc(sizeof *toks * MAX_TOKENS);
        if (!toks)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        rc = tm_json_scan(text, len, toks, MAX_TOKENS, &c.j, &e2);
    }
    if (rc != TM_OK) {
        if (toks != stack_toks)
            free(toks);
        return tm_err_set(err, TM_EINVAL, "not valid JSON: %s", e2.msg);
    }
    rc = TM_EINVAL;
    if (jtype(&c, 0) != TM_J_OBJECT) {
        bad(err, "request", "%s", "must be a JSON object");
        goto out;
    }
    /* A contact request never needs a card number: one anywhere in it is refused, the field
     * named and the number never echoed (not even as the id of the error line). */
    char where[200];
    int pan = tm_pay_json_find_card_number(&c.j, NULL, where, sizeof where);
    if (pan < 0) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        goto out;
    }
    int id = tm_json_get(&c.j, 0, "id");
    if (pan && (strcmp(where, "id") == 0 ||
                (jtype(&c, id) != TM_J_STRING && jtype(&c, id) != TM_J_NUMBER))) {
        bad(err, where, "%s", "holds a card number: refused (a contact request never carries one)");
        goto out;
    }
    if (jtype(&c, id) != TM_J_STRING && jtype(&c, id) != TM_J_NUMBER) {
        bad(err, "id", "%s", "is required (a string or number)");
        goto out;
    }
    size_t idlen;
    const char *raw = tm_json_raw(&c.j, id, &idlen);
    *id_json = strndup(raw, idlen);
    req->id_json = strndup(raw, idlen);
    if (!*id_json || !req->id_json) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        goto out;
    }
    if (pan) {
        bad(err, where, "%s", "holds a card number: refused (a contact request never carries one)");
        goto out;
    }
    req->now = default_now;
    int now = tm_json_get(&c.j, 0, "now");
    if (!jnull(&c, now) && parse_time(&c, now, "now", &req->now, err) != TM_OK)
        goto out;
    if (tm_json_get(&c.j, 0, "channel") < 0) {
        bad(err, "channel", "%s", "is required");
        goto out;
    }
    if (parse_enum(&c, 0, "channel", "channel", tm_gate_channel_names, 0, &req->channel, err) != TM_OK ||
        parse_enum(&c, 0, "place", "place", tm_gate_place_names, TM_PLACE_PERSONAL, &req->place,
                   err) != TM_OK ||
        parse_enum(&c, 0, "purpose", "purpose", tm_gate_purpose_names, TM_PU_COLLECTION,
                   &req->purpose, err) != TM_OK ||
        parse_enum(&c, 0, "collector", "collector", tm_gate_collector_names, TM_CO_THIRD_PARTY,
                   &req->collector, err) != TM_OK ||
        parse_enum(&c, 0, "dialer", "dialer", tm_gate_dialer_names, TM_GATE_ABSENT, &req->dialer,
                   err) != TM_OK ||
        parse_enum(&c, 0, "line", "line", tm_gate_line_names, TM_GATE_ABSENT, &req->line, err) !=
            TM_OK)
        goto out;
    char buf[256];
    if (jstr(&c, tm_json_get(&c.j, 0, "creditor"), buf, sizeof buf))
        req->creditor = strdup(buf);
    if (parse_consumer(&c, tm_json_get(&c.j, 0, "consumer"), req, err) != TM_OK ||
        parse_debt(&c, tm_json_get(&c.j, 0, "debt"), req, err) != TM_OK)
        goto out;
    int msg = tm_json_get(&c.j, 0, "message");
    if (!jnull(&c, msg)) {
        if (jtype(&c, msg) != TM_J_OBJECT) {
            bad(err, "message", "%s", "must be an object of booleans");
            goto out;
        }
        uint32_t k = (uint32_t)msg + 1;
        for (uint32_t m = 0; m < c.j.tok[msg].count; m++) {
            uint32_t v = k + 1;
            char key[48], field[80];
            int kl = tm_json_str(&c.j, (int)k, key, sizeof key);
            snprintf(field, sizeof field, "message.%s", kl >= 0 ? key : "?");
            if (!jnull(&c, (int)v)) {
                if (!jbool(&c, (int)v)) {
                    bad(err, field, "%s", "must be true or false");
                    goto out;
                }
                if (kl < 0 || (size_t)kl >= sizeof req->msg[0].name ||
                    req->nmsg >= TM_GATE_MAX_MSGFIELDS) {
                    bad(err, field, "%s", "too many or too long message fields");
                    goto out;
                }
                memcpy(req->msg[req->nmsg].name, key, (size_t)kl + 1);
                req->msg[req->nmsg].value = jtype(&c, (int)v) == TM_J_TRUE ? TM_TRI_TRUE : TM_TRI_FALSE;
                req->nmsg++;
            }
            k = c.j.tok[v].next;
        }
    }
    if (parse_history(&c, tm_json_get(&c.j, 0, "history"), req, err) != TM_OK)
        goto out;
    unknown_fields(&c, req);
    rc = TM_OK;
out:
    if (toks != stack_toks)
        free(toks);
    if (rc != TM_OK)
        tm_gate_request_free(req);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Times as the wire writes them.
 */
static void two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void tm_gate_format_time(int64_t t, char *buf, size_t cap)
{
    int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int sec = (int)(t - day * 86400);
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999 || cap < 21) {
        snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, sec / 3600,
                 sec / 60 % 60, sec % 60);
        return;
    }
    /* By hand: this runs for every blocked rule of every decision. */
    memcpy(buf, "0000-00-00T00:00:00Z", 21);
    two(buf, (int)(y / 100));
    two(buf + 2, (int)(y % 100));
    two(buf + 5, m);
    two(buf + 8, d);
    two(buf + 11, sec / 3600);
    two(buf + 14, sec / 60 % 60);
    two(buf + 17, sec % 60);
}

/* ---------------------------------------------------------------------------
 * JSON output: the hot path of `tallyman decide`, written with the one JSON
 * writer (jw.h) straight into the caller's buffer.
 */
static void put_time(tm_jw *w, int64_t t)
{
    if (t == TM_GATE_NEVER) {
        tm_jw_null(w);
        return;
    }
    char b[40];
    tm_gate_format_time(t, b, sizeof b);
    tm_jw_str(w, b);
}

/* A local date as "YYYY-MM-DD", or null. */
static void put_day(tm_jw *w, int64_t day)
{
    if (day == INT64_MIN) {
        tm_jw_null(w);
        return;
    }
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(day, &y, &m, &d);
    char b[32];
    if (y < 0 || y > 9999) {
        snprintf(b, sizeof b, "%04lld-%02d-%02d", (long long)y, m, d);
    } else {
        /* By hand, as times are: one a decision. */
        memcpy(b, "0000-00-00", 11);
        two(b, (int)(y / 100));
        two(b + 2, (int)(y % 100));
        two(b + 5, m);
        two(b + 8, d);
    }
    tm_jw_str(w, b);
}

void tm_gate_decision_write(const tm_gate *g, const tm_request *req, const tm_decision *d,
                            tm_jw *w)
{
    tm_jw_obj(w);
    tm_jw_key(w, "id");
    tm_jw_raw(w, req->id_json ? req->id_json : "null");
    tm_jw_key(w, "allow");
    tm_jw_bool(w, d->allow);
    tm_jw_key(w, "blocked_by");
    tm_jw_arr(w);
    for (int i = 0; i < d->nblocked; i++) {
        const tm_rule_result *r = &d->blocked[i];
        tm_jw_obj(w);
        tm_jw_key(w, "rule");
        tm_jw_str(w, r->rule->qid);
        tm_jw_key(w, "cite");
        tm_jw_str(w, r->rule->cite ? r->rule->cite : "");
        tm_jw_key(w, "reason");
        tm_jw_str(w, r->reason);
        tm_jw_key(w, "next_allowed_at");
        put_time(w, r->next);
        if (r->failed) {
            tm_jw_key(w, "failed");
            tm_jw_bool(w, 1);
        }
        tm_jw_obj_end(w);
    }
    tm_jw_arr_end(w);
    tm_jw_key(w, "next_allowed_at");
    put_time(w, d->next_allowed);
    tm_jw_key(w, "requires");
    tm_jw_arr(w);
    for (int i = 0; i < d->nrequires; i++)
        tm_jw_str(w, d->requires[i]);
    tm_jw_arr_end(w);
    tm_jw_key(w, "assumed");
    tm_jw_arr(w);
    for (int i = 0; i < d->nassumed; i++)
        tm_jw_str(w, d->assumed[i]);
    tm_jw_arr_end(w);
    tm_jw_key(w, "time_barred");
    tm_jw_bool(w, req->time_barred == TM_TRI_TRUE);
    tm_jw_key(w, "time_barred_on");
    put_day(w, d->time_barred_on);
    if (req->time_barred == TM_TRI_TRUE) {
        static const char *const by[] = {"unknown", "request", "law", "policy"};
        tm_jw_key(w, "time_barred_by");
        tm_jw_str(w, by[d->barred_by >= 0 && d->barred_by <= TM_BARRED_POLICY ? d->barred_by : 0]);
    }
    if (d->margin) {
        /* A creditor policy's margin is policy, not law: said apart. */
        tm_jw_key(w, "time_barred_policy");
        tm_jw_obj(w);
        tm_jw_key(w, "rule");
        tm_jw_str(w, d->margin->qid);
        tm_jw_key(w, "margin_days");
        tm_jw_int(w, d->margin->margin_days);
        tm_jw_key(w, "on");
        put_day(w, d->margin_on);
        tm_jw_obj_end(w);
    }
    tm_jw_key(w, "scripts");
    tm_jw_str(w, tm_gate_scripts_hash(g));
    if (req->warnings) {
        /* What the request said that the gate does not read, one a line. */
        tm_jw_key(w, "warnings");
        tm_jw_arr(w);
        for (const char *p = req->warnings; *p;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            tm_jw_strn(w, p, n);
            p += n + (nl ? 1 : 0);
        }
        tm_jw_arr_end(w);
    }
    tm_jw_obj_end(w);
}

int tm_gate_decision_json(const tm_gate *g, const tm_request *req, const tm_decision *d, char *buf,
                          size_t cap)
{
    if (cap == 0)
        return -1;
    tm_buf b;
    tm_buf_fixed(&b, buf, cap);
    tm_jw w;
    tm_jw_init(&w, &b, 0);
    tm_gate_decision_write(g, req, d, &w);
    return tm_buf_failed(&b) ? -1 : (int)b.len;
}
