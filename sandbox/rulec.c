/*
 * sandbox/rulec.c: the regulation-language compiler (rulec.h). Reads the
 * values regulation scripts return and builds the gate's C rules from them.
 *
 * A regulation script returns `regulation { id = ..., applies = ..., rules =
 * { ... } }` (or a list of them). Each rule is a table with an id, a
 * citation, conditions (channels, purposes, flags, ...) and one effect: a
 * declarative one (window, days, holidays, cap, after, block, requires,
 * forbid, consent, optout, inconvenient, requests), which the gate evaluates natively,
 * or `check`, a function the gate calls through the callback the caller
 * gives (lb_gate.c's). Anything that cannot be compiled (an unknown field, a
 * missing citation, a script that throws) is reported and turned into a rule
 * that blocks every contact it could apply to: the gate fails closed rather
 * than allow a contact it could not check.
 *
 * Tables are read with raw access only, so a script's metamethods do not run
 * here; the compiling itself runs under tm_sandbox_pcall, inside the limits.
 */
#include "rulec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "lcompat.h"
#include "scriptset.h"
#include "text.h"

/***
 * @class tm.Regulation
 * What `regulation { ... }` takes (strategies.md, "Regulations: the rule
 * language"). An unknown field is reported and ignored.
 * @field id {string} "US-MA": rule ids are shown as US-MA/<rule id>
 * @field name {string?} "Massachusetts"
 * @field applies {tm.Applies?} where it applies; absent: everywhere
 * @field rules {tm.Rule[]} the rules
 * @field effective {string?} documentation: when the regulation took effect
 * @field version {string|integer|nil} documentation
 * @field interpretation {string?} documentation: the reading chosen
 * @field notes {string?} documentation
 * @field sources {table?} documentation: where the text comes from
 */

/***
 * @class tm.Applies
 * Where a regulation applies; an unknown field makes it block everything.
 * @field state {string?} a USPS state code
 * @field states {string[]?} USPS state codes
 * @field city {string?} a city (compared ignoring case, spaces and dots)
 * @field cities {string[]?} cities
 * @field collectors {string|string[]|nil} third_party, debt_buyer, creditor
 * @field creditor {string?} for a creditor's policy: the request's creditor
 * @field creditors {string[]?} creditors
 */

/***
 * @class tm.Rule
 * One rule: an id, a citation, conditions (all must hold; absent means any)
 * and exactly one effect (window, days/holidays, cap, after, block,
 * requires, forbid, consent, optout, inconvenient, requests or check). An unknown
 * field, a missing citation or not exactly one effect makes the rule block
 * every contact it could apply to.
 * @field id {string} unique within the regulation
 * @field cite {string} the legal citation, shown with every block
 * @field reason {string?} the text shown when it blocks
 * @field channels {string|string[]|nil} call sms email letter push whatsapp visit
 * @field channel {string|string[]|nil} the same
 * @field places {string|string[]|nil} personal work
 * @field place {string|string[]|nil} the same
 * @field purposes {string|string[]|nil} collection validation_notice
 *   verification cease_notice
 * @field purpose {string|string[]|nil} the same
 * @field collectors {string|string[]|nil} third_party debt_buyer creditor
 * @field debt_types {string|string[]|nil} credit_card personal_loan auto_loan
 *   medical utility telecom other
 * @field dispute {string|string[]|nil} none pending verified
 * @field flags {string|string[]|nil} applies only if the consumer has one of
 *   these: deceased bankruptcy cease attorney scra no_work_contact incarcerated
 * @field unless_flags {string|string[]|nil} does not apply if the consumer has
 *   one of these
 * @field time_barred {boolean?} true: only time-barred debts; false: only others
 * @field message {string|string[]|nil} applies only if one of these message
 *   fields is true
 * @field effective {string?} "YYYY-MM-DD": applies from this date
 * @field expires {string?} "YYYY-MM-DD": applies until this date (exclusive)
 * @field window {tm.Window?} effect: allowed only inside from..to, local time
 * @field days {string|string[]|nil} effect: blocked on these weekdays ("sun")
 * @field holidays {string?} effect: "federal" (observed) or "federal_actual"
 * @field cap {tm.Cap?} effect: at most count matching contacts in a window
 * @field after {tm.Cap?} effect: blocked for days dates after a matching contact
 * @field block {boolean?} effect: true blocks whenever the rule applies
 * @field requires {string|string[]|nil} effect: message fields the message
 *   must carry
 * @field forbid {string|string[]|nil} effect: message fields it must not carry
 * @field consent {boolean|string|nil} effect: true, "autodial" or a channel:
 *   that consent must be on file
 * @field optout {boolean?} effect: a channel opted out of is blocked
 * @field inconvenient {boolean?} effect: times the consumer designated are blocked
 * @field requests {boolean?} effect: the consumer's own requests about contact
 *   (consumer.requests: not at work, no calls at a time of day, only by some
 *   media) are honoured
 * @field check {(fun(c: tm.Request): tm.Blocked|boolean|string|nil)?} effect:
 *   a function that returns block(...), false or a string to block
 * @field interpretation {string?} documentation
 * @field notes {string?} documentation
 * @field status {string?} documentation
 * @field source {string?} documentation
 */

/***
 * @class tm.Window
 * A time window of the consumer's local day.
 * @field from {string} "HH:MM" (included)
 * @field to {string} "HH:MM" (excluded; "24:00" is midnight; earlier than
 *   from: an overnight window)
 */

/***
 * @class tm.Cap
 * The counting of a cap (or after) effect.
 * @field count {integer?} cap: at most this many, 0 to 1000
 * @field days {integer?} the window in local calendar dates (the day of a
 *   contact is day 1), 1 to 3660
 * @field hours {integer?} cap: a rolling window in hours instead
 * @field per {tm.Duration?} days(n) or hours(n), instead of days or hours
 * @field of {string|string[]|nil} the channels of earlier contacts that count
 * @field outcomes {string|string[]|nil} their outcomes: attempt not_connected
 *   voicemail conversation delivered failed
 * @field outcome {string|string[]|nil} the same
 * @field places {string|string[]|nil} where they reached the consumer
 * @field place {string|string[]|nil} the same
 * @field direction {string?} "outbound" or "inbound"
 * @field per_debt {boolean?} only contacts about this debt count (default true)
 */

typedef struct loadctx {
    tm_sandbox *sb;
    tm_gate *gate;
    tm_check_fn check;
    tm_gate_report_fn report;
    void *ud;
    const tm_script *script;
    char display[700];
    int problems;
} loadctx;

static void problem(loadctx *ctx, int line, int fatal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(loadctx *ctx, int line, int fatal, const char *fmt, ...)
{
    char msg[600], full[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(full, sizeof full, "%s:%d: %s", ctx->display, line, msg);
    else
        snprintf(full, sizeof full, "%s: %s", ctx->display, msg);
    ctx->problems++;
    if (ctx->report)
        ctx->report(ctx->ud, full, fatal);
}

/* The line of the first occurrence of a quoted `id` in the script's text
 * (where a rule is declared), or `fallback`. */
static int line_of_id(const tm_script *s, const char *id, int fallback)
{
    if (!s || !id || !*id)
        return fallback;
    size_t n = strlen(id);
    for (const char *p = s->text; (p = strstr(p, id)) != NULL; p++) {
        if (p > s->text && (p[-1] == '"' || p[-1] == '\'') && (p[n] == '"' || p[n] == '\''))
            return tm_text_line_of(s->text, s->len, (size_t)(p - s->text));
    }
    return fallback;
}

static void rawfield(lua_State *L, int t, const char *k)
{
    t = tm_lua_absindex(L, t);
    lua_pushstring(L, k);
    lua_rawget(L, t);
}

/* The line where field `key` is written at or after line `from` in the
 * script, or `from` when it cannot be told. */
static int field_line(const loadctx *ctx, int from, const char *key)
{
    if (!ctx->script || !key)
        return from;
    int l = tm_text_key_line(ctx->script->text, ctx->script->len, from > 0 ? from : 1, key);
    return l > 0 ? l : from;
}

typedef struct unknown_field {
    int line;
    char key[64];
} unknown_field;

static int cmp_unknown(const void *a, const void *b)
{
    const unknown_field *x = a, *y = b;
    return x->line != y->line ? (x->line > y->line) - (x->line < y->line) : strcmp(x->key, y->key);
}

/* Reports every field of the table at `t` that is not one of `known`, each
 * at its own line (at or after `from`), in line order, with a "did you
 * mean" for a near miss: "<what>: unknown field 'x' (did you mean 'y'?)".
 * Returns how many there are. */
static int unknown_fields(lua_State *L, int t, const char *const *known, const char *what,
                          int from, loadctx *ctx)
{
    unknown_field list[32];
    int n = 0, nlist = 0;
    t = tm_lua_absindex(L, t);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            problem(ctx, from, 1, "%s: a field whose name is not a name", what);
            n++;
        } else if (tm_gate_lookup(known, lua_tostring(L, -2)) < 0) {
            const char *k = lua_tostring(L, -2);
            if (nlist < (int)(sizeof list / sizeof *list)) {
                list[nlist].line = field_line(ctx, from, k);
                snprintf(list[nlist].key, sizeof list[nlist].key, "%s", k);
                nlist++;
            }
            n++;
        }
        lua_pop(L, 1);
    }
    qsort(list, (size_t)nlist, sizeof *list, cmp_unknown);
    for (int i = 0; i < nlist; i++) {
        int near = tm_text_nearest(list[i].key, known);
        if (near >= 0 && known[near][0] != '_')
            problem(ctx, list[i].line, 1, "%s: unknown field '%s' (did you mean '%s'?)", what,
                    list[i].key, known[near]);
        else
            problem(ctx, list[i].line, 1, "%s: unknown field '%s'", what, list[i].key);
    }
    return n;
}

/* Reads a string-or-list-of-strings field into a mask over `names`. Returns
 * 0 on success (absent leaves *mask as is), -1 with a problem message. */
/* "KEY: unknown value 'v' (did you mean 'w'? one of: a, b, c)": the bad
 * value and the form expected. */
static void bad_value(char *why, size_t cap, const char *key, const char *v,
                      const char *const *names)
{
    size_t n = (size_t)snprintf(why, cap, "%s: unknown value '%.60s' (", key, v);
    int near = tm_text_nearest(v, names);
    if (near >= 0 && n < cap)
        n += (size_t)snprintf(why + n, cap - n, "did you mean '%s'? ", names[near]);
    for (int i = 0; names[i] && n < cap; i++)
        n += (size_t)snprintf(why + n, cap - n, "%s%s", i ? ", " : "one of: ", names[i]);
    if (n < cap)
        snprintf(why + n, cap - n, ")");
}

static int read_mask(lua_State *L, int t, const char *key, const char *const *names, uint32_t *mask,
                     char *why, size_t cap)
{
    rawfield(L, t, key);
    int ty = lua_type(L, -1);
    int rc = 0;
    if (ty == LUA_TNIL) {
        /* absent */
    } else if (ty == LUA_TSTRING) {
        int i = tm_gate_lookup(names, lua_tostring(L, -1));
        if (i < 0) {
            bad_value(why, cap, key, lua_tostring(L, -1), names);
            rc = -1;
        } else {
            *mask |= 1u << i;
        }
    } else if (ty == LUA_TTABLE) {
        int n = (int)tm_lua_rawlen(L, -1);
        for (int i = 1; i <= n && rc == 0; i++) {
            lua_rawgeti(L, -1, i);
            int k = lua_type(L, -1) == LUA_TSTRING ? tm_gate_lookup(names, lua_tostring(L, -1)) : -1;
            if (k < 0 && lua_type(L, -1) == LUA_TSTRING) {
                bad_value(why, cap, key, lua_tostring(L, -1), names);
                rc = -1;
            } else if (k < 0) {
                snprintf(why, cap, "%s: a %s in the list, not a name (e.g. { \"%s\" })", key,
                         luaL_typename(L, -1), names[0] ? names[0] : "...");
                rc = -1;
            } else {
                *mask |= 1u << k;
            }
            lua_pop(L, 1);
        }
    } else {
        snprintf(why, cap, "%s: must be a name or a list of names, not a %s (e.g. { \"%s\" })", key,
                 luaL_typename(L, -1), names[0] ? names[0] : "...");
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

static int read_date_field(lua_State *L, int t, const char *key, int64_t *day, char *why, size_t cap)
{
    rawfield(L, t, key);
    int rc = 0;
    if (lua_type(L, -1) == LUA_TSTRING) {
        tm_date d;
        if (tm_calendar_parse_date(lua_tostring(L, -1), &d, NULL) == TM_OK)
            *day = tm_calendar_date_to_days(d);
        else {
            snprintf(why, cap, "%s: not a YYYY-MM-DD date", key);
            rc = -1;
        }
    } else if (!lua_isnil(L, -1)) {
        snprintf(why, cap, "%s: must be a YYYY-MM-DD date", key);
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

static const char *const rule_keys[] = {
    "id", "cite", "reason", "channels", "channel", "places", "place", "purposes", "purpose",
    "collectors", "debt_types", "dispute", "flags", "unless_flags", "time_barred", "effective",
    "expires", "message", "owners", "owner", "dialers", "dialer", "lines", "line", "window", "days",
    "holidays", "cap", "after", "block", "requires", "forbid", "consent", "optout", "inconvenient",
    "requests", "check", "time_barred_margin", "interpretation", "notes", "status", "source", "verified",
    "missing", NULL};

static const char *const effects[] = {"window", "days", "holidays", "cap", "after", "block",
                                      "requires", "forbid", "consent", "optout", "inconvenient",
                                      "requests", "check", "time_barred_margin", NULL};

/* Reads a list of message field names into r->fields. */
static int read_fields(lua_State *L, int t, const char *key, tm_rule *r, char *why, size_t cap)
{
    rawfield(L, t, key);
    int rc = 0;
    if (lua_type(L, -1) == LUA_TSTRING) {
        snprintf(r->fields[r->nfields++], sizeof r->fields[0], "%s", lua_tostring(L, -1));
    } else if (lua_istable(L, -1)) {
        int n = (int)tm_lua_rawlen(L, -1);
        for (int i = 1; i <= n && rc == 0; i++) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING || r->nfields >= TM_RULE_MAX_FIELDS) {
                snprintf(why, cap, "%s: must list up to %d message field names", key,
                         TM_RULE_MAX_FIELDS);
                rc = -1;
            } else {
                snprintf(r->fields[r->nfields++], sizeof r->fields[0], "%s", lua_tostring(L, -1));
            }
            lua_pop(L, 1);
        }
    } else {
        snprintf(why, cap, "%s: must be a field name or a list of them", key);
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

static int integer_field(lua_State *L, int t, const char *key, int lo, int hi, int *out)
{
    rawfield(L, t, key);
    int ok = tm_lua_isinteger(L, -1);
    lua_Integer v = ok ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    if (!ok || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Reads what an author says of the law behind a rule or regulation:
 * `verified` (a boolean), `missing` (what could not be checked) and
 * `interpretation` (the reading chosen), each optional; the strings are
 * copied (the caller frees them). */
static int read_provenance(lua_State *L, int t, int *verified, char **missing, char **interp,
                           char *why, size_t cap)
{
    rawfield(L, t, "verified");
    int ty = lua_type(L, -1);
    *verified = ty == LUA_TBOOLEAN ? (lua_toboolean(L, -1) ? TM_TRI_TRUE : TM_TRI_FALSE) : TM_TRI_ABSENT;
    lua_pop(L, 1);
    if (ty != LUA_TBOOLEAN && ty != LUA_TNIL) {
        snprintf(why, cap, "verified: must be true or false");
        return -1;
    }
    static const char *const keys[] = {"missing", "interpretation"};
    char **out[] = {missing, interp};
    for (int i = 0; i < 2; i++) {
        rawfield(L, t, keys[i]);
        ty = lua_type(L, -1);
        if (ty == LUA_TSTRING && !*out[i])
            *out[i] = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (ty != LUA_TSTRING && ty != LUA_TNIL) {
            snprintf(why, cap, "%s: must be a string", keys[i]);
            return -1;
        }
    }
    return 0;
}

/* Compiles the effect of rule `t` (one of `effects`). */
static int compile_effect(lua_State *L, int t, const char *effect, tm_rule *r, loadctx *ctx,
                          char *why, size_t cap)
{
    rawfield(L, t, effect);
    int v = lua_gettop(L);
    int rc = 0;
    if (strcmp(effect, "window") == 0) {
        r->kind = TM_RULE_WINDOW;
        const char *f = NULL, *to = NULL;
        if (lua_istable(L, v)) {
            rawfield(L, v, "from");
            rawfield(L, v, "to");
            f = lua_tostring(L, -2);
            to = lua_tostring(L, -1);
        }
        if (!f || !to || tm_calendar_parse_clock(f, TM_CLOCK_END_OF_DAY, &r->from_s, NULL) ||
            tm_calendar_parse_clock(to, TM_CLOCK_END_OF_DAY, &r->to_s, NULL) ||
            r->from_s == r->to_s) {
            snprintf(why, cap, "window: needs { from = \"HH:MM\", to = \"HH:MM\" } (different times)");
            rc = -1;
        }
        if (lua_istable(L, v))
            lua_pop(L, 2);
    } else if (strcmp(effect, "days") == 0 || strcmp(effect, "holidays") == 0) {
        r->kind = TM_RULE_DAYS;
        uint32_t mask = 0;
        lua_pop(L, 1);
        if (read_mask(L, t, "days", tm_gate_weekday_names, &mask, why, cap) != 0)
            return -1;
        r->days_mask = (uint8_t)mask;
        rawfield(L, t, "holidays");
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "federal") == 0)
            r->holidays = 1;
        else if (lua_type(L, -1) == LUA_TSTRING &&
                 strcmp(lua_tostring(L, -1), "federal_actual") == 0)
            r->holidays = 2;
        else if (!lua_isnil(L, -1)) {
            snprintf(why, cap, "holidays: must be \"federal\" or \"federal_actual\"");
            rc = -1;
        }
        lua_pop(L, 1);
        return rc;
    } else if (strcmp(effect, "cap") == 0 || strcmp(effect, "after") == 0) {
        int is_cap = effect[0] == 'c';
        r->kind = is_cap ? TM_RULE_CAP : TM_RULE_AFTER;
        r->per_debt = 1;
        r->of_direction = -1;
        if (!lua_istable(L, v)) {
            snprintf(why, cap, "%s: must be a table", effect);
            lua_pop(L, 1);
            return -1;
        }
        static const char *const cap_keys[] = {"count", "days", "per", "hours", "of", "outcomes",
                                               "outcome", "places", "place", "direction",
                                               "per_debt", "except_required", "consent_days", NULL};
        lua_pushnil(L);
        while (lua_next(L, v)) {
            if (lua_type(L, -2) != LUA_TSTRING || tm_gate_lookup(cap_keys, lua_tostring(L, -2)) < 0) {
                snprintf(why, cap, "%s: unknown field '%s'", effect,
                         lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
                lua_pop(L, 3);
                return -1;
            }
            lua_pop(L, 1);
        }
        if (is_cap && integer_field(L, v, "count", 0, 1000, &r->count) != 0) {
            snprintf(why, cap, "cap: count must be a whole number from 0 to 1000");
            rc = -1;
        }
        int days = 0, hours = 0;
        if (integer_field(L, v, "days", 1, 3660, &days) == 0) {
            r->window_days = days;
        } else if (integer_field(L, v, "hours", 1, 87840, &hours) == 0 && is_cap) {
            r->window_secs = (int64_t)hours * 3600;
        } else {
            rawfield(L, v, "per");
            if (lua_istable(L, -1)) {
                rawfield(L, -1, "unit");
                rawfield(L, -2, "n"); /* the table is below the unit now */
                const char *unit = lua_tostring(L, -2);
                int n = (int)lua_tointeger(L, -1);
                if (unit && strcmp(unit, "days") == 0)
                    r->window_days = n;
                else if (unit && strcmp(unit, "hours") == 0 && is_cap)
                    r->window_secs = (int64_t)n * 3600;
                lua_pop(L, 2);
            }
            lua_pop(L, 1);
        }
        if (rc == 0 && r->window_days <= 0 && r->window_secs <= 0) {
            snprintf(why, cap, "%s: needs days = N (or per = days(N) / hours(N))", effect);
            rc = -1;
        }
        if (rc == 0 && (read_mask(L, v, "of", tm_gate_channel_names, &r->of_channels, why, cap) ||
                        read_mask(L, v, "outcomes", tm_gate_outcome_names, &r->of_outcomes, why, cap) ||
                        read_mask(L, v, "outcome", tm_gate_outcome_names, &r->of_outcomes, why, cap) ||
                        read_mask(L, v, "places", tm_gate_place_names, &r->of_places, why, cap) ||
                        read_mask(L, v, "place", tm_gate_place_names, &r->of_places, why, cap)))
            rc = -1;
        rawfield(L, v, "direction");
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *d = lua_tostring(L, -1);
            r->of_direction = strcmp(d, "inbound") == 0 ? TM_DIR_INBOUND
                              : strcmp(d, "outbound") == 0 ? TM_DIR_OUTBOUND
                                                           : -2;
            if (r->of_direction == -2) {
                snprintf(why, cap, "%s: direction must be \"inbound\" or \"outbound\"", effect);
                rc = -1;
            }
        }
        lua_pop(L, 1);
        rawfield(L, v, "per_debt");
        if (lua_type(L, -1) == LUA_TBOOLEAN)
            r->per_debt = lua_toboolean(L, -1);
        lua_pop(L, 1);
        rawfield(L, v, "except_required");
        if (lua_type(L, -1) == LUA_TBOOLEAN && is_cap)
            r->except_required = lua_toboolean(L, -1);
        else if (!lua_isnil(L, -1) && rc == 0) {
            snprintf(why, cap, "%s: except_required must be true or false (cap only)", effect);
            rc = -1;
        }
        lua_pop(L, 1);
        rawfield(L, v, "consent_days");
        int absent = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (!absent && rc == 0 && integer_field(L, v, "consent_days", 1, 366, &r->consent_days) != 0) {
            snprintf(why, cap, "%s: consent_days must be a whole number from 1 to 366", effect);
            rc = -1;
        }
    } else if (strcmp(effect, "time_barred_margin") == 0) {
        r->kind = TM_RULE_MARGIN;
        if (integer_field(L, t, "time_barred_margin", 1, 3660, &r->margin_days) != 0) {
            snprintf(why, cap, "time_barred_margin: must be a whole number of days, 1 to 3660");
            rc = -1;
        }
    } else if (strcmp(effect, "block") == 0) {
        r->kind = TM_RULE_BLOCK;
        if (!lua_toboolean(L, v)) {
            snprintf(why, cap, "block: must be true");
            rc = -1;
        }
    } else if (strcmp(effect, "requires") == 0 || strcmp(effect, "forbid") == 0) {
        r->kind = effect[0] == 'r' ? TM_RULE_REQUIRES : TM_RULE_FORBID;
        lua_pop(L, 1);
        return read_fields(L, t, effect, r, why, cap);
    } else if (strcmp(effect, "consent") == 0 || strcmp(effect, "optout") == 0 ||
               strcmp(effect, "inconvenient") == 0 || strcmp(effect, "requests") == 0) {
        r->kind = effect[0] == 'c' ? TM_RULE_CONSENT
                  : effect[0] == 'o' ? TM_RULE_OPTOUT
                  : effect[0] == 'r' ? TM_RULE_REQUESTS
                                     : TM_RULE_INCONVENIENT;
        if (r->kind == TM_RULE_CONSENT && lua_type(L, v) == LUA_TSTRING) {
            /* consent = "autodial" (or a channel): that consent, whatever the channel */
            const char *c = lua_tostring(L, v);
            int ch = tm_gate_lookup(tm_gate_channel_names, c);
            if (strcmp(c, "autodial") == 0)
                r->consent_bit = TM_CONSENT_AUTODIAL;
            else if (ch >= 0)
                r->consent_bit = 1u << ch;
            else {
                snprintf(why, cap, "consent: must be true, \"autodial\" or a channel name");
                rc = -1;
            }
        } else if (!lua_toboolean(L, v)) {
            snprintf(why, cap, "%s: must be true", effect);
            rc = -1;
        }
    } else if (strcmp(effect, "check") == 0) {
        r->kind = TM_RULE_CHECK;
        if (!lua_isfunction(L, v)) {
            snprintf(why, cap, "check: must be a function");
            rc = -1;
        } else {
            lua_pushvalue(L, v);
            r->check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            r->check = ctx->check;
            r->check_ud = ctx->sb;
        }
    }
    lua_settop(L, v - 1);
    return rc;
}

/* Compiles rule table `t` into r. On a problem, reports it and makes r a
 * rule that blocks every contact it applies to. */
static void compile_rule(lua_State *L, int t, const char *reg_id, int index, tm_rule *r,
                         loadctx *ctx, int reg_line)
{
    char why[300] = "";
    memset(r, 0, sizeof *r);
    r->effective_day = INT64_MIN;
    r->expires_day = INT64_MAX;
    r->of_direction = -1;
    const char *id = NULL;
    if (lua_istable(L, t)) {
        rawfield(L, t, "id");
        id = lua_tostring(L, -1);
        lua_pop(L, 1); /* the string stays anchored in the rule table */
    }
    if (id)
        snprintf(r->qid, sizeof r->qid, "%s/%s", reg_id, id);
    else
        snprintf(r->qid, sizeof r->qid, "%s/rule-%d", reg_id, index);
    r->line = line_of_id(ctx->script, id, reg_line);
    if (!lua_istable(L, t)) {
        snprintf(why, sizeof why, "rule %d is not a table", index);
        goto broken;
    }
    if (!id) {
        snprintf(why, sizeof why, "rule %d has no id", index);
        goto broken;
    }
    /* Unknown fields are errors: a misspelt condition would silently widen a
     * rule. Each is told at its own line; the rule then fails closed. */
    {
        char what[160];
        snprintf(what, sizeof what, "rule '%s'", id);
        int bad = unknown_fields(L, t, rule_keys, what, r->line, ctx);
        if (bad) {
            snprintf(why, sizeof why, "rule '%s': %d unknown field%s (above)", id, bad,
                     bad == 1 ? "" : "s");
            goto broken_told;
        }
    }
    rawfield(L, t, "cite");
    if (lua_type(L, -1) != LUA_TSTRING || lua_tostring(L, -1)[0] == '\0') {
        lua_pop(L, 1);
        snprintf(why, sizeof why, "rule '%s' has no citation (cite = \"...\")", id);
        goto broken;
    }
    r->cite = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    rawfield(L, t, "reason");
    if (lua_type(L, -1) == LUA_TSTRING)
        r->reason = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (read_mask(L, t, "channels", tm_gate_channel_names, &r->channels, why, sizeof why) ||
        read_mask(L, t, "channel", tm_gate_channel_names, &r->channels, why, sizeof why) ||
        read_mask(L, t, "places", tm_gate_place_names, &r->places, why, sizeof why) ||
        read_mask(L, t, "place", tm_gate_place_names, &r->places, why, sizeof why) ||
        read_mask(L, t, "purposes", tm_gate_purpose_names, &r->purposes, why, sizeof why) ||
        read_mask(L, t, "purpose", tm_gate_purpose_names, &r->purposes, why, sizeof why) ||
        read_mask(L, t, "collectors", tm_gate_collector_names, &r->collectors, why, sizeof why) ||
        read_mask(L, t, "debt_types", tm_gate_debt_type_names, &r->debt_types, why, sizeof why) ||
        read_mask(L, t, "dispute", tm_gate_dispute_names, &r->disputes, why, sizeof why) ||
        read_mask(L, t, "flags", tm_gate_flag_names, &r->flags_any, why, sizeof why) ||
        read_mask(L, t, "unless_flags", tm_gate_flag_names, &r->flags_none, why, sizeof why) ||
        read_date_field(L, t, "effective", &r->effective_day, why, sizeof why) ||
        read_date_field(L, t, "expires", &r->expires_day, why, sizeof why))
        goto broken_named;
    if (read_mask(L, t, "owners", tm_gate_owner_names, &r->owners, why, sizeof why) ||
        read_mask(L, t, "owner", tm_gate_owner_names, &r->owners, why, sizeof why) ||
        read_mask(L, t, "dialers", tm_gate_dialer_names, &r->dialers, why, sizeof why) ||
        read_mask(L, t, "dialer", tm_gate_dialer_names, &r->dialers, why, sizeof why) ||
        read_mask(L, t, "lines", tm_gate_line_names, &r->lines, why, sizeof why) ||
        read_mask(L, t, "line", tm_gate_line_names, &r->lines, why, sizeof why))
        goto broken_named;
    if (read_provenance(L, t, &r->verified, &r->missing, &r->interpretation, why, sizeof why) != 0)
        goto broken_named;
    if (r->verified == TM_TRI_ABSENT) {
        /* The older `status` grade (V: the text was read; S, M: a secondary
         * source or memory) stands for `verified` where that is not given,
         * and what it says is what is missing. */
        rawfield(L, t, "status");
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *st = lua_tostring(L, -1);
            r->verified = st[0] == 'V' ? TM_TRI_TRUE : TM_TRI_FALSE;
            if (r->verified == TM_TRI_FALSE && !r->missing) {
                char buf[600];
                snprintf(buf, sizeof buf, "status %s", st);
                r->missing = strdup(buf);
            }
        }
        lua_pop(L, 1);
    }
    if (r->verified == TM_TRI_FALSE && !r->missing)
        problem(ctx, r->line, 0, "rule '%s': verified = false needs missing = \"...\" (what could "
                                 "not be checked)", id);
    {
        /* message = { "accepts_payment", ... }: applies only when one of
         * these is true, or not known (then assumed) */
        tm_rule tmp = {0};
        if (read_fields(L, t, "message", &tmp, why, sizeof why) == 0) {
            memcpy(r->when_msg, tmp.fields, sizeof r->when_msg);
            r->nwhen_msg = tmp.nfields;
        } else {
            rawfield(L, t, "message");
            int absent = lua_isnil(L, -1);
            lua_pop(L, 1);
            if (!absent)
                goto broken_named;
            why[0] = '\0';
        }
    }
    rawfield(L, t, "time_barred");
    if (lua_type(L, -1) == LUA_TBOOLEAN)
        r->time_barred = lua_toboolean(L, -1) ? TM_TRI_TRUE : TM_TRI_FALSE;
    else if (!lua_isnil(L, -1)) {
        lua_pop(L, 1);
        snprintf(why, sizeof why, "time_barred: must be true or false");
        goto broken_named;
    }
    lua_pop(L, 1);
    /* Exactly one effect (days and holidays together count as one). */
    const char *effect = NULL;
    int neffects = 0;
    for (int i = 0; effects[i]; i++) {
        rawfield(L, t, effects[i]);
        int present = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (!present)
            continue;
        if (strcmp(effects[i], "holidays") == 0 && effect && strcmp(effect, "days") == 0)
            continue;
        effect = effects[i];
        neffects++;
    }
    if (neffects != 1) {
        snprintf(why, sizeof why,
                 neffects ? "has %d effects; give exactly one of window, days/holidays, cap, "
                            "after, block, requires, forbid, consent, optout, inconvenient, requests, "
                            "check, "
                            "time_barred_margin"
                          : "has no effect: give one of window, days/holidays, cap, after, block, "
                            "requires, forbid, consent, optout, inconvenient, requests, check, "
                            "time_barred_margin",
                 neffects);
        goto broken_named;
    }
    if (compile_effect(L, t, effect, r, ctx, why, sizeof why) != 0)
        goto broken_named;
    return;
broken_named: {
    char tmp[700];
    snprintf(tmp, sizeof tmp, "rule '%.80s': %s", id, why);
    snprintf(why, sizeof why, "%.299s", tmp);
}
broken:
    problem(ctx, r->line, 1, "%s", why);
broken_told:
    r->kind = TM_RULE_BLOCK;
    free(r->reason);
    char reason[400];
    snprintf(reason, sizeof reason, "rule is broken and fails closed: %s", why);
    r->reason = strdup(reason);
    if (!r->cite)
        r->cite = strdup("(no citation: broken rule)");
}

static void reg_init(tm_regulation *reg, const char *id, const char *script)
{
    memset(reg, 0, sizeof *reg);
    snprintf(reg->id, sizeof reg->id, "%s", id);
    reg->script = strdup(script);
}

/* A regulation that blocks everything: what a script that cannot be loaded
 * becomes, so the gate fails closed. */
static void add_failed(loadctx *ctx, const char *id, const char *why)
{
    tm_regulation reg;
    reg_init(&reg, id, ctx->display);
    reg.rules = calloc(1, sizeof *reg.rules);
    if (!reg.rules)
        return;
    reg.nrules = 1;
    tm_rule *r = &reg.rules[0];
    snprintf(r->qid, sizeof r->qid, "%s/load", id);
    r->kind = TM_RULE_BLOCK;
    r->effective_day = INT64_MIN;
    r->expires_day = INT64_MAX;
    r->cite = strdup("(no citation: script failed to load)");
    char reason[600];
    snprintf(reason, sizeof reason, "regulation script failed and fails closed: %s", why);
    r->reason = strdup(reason);
    tm_gate_add(ctx->gate, &reg, NULL);
}

static const char *const reg_keys[] = {"id",       "name",      "applies",     "rules",
                                       "interpretation", "notes", "sources",  "version",
                                       TM_RULEC_MARK, TM_RULEC_LINE, "effective", "statement",
                                       "verified", "missing", NULL};

/* statement = { checked = ..., finding = ..., verified = ..., missing = ... }:
 * what was checked for a jurisdiction that adds no rule the language can
 * hold. Returns 0, or -1 with why. */
static int read_statement(lua_State *L, int t, tm_regulation *reg, char *why, size_t cap)
{
    rawfield(L, t, "statement");
    int st = lua_gettop(L);
    int rc = 0;
    if (lua_istable(L, st)) {
        static const char *const keys[] = {"checked", "finding", "verified", "missing", "sources",
                                           "notes", NULL};
        lua_pushnil(L);
        while (lua_next(L, st)) {
            if (lua_type(L, -2) != LUA_TSTRING || tm_gate_lookup(keys, lua_tostring(L, -2)) < 0) {
                snprintf(why, cap, "statement: unknown field '%s'",
                         lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
                rc = -1;
            }
            lua_pop(L, 1);
        }
        rawfield(L, st, "checked");
        rawfield(L, st, "finding");
        if (rc == 0 && (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)) {
            snprintf(why, cap, "statement: needs checked = \"the statute checked\" and finding = "
                               "\"what it adds\"");
            rc = -1;
        } else if (rc == 0) {
            reg->checked = strdup(lua_tostring(L, -2));
            reg->finding = strdup(lua_tostring(L, -1));
        }
        lua_pop(L, 2);
        if (rc == 0 && read_provenance(L, st, &reg->verified, &reg->missing, &reg->interpretation,
                                       why, cap) != 0)
            rc = -1;
    } else if (!lua_isnil(L, st)) {
        snprintf(why, cap, "statement: must be a table");
        rc = -1;
    }
    lua_settop(L, st - 1);
    int verified = TM_TRI_ABSENT;
    if (rc == 0 &&
        read_provenance(L, t, &verified, &reg->missing, &reg->interpretation, why, cap) != 0)
        rc = -1;
    if (reg->verified == TM_TRI_ABSENT)
        reg->verified = verified;
    return rc;
}

static void compile_regulation(lua_State *L, int t, loadctx *ctx)
{
    char why[300] = "";
    rawfield(L, t, TM_RULEC_LINE);
    int line = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    rawfield(L, t, "id");
    const char *id = lua_tostring(L, -1);
    char idbuf[48];
    snprintf(idbuf, sizeof idbuf, "%s", id ? id : ctx->script ? ctx->script->path : "?");
    lua_pop(L, 1);
    if (!id) {
        problem(ctx, line, 1, "regulation has no id");
        add_failed(ctx, idbuf, "regulation has no id");
        return;
    }
    /* A misspelt field (`appliez`) would leave the regulation applying to
     * everyone: it fails closed, every such field told at its own line. */
    char what[120];
    snprintf(what, sizeof what, "regulation '%s'", idbuf);
    int unknown = unknown_fields(L, t, reg_keys, what, line, ctx);
    tm_regulation reg;
    reg_init(&reg, idbuf, ctx->display);
    rawfield(L, t, "name");
    if (lua_type(L, -1) == LUA_TSTRING)
        reg.name = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    /* applies */
    rawfield(L, t, "applies");
    int ap = lua_gettop(L);
    int applies_ok = 1;
    if (lua_istable(L, ap)) {
        static const char *const ap_keys[] = {"state", "states", "city", "cities", "collectors",
                                              "creditor", "creditors", NULL};
        int ap_line = field_line(ctx, line, "applies");
        char apwhat[140];
        snprintf(apwhat, sizeof apwhat, "regulation '%s': applies", idbuf);
        int bad = unknown_fields(L, ap, ap_keys, apwhat, ap_line, ctx);
        if (bad) {
            snprintf(why, sizeof why, "applies: %d unknown field%s (above)", bad,
                     bad == 1 ? "" : "s");
            applies_ok = -1; /* told already */
        }
        static const char *const list_keys[][2] = {{"state", "states"}, {"city", "cities"},
                                                   {"creditor", "creditors"}};
        for (int k = 0; k < 3; k++) {
            for (int form = 0; form < 2; form++) {
                rawfield(L, ap, list_keys[k][form]);
                int n = lua_type(L, -1) == LUA_TSTRING ? 1
                        : lua_istable(L, -1)           ? (int)tm_lua_rawlen(L, -1)
                                                       : 0;
                for (int i = 1; i <= n; i++) {
                    if (lua_istable(L, -1))
                        lua_rawgeti(L, -1, i);
                    else
                        lua_pushvalue(L, -1);
                    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
                    int vline =
                        field_line(ctx, field_line(ctx, line, "applies"), list_keys[k][form]);
                    if (v && k == 0 && strlen(v) == 2 && tm_tz_state_zones(v) && reg.nstates < 64)
                        memcpy(reg.states[reg.nstates++], v, 3);
                    else if (v && k == 1 && *v && reg.ncities < 16)
                        reg.cities[reg.ncities++] = strdup(v);
                    else if (v && k == 2 && *v && reg.ncreditors < 16)
                        reg.creditors[reg.ncreditors++] = strdup(v);
                    else {
                        /* The value and the form expected, each told at its line. */
                        if (k == 0 && v)
                            problem(ctx, vline, 1,
                                    "regulation '%s': applies.%s: \"%.40s\" is not a USPS code "
                                    "(two capitals, e.g. \"MA\")",
                                    idbuf, list_keys[k][form], v);
                        else if (v && !*v)
                            problem(ctx, vline, 1, "regulation '%s': applies.%s: an empty name",
                                    idbuf, list_keys[k][form]);
                        else if (v)
                            problem(ctx, vline, 1, "regulation '%s': applies.%s: at most 16",
                                    idbuf, list_keys[k][form]);
                        else
                            problem(ctx, vline, 1,
                                    "regulation '%s': applies.%s: a %s is not a name (a string, "
                                    "or a list of strings, e.g. %s)",
                                    idbuf, list_keys[k][form], luaL_typename(L, -1),
                                    k == 0 ? "{ \"MA\", \"NH\" }" : "{ \"...\" }");
                        snprintf(why, sizeof why, "applies.%s: bad value (above)",
                                 list_keys[k][form]);
                        applies_ok = -1;
                    }
                    lua_pop(L, 1);
                }
                lua_pop(L, 1);
            }
        }
        char mwhy[300];
        if (read_mask(L, ap, "collectors", tm_gate_collector_names, &reg.collectors, mwhy,
                      sizeof mwhy) != 0) {
            problem(ctx, field_line(ctx, ap_line, "collectors"), 1, "regulation '%s': applies.%s",
                    idbuf, mwhy);
            snprintf(why, sizeof why, "applies.%.280s", mwhy);
            applies_ok = -1;
        }
    } else if (!lua_isnil(L, ap)) {
        snprintf(why, sizeof why, "applies: must be a table");
        applies_ok = 0;
    }
    lua_settop(L, ap - 1);
    if (unknown && applies_ok == 1) {
        snprintf(why, sizeof why, "%d unknown field%s (above)", unknown, unknown == 1 ? "" : "s");
        applies_ok = -1;
    }
    if (applies_ok != 1) {
        /* Where it applies is unknown: block everything rather than guess. */
        if (applies_ok == 0)
            problem(ctx, line, 1, "regulation '%s': %s", idbuf, why);
        add_failed(ctx, idbuf, why);
        /* Its rules' unknown fields are told too: every one in one run. */
        rawfield(L, t, "rules");
        int nr = lua_istable(L, -1) ? (int)tm_lua_rawlen(L, -1) : 0;
        for (int i = 1; i <= nr; i++) {
            lua_rawgeti(L, -1, i);
            if (lua_istable(L, -1)) {
                rawfield(L, -1, "id");
                char rwhat[160];
                snprintf(rwhat, sizeof rwhat, "rule '%s'",
                         lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
                int rline = line_of_id(ctx->script, lua_tostring(L, -1), line);
                lua_pop(L, 1);
                unknown_fields(L, -1, rule_keys, rwhat, rline, ctx);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        tm_regulation tmp = reg;
        tmp.rules = NULL;
        tmp.nrules = 0;
        for (int i = 0; i < tmp.ncities; i++)
            free(tmp.cities[i]);
        for (int i = 0; i < tmp.ncreditors; i++)
            free(tmp.creditors[i]);
        free(tmp.name);
        free(tmp.script);
        return;
    }
    if (read_statement(L, t, &reg, why, sizeof why) != 0) {
        problem(ctx, line, 1, "regulation '%s': %s", idbuf, why);
        why[0] = '\0';
    }
    if (reg.verified == TM_TRI_FALSE && !reg.missing)
        problem(ctx, line, 0, "regulation '%s': verified = false needs missing = \"...\" (what could "
                              "not be checked)", idbuf);
    rawfield(L, t, "rules");
    int rules = lua_gettop(L);
    int n = lua_istable(L, rules) ? (int)tm_lua_rawlen(L, rules) : 0;
    if ((!lua_istable(L, rules) || n == 0) && !reg.checked)
        problem(ctx, line, 0, "regulation '%s' has no rules (and no statement of what was checked)",
                idbuf);
    reg.rules = n ? calloc((size_t)n, sizeof *reg.rules) : NULL;
    for (int i = 1; i <= n && reg.rules; i++) {
        lua_rawgeti(L, rules, i);
        compile_rule(L, lua_gettop(L), idbuf, i, &reg.rules[reg.nrules++], ctx, line);
        lua_pop(L, 1);
    }
    lua_settop(L, rules - 1);
    /* Duplicate rule ids would make blocked_by ambiguous. */
    for (int i = 0; i < reg.nrules; i++)
        for (int j = i + 1; j < reg.nrules; j++)
            if (strcmp(reg.rules[i].qid, reg.rules[j].qid) == 0)
                problem(ctx, reg.rules[j].line, 0, "duplicate rule id '%s'", reg.rules[j].qid);
    tm_gate_add(ctx->gate, &reg, NULL);
}

static int is_regulation(lua_State *L, int idx)
{
    if (!lua_istable(L, idx))
        return 0;
    rawfield(L, idx, TM_RULEC_MARK);
    int yes = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "regulation") == 0;
    lua_pop(L, 1);
    return yes;
}

/* Protected: compiles the value at index 2 (context at 1). */
static int compile_value(lua_State *L)
{
    loadctx *ctx = lua_touserdata(L, 1);
    if (is_regulation(L, 2)) {
        compile_regulation(L, 2, ctx);
    } else if (lua_istable(L, 2)) {
        int n = (int)tm_lua_rawlen(L, 2);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, 2, i);
            if (is_regulation(L, -1))
                compile_regulation(L, lua_gettop(L), ctx);
            lua_pop(L, 1);
        }
    }
    return 0;
}

static int value_has_regulations(lua_State *L, int idx)
{
    if (is_regulation(L, idx))
        return 1;
    if (!lua_istable(L, idx))
        return 0;
    lua_rawgeti(L, idx, 1);
    int yes = is_regulation(L, -1);
    lua_pop(L, 1);
    return yes;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* sol.lua's accrual names (what starts the period, in the law's words) and
 * the engine's reading of each from the dates a request can give. */
static const struct {
    const char *name;
    int accrual;
} accrual_names[] = {
    {"default", TM_ACCRUAL_DEFAULT},
    {"charge_off", TM_ACCRUAL_CHARGE_OFF},
    /* The last item, charge or payment: the request gives the last payment
     * only, which is no later than the last of them. */
    {"last_item", TM_ACCRUAL_LAST_PAYMENT},
    {"last_charge_or_payment", TM_ACCRUAL_LAST_PAYMENT},
    {"last_activity", TM_ACCRUAL_LAST_PAYMENT},
    {"last_charge_or_payment_plus_30d", TM_ACCRUAL_LAST_PAYMENT_30},
    {"treatment_date", TM_ACCRUAL_EARLIEST},
};

static int accrual_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof accrual_names / sizeof accrual_names[0]; i++)
        if (strcmp(accrual_names[i].name, name) == 0)
            return accrual_names[i].accrual;
    return -1;
}

/* Reads one state's `roll` table (its rule for a last day on a holiday):
 * { weekdays = {"sat", "sun"}, federal = true, holidays = { {month, day} or
 * {month, nth, wday, offset}, observed, from, to } }. Returns 0, or -1 with
 * why. */
static int read_roll(lua_State *L, int t, tm_sol *s, char *why, size_t cap)
{
    rawfield(L, t, "roll");
    int roll = lua_gettop(L);
    int rc = 0;
    if (lua_isnil(L, roll)) {
        lua_settop(L, roll - 1);
        return 0;
    }
    if (!lua_istable(L, roll)) {
        snprintf(why, cap, "roll: must be a table");
        lua_settop(L, roll - 1);
        return -1;
    }
    s->roll = 1;
    uint32_t wd = 0;
    if (read_mask(L, roll, "weekdays", tm_gate_weekday_names, &wd, why, cap) != 0)
        rc = -1;
    s->roll_weekdays = (uint8_t)wd;
    rawfield(L, roll, "federal");
    s->roll_federal = lua_toboolean(L, -1);
    lua_pop(L, 1);
    rawfield(L, roll, "holidays");
    int hs = lua_gettop(L);
    int n = lua_istable(L, hs) ? (int)tm_lua_rawlen(L, hs) : 0;
    for (int i = 1; i <= n && rc == 0; i++) {
        if (s->nholidays >= TM_SOL_MAX_HOLIDAYS) {
            snprintf(why, cap, "roll.holidays: at most %d", TM_SOL_MAX_HOLIDAYS);
            rc = -1;
            break;
        }
        lua_rawgeti(L, hs, i);
        int h = lua_gettop(L);
        tm_sol_holiday *x = &s->holidays[s->nholidays];
        memset(x, 0, sizeof *x);
        int ok = lua_istable(L, h) &&
                 integer_field(L, h, "month", 1, 12, &x->month) == 0;
        rawfield(L, h, "wday");
        if (ok && lua_type(L, -1) == LUA_TSTRING) {
            x->wday = tm_gate_lookup(tm_gate_weekday_names, lua_tostring(L, -1));
            int nth = 0;
            ok = x->wday >= 0 && integer_field(L, h, "nth", -1, 5, &nth) == 0 && nth != 0;
            x->nth = nth;
        } else if (ok) {
            ok = integer_field(L, h, "day", 1, 31, &x->day) == 0;
        }
        lua_pop(L, 1);
        rawfield(L, h, "offset");
        if (ok && !lua_isnil(L, -1))
            ok = integer_field(L, h, "offset", -7, 7, &x->offset) == 0;
        lua_pop(L, 1);
        rawfield(L, h, "from");
        if (ok && !lua_isnil(L, -1))
            ok = integer_field(L, h, "from", 1900, 9999, &x->from_year) == 0;
        lua_pop(L, 1);
        rawfield(L, h, "to");
        if (ok && !lua_isnil(L, -1))
            ok = integer_field(L, h, "to", 1900, 9999, &x->to_year) == 0;
        lua_pop(L, 1);
        rawfield(L, h, "observed");
        x->observed = lua_toboolean(L, -1) && x->nth == 0;
        lua_pop(L, 1);
        if (!ok) {
            snprintf(why, cap, "roll.holidays[%d]: needs month and day, or month, nth (1 to 5 or "
                               "-1) and wday (\"mon\"...)", i);
            rc = -1;
        } else {
            s->nholidays++;
        }
        lua_settop(L, h - 1);
    }
    lua_settop(L, roll - 1);
    return rc;
}

static void load_sol(loadctx *ctx)
{
    lua_State *L = tm_sandbox_lua(ctx->sb);
    struct tm_err e = {0};
    tm_gen *gen = tm_sandbox_gen(ctx->sb);
    if (!gen || !tm_gen_find(gen, "regulations/sol.lua"))
        return;
    snprintf(ctx->display, sizeof ctx->display, "%s", "regulations/sol.lua");
    if (tm_sandbox_script(ctx->sb, "regulations/sol.lua", &e) != TM_OK) {
        problem(ctx, 0, 1, "%s", e.msg);
        return;
    }
    int top = lua_gettop(L);
    rawfield(L, top, "states");
    enum { MAX_SOL = 80 };
    tm_sol *sol = calloc(MAX_SOL, sizeof *sol);
    int n = 0;
    if (!sol) {
        problem(ctx, 0, 1, "out of memory reading the statutes of limitation");
        lua_settop(L, top - 1);
        return;
    }
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2) && n < MAX_SOL) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1) && strlen(lua_tostring(L, -2)) == 2) {
                int st = lua_gettop(L);
                const char *code = lua_tostring(L, -2);
                tm_sol *s = &sol[n];
                memset(s, 0, sizeof *s);
                memcpy(s->state, code, 3);
                /* What starts the period: `accrual`, or accrual_by_type for one type. */
                rawfield(L, st, "accrual");
                const char *acc = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "default";
                int a = accrual_lookup(acc);
                if (a < 0) {
                    problem(ctx, 0, 1, "states.%s.accrual: unknown value '%s'", code, acc);
                    a = TM_ACCRUAL_DEFAULT;
                }
                lua_pop(L, 1);
                for (int k = 0; k < TM_DT__COUNT; k++)
                    s->accrual[k] = a;
                rawfield(L, st, "accrual_by_type");
                if (lua_istable(L, -1)) {
                    for (int k = 0; k < TM_DT__COUNT; k++) {
                        rawfield(L, lua_gettop(L), tm_gate_debt_type_names[k]);
                        if (lua_type(L, -1) == LUA_TSTRING) {
                            int b = accrual_lookup(lua_tostring(L, -1));
                            if (b < 0)
                                problem(ctx, 0, 1, "states.%s.accrual_by_type.%s: unknown value '%s'",
                                        code, tm_gate_debt_type_names[k], lua_tostring(L, -1));
                            else
                                s->accrual[k] = b;
                        }
                        lua_pop(L, 1);
                    }
                }
                lua_pop(L, 1);
                char why[200];
                if (read_roll(L, st, s, why, sizeof why) != 0)
                    problem(ctx, 0, 1, "states.%s.%s", code, why);
                rawfield(L, st, "years");
                if (lua_istable(L, -1)) {
                    for (int k = 0; k < TM_DT__COUNT; k++) {
                        rawfield(L, lua_gettop(L), tm_gate_debt_type_names[k]);
                        if (lua_type(L, -1) == LUA_TNUMBER)
                            s->years[k] = (int)lua_tointeger(L, -1);
                        lua_pop(L, 1);
                    }
                    n++;
                }
                lua_settop(L, st);
            }
            lua_pop(L, 1);
        }
    }
    lua_settop(L, top - 1);
    tm_gate_set_sol(ctx->gate, sol, n);
    free(sol);
}

/* The 50 states and DC: each must be accounted for by the state scripts. */
static const char *const us_jurisdictions[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
    "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    NULL};

/* A tree with state scripts (regulations/states/) accounts for every state
 * and DC: a regulation "US-XX" that holds rules or a statement of the
 * statute checked. One that has neither is a problem, so `tallyman lint`
 * fails until someone looks at the state. */
static void check_states_accounted(loadctx *ctx, tm_gen *gen)
{
    int has_states = 0;
    for (size_t i = 0; i < tm_gen_count(gen) && !has_states; i++)
        has_states = strncmp(tm_gen_script(gen, i)->path, "regulations/states/", 19) == 0;
    if (!has_states)
        return;
    snprintf(ctx->display, sizeof ctx->display, "%s/regulations/states", tm_gen_root(gen));
    for (int k = 0; us_jurisdictions[k]; k++) {
        char id[8];
        snprintf(id, sizeof id, "US-%s", us_jurisdictions[k]);
        int found = 0;
        for (int i = 0; i < tm_gate_count(ctx->gate) && !found; i++) {
            const tm_regulation *reg = tm_gate_regulation(ctx->gate, i);
            found = strcmp(reg->id, id) == 0 && (reg->nrules > 0 || reg->checked);
        }
        if (!found)
            problem(ctx, 0, 0, "%s is not accounted for: give it rules, or a statement = { checked = "
                               "\"the statute checked\", finding = \"...\" } (states/others.lua)", id);
    }
}

int tm_rulec_compile(tm_sandbox *sb, tm_check_fn check, tm_gate_report_fn report, void *ud,
                     tm_gate **out, struct tm_err *err)
{
    *out = NULL;
    tm_gate *gate = tm_gate_new();
    if (!gate)
        return tm_err_set(err, TM_ENOMEM, "out of memory creating the gate");
    tm_gen *gen = tm_sandbox_gen(sb);
    loadctx ctx = {.sb = sb, .gate = gate, .check = check, .report = report, .ud = ud};
    lua_State *L = tm_sandbox_lua(sb);
    if (gen) {
        tm_gate_set_scripts_hash(gate, tm_gen_hash(gen));
        for (size_t i = 0; i < tm_gen_count(gen); i++) {
            const tm_script *s = tm_gen_script(gen, i);
            if (ends_with(s->path, "_spec.lua") || strcmp(s->path, "regulations/sol.lua") == 0)
                continue;
            /* Regulations live under regulations/ and policies/; a set that is
             * a single file (`tallyman lint file.lua`) is taken as it is. */
            if (strncmp(s->path, "regulations/", 12) != 0 && strncmp(s->path, "policies/", 9) != 0 &&
                tm_gen_count(gen) != 1)
                continue;
            ctx.script = s;
            snprintf(ctx.display, sizeof ctx.display, "%s", s->display);
            struct tm_err e = {0};
            if (tm_sandbox_script(sb, s->path, &e) != TM_OK) {
                problem(&ctx, 0, 1, "%s", e.msg);
                char id[48];
                snprintf(id, sizeof id, "%s", s->path);
                add_failed(&ctx, id, e.msg);
                continue;
            }
            if (!value_has_regulations(L, -1)) {
                lua_pop(L, 1); /* a module (shared code or data), not a regulation */
                continue;
            }
            lua_pushcfunction(L, compile_value);
            lua_pushlightuserdata(L, &ctx);
            lua_pushvalue(L, -3);
            if (tm_sandbox_pcall(sb, 2, 0, &e) != TM_OK) {
                problem(&ctx, 0, 1, "%s", e.msg);
                add_failed(&ctx, s->path, e.msg);
            }
            lua_pop(L, 1);
        }
        ctx.script = NULL;
        load_sol(&ctx);
        check_states_accounted(&ctx, gen);
    }
    *out = gate;
    return TM_OK;
}

