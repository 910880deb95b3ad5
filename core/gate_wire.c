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
                                         "line", "creditor", NULL};
static const char *const consumer_fields[] = {"state", "city", "timezones", "flags", "consent",
                                              "optout", "inconvenient", "language", "requests",
                                              "attorney", NULL};
static const char *const debt_fields[] = {"id", "type", "dispute", "last_payment_date",
                                          "charge_off_date", "time_barred", "owner", "notices",
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
            const char *near = nl > 0 ? tm_text_nearest(name, (size_t)nl, known) : NULL;
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
    return TM_OK;
}

static int parse_debt(const jctx *c, int d, tm_request *req, struct tm_err *err)
{
    req->debt_type = TM_DT_OTHER;
    req->last_payment_day = req->charge_off_day = INT64_MIN;
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
    static const char *const dirs[] = {"outbound", "inbound", NULL};
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
    memset(req, 0, sizeof *req);
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
                   &req->collector, err) != TM_OK)
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
 * JSON output, written by hand: it is the hot path of `tallyman decide`.
 */
typedef struct out {
    char *p;
    size_t n, cap;
    int overflow;
} out;

static void put(out *o, const char *s, size_t len)
{
    if (o->n + len + 1 > o->cap) {
        o->overflow = 1;
        return;
    }
    memcpy(o->p + o->n, s, len);
    o->n += len;
    o->p[o->n] = '\0';
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

static void put_str(out *o, const char *s)
{
    put(o, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        put(o, run, (size_t)(s - run));
        run = s + 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(o, e, 2);
        } else {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            put(o, e, 6);
        }
    }
    put(o, run, (size_t)(s - run));
    put(o, "\"", 1);
}

static void put_time(out *o, int64_t t)
{
    if (t == TM_GATE_NEVER) {
        puts_(o, "null");
        return;
    }
    char b[40];
    tm_gate_format_time(t, b, sizeof b);
    put_str(o, b);
}

int tm_gate_decision_json(const tm_gate *g, const tm_request *req, const tm_decision *d, char *buf,
                          size_t cap)
{
    out o = {buf, 0, cap, 0};
    if (cap)
        buf[0] = '\0';
    puts_(&o, "{\"id\":");
    puts_(&o, req->id_json ? req->id_json : "null");
    puts_(&o, d->allow ? ",\"allow\":true,\"blocked_by\":[" : ",\"allow\":false,\"blocked_by\":[");
    for (int i = 0; i < d->nblocked; i++) {
        const tm_rule_result *r = &d->blocked[i];
        puts_(&o, i ? ",{\"rule\":" : "{\"rule\":");
        put_str(&o, r->rule->qid);
        puts_(&o, ",\"cite\":");
        put_str(&o, r->rule->cite ? r->rule->cite : "");
        puts_(&o, ",\"reason\":");
        put_str(&o, r->reason);
        puts_(&o, ",\"next_allowed_at\":");
        put_time(&o, r->next);
        if (r->failed)
            puts_(&o, ",\"failed\":true");
        puts_(&o, "}");
    }
    puts_(&o, "],\"next_allowed_at\":");
    put_time(&o, d->next_allowed);
    puts_(&o, ",\"requires\":[");
    for (int i = 0; i < d->nrequires; i++) {
        if (i)
            puts_(&o, ",");
        put_str(&o, d->requires[i]);
    }
    puts_(&o, "],\"time_barred\":");
    puts_(&o, req->time_barred == TM_TRI_TRUE ? "true" : "false");
    puts_(&o, ",\"scripts\":");
    put_str(&o, tm_gate_scripts_hash(g));
    if (req->warnings) {
        puts_(&o, ",\"warnings\":[");
        for (const char *p = req->warnings; *p;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            char one[400];
            snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), p);
            if (p != req->warnings)
                puts_(&o, ",");
            put_str(&o, one);
            p += n + (nl ? 1 : 0);
        }
        puts_(&o, "]");
    }
    puts_(&o, "}");
    return o.overflow ? -1 : (int)o.n;
}
