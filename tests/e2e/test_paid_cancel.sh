#!/bin/sh
# tests/e2e/test_paid_cancel.sh: a contact planned while the debt was open is
# not made once the debt is paid: a call Example Bank's policy moved from
# Sunday to Monday is dropped when the balance is paid in full on Sunday
# evening, and the debt that was not paid is called.
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
  states = { s = { enter = function(j) j:send("call", "early_call") end }, paid = { final = "paid" } },
  on = { payment = "paid" },
}
LUA
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,creditor,phone,email,address1,city,zip
C1,D1,Ann,Lee,TX,America/Chicago,100.00,USD,20,Example Bank,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20,Example Bank,+16175551002,c2@example.com,2 Main St,Springfield,01101
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
# The calls go through the dialer: consent to autodialled calls is on file (47 U.S.C. 227(b)).
printf '%s\n' '{"key":"c1","type":"consent","debt_id":"D1","at":"2026-11-01T12:00:00Z","channel":"autodial","given":true}' \
    '{"key":"c2","type":"consent","debt_id":"D2","at":"2026-11-01T12:00:00Z","channel":"autodial","given":true}' >"$D/consent.jsonl"
"$T" --db "$DB" event "$D/consent.jsonl" >/dev/null 2>&1
expect_run "Sunday: the calls wait for Monday" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-22 --quiet
expect_run "  ...both planned again" 0 "2" "" -- sqlite3 "$DB" "select count(*) from outbox where status = 'planned'"
printf '{"key":"p1","type":"payment","debt_id":"D1","at":"2026-11-22T20:00:00Z","amount":"100.00"}\n' >"$D/ev.jsonl"
expect_run "D1 pays in full on Sunday evening" 0 "*" "*" -- "$T" --db "$DB" event "$D/ev.jsonl"
expect_run "Monday" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --quiet
expect_run "the paid debt is not called" 0 "D1|skipped|debt-paid" "" -- sqlite3 "$DB" "select d.debt_id, o.status, o.blocked_by from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D1'"
expect_run "the other one is" 0 "D2|sent" "" -- sqlite3 "$DB" "select d.debt_id, o.status from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D2'"
finish
