/*
 * sandbox/lb_gate.c: the compliance gate as regulation scripts and specs see
 * it. The regulation language's globals (`regulation`, `block`, `days`,
 * `hours`), `decide` for spec files, and the check callback through which
 * the gate calls a rule's `check` function with the request as a table.
 * Compiling the regulations into gate rules is rulec.c's; judging requests
 * is core/gate.c's.
 */
#include "lb_gate.h"
#include "lb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "gate_wire.h"
#include "lb_common.h"
#include "lcompat.h"

#define GATE_KEY "tm.gate"

/* ---------------------------------------------------------------------------
 * DSL globals.
 */

/***
 * @function regulation(def)
 * Marks the table as a regulation (and records the line it was declared on)
 * for the compiler; a regulation script returns it, or a list of them.
 * @param def {tm.Regulation} the regulation
 * @return {tm.Regulation} the same table
 */
static int l_regulation(lua_State *L)
{
    tm_lb_checktable(L, 1, "regulation");
    lua_settop(L, 1);
    lua_pushliteral(L, TM_RULEC_MARK);
    lua_pushliteral(L, "regulation");
    lua_rawset(L, 1);
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar)) {
        lua_pushliteral(L, TM_RULEC_LINE);
        lua_pushinteger(L, ar.currentline);
        lua_rawset(L, 1);
    }
    return 1;
}

/***
 * @function block([reason [, next_allowed]])
 * What a rule's check function returns to block the contact.
 * @param reason {string} shown with the block (default "blocked")
 * @param next_allowed {string|integer} when the contact may be tried again:
 *   an RFC 3339 time or seconds since 1970; absent: never
 * @return {tm.Blocked} {blocked = true, reason =, next_allowed =}
 */
static int l_block(lua_State *L)
{
    const char *reason = tm_lb_optlstring(L, 1, "block", "blocked", NULL);
    lua_createtable(L, 0, 3);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "blocked");
    lua_pushstring(L, reason);
    lua_setfield(L, -2, "reason");
    if (!lua_isnoneornil(L, 2)) {
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "next_allowed");
    }
    return 1;
}

/* days(n) / hours(n): durations for cap windows ("per = days(7)"). */
static int push_duration(lua_State *L, const char *unit)
{
    lua_Integer n = tm_lb_checkinteger(L, 1, unit);
    if (n < 1 || n > 3660)
        return tm_lb_argerror(L, 1, unit, "1 to 3660 expected, got %lld", (long long)n);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, unit);
    lua_setfield(L, -2, "unit");
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
    return 1;
}

/***
 * @function days(n)
 * A duration of n days: a cap's window (per = days(7), counted in local
 * calendar dates) or a journey timer.
 * @param n {integer} 1 to 3660
 * @return {tm.Duration} {unit = "days", n = n}
 */
static int l_days(lua_State *L) { return push_duration(L, "days"); }

/***
 * @function hours(n)
 * A duration of n hours: a cap's rolling window (per = hours(24)) or a
 * journey timer.
 * @param n {integer} 1 to 3660
 * @return {tm.Duration} {unit = "hours", n = n}
 */
static int l_hours(lua_State *L) { return push_duration(L, "hours"); }

static int l_decide(lua_State *L);

static int push_regulation_fn(lua_State *L)
{
    lua_pushcfunction(L, l_regulation);
    return 1;
}
static int push_block_fn(lua_State *L)
{
    lua_pushcfunction(L, l_block);
    return 1;
}
static int push_days_fn(lua_State *L)
{
    lua_pushcfunction(L, l_days);
    return 1;
}
static int push_hours_fn(lua_State *L)
{
    lua_pushcfunction(L, l_hours);
    return 1;
}
static int push_decide_fn(lua_State *L)
{
    lua_pushcfunction(L, l_decide);
    return 1;
}

void tm_lb_gate_register(void)
{
    tm_sandbox_add_library("time", tm_lb_open_time);
    tm_sandbox_add_global("regulation", push_regulation_fn);
    tm_sandbox_add_global("block", push_block_fn);
    tm_sandbox_add_global("days", push_days_fn);
    tm_sandbox_add_global("hours", push_hours_fn);
    tm_sandbox_add_global("decide", push_decide_fn);
}

tm_gate *tm_lb_gate_attached(tm_sandbox *sb)
{
    lua_State *L = tm_sandbox_lua(sb);
    lua_getfield(L, LUA_REGISTRYINDEX, GATE_KEY);
    tm_gate *gate = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return gate;
}

void tm_lb_gate_attach(tm_sandbox *sb, tm_gate *gate)
{
    lua_State *L = tm_sandbox_lua(sb);
    lua_pushlightuserdata(L, gate);
    lua_setfield(L, LUA_REGISTRYINDEX, GATE_KEY);
}

/***
 * @class tm.Duration
 * What days(n), hours(n), business_days(n) and minutes(n) return.
 * @field unit {string} "days", "hours", "business_days" or "minutes"
 * @field n {integer} how many
 */

/***
 * @class tm.Blocked
 * What block() returns.
 * @field blocked {boolean} true
 * @field reason {string} shown with the block
 * @field next_allowed {string|integer|nil} when the contact may be tried again
 * @field requires {string[]?} message fields the contact must carry
 * @field assumed {string[]?} request fields the check judged without (set
 *   it on the table block() returns: the decision lists them in `assumed`)
 */

/***
 * @class tm.Request
 * The contact a rule's check function judges (`c`), at the instant `now`.
 * @field now {integer} seconds since 1970 (later ones when the gate searches
 *   for the next allowed moment)
 * @field now_iso {string} the same as RFC 3339
 * @field channel {string} call, sms, email, letter, push, whatsapp or visit
 * @field place {string} personal or work
 * @field purpose {string} collection, validation_notice, verification or
 *   cease_notice
 * @field collector {string} third_party, debt_buyer or creditor
 * @field state {string} the consumer's USPS state code
 * @field city {string?} the consumer's city
 * @field creditor {string?} the creditor
 * @field flags {table<string, boolean>} the consumer's flags as a set
 *   (c.flags.cease)
 * @field consent {table<string, boolean>} consents on file, by channel (and
 *   autodial)
 * @field optout {table<string, boolean>} channels opted out of
 * @field local_times {table} one entry per zone of the consumer: {zone,
 *   date, hour, min, sec, wday, offset}
 * @field debt {table} {id, type, dispute, time_barred, last_payment_date,
 *   charge_off_date, default_date, owner, notices}: `owner` is
 *   original_creditor or debt_buyer when known, `notices` notice name ->
 *   "YYYY-MM-DD"
 * @field dialer {string?} manual, autodialer or prerecorded, nil when not given
 * @field line {string?} cell, landline or voip, nil when not given
 * @field language {string?} the consumer's BCP 47 language tag
 * @field more_calls_at {integer?} when the consumer last consented directly
 *   to more calls (seconds since 1970)
 * @field attorney {table?} consumer.attorney: {since, consented, responded,
 *   asked_at}
 * @field requests {table} the consumer's requests about contact: {type, at,
 *   form, from, to, channels} (from/to: seconds of the local day)
 * @field message {table<string, boolean>} message field -> true or false
 * @field history {table} earlier contacts: {channel, outcome, place,
 *   direction, at, other_debt, required_by_law, purpose}
 */

/***
 * @class tm.Decision
 * What decide() returns in a spec.
 * @field allow {boolean} true only when no rule blocks
 * @field blocked_by {table} the blocking rules: {rule, cite, reason,
 *   next_allowed_at, failed}
 * @field blocked {table<string, boolean>} the same as a set of rule ids
 * @field next_allowed_at {string?} RFC 3339, nil when no time will do
 * @field requires {string[]} content the message must carry
 * @field assumed {string[]} request fields a rule assumed (absent)
 * @field time_barred {boolean} whether the debt is time-barred
 * @field time_barred_on {string?} the date the law makes the debt
 *   time-barred from ("YYYY-MM-DD"), when worked out
 * @field time_barred_by {string?} when time-barred: request, law or policy
 * @field time_barred_policy {table?} a creditor policy's margin: {rule,
 *   margin_days, on}
 */

/* ---------------------------------------------------------------------------
 * The request as a Lua table, for check functions and decide().
 */
static void set_str(lua_State *L, const char *k, const char *v)
{
    if (!v)
        return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_names(lua_State *L, const char *k, uint32_t mask, const char *const *names)
{
    lua_newtable(L);
    for (int i = 0; names[i]; i++) {
        if (mask & (1u << i)) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, names[i]);
        }
    }
    lua_setfield(L, -2, k);
}

static void push_day(lua_State *L, int64_t day)
{
    int64_t y;
    int m, d;
    tm_calendar_civil_from_days(day, &y, &m, &d);
    lua_pushfstring(L, "%d-%s%d-%s%d", (int)y, m < 10 ? "0" : "", m, d < 10 ? "0" : "", d);
}

static void push_time(lua_State *L, int64_t t)
{
    char b[40];
    tm_gate_format_time(t, b, sizeof b);
    lua_pushstring(L, b);
}

static void push_request(lua_State *L, const tm_request *req, int64_t t)
{
    lua_createtable(L, 0, 24);
    set_int(L, "now", (lua_Integer)t);
    push_time(L, t);
    lua_setfield(L, -2, "now_iso");
    set_str(L, "channel", tm_gate_channel_names[req->channel]);
    set_str(L, "place", tm_gate_place_names[req->place]);
    set_str(L, "purpose", tm_gate_purpose_names[req->purpose]);
    set_str(L, "collector", tm_gate_collector_names[req->collector]);
    set_str(L, "state", req->state);
    set_str(L, "city", req->city);
    set_str(L, "creditor", req->creditor);
    set_names(L, "flags", req->flags, tm_gate_flag_names);
    set_names(L, "consent", req->consent, tm_gate_channel_names);
    if (req->consent & TM_CONSENT_AUTODIAL) {
        lua_getfield(L, -1, "consent");
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "autodial");
        lua_pop(L, 1);
    }
    set_names(L, "optout", req->optout, tm_gate_channel_names);
    /* Local time of `t` in every zone of the consumer. */
    lua_createtable(L, req->nzones, 0);
    for (int i = 0; i < req->nzones; i++) {
        tm_civil c;
        tm_tz_to_local(req->zones[i], t, &c);
        lua_createtable(L, 0, 8);
        set_str(L, "zone", tm_tz_name(req->zones[i]));
        push_day(L, tm_calendar_days_from_civil(c.year, c.month, c.day));
        lua_setfield(L, -2, "date");
        set_int(L, "hour", c.hour);
        set_int(L, "min", c.min);
        set_int(L, "sec", c.sec);
        set_str(L, "wday", tm_gate_weekday_names[c.wday]);
        set_int(L, "offset", c.offset);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "local_times");
    lua_createtable(L, 0, 6);
    set_str(L, "id", req->debt_id);
    set_str(L, "type", tm_gate_debt_type_names[req->debt_type]);
    set_str(L, "dispute", tm_gate_dispute_names[req->dispute]);
    lua_pushboolean(L, req->time_barred == TM_TRI_TRUE);
    lua_setfield(L, -2, "time_barred");
    if (req->last_payment_day != INT64_MIN) {
        push_day(L, req->last_payment_day);
        lua_setfield(L, -2, "last_payment_date");
    }
    if (req->charge_off_day != INT64_MIN) {
        push_day(L, req->charge_off_day);
        lua_setfield(L, -2, "charge_off_date");
    }
    if (req->default_day != INT64_MIN) {
        push_day(L, req->default_day);
        lua_setfield(L, -2, "default_date");
    }
    /* The owner as far as the request tells (a debt buyer or a creditor
     * collecting owns the debt). */
    int owner = req->collector == TM_CO_DEBT_BUYER ? TM_OWNER_DEBT_BUYER
                : req->collector == TM_CO_CREDITOR ? TM_OWNER_ORIGINAL_CREDITOR
                                                   : req->owner;
    if (owner != TM_GATE_ABSENT)
        set_str(L, "owner", tm_gate_owner_names[owner]);
    if (req->nnotices) {
        lua_createtable(L, 0, req->nnotices);
        for (int i = 0; i < req->nnotices; i++) {
            push_day(L, req->notices[i].day);
            lua_setfield(L, -2, req->notices[i].name);
        }
        lua_setfield(L, -2, "notices");
    }
    lua_setfield(L, -2, "debt");
    if (req->dialer != TM_GATE_ABSENT)
        set_str(L, "dialer", tm_gate_dialer_names[req->dialer]);
    if (req->line != TM_GATE_ABSENT)
        set_str(L, "line", tm_gate_line_names[req->line]);
    if (req->language[0])
        set_str(L, "language", req->language);
    if (req->more_calls_at != INT64_MIN)
        set_int(L, "more_calls_at", (lua_Integer)req->more_calls_at);
    if (req->attorney.present) {
        const tm_attorney *a = &req->attorney;
        lua_createtable(L, 0, 4);
        if (a->since_day != INT64_MIN) {
            push_day(L, a->since_day);
            lua_setfield(L, -2, "since");
        }
        if (a->consented != TM_TRI_ABSENT) {
            lua_pushboolean(L, a->consented == TM_TRI_TRUE);
            lua_setfield(L, -2, "consented");
        }
        if (a->responded != TM_TRI_ABSENT) {
            lua_pushboolean(L, a->responded == TM_TRI_TRUE);
            lua_setfield(L, -2, "responded");
        }
        if (a->asked_at != INT64_MIN)
            set_int(L, "asked_at", (lua_Integer)a->asked_at);
        lua_setfield(L, -2, "attorney");
    }
    lua_createtable(L, req->nrequests, 0);
    for (int i = 0; i < req->nrequests; i++) {
        const tm_consumer_request *q = &req->requests[i];
        lua_createtable(L, 0, 6);
        set_str(L, "type", tm_gate_creq_names[q->type]);
        set_int(L, "at", (lua_Integer)q->at);
        if (q->form != TM_GATE_ABSENT)
            set_str(L, "form", tm_gate_form_names[q->form]);
        if (q->type == TM_CREQ_NO_CALLS_AT) {
            set_int(L, "from", q->from_s);
            set_int(L, "to", q->to_s);
        }
        if (q->channels)
            set_names(L, "channels", q->channels, tm_gate_channel_names);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "requests");
    lua_createtable(L, 0, req->nmsg);
    for (int i = 0; i < req->nmsg; i++) {
        lua_pushboolean(L, req->msg[i].value == TM_TRI_TRUE);
        lua_setfield(L, -2, req->msg[i].name);
    }
    lua_setfield(L, -2, "message");
    lua_createtable(L, req->nhistory, 0);
    for (int i = 0; i < req->nhistory; i++) {
        const tm_history *h = &req->history[i];
        lua_createtable(L, 0, 6);
        set_str(L, "channel", tm_gate_channel_names[h->channel]);
        set_str(L, "outcome", tm_gate_outcome_names[h->outcome]);
        set_str(L, "place", tm_gate_place_names[h->place]);
        set_str(L, "direction", h->direction == TM_DIR_INBOUND ? "inbound" : "outbound");
        set_int(L, "at", (lua_Integer)h->at);
        lua_pushboolean(L, h->other_debt);
        lua_setfield(L, -2, "other_debt");
        if (h->required_by_law != TM_TRI_ABSENT) {
            lua_pushboolean(L, h->required_by_law == TM_TRI_TRUE);
            lua_setfield(L, -2, "required_by_law");
        }
        if (h->purpose != TM_GATE_ABSENT)
            set_str(L, "purpose", tm_gate_purpose_names[h->purpose]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "history");
}

/* Reads a time a check function returned: seconds since the epoch, or an
 * RFC 3339 string. Returns TM_GATE_NEVER when absent or unreadable. */
static int64_t read_time(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TNUMBER)
        return (int64_t)lua_tonumber(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        int64_t t;
        int32_t ns;
        int off;
        if (tm_calendar_parse_rfc3339(lua_tostring(L, idx), &t, &ns, &off, NULL) == TM_OK)
            return t;
    }
    return TM_GATE_NEVER;
}

static int check_cb(void *ud, const tm_rule *r, const tm_request *req, int64_t t, int *blocked,
                    char *reason, size_t cap, int64_t *next, tm_rule_result *res)
{
    tm_sandbox *sb = ud;
    lua_State *L = tm_sandbox_lua(sb);
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 16)) {
        snprintf(reason, cap, "rule failed: out of stack space");
        return TM_ENOMEM;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->check_ref);
    push_request(L, req, t);
    struct tm_err e = {0};
    int rc = tm_sandbox_pcall(sb, 1, 1, &e);
    if (rc != TM_OK) {
        /* A limit names the rule's script and line, as a script error does. */
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->check_ref);
        tm_lb_limit_where(sb, L, &e);
        snprintf(reason, cap, "rule failed: %s", e.msg);
        lua_settop(L, top);
        return rc;
    }
    *blocked = 0;
    *next = TM_GATE_NEVER;
    int ty = lua_type(L, -1);
    if (ty == LUA_TNIL || (ty == LUA_TBOOLEAN && lua_toboolean(L, -1))) {
        /* allowed */
    } else if (ty == LUA_TBOOLEAN) {
        *blocked = 1;
    } else if (ty == LUA_TSTRING) {
        *blocked = 1;
        snprintf(reason, cap, "%s", lua_tostring(L, -1));
    } else if (ty == LUA_TTABLE) {
        lua_getfield(L, -1, "blocked");
        *blocked = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, -1, "reason");
        if (lua_type(L, -1) == LUA_TSTRING)
            snprintf(reason, cap, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        lua_getfield(L, -1, "next_allowed");
        *next = read_time(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, -1, "assumed");
        if (lua_istable(L, -1) && res) {
            /* Request fields the check judged without (on the consumer's side). */
            for (int i = 1; i <= TM_RULE_MAX_FIELDS; i++) {
                lua_rawgeti(L, -1, i);
                if (lua_type(L, -1) == LUA_TSTRING)
                    tm_gate_result_assume(res, lua_tostring(L, -1));
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "requires");
        if (lua_istable(L, -1) && res) {
            for (int i = 1; i <= TM_RULE_MAX_FIELDS; i++) {
                lua_rawgeti(L, -1, i);
                if (lua_type(L, -1) == LUA_TSTRING)
                    tm_gate_result_require(res, lua_tostring(L, -1));
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    } else {
        snprintf(reason, cap, "rule failed: check returned a %s", lua_typename(L, ty));
        lua_settop(L, top);
        return TM_ESCRIPT;
    }
    lua_settop(L, top);
    return TM_OK;
}

int tm_lb_gate_load(tm_sandbox *sb, tm_gate **out, tm_gate_report_fn report, void *ud,
                    struct tm_err *err)
{
    int rc = tm_rulec_compile(sb, check_cb, report, ud, out, err);
    if (rc == TM_OK)
        tm_lb_gate_attach(sb, *out);
    return rc;
}

/* ---------------------------------------------------------------------------
 * decide(request) in Lua, for spec files.
 */
static void push_decision(lua_State *L, const tm_request *req, const tm_decision *d)
{
    lua_createtable(L, 0, 6);
    lua_pushboolean(L, d->allow);
    lua_setfield(L, -2, "allow");
    lua_createtable(L, d->nblocked, 0);
    lua_createtable(L, 0, d->nblocked); /* blocked: set of rule ids */
    for (int i = 0; i < d->nblocked; i++) {
        const tm_rule_result *r = &d->blocked[i];
        lua_createtable(L, 0, 4);
        set_str(L, "rule", r->rule->qid);
        set_str(L, "cite", r->rule->cite);
        set_str(L, "reason", r->reason);
        if (r->next != TM_GATE_NEVER) {
            push_time(L, r->next);
            lua_setfield(L, -2, "next_allowed_at");
        }
        if (r->failed) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "failed");
        }
        lua_rawseti(L, -3, i + 1);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, r->rule->qid);
    }
    lua_setfield(L, -3, "blocked");
    lua_setfield(L, -2, "blocked_by");
    if (d->next_allowed != TM_GATE_NEVER) {
        push_time(L, d->next_allowed);
        lua_setfield(L, -2, "next_allowed_at");
    }
    lua_createtable(L, d->nrequires, 0);
    for (int i = 0; i < d->nrequires; i++) {
        lua_pushstring(L, d->requires[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "requires");
    lua_createtable(L, d->nassumed, 0);
    for (int i = 0; i < d->nassumed; i++) {
        lua_pushstring(L, d->assumed[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "assumed");
    lua_pushboolean(L, req->time_barred == TM_TRI_TRUE);
    lua_setfield(L, -2, "time_barred");
    if (d->time_barred_on != INT64_MIN) {
        push_day(L, d->time_barred_on);
        lua_setfield(L, -2, "time_barred_on");
    }
    if (req->time_barred == TM_TRI_TRUE) {
        static const char *const by[] = {"unknown", "request", "law", "policy"};
        lua_pushstring(L, by[d->barred_by >= 0 && d->barred_by <= TM_BARRED_POLICY ? d->barred_by : 0]);
        lua_setfield(L, -2, "time_barred_by");
    }
    if (d->margin) {
        /* A creditor policy's margin: policy, not law. */
        lua_createtable(L, 0, 3);
        set_str(L, "rule", d->margin->qid);
        lua_pushinteger(L, d->margin->margin_days);
        lua_setfield(L, -2, "margin_days");
        push_day(L, d->margin_on);
        lua_setfield(L, -2, "on");
        lua_setfield(L, -2, "time_barred_policy");
    }
}

/***
 * @function decide(request)
 * In spec files: asks the gate built from the same script tree, parsing the
 * request exactly as `tallyman decide` parses a line (a missing `id` is
 * "spec"; a missing `now` is the clock, so give one).
 * @param request {table} a decide request (CONTRACT.md): channel, now,
 *   consumer, debt, message, history, ...
 * @return {tm.Decision?, string?} the decision; or nil and the message when
 *   the gate refuses the request
 */
static int l_decide(lua_State *L)
{
    tm_lb_checktable(L, 1, "decide");
    lua_settop(L, 1);
    lua_pushliteral(L, "id");
    lua_rawget(L, 1);
    if (lua_isnil(L, -1)) {
        lua_pushliteral(L, "id");
        lua_pushliteral(L, "spec");
        lua_rawset(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, GATE_KEY);
    tm_gate *gate = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!gate)
        return tm_lb_error(L, "decide", "no regulations are loaded in this sandbox");
    char *json = NULL;
    size_t len = 0;
    struct tm_err e = {0};
    if (tm_lb_json_encode(L, 1, &json, &len, &e) != TM_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "decide: %s", e.msg);
        return 2;
    }
    /* The request is parsed exactly as `tallyman decide` parses a line, so
     * specs exercise the same path. */
    tm_request req;
    char *id_json = NULL;
    int rc = tm_gate_request_parse(json, len, (int64_t)time(NULL), &req, &id_json, &e);
    free(json);
    free(id_json);
    if (rc != TM_OK) {
        lua_pushnil(L);
        lua_pushstring(L, e.msg);
        return 2;
    }
    tm_decision d;
    tm_gate_decide(gate, &req, &d);
    push_decision(L, &req, &d);
    tm_gate_decision_free(&d);
    tm_gate_request_free(&req);
    return 1;
}
