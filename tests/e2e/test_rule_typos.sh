#!/bin/sh
# tests/e2e/test_rule_typos.sh: the rule language fails closed on typos. A
# misspelt field anywhere in a regulation (its top level, `applies`, a rule)
# is an error told at the field's own line, every one of the script in one
# run, with a "did you mean" for a near miss; a bad value is named with the
# form expected; and a set with such a regulation is refused, never run with
# the regulation widened to everyone or left out.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
mkdir -p "$D/r/regulations"
cat >"$D/r/regulations/x.lua" <<'LUA'
return regulation {
    id = "US-XX",
    appliez = { state = "MA" },
    applies = {
        state = "Mass",
        colectors = { "third_party" },
    },
    rules = {
        {
            id = "typo",
            cite = "X 1",
            chanels = { "sms" },
            block = true,
            purpse = "collection",
            zzzzzzzz = 1,
        },
    },
}
LUA
F="$D/r/regulations/x.lua"
expect_run "lint tells every typo at its own line, in order, with did you mean" 1 "$F:3: regulation 'US-XX': unknown field 'appliez' (did you mean 'applies'?)
$F:6: regulation 'US-XX': applies: unknown field 'colectors' (did you mean 'collectors'?)
$F:5: regulation 'US-XX': applies.state: \"Mass\" is not a USPS code (two capitals, e.g. \"MA\")
$F:12: rule 'typo': unknown field 'chanels' (did you mean 'channels'?)
$F:14: rule 'typo': unknown field 'purpse' (did you mean 'purpose'?)
$F:15: rule 'typo': unknown field 'zzzzzzzz'" "" -- "$T" lint "$D/r"

# The top-level typo alone: the regulation no longer applies to everyone.
cat >"$F" <<'LUA'
return regulation {
    id = "US-XX",
    appliez = { state = "MA" },
    rules = {
        { id = "no-calls", cite = "X 1", channels = { "call" }, block = true },
    },
}
LUA
expect_run "a misspelt top-level field is an error at its line" 1 "$F:3: regulation 'US-XX': unknown field 'appliez' (did you mean 'applies'?)" "" -- "$T" lint "$D/r"
echo '{"id":"q","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"TX","timezones":["America/Chicago"]}}' >"$D/q.jsonl"
expect_run "decide refuses the set, naming the field" 1 "" "x.lua:3: regulation 'US-XX': unknown field 'appliez'" -- "$T" decide --scripts "$D/r" "$D/q.jsonl"

# A rule's typo in a nested effect and a state code in a list.
cat >"$F" <<'LUA'
return regulation {
    id = "US-XX",
    applies = { states = { "MA", "ny" } },
    rules = {
        { id = "r", cite = "X 1", channels = { "call" }, block = true },
    },
}
LUA
expect_run "a bad code in a list is named with the form expected" 1 "$F:3: regulation 'US-XX': applies.states: \"ny\" is not a USPS code (two capitals, e.g. \"MA\")" "" -- "$T" lint "$D/r"
# Journeys: every unknown field of the journey and its states, each at its
# own line, with did you mean; a run of such a set is refused.
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$D/j/strategies"
cp -r "$ROOT/scripts/lib" "$D/j/"
cat >"$D/j/strategies/x.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "x",
  start = "a",
  sendwindow = { "10:00", "18:00" },
  states = {
    a = {
      enter = function(j) end,
      afterr = { days(3), "b" },
      on = { payment = "b" },
    },
    b = { final = "paid", descripton = "done" },
  },
}
LUA
J="$D/j/strategies/x.lua"
expect_run "lint tells every unknown field of a journey at its line" 1 "$J:5: journey x: unknown field 'sendwindow' (did you mean 'send_window'?)
$J:9: journey x: states.a: unknown field 'afterr' (did you mean 'after'?)
$J:12: journey x: states.b: unknown field 'descripton' (did you mean 'description'?)" "" -- "$T" lint "$D/j"
echo 'external_id,debt_id,state,balance,currency' >"$D/a.csv"
echo 'C1,D1,MA,10.00,USD' >>"$D/a.csv"
"$T" --db "$D/j.db" import accounts "$D/a.csv" >/dev/null 2>&1
expect_run "a draft run of it is refused, each field named" 1 "" "$J:9: journey x: states.a: unknown field 'afterr'" -- "$T" --db "$D/j.db" --scripts "$D/j" --draft run --date 2026-11-23 --spool "$D/sp"
expect_run "  ...nothing worked" 0 "0" "" -- sqlite3 "$D/j.db" "select count(*) from debts where journey is not null"
# Templates: every problem of a template at its field's line, with did you mean.
mkdir -p "$D/c"
cp -r "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$D/c/"
sed -i '/id = "early_reminder"/{n;s/disclosures =/disclosurs =/;n;s/en = { text =/en = { txt =/}' "$D/c/channels/sms.lua"
C="$D/c/channels/sms.lua"
L1=$(grep -n 'disclosurs =' "$C" | cut -d: -f1)
L2=$(grep -n 'en = { txt =' "$C" | cut -d: -f1)
expect_run "lint tells each template problem at its line, once" 1 "$C:$L1: template early_reminder: unknown field 'disclosurs' (did you mean 'disclosures'?)
$C:$L2: template early_reminder: en.txt: unknown field 'txt' (did you mean 'text'?) for sms
$C:$L2: template early_reminder: en.text: missing" "" -- "$T" lint "$D/c"
# Specs: a rule id that no loaded regulation has fails the case with the
# name (it used to pass whatever the gate did).
mkdir -p "$D/sp"
cat >"$D/sp/typo_spec.lua" <<'LUA'
local R = { channel = "call", now = "2026-11-23T15:00:00Z", debt = { id = "D1" },
            consumer = { state = "MA", timezones = { "America/New_York" } } }
describe("rule ids", function()
  it("a misspelt id", function() assert_not_blocked(decide(R), "US-FED/inconvenient-tme") end)
  it("a prefix that starts no rule", function() assert_none(decide(R), "US-MAA/") end)
  it("a rule that exists", function() assert_not_blocked(decide(R), "US-FED/inconvenient-time") end)
end)
LUA
expect_run "a spec naming a rule that does not exist fails with the name" 1 "FAIL $D/sp/typo_spec.lua:4: no rule \"US-FED/inconvenient-tme\" in the loaded regulations (did you mean US-FED/inconvenient-time?) [rule ids > a misspelt id]
FAIL $D/sp/typo_spec.lua:5: no rule of the loaded regulations starts with \"US-MAA/\" [rule ids > a prefix that starts no rule]
1 passed, 2 failed" "" -- "$T" test "$D/sp/typo_spec.lua"
# Journey specs: a state or template a spec names must exist, in the
# journey under test and among the loaded channels' templates; a misspelt one
# fails with the name and a "did you mean" (a check that something does not
# happen would pass whatever the journey did). Driving the journey with an
# event from a state it does not have still gives res.error, as the engine
# sees it.
mkdir -p "$D/f"
cp "$ROOT/scripts/strategies/early_stage.lua" "$ROOT/scripts/strategies/segment.lua" "$D/f/"
cat >"$D/f/early_stage_spec.lua" <<'LUA'
local J = require("strategies.early_stage")
local jspec = require("lib.jspec")
local ctx, debt = jspec.ctx, jspec.debt
describe("names", function()
  it("a misspelt state", function() assert_state(J:start(debt(), ctx()), "remnd") end)
  it("a misspelt timer target", function() assert_timer(J:start(debt(), ctx()), "nuge") end)
  it("a misspelt state to start in", function() J:timer(in_state(J, "nudg", { variant = "champion" }), debt(), ctx()) end)
  it("a misspelt template", function() assert_sends(J:start(debt(), ctx()), { "email:early_remnder" }) end)
  it("a template of another channel", function() assert_sends(J:start(debt(), ctx()), { "push:early_reminder" }) end)
  it("an event in a state the journey does not have", function()
    local r = J:event({ state = "remnd", variant = "champion" }, debt(), { type = "payment" }, ctx())
    assert_eq(r.error, "state 'remnd' is not in journey early_stage")
  end)
  it("names that exist", function()
    local r = J:timer(in_state(J, "remind", { variant = "champion", timer_go = "nudge" }), debt(), ctx())
    assert_state(r, "nudge")
    assert_sends(r, { "sms:early_reminder" })
    assert_timer(r, "call", "2026-11-25T15:00:00Z")
  end)
end)
LUA
S="$D/f/early_stage_spec.lua"
expect_run "a journey spec naming a state or template that does not exist fails with the name" 1 "FAIL $S:5: no state 'remnd' in journey early_stage (did you mean 'remind'?) [names > a misspelt state]
FAIL $S:6: no state 'nuge' in journey early_stage (did you mean 'nudge'?) [names > a misspelt timer target]
FAIL $S:7: no state 'nudg' in journey early_stage (did you mean 'nudge'?) [names > a misspelt state to start in]
FAIL $S:8: no template 'early_remnder' for email in the loaded channels (did you mean 'early_reminder'?) [names > a misspelt template]
FAIL $S:9: no template 'early_reminder' for push in the loaded channels [names > a template of another channel]
2 passed, 5 failed" "" -- "$T" test "$D/f"
# A bad value in a rule or in `applies` is named with the form expected.
cat >"$F" <<'LUA'
return regulation {
    id = "US-XX",
    applies = { state = "MA" },
    rules = {
        { id = "r", cite = "X 1", channels = { "cal" }, block = true },
        { id = "s", cite = "X 2", channels = 5, block = true },
    },
}
LUA
expect_run "lint names each bad value and the values expected" 1 "$F:5: rule 'r': channels: unknown value 'cal' (did you mean 'call'? one of: call, sms, email, letter, push, whatsapp, visit)
$F:6: rule 's': channels: must be a name or a list of names, not a number (e.g. { \"call\" })" "" -- "$T" lint "$D/r"
sed -i 's/state = "MA" }/state = "MA", collectors = "third-party" }/' "$F"
expect_run "  ...in applies too" 0 "*" "" -- sh -c "'$T' lint '$D/r' | grep -qx '$F:3: regulation .US-XX.: applies.collectors: unknown value .third-party. (did you mean .third_party.? one of: third_party, debt_buyer, creditor)'"
finish
