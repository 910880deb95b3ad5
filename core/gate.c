/*
 * core/gate.c: request parsing, native rule evaluation and decisions for the
 * compliance gate (see gate.h).
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

struct tm_gate {
    tm_regulation *regs;
    int nregs, capregs;
    tm_sol *sol;
    int nsol;
    char scripts[65];
};

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
    int h, m, n = 0;
    if (!s || sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] != '\0' || h < 0 || h > 24 || m < 0 ||
        m > 59 || (h == 24 && m != 0))
        return bad(err, field, "%s", "must be a local time \"HH:MM\"");
    *secs = h * 3600 + m * 60;
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
    rc = TM_OK;
out:
    if (toks != stack_toks)
        free(toks);
    if (rc != TM_OK)
        tm_gate_request_free(req);
    return rc;
}

void tm_gate_request_free(tm_request *req)
{
    free(req->id_json);
    free(req->city);
    free(req->creditor);
    free(req->debt_id);
    free(req->history);
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

static local to_local(const tm_zone *z, int64_t t)
{
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

static int64_t to_local_day(const tm_zone *z, int64_t t)
{
    return to_local(z, t).day;
}

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

static void fmt_clock(int secs, char *buf, size_t cap)
{
    snprintf(buf, cap, "%02d:%02d", secs / 3600, secs / 60 % 60);
}

static void fmt_day(int64_t day, char *buf, size_t cap)
{
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
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
void tm_gate_result_require(struct tm_rule_result *res, const char *field)
{
    for (int i = 0; i < res->nrequires; i++)
        if (strcmp(res->requires[i], field) == 0)
            return;
    if (res->nrequires < TM_RULE_MAX_FIELDS)
        snprintf(res->requires[res->nrequires++], sizeof res->requires[0], "%s", field);
}

static int rule_applies(const tm_rule *r, const tm_request *req, int64_t t)
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
    if (r->nwhen_msg) {
        int any = 0;
        for (int i = 0; i < r->nwhen_msg && !any; i++)
            any = tm_gate_msg(req, r->when_msg[i]) == TM_TRI_TRUE;
        if (!any)
            return 0;
    }
    if (r->effective_day != INT64_MIN || r->expires_day != INT64_MAX) {
        /* Dates are the consumer's local ones. With several zones the rule
         * applies while its dates hold in any of them: a new rule starts at
         * the first local midnight, an old one lasts until the last. */
        int in_force = 0;
        for (int i = 0; i < req->nzones && !in_force; i++) {
            int64_t day = to_local_day(req->zones[i], t);
            in_force = day >= r->effective_day && day < r->expires_day;
        }
        if (!in_force)
            return 0;
    }
    return 1;
}

static int history_matches(const tm_rule *r, const tm_history *h)
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
    return 1;
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
static int64_t cap_next(const tm_rule *r, const tm_request *req, const tm_zone *z, int64_t t,
                        int *count_out)
{
    int64_t stack_keys[64];
    int64_t *keys = req->nhistory <= 64 ? stack_keys : malloc(sizeof(int64_t) * (size_t)req->nhistory);
    if (!keys)
        return TM_GATE_NEVER;
    int n = 0, count = 0;
    int64_t next = t;
    if (r->window_secs > 0) {
        for (int i = 0; i < req->nhistory; i++) {
            const tm_history *h = &req->history[i];
            if (history_matches(r, h) && h->at <= t && h->at > t - r->window_secs)
                keys[n++] = h->at;
        }
        count = n;
        if (count >= r->count) {
            qsort(keys, (size_t)n, sizeof *keys, cmp_desc);
            next = r->count > 0 ? keys[r->count - 1] + r->window_secs : TM_GATE_NEVER;
        }
    } else {
        local lt = to_local(z, t);
        int64_t first = lt.day - r->window_days + 1;
        for (int i = 0; i < req->nhistory; i++) {
            const tm_history *h = &req->history[i];
            if (!history_matches(r, h) || h->at > t)
                continue;
            int64_t d = to_local(z, h->at).day;
            if (d >= first && d <= lt.day)
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
 * reason when blocked, and requirements, into res (may be NULL). */
static int64_t rule_next(const tm_rule *r, const tm_request *req, int64_t t, tm_rule_result *res,
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
                local l = to_local(z, next);
                int64_t cand = next;
                if (r->kind == TM_RULE_WINDOW) {
                    int inside = r->from_s <= r->to_s ? (l.sec >= r->from_s && l.sec < r->to_s)
                                                      : (l.sec >= r->from_s || l.sec < r->to_s);
                    if (!inside) {
                        int64_t day = l.day;
                        if (r->from_s <= r->to_s && l.sec >= r->to_s)
                            day++;
                        cand = from_local(z, day, r->from_s);
                        if (!tmp[0]) {
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
                        if (!tmp[0]) {
                            fmt_day(l.day, a, sizeof a);
                            snprintf(tmp, sizeof tmp, "%s is a %s in %s", a,
                                     holiday ? "federal holiday" : tm_gate_weekday_names[l.wday],
                                     tm_tz_name(z));
                        }
                    }
                } else { /* the consumer's own designations */
                    if ((req->inconvenient_days >> l.wday) & 1) {
                        cand = from_local(z, l.day + 1, 0);
                        if (!tmp[0])
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
                            if (!tmp[0]) {
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
        int count = 0, worst = 0;
        for (int zi = 0; zi < (r->window_secs > 0 ? 1 : req->nzones); zi++) {
            int c = 0;
            int64_t n = cap_next(r, req, req->zones[zi], t, &c);
            if (c > worst)
                worst = c;
            if (n > next)
                next = n;
            if (c > count)
                count = c;
        }
        if (next > t) {
            char what[64];
            channel_list(r->of_channels, what, sizeof what);
            if (r->window_secs > 0)
                snprintf(tmp, sizeof tmp, "%d %s in the last %lld hours (at most %d)", worst, what,
                         (long long)(r->window_secs / 3600), r->count);
            else
                snprintf(tmp, sizeof tmp, "%d %s in the last %d days (at most %d)", worst, what,
                         r->window_days, r->count);
        }
        break;
    }
    case TM_RULE_AFTER: {
        for (int zi = 0; zi < req->nzones; zi++) {
            const tm_zone *z = req->zones[zi];
            local lt = to_local(z, t);
            int64_t last = INT64_MIN;
            for (int i = 0; i < req->nhistory; i++) {
                const tm_history *h = &req->history[i];
                if (!history_matches(r, h) || h->at > t)
                    continue;
                int64_t d = to_local(z, h->at).day;
                if (d > last)
                    last = d;
            }
            if (last != INT64_MIN && lt.day <= last + r->window_days - 1) {
                int64_t n = from_local(z, last + r->window_days, 0);
                if (n > next)
                    next = n;
                if (!tmp[0]) {
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
        snprintf(tmp, sizeof tmp, "%s", "contact not allowed");
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
    default:
        next = TM_GATE_NEVER;
        snprintf(tmp, sizeof tmp, "unknown rule kind");
    }
    if (res && next != t) {
        res->blocked = 1;
        res->next = next;
        if (r->reason && r->kind != TM_RULE_CHECK)
            snprintf(res->reason, sizeof res->reason, "%s", r->reason);
        else
            snprintf(res->reason, sizeof res->reason, "%s", tmp);
    }
    return next;
}

/* ---------------------------------------------------------------------------
 * The gate.
 */
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
    }
    free(reg->rules);
    free(reg->name);
    free(reg->script);
    for (int i = 0; i < reg->ncities; i++)
        free(reg->cities[i]);
    for (int i = 0; i < reg->ncreditors; i++)
        free(reg->creditors[i]);
}

void tm_gate_free(tm_gate *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->nregs; i++)
        free_regulation(&g->regs[i]);
    free(g->regs);
    free(g->sol);
    free(g);
}

int tm_gate_add(tm_gate *g, tm_regulation *reg, struct tm_err *err)
{
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

static int reg_applies(const tm_regulation *reg, const tm_request *req)
{
    if (reg->collectors && !(reg->collectors & (1u << req->collector)))
        return 0;
    if (reg->nstates) {
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

/* Works out whether the debt is time-barred: the limitations period for the
 * state and debt type, from the earlier of the last payment and the
 * charge-off (the consumer-protective reading: the debt is treated as
 * time-barred no later than the law could make it). */
static void work_out_time_barred(const tm_gate *g, tm_request *req)
{
    if (req->time_barred_given)
        return;
    req->time_barred = TM_TRI_FALSE;
    int64_t start = req->last_payment_day;
    if (req->charge_off_day != INT64_MIN && (start == INT64_MIN || req->charge_off_day < start))
        start = req->charge_off_day;
    if (start == INT64_MIN)
        return;
    for (int i = 0; i < g->nsol; i++) {
        if (strcmp(g->sol[i].state, req->state) != 0)
            continue;
        int years = g->sol[i].years[req->debt_type];
        if (years <= 0)
            return;
        int64_t y;
        int m, d;
        tm_calendar_civil_from_days(start, &y, &m, &d);
        int64_t until = tm_calendar_days_from_civil(y + years, m, d);
        int64_t today = req->now >= 0 ? req->now / 86400 : (req->now - 86399) / 86400;
        if (today >= until)
            req->time_barred = TM_TRI_TRUE;
        return;
    }
}

int tm_gate_decide(tm_gate *g, tm_request *req, tm_decision *d)
{
    memset(d, 0, sizeof *d);
    work_out_time_barred(g, req);
    int cap = 0;
    int failed = 0;
    /* 1. Every applicable rule at `now`. */
    for (int ri = 0; ri < g->nregs; ri++) {
        const tm_regulation *reg = &g->regs[ri];
        if (!reg_applies(reg, req))
            continue;
        for (int k = 0; k < reg->nrules; k++) {
            const tm_rule *r = &reg->rules[k];
            if (!rule_applies(r, req, req->now))
                continue;
            tm_rule_result res = {0};
            res.rule = r;
            int f = 0;
            rule_next(r, req, req->now, &res, &f);
            failed |= f;
            for (int i = 0; i < res.nrequires; i++) {
                int dup = 0;
                for (int j = 0; j < d->nrequires && !dup; j++)
                    dup = strcmp(d->requires[j], res.requires[i]) == 0;
                if (!dup && d->nrequires < 16)
                    snprintf(d->requires[d->nrequires++], sizeof d->requires[0], "%s",
                             res.requires[i]);
            }
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
        for (int ri = 0; ri < g->nregs; ri++) {
            const tm_regulation *reg = &g->regs[ri];
            if (!reg_applies(reg, req))
                continue;
            for (int k = 0; k < reg->nrules; k++) {
                const tm_rule *r = &reg->rules[k];
                if (!rule_applies(r, req, t))
                    continue;
                int f = 0;
                int64_t n = rule_next(r, req, t, NULL, &f);
                if (n == TM_GATE_NEVER || f) {
                    d->next_allowed = TM_GATE_NEVER;
                    return TM_OK;
                }
                if (n > t) {
                    t = n;
                    moved = 1;
                }
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
    put_str(&o, g->scripts);
    puts_(&o, "}");
    return o.overflow ? -1 : (int)o.n;
}
