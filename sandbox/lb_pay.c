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
 * Every error is a Lua error naming the function and the field, raised with
 * the caller's position so the author reads `file:line: tm.pay.plan: ...`.
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

/* Reads the integer at stack index `idx` as minor units; `what` names it in
 * errors. */
static int64_t to_minor(lua_State *L, int idx, const char *fn, const char *what)
{
    if (lua_type(L, idx) != LUA_TNUMBER)
        tm_lb_error(L, fn, "%s must be an integer amount in minor units, got %s", what,
                  luaL_typename(L, idx));
    if (!tm_lua_isinteger(L, idx))
        tm_lb_error(L, fn, "%s must be a whole number of minor units (no fractions on money)",
                  what);
#if LUA_VERSION_NUM < 503
    lua_Number n = lua_tonumber(L, idx);
    if (n > TM_LUA_EXACT_MAX || n < -TM_LUA_EXACT_MAX)
        tm_lb_error(L, fn, "%s is beyond 2^53 minor units, where LuaJIT numbers stop being exact",
                  what);
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

static int64_t field_minor(lua_State *L, int t, const char *fn, const char *k, int required,
                           int64_t dflt)
{
    if (field(L, t, k) == LUA_TNIL) {
        lua_pop(L, 1);
        if (required)
            tm_lb_error(L, fn, "field '%s' is required", k);
        return dflt;
    }
    char what[64];
    snprintf(what, sizeof what, "field '%s'", k);
    int64_t v = to_minor(L, -1, fn, what);
    lua_pop(L, 1);
    return v;
}

/* Copies string field `k` into buf; "" when absent and not required. */
static void field_str(lua_State *L, int t, const char *fn, const char *k, int required,
                      char *buf, size_t size)
{
    int ty = field(L, t, k);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        if (required)
            tm_lb_error(L, fn, "field '%s' is required", k);
        buf[0] = '\0';
        return;
    }
    if (ty != LUA_TSTRING)
        tm_lb_error(L, fn, "field '%s' must be a string, got %s", k, luaL_typename(L, -1));
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len >= size)
        tm_lb_error(L, fn, "field '%s' is too long (%zu bytes, at most %zu)", k, len, size - 1);
    memcpy(buf, s, len + 1);
    lua_pop(L, 1);
}

static tm_date field_date(lua_State *L, int t, const char *fn, const char *k)
{
    char b[32];
    field_str(L, t, fn, k, 1, b, sizeof b);
    tm_date d;
    struct tm_err e = {0};
    if (tm_calendar_parse_date(b, &d, &e) != TM_OK)
        tm_lb_error(L, fn, "field '%s': %s", k, e.msg);
    return d;
}

static int field_int(lua_State *L, int t, const char *fn, const char *k, int required,
                     int dflt, int lo, int hi)
{
    if (field(L, t, k) == LUA_TNIL) {
        lua_pop(L, 1);
        if (required)
            tm_lb_error(L, fn, "field '%s' is required", k);
        return dflt;
    }
    if (!tm_lua_isinteger(L, -1))
        tm_lb_error(L, fn, "field '%s' must be a whole number", k);
    lua_Number n = lua_tonumber(L, -1);
    if (n < lo || n > hi)
        tm_lb_error(L, fn, "field '%s' must be between %d and %d", k, lo, hi);
    lua_pop(L, 1);
    return (int)n;
}

static int field_bool(lua_State *L, int t, const char *fn, const char *k)
{
    int ty = field(L, t, k);
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
        tm_lb_error(L, fn, "field '%s' must be true or false", k);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static void check_currency(lua_State *L, const char *fn, const char *code)
{
    struct tm_err e = {0};
    if (tm_valid_currency(code, NULL, &e) != TM_OK)
        tm_lb_error(L, fn, "field 'currency': %s", e.msg);
}

static void check_args_table(lua_State *L, const char *fn)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        tm_lb_error(L, fn, "expects one table of named fields, got %s", luaL_typename(L, 1));
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
 * @return {string} "1,234.56 USD"
 */
static int l_money_format(lua_State *L)
{
    const char *fn = "tm.money.format";
    tm_money m;
    m.minor = to_minor(L, 1, fn, "argument #1");
    const char *cur = luaL_checkstring(L, 2);
    if (strlen(cur) != 3)
        tm_lb_error(L, fn, "unknown currency '%s'", cur);
    memcpy(m.currency, cur, 4);
    char buf[TM_MONEY_FMT_MAX];
    struct tm_err e = {0};
    if (tm_money_format(m, buf, sizeof buf, &e) != TM_OK)
        tm_lb_error(L, fn, "%s", e.msg);
    lua_pushstring(L, buf);
    return 1;
}

/***
 * @function tm.money.parse(text, currency)
 * @return {integer} minor units ("12.34", "USD" -> 1234); a negative amount
 *   is accepted ("-5.00"); more decimals than the currency has is an error.
 */
static int l_money_parse(lua_State *L)
{
    const char *fn = "tm.money.parse";
    const char *text = luaL_checkstring(L, 1);
    const char *cur = luaL_checkstring(L, 2);
    tm_money m;
    struct tm_err e = {0};
    if (tm_money_parse(text, cur, TM_MONEY_ALLOW_NEGATIVE, &m, &e) != TM_OK)
        tm_lb_error(L, fn, "%s", e.msg);
    push_minor(L, m.minor);
    return 1;
}

/***
 * @function tm.money.exponent(currency)
 * @return {integer} decimal places of the currency (USD 2, JPY 0, KWD 3)
 */
static int l_money_exponent(lua_State *L)
{
    const char *cur = luaL_checkstring(L, 1);
    int exp = 0;
    struct tm_err e = {0};
    if (tm_valid_currency(cur, &exp, &e) != TM_OK)
        tm_lb_error(L, "tm.money.exponent", "%s", e.msg);
    lua_pushinteger(L, exp);
    return 1;
}

/***
 * @function tm.money.percent(minor, bps)
 * @return {integer} minor * bps / 10000, rounded half away from zero; the
 *   integer way to take "60% of the balance" (bps 6000).
 */
static int l_money_percent(lua_State *L)
{
    const char *fn = "tm.money.percent";
    int64_t v = to_minor(L, 1, fn, "argument #1");
    if (!tm_lua_isinteger(L, 2))
        tm_lb_error(L, fn, "argument #2 must be whole basis points (6000 = 60%%)");
    lua_Number bn = lua_tonumber(L, 2);
    if (bn < 0 || bn > TM_MONEY_BPS_MAX)
        tm_lb_error(L, fn, "argument #2 must be between 0 and 1000000 basis points");
    if (v > TM_MONEY_PERCENT_MAX || v < -TM_MONEY_PERCENT_MAX)
        tm_lb_error(L, fn, "amount too large");
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
 * @function tm.pay.plan{total=, currency=, count=, frequency=, first=, business_days=}
 * frequency: "weekly", "biweekly" or "monthly" (default). business_days =
 * true moves a due date off weekends and federal holidays.
 * @return {table} array of {due = "YYYY-MM-DD", amount = minor}; amounts sum
 *   to total exactly, the remainder on the last installment.
 */
static int l_pay_plan(lua_State *L)
{
    const char *fn = "tm.pay.plan";
    check_args_table(L, fn);
    tm_money total;
    total.minor = field_minor(L, 1, fn, "total", 1, 0);
    field_str(L, 1, fn, "currency", 1, total.currency, sizeof total.currency);
    check_currency(L, fn, total.currency);
    int count = field_int(L, 1, fn, "count", 1, 0, 1, TM_PAY_PLAN_MAX);
    char freq[16];
    field_str(L, 1, fn, "frequency", 0, freq, sizeof freq);
    int f;
    if (freq[0] == '\0' || strcmp(freq, "monthly") == 0)
        f = TM_PAY_MONTHLY;
    else if (strcmp(freq, "weekly") == 0)
        f = TM_PAY_WEEKLY;
    else if (strcmp(freq, "biweekly") == 0)
        f = TM_PAY_BIWEEKLY;
    else
        return tm_lb_error(L, fn, "field 'frequency' must be weekly, biweekly or monthly, not '%s'",
                         freq);
    tm_date first = field_date(L, 1, fn, "first");
    int biz = field_bool(L, 1, fn, "business_days");
    tm_pay_installment inst[TM_PAY_PLAN_MAX];
    struct tm_err e = {0};
    if (tm_pay_plan(total, count, f, first, biz, inst, TM_PAY_PLAN_MAX, &e) != TM_OK)
        return tm_lb_error(L, fn, "%s", e.msg);
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
 * @function tm.pay.plan_check{total=, currency=, installments = {{due=, amount=}, ...}}
 * Checks a plan written by hand (or changed by an agent): 1..120
 * installments, each a positive whole amount, due dates strictly in order,
 * amounts adding up to total exactly.
 * @return {boolean} true, or false and a message naming the installment and
 *   field ("installments[3].amount: ...", "installments: add up to ...")
 */
static int l_pay_plan_check(lua_State *L)
{
    const char *fn = "tm.pay.plan_check";
    check_args_table(L, fn);
    tm_money total;
    total.minor = field_minor(L, 1, fn, "total", 1, 0);
    field_str(L, 1, fn, "currency", 1, total.currency, sizeof total.currency);
    check_currency(L, fn, total.currency);
    if (field(L, 1, "installments") != LUA_TTABLE)
        return tm_lb_error(L, fn, "field 'installments' must be an array of {due=, amount=}");
    int it = lua_gettop(L);
    size_t n = tm_lua_rawlen(L, it);
    /* Read only what the check will look at: a count out of range is its answer. */
    tm_pay_installment inst[TM_PAY_PLAN_MAX];
    for (size_t i = 0; i < n && n <= TM_PAY_PLAN_MAX; i++) {
        char ifn[80];
        snprintf(ifn, sizeof ifn, "%s: installments[%zu]", fn, i + 1);
        lua_rawgeti(L, it, (int)i + 1);
        if (lua_type(L, -1) != LUA_TTABLE)
            return tm_lb_error(L, ifn, "must be a table {due=, amount=}");
        int r = lua_gettop(L);
        inst[i].amount = total;
        inst[i].amount.minor = field_minor(L, r, ifn, "amount", 1, 0);
        inst[i].due = field_date(L, r, ifn, "due");
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
 * @function tm.pay.settlement{balance=, offer=, currency=, role=, state=,
 *   creditor=, override=, floor_bps=, rules = {{role=, state=, creditor=, min_bps=}, ...}}
 * The authority rules are policy data the script passes in; the strictest
 * applicable minimum wins. role: "agent", "supervisor", "manager" ("any" in
 * a rule). override = true is a supervisor override (the caller audits it).
 * @return {table} {verdict = "allowed"|"needs_override"|"refused",
 *   overridden = bool, min_bps = integer or -1, reason = string}
 */
static int l_pay_settlement(lua_State *L)
{
    const char *fn = "tm.pay.settlement";
    check_args_table(L, fn);
    tm_money bal, offer;
    bal.minor = field_minor(L, 1, fn, "balance", 1, 0);
    offer.minor = field_minor(L, 1, fn, "offer", 1, 0);
    field_str(L, 1, fn, "currency", 1, bal.currency, sizeof bal.currency);
    check_currency(L, fn, bal.currency);
    memcpy(offer.currency, bal.currency, sizeof bal.currency);
    char role_s[16], state[8], creditor[128];
    field_str(L, 1, fn, "role", 1, role_s, sizeof role_s);
    int role = role_from_name(role_s);
    if (role < 0)
        return tm_lb_error(L, fn, "field 'role' must be agent, supervisor or manager, not '%s'",
                         role_s);
    field_str(L, 1, fn, "state", 0, state, sizeof state);
    field_str(L, 1, fn, "creditor", 0, creditor, sizeof creditor);
    int override = field_bool(L, 1, fn, "override");
    int floor_bps = field_int(L, 1, fn, "floor_bps", 0, 0, 0, 10000);

    /* Rule strings are copied: the Lua strings could be collected once popped. */
    static _Thread_local struct {
        char state[8];
        char creditor[128];
    } rs[LB_SETTLE_MAX_RULES];
    tm_pay_settle_rule rules[LB_SETTLE_MAX_RULES];
    if (field(L, 1, "rules") != LUA_TTABLE)
        return tm_lb_error(L, fn, "field 'rules' must be an array of authority rules");
    int rt = lua_gettop(L);
    size_t n = tm_lua_rawlen(L, rt);
    if (n > LB_SETTLE_MAX_RULES)
        return tm_lb_error(L, fn, "field 'rules' has %zu rules, at most %d", n,
                         LB_SETTLE_MAX_RULES);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, rt, (int)i + 1);
        int r = lua_gettop(L);
        char rfn[64];
        snprintf(rfn, sizeof rfn, "%s: rules[%zu]", fn, i + 1);
        if (lua_type(L, r) != LUA_TTABLE)
            return tm_lb_error(L, rfn, "must be a table");
        char rrole[16];
        field_str(L, r, rfn, "role", 0, rrole, sizeof rrole);
        rules[i].role = rrole[0] ? role_from_name(rrole) : TM_PAY_ROLE_ANY;
        if (rules[i].role == -2)
            return tm_lb_error(L, rfn, "field 'role' must be agent, supervisor, manager or any");
        field_str(L, r, rfn, "state", 0, rs[i].state, sizeof rs[i].state);
        field_str(L, r, rfn, "creditor", 0, rs[i].creditor, sizeof rs[i].creditor);
        rules[i].state = rs[i].state[0] ? rs[i].state : NULL;
        rules[i].creditor = rs[i].creditor[0] ? rs[i].creditor : NULL;
        rules[i].min_bps = field_int(L, r, rfn, "min_bps", 1, 0, 0, 10000);
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
        return tm_lb_error(L, fn, "%s", e.msg);
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
 * @function tm.pay.promise{amount=, currency=, due=, grace=, today=,
 *   payments = {{amount=, date=}, ...}}
 * @return {string} "open", "kept", "partially_kept" or "broken"
 * @return {integer} the minor units counted towards the promise
 */
static int l_pay_promise(lua_State *L)
{
    const char *fn = "tm.pay.promise";
    check_args_table(L, fn);
    tm_pay_promise p;
    p.amount.minor = field_minor(L, 1, fn, "amount", 1, 0);
    field_str(L, 1, fn, "currency", 1, p.amount.currency, sizeof p.amount.currency);
    check_currency(L, fn, p.amount.currency);
    p.due = field_date(L, 1, fn, "due");
    p.grace_days = field_int(L, 1, fn, "grace", 0, 0, 0, 366);
    tm_date today = field_date(L, 1, fn, "today");
    static _Thread_local tm_pay_payment pays[LB_PROMISE_MAX_PAYMENTS];
    size_t n = 0;
    int ty = field(L, 1, "payments");
    if (ty != LUA_TNIL) {
        if (ty != LUA_TTABLE)
            return tm_lb_error(L, fn, "field 'payments' must be an array");
        int pt = lua_gettop(L);
        n = tm_lua_rawlen(L, pt);
        if (n > LB_PROMISE_MAX_PAYMENTS)
            return tm_lb_error(L, fn, "field 'payments' has %zu entries, at most %d", n,
                             LB_PROMISE_MAX_PAYMENTS);
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, pt, (int)i + 1);
            char pfn[64];
            snprintf(pfn, sizeof pfn, "%s: payments[%zu]", fn, i + 1);
            if (lua_type(L, -1) != LUA_TTABLE)
                return tm_lb_error(L, pfn, "must be a table");
            int r = lua_gettop(L);
            pays[i].amount.minor = field_minor(L, r, pfn, "amount", 1, 0);
            memcpy(pays[i].amount.currency, p.amount.currency, 4);
            pays[i].date = field_date(L, r, pfn, "date");
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    int state;
    int64_t paid = 0;
    struct tm_err e = {0};
    if (tm_pay_promise_status(&p, pays, n, today, &state, &paid, &e) != TM_OK)
        return tm_lb_error(L, fn, "%s", e.msg);
    lua_pushstring(L, state == TM_PAY_PROMISE_KEPT             ? "kept"
                      : state == TM_PAY_PROMISE_PARTIALLY_KEPT ? "partially_kept"
                      : state == TM_PAY_PROMISE_BROKEN         ? "broken"
                                                               : "open");
    push_minor(L, paid);
    return 2;
}

/***
 * @function tm.pay.apply{amount=, currency=, fees=, interest=, principal=}
 * A payment goes to fees, then interest, then principal.
 * @return {table} {fees=, interest=, principal=, overpayment=} remaining
 */
static int l_pay_apply(lua_State *L)
{
    const char *fn = "tm.pay.apply";
    check_args_table(L, fn);
    tm_money amt;
    amt.minor = field_minor(L, 1, fn, "amount", 1, 0);
    field_str(L, 1, fn, "currency", 1, amt.currency, sizeof amt.currency);
    check_currency(L, fn, amt.currency);
    tm_pay_buckets b = {
        .fees = field_minor(L, 1, fn, "fees", 0, 0),
        .interest = field_minor(L, 1, fn, "interest", 0, 0),
        .principal = field_minor(L, 1, fn, "principal", 0, 0),
    };
    int64_t over = 0;
    struct tm_err e = {0};
    if (tm_pay_apply(amt, &b, &b, &over, &e) != TM_OK)
        return tm_lb_error(L, fn, "%s", e.msg);
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
 * @return {boolean} whether a US ABA routing number passes its checksum
 * @return {string|nil} the reason when it does not
 */
static int l_pay_routing_valid(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
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
