/*
 * sandbox/lb_pay.c: the `tm.money` and `tm.pay` libraries, the payment
 * primitives of core/pay.h as strategy scripts see them.
 *
 * Money crosses the boundary as an integer count of minor units plus an ISO
 * 4217 code; a float amount (2.5) is refused rather than rounded, because a
 * rounding rule chosen by accident is a bug in someone's balance. LuaJIT has
 * only doubles, so there an amount must also be within +-2^53, where every
 * integer is exact.
 *
 * Card numbers never enter a script: tokenisation happens at the edge (the
 * service and the import), so no function here takes one. Scripts see tokens.
 *
 * An argument a function cannot take raises at the caller's position,
 * naming the function and, for a table of named fields, the field:
 * `file:line: bad argument #1 to 'tm.pay.plan' (field 'count': 1 to 120
 * expected, got 121)`. A plan that does not hold (tm.pay.plan_check) is an
 * answer, not an error: false and the reason.
 */
#include "lb_pay.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lb_common.h"
#include "lcompat.h"
#include "pay.h"
#include "sandbox.h"

#define TM_LUA_EXACT_MAX 9007199254740992.0 /* 2^53 */

/* Where a value comes from, for argument errors: the function as scripts
 * call it, the argument's position and, for a field of a table argument, the
 * path of the table it is in ("" for the argument itself, "rules[2]." for an
 * entry of its `rules` array). */
typedef struct argpos {
    const char *fn;
    int arg;
    const char *path;
} argpos;

#define TOP(fn) (&(const argpos){(fn), 1, ""})

/* Raises "bad argument #n to 'fn' (field 'path.k': message)", or without the
 * field when k is NULL (a positional argument). */
static int bad(lua_State *L, const argpos *a, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(lua_State *L, const argpos *a, const char *k, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (k == NULL)
        return tm_lb_argerror(L, a->arg, a->fn, "%s", msg);
    return tm_lb_argerror(L, a->arg, a->fn, "field '%s%s': %s", a->path, k, msg);
}

static int required(lua_State *L, const argpos *a, const char *k)
{
    return tm_lb_argerror(L, a->arg, a->fn, "field '%s%s' is required", a->path, k);
}

/* Reads the value at stack index `idx` as minor units: argument a->arg
 * itself when k is NULL, else its field k. */
static int64_t to_minor(lua_State *L, int idx, const argpos *a, const char *k)
{
    if (lua_type(L, idx) != LUA_TNUMBER)
        bad(L, a, k, "integer amount in minor units expected, got %s", luaL_typename(L, idx));
    if (!tm_lua_isinteger(L, idx))
        bad(L, a, k, "whole number of minor units expected, got %.14g",
            (double)lua_tonumber(L, idx));
#if LUA_VERSION_NUM < 503
    lua_Number n = lua_tonumber(L, idx);
    if (n > TM_LUA_EXACT_MAX || n < -TM_LUA_EXACT_MAX)
        bad(L, a, k, "beyond 2^53 minor units, where LuaJIT numbers stop being exact");
    return (int64_t)n;
#else
    return (int64_t)lua_tointeger(L, idx);
#endif
}

static void push_minor(lua_State *L, int64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
}

/* Field `k` of the table at `t`; leaves it on the stack. */
static int field(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    return lua_type(L, -1);
}

static int64_t field_minor(lua_State *L, int t, const argpos *a, const char *k, int req,
                           int64_t dflt)
{
    if (field(L, t, k) == LUA_TNIL) {
        lua_pop(L, 1);
        if (req)
            required(L, a, k);
        return dflt;
    }
    int64_t v = to_minor(L, -1, a, k);
    lua_pop(L, 1);
    return v;
}

/* Copies string field `k` into buf; "" when absent and not required. */
static void field_str(lua_State *L, int t, const argpos *a, const char *k, int req, char *buf,
                      size_t size)
{
    int ty = field(L, t, k);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        if (req)
            required(L, a, k);
        buf[0] = '\0';
        return;
    }
    if (ty != LUA_TSTRING)
        bad(L, a, k, "string expected, got %s", luaL_typename(L, -1));
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len >= size)
        bad(L, a, k, "at most %zu bytes expected, got %zu", size - 1, len);
    memcpy(buf, s, len + 1);
    lua_pop(L, 1);
}

static tm_date field_date(lua_State *L, int t, const argpos *a, const char *k)
{
    char b[32];
    field_str(L, t, a, k, 1, b, sizeof b);
    tm_date d;
    struct tm_err e = {0};
    if (tm_calendar_parse_date(b, &d, &e) != TM_OK)
        bad(L, a, k, "%s", e.msg);
    return d;
}

static int field_int(lua_State *L, int t, const argpos *a, const char *k, int req, int dflt,
                     int lo, int hi)
{
    if (field(L, t, k) == LUA_TNIL) {
        lua_pop(L, 1);
        if (req)
            required(L, a, k);
        return dflt;
    }
    if (!tm_lua_isinteger(L, -1)) {
        if (lua_type(L, -1) == LUA_TNUMBER)
            bad(L, a, k, "whole number expected, got %.14g", (double)lua_tonumber(L, -1));
        bad(L, a, k, "whole number expected, got %s", luaL_typename(L, -1));
    }
    lua_Number n = lua_tonumber(L, -1);
    if (n < lo || n > hi)
        bad(L, a, k, "%d to %d expected, got %.14g", lo, hi, (double)n);
    lua_pop(L, 1);
    return (int)n;
}

static int field_bool(lua_State *L, int t, const argpos *a, const char *k)
{
    int ty = field(L, t, k);
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
        bad(L, a, k, "true or false expected, got %s", luaL_typename(L, -1));
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static void check_currency(lua_State *L, const argpos *a, const char *code)
{
    struct tm_err e = {0};
    if (tm_valid_currency(code, NULL, &e) != TM_OK)
        bad(L, a, "currency", "%s", e.msg);
}

static void check_args_table(lua_State *L, const char *fn)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        tm_lb_typeerror(L, 1, fn, "table of named fields");
}

static void push_date(lua_State *L, tm_date d)
{
    char b[16];
    tm_calendar_format_date(d, b, sizeof b, NULL);
    lua_pushstring(L, b);
}

/* ---------------------------------------------------------------------------
 * tm.money
 */

/***
 * @function tm.money.format(minor, currency)
 * Writes an amount for people, with the currency's decimals and comma
 * thousands separators.
 * @param minor {integer} the amount in minor units (cents for USD)
 * @param currency {string} ISO 4217 code ("USD")
 * @return {string} "1,234.56 USD", "-0.05 USD", "1,000 JPY"
 */
static int l_money_format(lua_State *L)
{
    const char *fn = "tm.money.format";
    tm_money m;
    m.minor = to_minor(L, 1, &(const argpos){fn, 1, ""}, NULL);
    const char *cur = tm_lb_checklstring(L, 2, fn, NULL);
    struct tm_err e = {0};
    if (strlen(cur) != 3 || tm_valid_currency(cur, NULL, &e) != TM_OK)
        tm_lb_argerror(L, 2, fn, "unknown currency '%.40s'%s%s", cur, e.msg[0] ? ": " : "", e.msg);
    memcpy(m.currency, cur, 4);
    char buf[TM_MONEY_FMT_MAX];
    if (tm_money_format(m, buf, sizeof buf, &e) != TM_OK)
        return tm_lb_error(L, fn, "%s", e.msg);
    lua_pushstring(L, buf);
    return 1;
}

/***
 * @function tm.money.parse(text, currency)
 * Reads an amount written in major units; a negative amount is accepted
 * ("-5.00"); more decimals than the currency has is an error.
 * @param text {string} "12.34"
 * @param currency {string} ISO 4217 code
 * @return {integer} minor units ("12.34", "USD" -> 1234)
 */
static int l_money_parse(lua_State *L)
{
    const char *fn = "tm.money.parse";
    const char *text = tm_lb_checklstring(L, 1, fn, NULL);
    const char *cur = tm_lb_checklstring(L, 2, fn, NULL);
    tm_money m;
    struct tm_err e = {0};
    if (strlen(cur) != 3 || tm_valid_currency(cur, NULL, &e) != TM_OK)
        tm_lb_argerror(L, 2, fn, "unknown currency '%.40s'%s%s", cur, e.msg[0] ? ": " : "", e.msg);
    if (tm_money_parse(text, cur, TM_MONEY_ALLOW_NEGATIVE, &m, &e) != TM_OK)
        tm_lb_argerror(L, 1, fn, "%s", e.msg);
    push_minor(L, m.minor);
    return 1;
}

/***
 * @function tm.money.exponent(currency)
 * @param currency {string} ISO 4217 code
 * @return {integer} decimal places of the currency (USD 2, JPY 0, KWD 3)
 */
static int l_money_exponent(lua_State *L)
{
    const char *fn = "tm.money.exponent";
    const char *cur = tm_lb_checklstring(L, 1, fn, NULL);
    int exp = 0;
    struct tm_err e = {0};
    if (tm_valid_currency(cur, &exp, &e) != TM_OK)
        tm_lb_argerror(L, 1, fn, "unknown currency '%.40s': %s", cur, e.msg);
    lua_pushinteger(L, exp);
    return 1;
}

/***
 * @function tm.money.percent(minor, bps)
 * The integer way to take "60% of the balance" (bps 6000).
 * @param minor {integer} the amount in minor units
 * @param bps {integer} basis points, 0 to 1000000 (10000 = 100%)
 * @return {integer} minor * bps / 10000, rounded half away from zero
 */
static int l_money_percent(lua_State *L)
{
    const char *fn = "tm.money.percent";
    int64_t v = to_minor(L, 1, &(const argpos){fn, 1, ""}, NULL);
    if (lua_type(L, 2) != LUA_TNUMBER)
        return tm_lb_typeerror(L, 2, fn, "whole basis points (6000 = 60%)");
    if (!tm_lua_isinteger(L, 2))
        return tm_lb_argerror(L, 2, fn, "whole basis points (6000 = 60%%) expected, got %.14g",
                              (double)lua_tonumber(L, 2));
    lua_Number bn = lua_tonumber(L, 2);
    if (bn < 0 || bn > TM_MONEY_BPS_MAX)
        return tm_lb_argerror(L, 2, fn, "basis points 0 to %d expected, got %.14g",
                              TM_MONEY_BPS_MAX, (double)bn);
    if (v > TM_MONEY_PERCENT_MAX || v < -TM_MONEY_PERCENT_MAX)
        return tm_lb_argerror(L, 1, fn, "amount within +-%lld minor units expected, got %lld",
                              (long long)TM_MONEY_PERCENT_MAX, (long long)v);
    int64_t q;
    struct tm_err e = {0};
    if (tm_money_percent(v, (int64_t)bn, &q, &e) != TM_OK)
        return tm_lb_error(L, fn, "%s", e.msg);
    push_minor(L, q);
    return 1;
}

static const luaL_Reg money_funcs[] = {
    {"format", l_money_format},
    {"parse", l_money_parse},
    {"exponent", l_money_exponent},
    {"percent", l_money_percent},
    {NULL, NULL},
};

int tm_lb_open_money(lua_State *L)
{
    lua_newtable(L);
    luaL_setfuncs(L, money_funcs, 0);
    return 1;
}

/* ---------------------------------------------------------------------------
 * tm.pay
 */

/***
 * @function tm.pay.plan{total, currency, count, first, frequency, business_days}
 * An installment plan: count installments of total // count, the remainder
 * on the last, so they always add up; a monthly plan keeps its day of month,
 * clamped to short months.
 * @field total {integer} the amount to split, minor units (more than zero)
 * @field currency {string} ISO 4217 code
 * @field count {integer} installments, 1 to 120
 * @field first {string} the first due date, "YYYY-MM-DD"
 * @field frequency {string?} "weekly", "biweekly" or "monthly" (default)
 * @field business_days {boolean?} true moves a due date off weekends and
 *   federal holidays without shifting the next one
 * @return {table} array of {due = "YYYY-MM-DD", amount = minor}
 */
static int l_pay_plan(lua_State *L)
{
    const char *fn = "tm.pay.plan";
    check_args_table(L, fn);
    const argpos *top = TOP(fn);
    tm_money total;
    total.minor = field_minor(L, 1, top, "total", 1, 0);
    field_str(L, 1, top, "currency", 1, total.currency, sizeof total.currency);
    check_currency(L, top, total.currency);
    int count = field_int(L, 1, top, "count", 1, 0, 1, TM_PAY_PLAN_MAX);
    char freq[16];
    field_str(L, 1, top, "frequency", 0, freq, sizeof freq);
    int f;
    if (freq[0] == '\0' || strcmp(freq, "monthly") == 0)
        f = TM_PAY_MONTHLY;
    else if (strcmp(freq, "weekly") == 0)
        f = TM_PAY_WEEKLY;
    else if (strcmp(freq, "biweekly") == 0)
        f = TM_PAY_BIWEEKLY;
    else
        return bad(L, top, "frequency", "weekly, biweekly or monthly expected, got '%s'", freq);
    tm_date first = field_date(L, 1, top, "first");
    int biz = field_bool(L, 1, top, "business_days");
    tm_pay_installment inst[TM_PAY_PLAN_MAX];
    struct tm_err e = {0};
    if (tm_pay_plan(total, count, f, first, biz, inst, TM_PAY_PLAN_MAX, &e) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        lua_createtable(L, 0, 2);
        push_date(L, inst[i].due);
        lua_setfield(L, -2, "due");
        push_minor(L, inst[i].amount.minor);
        lua_setfield(L, -2, "amount");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/***
 * @function tm.pay.plan_check{total, currency, installments}
 * Checks a plan written by hand (or changed by an agent): 1..120
 * installments, each a positive whole amount, due dates strictly in order,
 * amounts adding up to total exactly.
 * @field total {integer} minor units
 * @field currency {string} ISO 4217 code
 * @field installments {table} array of {due = "YYYY-MM-DD", amount = minor}
 * @return {boolean, string?} true; or false and a message naming the
 *   installment and field ("installments[3].amount: ...", "installments: add
 *   up to ...")
 */
static int l_pay_plan_check(lua_State *L)
{
    const char *fn = "tm.pay.plan_check";
    check_args_table(L, fn);
    const argpos *top = TOP(fn);
    tm_money total;
    total.minor = field_minor(L, 1, top, "total", 1, 0);
    field_str(L, 1, top, "currency", 1, total.currency, sizeof total.currency);
    check_currency(L, top, total.currency);
    if (field(L, 1, "installments") != LUA_TTABLE)
        return bad(L, top, "installments", "array of {due=, amount=} expected, got %s",
                   luaL_typename(L, -1));
    int it = lua_gettop(L);
    size_t n = tm_lua_rawlen(L, it);
    /* Read only what the check will look at: a count out of range is its answer. */
    tm_pay_installment inst[TM_PAY_PLAN_MAX];
    for (size_t i = 0; i < n && n <= TM_PAY_PLAN_MAX; i++) {
        char path[40];
        snprintf(path, sizeof path, "installments[%zu].", i + 1);
        const argpos *in = &(const argpos){fn, 1, path};
        lua_rawgeti(L, it, (int)i + 1);
        if (lua_type(L, -1) != LUA_TTABLE)
            return tm_lb_argerror(L, 1, fn, "field 'installments[%zu]': table {due=, amount=} "
                                  "expected, got %s", i + 1, luaL_typename(L, -1));
        int r = lua_gettop(L);
        inst[i].amount = total;
        inst[i].amount.minor = field_minor(L, r, in, "amount", 1, 0);
        inst[i].due = field_date(L, r, in, "due");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    struct tm_err e = {0};
    if (tm_pay_plan_check(total, inst, n, &e) != TM_OK) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, e.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int role_from_name(const char *s)
{
    if (strcmp(s, "agent") == 0)
        return TM_PAY_ROLE_AGENT;
    if (strcmp(s, "supervisor") == 0)
        return TM_PAY_ROLE_SUPERVISOR;
    if (strcmp(s, "manager") == 0)
        return TM_PAY_ROLE_MANAGER;
    if (strcmp(s, "any") == 0)
        return TM_PAY_ROLE_ANY;
    return -2;
}

#define LB_SETTLE_MAX_RULES 64

/***
 * @function tm.pay.settlement{balance, offer, currency, role, state, creditor, override,
 *   floor_bps, rules}
 * Whether a settlement offer is within the authority of the one making it.
 * The authority rules are policy data the script passes in; the strictest
 * applicable minimum wins.
 * @field balance {integer} the debt's balance, minor units
 * @field offer {integer} the amount offered, minor units
 * @field currency {string} ISO 4217 code
 * @field role {string} "agent", "supervisor" or "manager"
 * @field state {string?} the consumer's state, for rules limited to one
 * @field creditor {string?} the creditor, for rules limited to one
 * @field override {boolean?} a supervisor override (the caller audits it)
 * @field floor_bps {integer?} a hard floor no one goes below, 0 to 10000
 * @field rules {table} array of {role = "agent"|"supervisor"|"manager"|"any",
 *   state =, creditor =, min_bps = 0 to 10000}
 * @return {table} {verdict = "allowed"|"needs_override"|"refused",
 *   overridden = boolean, min_bps = integer or -1, reason = string}
 */
static int l_pay_settlement(lua_State *L)
{
    const char *fn = "tm.pay.settlement";
    check_args_table(L, fn);
    const argpos *top = TOP(fn);
    tm_money bal, offer;
    bal.minor = field_minor(L, 1, top, "balance", 1, 0);
    offer.minor = field_minor(L, 1, top, "offer", 1, 0);
    field_str(L, 1, top, "currency", 1, bal.currency, sizeof bal.currency);
    check_currency(L, top, bal.currency);
    memcpy(offer.currency, bal.currency, sizeof bal.currency);
    char role_s[16], state[8], creditor[128];
    field_str(L, 1, top, "role", 1, role_s, sizeof role_s);
    int role = role_from_name(role_s);
    if (role < 0)
        return bad(L, top, "role", "agent, supervisor or manager expected, got '%s'", role_s);
    field_str(L, 1, top, "state", 0, state, sizeof state);
    field_str(L, 1, top, "creditor", 0, creditor, sizeof creditor);
    int override = field_bool(L, 1, top, "override");
    int floor_bps = field_int(L, 1, top, "floor_bps", 0, 0, 0, 10000);

    /* Rule strings are copied: the Lua strings could be collected once popped. */
    static _Thread_local struct {
        char state[8];
        char creditor[128];
    } rs[LB_SETTLE_MAX_RULES];
    tm_pay_settle_rule rules[LB_SETTLE_MAX_RULES];
    if (field(L, 1, "rules") != LUA_TTABLE)
        return bad(L, top, "rules", "array of authority rules expected, got %s",
                   luaL_typename(L, -1));
    int rt = lua_gettop(L);
    size_t n = tm_lua_rawlen(L, rt);
    if (n > LB_SETTLE_MAX_RULES)
        return bad(L, top, "rules", "at most %d rules expected, got %zu", LB_SETTLE_MAX_RULES, n);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, rt, (int)i + 1);
        int r = lua_gettop(L);
        char path[32];
        snprintf(path, sizeof path, "rules[%zu].", i + 1);
        const argpos *rp = &(const argpos){fn, 1, path};
        if (lua_type(L, r) != LUA_TTABLE)
            return tm_lb_argerror(L, 1, fn, "field 'rules[%zu]': table expected, got %s", i + 1,
                                  luaL_typename(L, r));
        char rrole[16];
        field_str(L, r, rp, "role", 0, rrole, sizeof rrole);
        rules[i].role = rrole[0] ? role_from_name(rrole) : TM_PAY_ROLE_ANY;
        if (rules[i].role == -2)
            return bad(L, rp, "role", "agent, supervisor, manager or any expected, got '%s'", rrole);
        field_str(L, r, rp, "state", 0, rs[i].state, sizeof rs[i].state);
        field_str(L, r, rp, "creditor", 0, rs[i].creditor, sizeof rs[i].creditor);
        rules[i].state = rs[i].state[0] ? rs[i].state : NULL;
        rules[i].creditor = rs[i].creditor[0] ? rs[i].creditor : NULL;
        rules[i].min_bps = field_int(L, r, rp, "min_bps", 1, 0, 0, 10000);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    tm_pay_settle_limits lim = {
        .rules = rules,
        .nrules = n,
        .state = state[0] ? state : NULL,
        .creditor = creditor[0] ? creditor : NULL,
        .floor_bps = floor_bps,
    };
    tm_pay_decision d;
    struct tm_err e = {0};
    if (tm_pay_settlement_check(bal, offer, &lim, role, override, &d, &e) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, d.verdict == TM_PAY_ALLOWED          ? "allowed"
                      : d.verdict == TM_PAY_NEEDS_OVERRIDE ? "needs_override"
                                                           : "refused");
    lua_setfield(L, -2, "verdict");
    lua_pushboolean(L, d.overridden);
    lua_setfield(L, -2, "overridden");
    lua_pushinteger(L, d.min_bps);
    lua_setfield(L, -2, "min_bps");
    lua_pushstring(L, d.reason);
    lua_setfield(L, -2, "reason");
    return 1;
}

#define LB_PROMISE_MAX_PAYMENTS 1000

/***
 * @function tm.pay.promise{amount, currency, due, grace, today, payments}
 * A promise to pay is open until due + grace days, then kept, partially kept
 * or broken; payments count when made by the end of the grace period and not
 * after today.
 * @field amount {integer} the amount promised, minor units
 * @field currency {string} ISO 4217 code
 * @field due {string} "YYYY-MM-DD"
 * @field grace {integer?} days of grace, 0 (default) to 366
 * @field today {string} "YYYY-MM-DD"
 * @field payments {table?} array of {amount = minor, date = "YYYY-MM-DD"}
 * @return {string} "open", "kept", "partially_kept" or "broken"
 * @return {integer} the minor units counted towards the promise
 */
static int l_pay_promise(lua_State *L)
{
    const char *fn = "tm.pay.promise";
    check_args_table(L, fn);
    const argpos *top = TOP(fn);
    tm_pay_promise p;
    p.amount.minor = field_minor(L, 1, top, "amount", 1, 0);
    field_str(L, 1, top, "currency", 1, p.amount.currency, sizeof p.amount.currency);
    check_currency(L, top, p.amount.currency);
    p.due = field_date(L, 1, top, "due");
    p.grace_days = field_int(L, 1, top, "grace", 0, 0, 0, 366);
    tm_date today = field_date(L, 1, top, "today");
    static _Thread_local tm_pay_payment pays[LB_PROMISE_MAX_PAYMENTS];
    size_t n = 0;
    int ty = field(L, 1, "payments");
    if (ty != LUA_TNIL) {
        if (ty != LUA_TTABLE)
            return bad(L, top, "payments", "array expected, got %s", luaL_typename(L, -1));
        int pt = lua_gettop(L);
        n = tm_lua_rawlen(L, pt);
        if (n > LB_PROMISE_MAX_PAYMENTS)
            return bad(L, top, "payments", "at most %d entries expected, got %zu",
                       LB_PROMISE_MAX_PAYMENTS, n);
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, pt, (int)i + 1);
            char path[32];
            snprintf(path, sizeof path, "payments[%zu].", i + 1);
            const argpos *pp = &(const argpos){fn, 1, path};
            if (lua_type(L, -1) != LUA_TTABLE)
                return tm_lb_argerror(L, 1, fn, "field 'payments[%zu]': table expected, got %s",
                                      i + 1, luaL_typename(L, -1));
            int r = lua_gettop(L);
            pays[i].amount.minor = field_minor(L, r, pp, "amount", 1, 0);
            memcpy(pays[i].amount.currency, p.amount.currency, 4);
            pays[i].date = field_date(L, r, pp, "date");
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    int state;
    int64_t paid = 0;
    struct tm_err e = {0};
    if (tm_pay_promise_status(&p, pays, n, today, &state, &paid, &e) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    lua_pushstring(L, state == TM_PAY_PROMISE_KEPT             ? "kept"
                      : state == TM_PAY_PROMISE_PARTIALLY_KEPT ? "partially_kept"
                      : state == TM_PAY_PROMISE_BROKEN         ? "broken"
                                                               : "open");
    push_minor(L, paid);
    return 2;
}

/***
 * @function tm.pay.apply{amount, currency, fees, interest, principal}
 * A payment goes to fees, then interest, then principal.
 * @field amount {integer} the payment, minor units
 * @field currency {string} ISO 4217 code
 * @field fees {integer?} owed, minor units (default 0)
 * @field interest {integer?} owed, minor units (default 0)
 * @field principal {integer?} owed, minor units (default 0)
 * @return {table} {fees =, interest =, principal =, overpayment =}: what
 *   remains of each, and what the payment left over
 */
static int l_pay_apply(lua_State *L)
{
    const char *fn = "tm.pay.apply";
    check_args_table(L, fn);
    const argpos *top = TOP(fn);
    tm_money amt;
    amt.minor = field_minor(L, 1, top, "amount", 1, 0);
    field_str(L, 1, top, "currency", 1, amt.currency, sizeof amt.currency);
    check_currency(L, top, amt.currency);
    tm_pay_buckets b = {
        .fees = field_minor(L, 1, top, "fees", 0, 0),
        .interest = field_minor(L, 1, top, "interest", 0, 0),
        .principal = field_minor(L, 1, top, "principal", 0, 0),
    };
    int64_t over = 0;
    struct tm_err e = {0};
    if (tm_pay_apply(amt, &b, &b, &over, &e) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    lua_createtable(L, 0, 4);
    push_minor(L, b.fees);
    lua_setfield(L, -2, "fees");
    push_minor(L, b.interest);
    lua_setfield(L, -2, "interest");
    push_minor(L, b.principal);
    lua_setfield(L, -2, "principal");
    push_minor(L, over);
    lua_setfield(L, -2, "overpayment");
    return 1;
}

/***
 * @function tm.pay.routing_valid(aba)
 * @param aba {string} a US ABA routing number, nine digits
 * @return {boolean} whether it passes its checksum
 * @return {string?} the reason when it does not
 */
static int l_pay_routing_valid(lua_State *L)
{
    const char *s = tm_lb_checklstring(L, 1, "tm.pay.routing_valid", NULL);
    struct tm_err e = {0};
    if (tm_pay_aba_check(s, &e) == TM_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, e.msg);
    return 2;
}

static const luaL_Reg pay_funcs[] = {
    {"plan", l_pay_plan},
    {"plan_check", l_pay_plan_check},
    {"settlement", l_pay_settlement},
    {"promise", l_pay_promise},
    {"apply", l_pay_apply},
    {"routing_valid", l_pay_routing_valid},
    {NULL, NULL},
};

int tm_lb_open_pay(lua_State *L)
{
    lua_newtable(L);
    luaL_setfuncs(L, pay_funcs, 0);
    return 1;
}

void tm_lb_pay_register(void)
{
    tm_sandbox_add_library("money", tm_lb_open_money);
    tm_sandbox_add_library("pay", tm_lb_open_pay);
}
