#!/bin/sh
# tests/e2e/test_queue.sh: what journeys hand on. j:queue puts the debt in an
# agent queue (once, however often the day is rerun), `tallyman queue` lists
# it and closes it with an audited outcome; j:score keeps the debt's latest
# score, which the journey acts on.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/q.db"
TREE="$D/tree"
mkdir -p "$TREE/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$ROOT/scripts/models" "$TREE/"
cat >"$TREE/strategies/triage.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "triage",
  segment = function(d) return true end,
  start = "score",
  states = {
    score = { enter = function(j)
                local p = j:score("ptp")
                if p < 0.3 then j:move("agent") else j:move("self_serve") end
              end },
    agent = { enter = function(j) j:queue("hard_cases", { reason = "low propensity to pay" }) end },
    self_serve = {},
  },
}
LUA
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,charge_off_date,phone,email,address1,city,zip
C1,D1,Ann,Lee,TX,America/Chicago,90.00,USD,3,,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,9000.00,USD,700,2025-01-15,+16175551002,c2@example.com,2 Main St,Springfield,01101
C3,D3,Cy,Fox,TX,America/Chicago,8000.00,USD,650,2025-02-15,+16175551003,c3@example.com,3 Main St,Springfield,01101
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
expect_run "day 1" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --quiet
expect_run "every debt scored, the score kept" 0 "3" "" -- sqlite3 "$DB" "select count(*) from scores where model = 'ptp' and probability > 0 and probability < 1 and reasons like '[%'"
expect_run "the journey acted on it" 0 "D1|self_serve
D2|agent
D3|agent" "" -- sqlite3 "$DB" "select debt_id, journey_state from debts order by 1"
expect_run "the low scorers wait in the queue" 0 "*" "" -- "$T" --db "$DB" queue
list=$(cat "$E2E_TMP/out")
expect_run "  ...listed with the reason" 0 "*" "" -- sh -c "echo '$list' | grep -q 'hard_cases .*D2 .*triage/agent  *low propensity to pay'"
expect_run "  ...under column headers" 0 "*" "" -- sh -c "echo '$list' | head -1 | grep -qE '^ +ID  QUEUE +DEBT +BALANCE  SINCE +JOURNEY/STATE +REASON$'"
expect_run "  ...with the debt's balance and currency" 0 "*" "" -- sh -c "echo '$list' | grep -qE 'hard_cases +D2 +[0-9,]+\\.[0-9]{2} USD  '"
expect_run "  ...two items" 0 "*" "" -- sh -c "echo '$list' | tail -1 | grep -qx '2 items'"
expect_run "a rerun of the day queues nothing twice" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --quiet
expect_run "  ...still two" 0 "2" "" -- sqlite3 "$DB" "select count(*) from agent_queue"
expect_run "one queue, as JSON" 0 "*" "" -- "$T" --db "$DB" queue hard_cases --json
expect_run "  ...parses" 0 "*" "" -- sh -c "$T --db '$DB' queue hard_cases --json | head -1 | grep -q '\"queue\":\"hard_cases\"'"
expect_run "  ...with the balance" 0 "*" "" -- sh -c "$T --db '$DB' queue hard_cases --json | head -1 | grep -q '\"balance_minor\":[0-9]*,\"currency\":\"USD\"'"
id=$(sqlite3 "$DB" "select q.id from agent_queue q join debts d on d.id = q.debt_id where d.debt_id = 'D2'")
expect_run "an agent closes one" 0 "queue item $id closed" "" -- "$T" --db "$DB" queue close "$id" --outcome "promise taken" --by agent7
expect_run "  ...audited with who and what" 0 "1" "" -- sqlite3 "$DB" "select count(*) from audit where action = 'queue.closed' and actor = 'agent7' and details like '%promise taken%'"
expect_run "  ...one left open" 0 "*" "" -- sh -c "$T --db '$DB' queue | tail -1 | grep -qx '1 item'"
expect_run "  ...both with --all" 0 "2 items" "" -- sh -c "$T --db '$DB' queue --all | tail -1"
expect_run "  ...the closed one with who closed it and how" 0 "1" "" -- sh -c "$T --db '$DB' queue --all | grep -c 'closed by agent7: promise taken'"
expect_run "closing it again is refused" 1 "" "no such open item" -- "$T" --db "$DB" queue close "$id"
expect_run "close needs an id" 2 "" "close needs the item's id" -- "$T" --db "$DB" queue close
expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
