#!/bin/sh
# tests/e2e/test_score.sh: tm.score through `tallyman eval`, `lint` and
# `test`: models ship in the script tree's models/ folder, load with it, and
# a broken model is reported naming the file and the field.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
FIX="$(cd "$(dirname "$0")/../fixtures/models" && pwd)"
mkdir -p "$D/tree/models/bank"
cp "$FIX/trees_small.json" "$D/tree/models/ptp.json"
cp "$FIX/scorecard_ptp.json" "$D/tree/models/bank/card.json"
w() { printf '%s' "$2" >"$D/$1"; }

w s1.lua 'local p, r = tm.score("ptp", {days_past_due = 45, balance = 7000})
local out = {string.format("%.6f", p)}
for i, x in ipairs(r) do out[#out + 1] = x.feature .. "=" .. string.format("%.2f", x.impact) .. " " .. x.text end
return table.concat(out, "; ")'
expect_run "tree ensemble with reasons" 0 '"0.354344; balance=0.40 balance owed; days_past_due=0.20 days_past_due"' "" \
    -- "$T" eval --scripts "$D/tree" "$D/s1.lua"
w s2.lua 'local p, r = tm.score("bank/card", {days_past_due = 100, state = "NY"}, 1)
return #r, r[1].text'
expect_run "scorecard in a subfolder, one reason" 0 '1
"over 90 days past due"' "" -- "$T" eval --scripts "$D/tree" "$D/s2.lua"
w s3.lua 'local p, r = tm.score("ptp", {}, 8)
local m = 0
for _, x in ipairs(r) do if x.text:sub(1, 8) == "missing:" then m = m + 1 end end
return m'
expect_run "missing features are named" 0 '2' "" -- "$T" eval --scripts "$D/tree" "$D/s3.lua"
w s4.lua 'local x = 1
local p = tm.score("nope", {})
return p'
expect_run "unknown model" 1 "" "s4.lua:2: bad argument #1 to 'tm.score' (no model 'nope': expected models/nope.json" \
    -- "$T" eval --scripts "$D/tree" "$D/s4.lua"
w s5.lua 'local x = 1
local p = tm.score("ptp", {days_past_due = "many"})
return p'
expect_run "wrong feature type" 1 "" "s5.lua:2: bad argument #2 to 'tm.score' (model 'ptp': feature days_past_due" \
    -- "$T" eval --scripts "$D/tree" "$D/s5.lua"
w s6.lua 'local x = 1
local p = tm.score("ptp", {days_past_due = 0/0})
return p'
expect_run "NaN feature" 1 "" "s6.lua:2: bad argument #2 to 'tm.score' (feature 'days_past_due'" \
    -- "$T" eval --scripts "$D/tree" "$D/s6.lua"
w s7.lua 'local x = 1
local p = tm.score("ptp", {days_past_due = {}})
return p'
expect_run "table feature" 1 "" "s7.lua:2: bad argument #2 to 'tm.score' (feature 'days_past_due': number, string or boolean expected, got table)" \
    -- "$T" eval --scripts "$D/tree" "$D/s7.lua"
expect_run "good tree lints clean" 0 "" "" -- "$T" lint "$D/tree"

# Bad models: each names the file and what is wrong; lint exits 1.
bad_model() {
    rm -rf "$D/badtree" && mkdir -p "$D/badtree/models"
    printf '%s' "$2" >"$D/badtree/models/m.json"
    expect_run "$1" 1 "*" "" -- "$T" lint "$D/badtree"
    case "$(cat "$E2E_TMP/out")" in
    *"models/m.json"*"$3"*) E2E_PASS=$((E2E_PASS + 1)) ;;
    *) E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $1: lint output lacks '$3': $(cat "$E2E_TMP/out")" ;;
    esac
}
bad_model "not JSON" '{"type": oops}' 'line 1'
bad_model "missing feature name" '{"type":"scorecard","name":"x","base_points":600,"pdo":20,"odds_at_base":1,"features":[{"bins":[{"points":1}]}]}' 'name'
bad_model "NaN-like coefficient" '{"type":"logistic","name":"x","intercept":0,"coefficients":{"dpd":"NaN"}}' 'dpd'
bad_model "tree with a cycle" '{"type":"trees","name":"x","trees":[{"nodes":[{"feature":"a","threshold":1,"left":1,"right":2},{"feature":"b","threshold":1,"left":0,"right":2},{"leaf":1}]}]}' 'trees[0]'
finish
