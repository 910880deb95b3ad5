#!/bin/sh
# tests/e2e/test_strategy_folders.sh: a strategy manager's folder (journeys
# and their specs laid out like scripts/strategies/) is a first-class thing:
# lint, test, graph and simulate lay it over the script tree, the way
# simulate --strategy always did, so each checks the folder's own journeys
# and runs the folder's own specs against them; a folder that does not load
# is refused, never compared.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CH="$D/challenger"
cp -r "$ROOT/scripts/strategies" "$CH"

expect_run "lint a clean folder" 0 "" "" -- "$T" lint "$CH"
expect_run "test a clean folder runs its own specs" 0 "*" "" -- sh -c "'$T' test '$CH' | tail -n 1 | grep -q ' passed, 0 failed'"

# The folder's journey changed: its own spec (not the shipped one) fails.
sed -i 's/after = { days(3), "nudge" }/after = { days(5), "nudge" }/' "$CH/early_stage.lua"
expect_run "the folder's journey was changed" 0 "*" "" -- grep -q 'days(5), "nudge"' "$CH/early_stage.lua"
expect_run "test runs the folder's spec against the folder's journey" 0 "*" "" -- sh -c "'$T' test '$CH' | grep -q '^FAIL $CH/early_stage_spec.lua:[0-9]*: expected the timer to .nudge. at \"2026-11-26T15:00:00Z\", got \"2026-11-28T15:00:00Z\"'"
expect_run "graph --strategy shows the folder's journey" 0 "*" "" -- sh -c "'$T' graph early_stage --strategy '$CH' --dot | grep -q 'after 5 days'"
expect_run "graph --strategy needs a strategy folder" 1 "" "not a strategy folder" -- "$T" graph early_stage --strategy "$ROOT/scripts" --dot

# A typo in the folder: lint names the folder's file and line.
cp "$ROOT/scripts/strategies/early_stage.lua" "$CH/early_stage.lua"
sed -i 's/after = { days(3), "nudge" }/aftr = { days(3), "nudge" }/' "$CH/early_stage.lua"
L=$(grep -n 'aftr =' "$CH/early_stage.lua" | cut -d: -f1)
expect_run "lint names the folder's file and line" 1 "$CH/early_stage.lua:$L: journey early_stage: states.remind: unknown field 'aftr' (did you mean 'after'?)" "" -- "$T" lint "$CH"

# simulate refuses the broken folder (it was reported as significantly worse).
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,state,timezone,balance,currency,days_past_due,email
C1,D1,Ann,MA,America/New_York,100.00,USD,10,a@example.com
C2,D2,Bob,TX,America/Chicago,200.00,USD,40,b@example.com
CSV
"$T" --db "$D/s.db" import accounts "$D/a.csv" >/dev/null 2>&1
GEN=$(activate_set "$D/s.db" "$ROOT/scripts")
expect_run "simulate over the active set says which" 0 "*" "" -- sh -c "'$T' --db '$D/s.db' simulate --date 2026-11-23 --days 2 --strategy '$ROOT/scripts/strategies' 2>/dev/null | grep -qx 'script set $GEN (active), strategies laid over it:'"
expect_run "simulate --vs a broken folder is refused" 1 "*" "states.remind: unknown field 'aftr'" -- "$T" --db "$D/s.db" simulate --date 2026-11-23 --days 2 --strategy "$ROOT/scripts/strategies" --vs "$CH"
expect_run "simulate with --scripts and no --draft on a store is refused" 2 "" "add --draft" -- "$T" --db "$D/s.db" --scripts "$ROOT/scripts" simulate --date 2026-11-23 --days 2 --strategy "$ROOT/scripts/strategies"
finish
