#!/bin/sh
# tests/e2e/test_park.sh: a debt whose step fails (an offer beyond settlement
# authority, a script error) is parked with the reason in the audit log; every
# other debt is worked; the run exits 1 so an operator notices.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/p.db"
TREE="$D/tree"
mkdir -p "$TREE/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"
cat >"$TREE/strategies/offer.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "offer",
  segment = function(d) return true end,
  start = "offer",
  states = {
    offer = { enter = function(j, d)
                -- an agent may offer 50% (lib/authority.lua); D2 gets 30%; D5's
                -- 30% is a supervisor's override
                if d.debt_id == "D5" then
                  j:offer_settlement { percent = 30, role = "supervisor", override = true }
                else
                  j:offer_settlement { percent = d.debt_id == "D2" and 30 or 60, role = "agent" }
                end
                if d.debt_id == "D3" then error("no such template list") end
                if d.debt_id == "D4" then return j:send("voice", "no_such_script") end
                j:send("letter", "settlement_offer")
              end },
  },
}
LUA
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip
C1,D1,Ann,Lee,TX,America/Chicago,100.00,USD,120,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,120,+16175551002,c2@example.com,2 Main St,Springfield,01101
C3,D3,Cy,Fox,TX,America/Chicago,300.00,USD,120,+16175551003,c3@example.com,3 Main St,Springfield,01101
C4,D4,Di,Moe,TX,America/Chicago,400.00,USD,120,+16175551004,c4@example.com,4 Main St,Springfield,01101
C5,D5,Ed,Ng,TX,America/Chicago,500.00,USD,120,+16175551005,c5@example.com,5 Main St,Springfield,01101
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
# D4's call goes through the dialer: consent to autodialled calls is on file (47 U.S.C. 227(b)).
printf '%s\n' '{"key":"c4","type":"consent","debt_id":"D4","at":"2026-11-01T12:00:00Z","channel":"autodial","given":true}' >"$D/consent.jsonl"
"$T" --db "$DB" event "$D/consent.jsonl" >/dev/null 2>&1
expect_run "the run goes on, and exits 1" 1 "*" "beyond authority" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool" --quiet
expect_run "  ...naming the script line" 1 "*" "strategies/offer.lua:15: no such template list" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-24 --spool "$D/spool" --quiet
expect_run "D1, D4 and D5 worked" 0 "D1|offer|offer
D4|offer|offer
D5|offer|offer" "" -- sqlite3 "$DB" "select debt_id, journey, journey_state from debts where journey <> ''"
expect_run "the 60% offer is named in the letter" 0 "*" "" -- grep -q '60.00' "$D/spool/letter/D1:offer:1:1.json"
expect_run "D2 and D3 parked, in the audit log with the reason" 0 "2" "" -- sqlite3 "$DB" "select count(distinct subject) from audit where action = 'journey.parked' and date(at, 'unixepoch') = '2026-11-23'"
expect_run "  ...the authority in D2's record" 0 "1" "" -- sqlite3 "$DB" "select count(*) from audit where action = 'journey.parked' and subject = 'debt:D2' and details like '%beyond authority%lib/authority.lua%' and date(at, 'unixepoch') = '2026-11-23'"
expect_run "parked debts are left as they were" 0 "2" "" -- sqlite3 "$DB" "select count(*) from debts where journey = '' or journey is null"
expect_run "a voice script is a call for the gate; one with no template is never sent" 0 "call|failed" "" -- sqlite3 "$DB" "select o.channel, o.status from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D4'"
expect_run "  ...and the audit log says why" 0 "1" "" -- sqlite3 "$DB" "select count(*) from audit where action = 'outbox.failed' and subject = 'debt:D4' and details like '%no template%no_such_script%'"
expect_run "a supervisor's override is on the record" 0 "debt:D5" "" -- sqlite3 "$DB" "select subject from audit where action = 'settlement.override' and details like '%\"percent\":30%supervisor%'"
expect_run "  ...and its letter names the 30% offer (150.00)" 0 "*" "" -- grep -q '150.00' "$D/spool/letter/D5:offer:1:1.json"
expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
