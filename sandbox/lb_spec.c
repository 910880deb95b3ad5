/*
 * sandbox/lb_spec.c: runs Lua spec files (*_spec.lua) inside the sandbox, for
 * `tallyman test`. A spec file declares cases with describe/it and checks
 * gate decisions and journey steps with the assert_* helpers; each case runs
 * as its own call, under the sandbox's limits, and a failure is reported as
 * file:line. A rule, state or template a helper is given must exist.
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
 * @function in_state(J, state [, fields])
 * In journey specs: a debt's journey state in `state` of J, to pass to
 * J:event, J:timer or J:blocked. A state (or timer_go) J does not have, or
 * a variant it does not split into, fails, naming it, with a "did you mean".
 * @param J {table} the journey (what require("strategies.NAME") returns)
 * @param state {string} "remind"
 * @param fields {table?} variant (needed when J has variants), timer_go, timer_at
 * @return {table} { state =, variant =, timer_go =, timer_at = }
 */
/***
 * @function assert_state(res, state [, msg])
 * In journey specs: the journey is in `state` after the step. A state the
 * journey that made `res` does not have fails, naming it.
 * @param res {table} what J:start, J:event, J:timer or J:blocked returned
 * @param state {string} "remind"
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_timer(res, go [, at [, msg]])
 * In journey specs: the step left a timer to state `go` (at `at` when
 * given), or none when `go` is nil. A state the journey does not have fails,
 * naming it.
 * @param res {table} what J:start, J:event, J:timer or J:blocked returned
 * @param go {string?} the state the timer goes to; nil for "no timer"
 * @param at {string?} RFC 3339, "2026-11-26T15:00:00Z"
 * @param msg {string} names the check in the failure
 * @return {nil}
 */
/***
 * @function assert_sends(res, sends [, msg])
 * In journey specs: the step's sends, in order, as "channel:template". A
 * template that no loaded channel file defines for that channel fails,
 * naming it, with a "did you mean".
 * @param res {table} what J:start, J:event, J:timer or J:blocked returned
 * @param sends {string[]} { "email:early_reminder" }; {} for none
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
    "-- States and templates a spec names must exist too: a misspelt state or\n"
    "-- template would make a check of what does not happen pass whatever the\n"
    "-- journey did. Modules come from the spec's own require (H.require below),\n"
    "-- so a result is judged by the very journey that made it.\n"
    "local function sorted_names(t)\n"
    "  local out = {}\n"
    "  for k in pairs(t) do out[#out + 1] = tostring(k) end\n"
    "  table.sort(out)\n"
    "  return out\n"
    "end\n"
    "local function quoted(v) return type(v) == 'string' and (\"'\" .. v .. \"'\") or show(v) end\n"
    "local function mean(word, names)\n"
    "  local near = type(word) == 'string' and tm.nearest(word, names) or nil\n"
    "  return near and (\" (did you mean '\" .. near .. \"'?)\") or ''\n"
    "end\n"
    "local function is_journey(J)\n"
    "  return type(J) == 'table' and type(J.id) == 'string' and type(J.def) == 'table' and type(J.def.states) == 'table'\n"
    "end\n"
    "-- Raises at the spec's line (the caller of the helper calling check_state).\n"
    "local function check_state(J, name, msg)\n"
    "  if type(name) == 'string' and J.def.states[name] then return end\n"
    "  error((msg and (msg .. ': ') or '') .. 'no state ' .. quoted(name) .. ' in journey ' .. J.id .. mean(name, sorted_names(J.def.states)), 3)\n"
    "end\n"
    "local function journey_of(res, what)\n"
    "  local J = type(res) == 'table' and require('lib.journey').journey_of(res) or nil\n"
    "  if not J then error(what .. ' expects what J:start, J:event, J:timer or J:blocked returned, got ' .. show(res), 3) end\n"
    "  return J\n"
    "end\n"
    "function H.in_state(J, state, fields)\n"
    "  if not is_journey(J) then error('in_state expects a journey (what require(\"strategies.NAME\") returns), got ' .. show(J), 2) end\n"
    "  check_state(J, state)\n"
    "  local js = { state = state }\n"
    "  for k, v in pairs(fields or {}) do\n"
    "    if k ~= 'variant' and k ~= 'timer_go' and k ~= 'timer_at' then\n"
    "      error('in_state: unknown field ' .. quoted(k) .. ' (variant, timer_go, timer_at)', 2)\n"
    "    end\n"
    "    js[k] = v\n"
    "  end\n"
    "  if js.timer_go ~= nil then check_state(J, js.timer_go) end\n"
    "  local variants = {}\n"
    "  for i, v in ipairs(J.variants or {}) do variants[i] = v.name end\n"
    "  if #variants == 0 then variants[1] = 'default' end\n"
    "  if js.variant == nil and #variants == 1 then js.variant = variants[1] end\n"
    "  local known = false\n"
    "  for _, v in ipairs(variants) do if v == js.variant then known = true end end\n"
    "  if js.variant == nil then\n"
    "    error('in_state: journey ' .. J.id .. ' splits debts into variants (' .. table.concat(variants, ', ') .. '): name one', 2)\n"
    "  end\n"
    "  if not known then\n"
    "    local m = mean(js.variant, variants)\n"
    "    if m == '' then m = ' (its variants: ' .. table.concat(variants, ', ') .. ')' end\n"
    "    error('no variant ' .. quoted(js.variant) .. ' in journey ' .. J.id .. m, 2)\n"
    "  end\n"
    "  return js\n"
    "end\n"
    "function H.assert_state(res, state, msg)\n"
    "  local J = journey_of(res, 'assert_state')\n"
    "  check_state(J, state, msg)\n"
    "  if res.state ~= state then\n"
    "    fail(msg, 'expected state ' .. quoted(state) .. ' of journey ' .. J.id .. ', got ' .. quoted(res.state) .. (res.error and ('; ' .. res.error) or ''))\n"
    "  end\n"
    "end\n"
    "function H.assert_timer(res, go, at, msg)\n"
    "  local J = journey_of(res, 'assert_timer')\n"
    "  if go ~= nil then check_state(J, go, msg) end\n"
    "  local t = res.timer\n"
    "  local function when(x) return type(x) == 'number' and tm.time.format(x) or x end\n"
    "  if go == nil then\n"
    "    if t ~= nil then fail(msg, 'expected no timer, got one to ' .. quoted(t.go) .. ' at ' .. show(when(t.at))) end\n"
    "    return\n"
    "  end\n"
    "  if t == nil then fail(msg, 'expected a timer to ' .. quoted(go) .. ', got none' .. (res.error and ('; ' .. res.error) or '')) end\n"
    "  if t.go ~= go then fail(msg, 'expected a timer to ' .. quoted(go) .. ', got one to ' .. quoted(t.go)) end\n"
    "  if at ~= nil and when(t.at) ~= at then fail(msg, 'expected the timer to ' .. quoted(go) .. ' at ' .. show(at) .. ', got ' .. show(when(t.at))) end\n"
    "end\n"
    "-- \"channel:template\" must name a template of the loaded channels.\n"
    "local function check_send(s, msg)\n"
    "  local ch, id\n"
    "  if type(s) == 'string' then ch, id = s:match('^([^:]+):(.+)$') end\n"
    "  if not ch then error((msg and (msg .. ': ') or '') .. 'a send is \"channel:template\", not ' .. show(s), 3) end\n"
    "  local catalog = require('channels.catalog')\n"
    "  if catalog.find(ch, id) then return end\n"
    "  local channels = require('lib.journey').channels\n"
    "  if not channels[ch] then\n"
    "    error((msg and (msg .. ': ') or '') .. 'no channel ' .. quoted(ch) .. mean(ch, sorted_names(channels)), 3)\n"
    "  end\n"
    "  local ids = sorted_names(catalog.templates[ch == 'call' and 'voice' or ch] or {})\n"
    "  error((msg and (msg .. ': ') or '') .. 'no template ' .. quoted(id) .. ' for ' .. ch .. ' in the loaded channels' .. mean(id, ids), 3)\n"
    "end\n"
    "function H.assert_sends(res, list, msg)\n"
    "  if type(res) ~= 'table' or type(res.actions) ~= 'table' then error('assert_sends expects a journey\\'s result, got ' .. show(res), 2) end\n"
    "  if type(list) ~= 'table' then error('assert_sends expects a list of \"channel:template\", got ' .. show(list), 2) end\n"
    "  for _, s in ipairs(list) do check_send(s, msg) end\n"
    "  local got = {}\n"
    "  for _, a in ipairs(res.actions) do\n"
    "    if a.type == 'send' then got[#got + 1] = tostring(a.channel) .. ':' .. tostring(a.template) end\n"
    "  end\n"
    "  if not deep_eq(got, list, 0) then fail(msg, 'expected sends ' .. show(list) .. ', got ' .. show(got)) end\n"
    "end\n"
    "-- The spec's require is the helpers' own, one module cache for both.\n"
    "H.require = require\n"
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
