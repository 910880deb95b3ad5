/*
 * sandbox/lb_spec.c: runs Lua spec files (*_spec.lua) inside the sandbox, for
 * `tallyman test`. A spec file declares cases with describe/it and checks
 * gate decisions with the assert_* helpers; each case runs as its own call,
 * under the sandbox's limits, and a failure is reported as file:line.
 */
#include "lb_spec.h"

#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "lb_gate.h"
#include "lcompat.h"

/***
 * @function describe(name, fn)
 * In spec files: groups cases; names nest ("MA > call frequency > ...").
 * @param name {string} the group's name
 * @param fn {function} declares the cases (it) and groups inside
 * @return {nil}
 */
/***
 * @function it(name, fn)
 * In spec files: one case, run as its own call under the sandbox's limits.
 * @param name {string} the case's name
 * @param fn {function} the case: it fails when it raises
 * @return {nil}
 */
/***
 * @function assert_eq(actual, expected [, msg])
 * In spec files: deep equality of values and tables.
 * @param actual {any}
 * @param expected {any}
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_true(v [, msg])
 * In spec files: v is neither nil nor false.
 * @param v {any}
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_allowed(d [, msg])
 * In spec files: the decision allows the contact.
 * @param d {tm.Decision} what decide() returned
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_blocked(d [, rule [, msg]])
 * In spec files: the decision blocks the contact (by `rule` when given; a
 * rule no loaded regulation has fails, naming it).
 * @param d {tm.Decision} what decide() returned
 * @param rule {string} "US-MA/call-frequency"
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_not_blocked(d, rule [, msg])
 * In spec files: `rule` does not block (others may). A rule no loaded
 * regulation has fails, naming it, with a "did you mean".
 * @param d {tm.Decision} what decide() returned
 * @param rule {string} "US-MA/call-frequency"
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function has_rule(id)
 * In spec files: whether a rule with this id is among the loaded
 * regulations' rules (to assert that a rule does not exist: the asserts
 * that take a rule id fail on an id no regulation has).
 * @param id {string} "US-MA/call-frequency"
 * @return {boolean}
 */
/***
 * @function assert_none(d, prefix [, msg])
 * In spec files: no rule whose id starts with `prefix` blocks.
 * @param d {tm.Decision} what decide() returned
 * @param prefix {string} "US-MA/"
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_next(d, when [, msg])
 * In spec files: the decision's next_allowed_at.
 * @param d {tm.Decision} what decide() returned
 * @param when {string?} RFC 3339, or nil for "no time will do"
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_requires(d, field [, msg])
 * In spec files: `field` is in the decision's requires.
 * @param d {tm.Decision} what decide() returned
 * @param field {string} a message field ("optout_notice")
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_not_requires(d, field [, msg])
 * In spec files: `field` is not in the decision's requires.
 * @param d {tm.Decision} what decide() returned
 * @param field {string} a message field
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function merge(base, over)
 * In spec files: a copy of base with the fields of over replaced (nested
 * objects merged, lists replaced).
 * @param base {table}
 * @param over {table?}
 * @return {table}
 */
/***
 * @function show(v)
 * In spec files: a value as readable text (tables with sorted keys).
 * @param v {any}
 * @return {string}
 */

/* The helpers spec files see. Plain Lua: run in its own sandbox environment
 * once per spec file, so every file gets a fresh list of cases. */
static const char spec_prelude[] =
    "local cases, prefix = {}, {}\n"
    "local H = {}\n"
    "function H.describe(name, fn)\n"
    "  prefix[#prefix + 1] = tostring(name)\n"
    "  fn()\n"
    "  prefix[#prefix] = nil\n"
    "end\n"
    "function H.it(name, fn)\n"
    "  local full = #prefix > 0 and (table.concat(prefix, ' > ') .. ' > ' .. tostring(name)) or tostring(name)\n"
    "  cases[#cases + 1] = { name = full, fn = fn }\n"
    "end\n"
    "local function show(v, depth)\n"
    "  depth = depth or 0\n"
    "  if type(v) == 'string' then return string.format('%q', v) end\n"
    "  if type(v) ~= 'table' or depth > 3 then return tostring(v) end\n"
    "  local keys = {}\n"
    "  for k in pairs(v) do keys[#keys + 1] = k end\n"
    "  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)\n"
    "  local parts = {}\n"
    "  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. '=' .. show(v[k], depth + 1) end\n"
    "  return '{' .. table.concat(parts, ', ') .. '}'\n"
    "end\n"
    "H.show = show\n"
    "local function deep_eq(a, b, depth)\n"
    "  if a == b then return true end\n"
    "  if type(a) ~= 'table' or type(b) ~= 'table' or depth > 20 then return false end\n"
    "  for k, v in pairs(a) do if not deep_eq(v, b[k], depth + 1) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local function fail(msg, what) error((msg and (msg .. ': ') or '') .. what, 3) end\n"
    "local function blocked_list(d)\n"
    "  local ids = {}\n"
    "  for _, b in ipairs(d.blocked_by or {}) do ids[#ids + 1] = b.rule .. ' (' .. b.reason .. ')' end\n"
    "  return #ids > 0 and table.concat(ids, '; ') or 'nothing'\n"
    "end\n"
    "local function check_decision(d, msg)\n"
    "  if type(d) ~= 'table' then fail(msg, 'no decision (the request was refused: ' .. tostring(d) .. ')') end\n"
    "end\n"
    "function H.assert_eq(actual, expected, msg)\n"
    "  if not deep_eq(actual, expected, 0) then fail(msg, 'expected ' .. show(expected) .. ', got ' .. show(actual)) end\n"
    "end\n"
    "function H.assert_true(v, msg) if not v then fail(msg, 'expected a true value, got ' .. show(v)) end end\n"
    "function H.assert_allowed(d, msg)\n"
    "  check_decision(d, msg)\n"
    "  if not d.allow then fail(msg, 'expected the contact to be allowed; blocked by ' .. blocked_list(d)) end\n"
    "end\n"
    "-- A rule id a spec names must be one of the loaded rules: a misspelt id\n"
    "-- would make assert_not_blocked pass whatever the gate did.\n"
    "local function check_rule(rule, msg)\n"
    "  if rule == nil or H.__rules == nil or H.__rules[rule] then return end\n"
    "  local near = type(rule) == 'string' and tm.nearest(rule, H.__rule_list) or nil\n"
    "  error((msg and (msg .. ': ') or '') .. 'no rule ' .. show(rule) .. ' in the loaded regulations' .. (near and (' (did you mean ' .. near .. '?)') or ''), 3)\n"
    "end\n"
    "function H.has_rule(id) return H.__rules ~= nil and H.__rules[id] == true end\n"
    "function H.assert_blocked(d, rule, msg)\n"
    "  check_rule(rule, msg)\n"
    "  check_decision(d, msg)\n"
    "  if d.allow then fail(msg, 'expected the contact to be blocked' .. (rule and (' by ' .. rule) or '') .. '; it was allowed') end\n"
    "  if rule and not d.blocked[rule] then fail(msg, 'expected ' .. rule .. ' to block; blocked by ' .. blocked_list(d)) end\n"
    "end\n"
    "function H.assert_not_blocked(d, rule, msg)\n"
    "  check_rule(rule, msg)\n"
    "  check_decision(d, msg)\n"
    "  if d.blocked[rule] then fail(msg, 'expected ' .. rule .. ' not to block; blocked by ' .. blocked_list(d)) end\n"
    "end\n"
    "function H.assert_none(d, prefix, msg)\n"
    "  if H.__rules then\n"
    "    local any = false\n"
    "    for _, id in ipairs(H.__rule_list) do if id:sub(1, #prefix) == prefix then any = true break end end\n"
    "    if not any then error((msg and (msg .. ': ') or '') .. 'no rule of the loaded regulations starts with ' .. show(prefix), 2) end\n"
    "  end\n"
    "  check_decision(d, msg)\n"
    "  for _, b in ipairs(d.blocked_by) do\n"
    "    if b.rule:sub(1, #prefix) == prefix then fail(msg, 'expected no rule of ' .. prefix .. ' to block; blocked by ' .. blocked_list(d)) end\n"
    "  end\n"
    "end\n"
    "function H.assert_next(d, when, msg)\n"
    "  check_decision(d, msg)\n"
    "  if d.next_allowed_at ~= when then fail(msg, 'expected next_allowed_at ' .. show(when) .. ', got ' .. show(d.next_allowed_at) .. '; blocked by ' .. blocked_list(d)) end\n"
    "end\n"
    "function H.assert_requires(d, field, msg)\n"
    "  check_decision(d, msg)\n"
    "  for _, f in ipairs(d.requires) do if f == field then return end end\n"
    "  fail(msg, 'expected ' .. field .. ' in requires, got ' .. show(d.requires))\n"
    "end\n"
    "function H.assert_not_requires(d, field, msg)\n"
    "  check_decision(d, msg)\n"
    "  for _, f in ipairs(d.requires) do if f == field then fail(msg, 'did not expect ' .. field .. ' in requires') end end\n"
    "end\n"
    "local function merge(base, over)\n"
    "  local out = {}\n"
    "  for k, v in pairs(base) do out[k] = v end\n"
    "  for k, v in pairs(over or {}) do\n"
    "    if type(v) == 'table' and type(out[k]) == 'table' and #v == 0 and next(v) ~= nil then out[k] = merge(out[k], v) else out[k] = v end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "H.merge = merge\n"
    "H.__cases = cases\n"
    "return H\n";

int tm_spec_run(tm_sandbox *sb, const char *display, const char *src, size_t len,
                tm_spec_report_fn report, void *ud, int *passed, int *failed)
{
    lua_State *L = tm_sandbox_lua(sb);
    int top = lua_gettop(L);
    struct tm_err e = {0};
    int nres = 0;
    int rc = tm_sandbox_run(sb, "=(spec helpers)", spec_prelude, sizeof spec_prelude - 1, &nres, &e);
    if (rc != TM_OK || nres < 1 || !lua_istable(L, top + 1)) {
        char m[700];
        snprintf(m, sizeof m, "%s: cannot set up the spec helpers: %s", display, e.msg);
        report(ud, m, 0);
        lua_settop(L, top);
        (*failed)++;
        return rc != TM_OK ? rc : TM_ESCRIPT;
    }
    lua_settop(L, top + 1);
    int helpers = top + 1;
    /* The rule ids of the gate the specs decide with, so a spec naming a
     * rule that does not exist fails with the name. */
    tm_gate *gate = tm_lb_gate_attached(sb);
    if (gate) {
        lua_newtable(L);
        lua_newtable(L);
        int k = 0;
        for (int i = 0; i < tm_gate_count(gate); i++) {
            const tm_regulation *reg = tm_gate_regulation(gate, i);
            for (int j = 0; j < reg->nrules; j++) {
                lua_pushboolean(L, 1);
                lua_setfield(L, -3, reg->rules[j].qid);
                lua_pushstring(L, reg->rules[j].qid);
                lua_rawseti(L, -2, ++k);
            }
        }
        lua_setfield(L, helpers, "__rule_list");
        lua_setfield(L, helpers, "__rules");
    }
    rc = tm_sandbox_run_with(sb, display, src, len, helpers, &nres, &e);
    if (rc != TM_OK) {
        report(ud, e.msg, 0);
        lua_settop(L, top);
        (*failed)++;
        return rc;
    }
    lua_settop(L, helpers);
    lua_getfield(L, helpers, "__cases");
    int cases = lua_gettop(L);
    int n = (int)tm_lua_rawlen(L, cases);
    if (n == 0) {
        char m[700];
        snprintf(m, sizeof m, "%s: no cases (use describe/it)", display);
        report(ud, m, 0);
        (*failed)++;
    }
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, cases, i);
        int c = lua_gettop(L);
        lua_getfield(L, c, "name");
        char name[300];
        snprintf(name, sizeof name, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 1);
        lua_getfield(L, c, "fn");
        memset(&e, 0, sizeof e);
        if (!lua_isfunction(L, -1)) {
            lua_pop(L, 1);
            char m[700];
            snprintf(m, sizeof m, "%s: case '%s' has no function", display, name);
            report(ud, m, 0);
            (*failed)++;
        } else if (tm_sandbox_pcall(sb, 0, 0, &e) != TM_OK) {
            char m[1200];
            /* Messages from assertions already start with file:line. */
            if (strncmp(e.msg, display, strlen(display)) == 0)
                snprintf(m, sizeof m, "%s [%s]", e.msg, name);
            else
                snprintf(m, sizeof m, "%s: %s [%s]", display, e.msg, name);
            report(ud, m, 0);
            (*failed)++;
        } else {
            report(ud, name, 1);
            (*passed)++;
        }
        lua_settop(L, cases);
    }
    lua_settop(L, top);
    return TM_OK;
}
