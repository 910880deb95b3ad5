#!/bin/sh
# tests/e2e/test_creditor_policy.sh: a creditor's own policy (policies/)
# applies to that creditor's debts in the daily cycle, on top of the law, and
# to no one else's.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/c.db"
TREE="$D/tree"
mkdir -p "$TREE/strategies" "$TREE/policies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"
cp "$ROOT/scripts/policies/example_bank.lua" "$TREE/policies/"
cat >"$TREE/strategies/call.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "call", segment = function(d) return true end, start = "s",
  send_window = { "10:00", "18:00" },
  states = { s = { enter = function(j) j:send("call", "early_call") end } },
  blocked = function() return "skip" end,
}
LUA
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,creditor,phone,email,address1,city,zip
C1,D1,Ann,Lee,TX,America/Chicago,100.00,USD,20,Example Bank,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20,Other Bank,+16175551002,c2@example.com,2 Main St,Springfield,01101
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
# The calls go through the dialer: both consumers consented to autodialled calls
# (47 U.S.C. 227(b)), so only the policy and the law's hours decide.
cat >"$D/consent.jsonl" <<'JSON'
{"key":"k1","type":"consent","debt_id":"D1","at":"2026-11-01T12:00:00Z","channel":"autodial","given":true}
{"key":"k2","type":"consent","debt_id":"D2","at":"2026-11-01T12:00:00Z","channel":"autodial","given":true}
JSON
expect_run "autodial consent on file" 0 "*" "*" -- "$T" --db "$DB" event "$D/consent.jsonl"
expect_run "a Sunday" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-22 --quiet
expect_run "Example Bank's debt: no Sunday calls, by its policy" 0 "D1|skipped|POLICY-EXAMPLE-BANK/no-sundays-or-holidays" "" -- sqlite3 "$DB" "select d.debt_id, o.status, o.blocked_by from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D1'"
expect_run "another creditor's debt: called" 0 "D2|sent" "" -- sqlite3 "$DB" "select d.debt_id, o.status from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D2'"
finish
