#!/bin/sh
# tests/e2e/test_run.sh: the daily cycle end to end: journeys start, the gate
# judges each planned contact at its time, allowed ones are spooled once,
# events move journeys, timers fire, a rerun of a day sends nothing twice, and
# a run killed in the middle of its steps, its gate and its dispatch and rerun
# loses and duplicates nothing.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/run.db"
TREE="$D/tree"
mkdir -p "$TREE/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"
cat >"$TREE/strategies/demo.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo",
  segment = function(d) return d.state ~= "ZZ" end,
  start = "remind",
  send_window = { "10:00", "18:00" },
  states = {
    remind = { enter = function(j) j:send("email", "early_reminder") end,
               after = { days(3), "letter" }, on = { payment = "paid", dispute = "hold" } },
    letter = { enter = function(j) j:send("letter", "mid_letter") end, on = { payment = "paid" } },
    hold = {},
    paid = { final = "paid" },
  },
  on = { cease = "hold" },
}
LUA
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip
C1,D1,Zenobia,Quillfeather,MA,America/New_York,100.00,USD,10,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20,+16175551002,c2@example.com,2 Main St,Springfield,01101
C3,D3,Cy,Fox,CA,America/Los_Angeles,300.00,USD,40,+16175551003,c3@example.com,3 Main St,Springfield,01101
C4,D4,Di,Moe,FL,America/New_York,400.00,USD,50,+16175551004,c4@example.com,4 Main St,Springfield,01101
C6,D6,Ed,Ng,NY,America/New_York,50.00,USD,5,+16175551005,c5@example.com,5 Main St,Springfield,01101
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
S() { "$T" --db "$DB" --scripts "$TREE" "$@"; }
q() { sqlite3 "$DB" "$1"; }

expect_run "day 1" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool"
cp "$E2E_TMP/out" "$D/day1.out"
expect_run "  ...says where the messages went" 0 "*" "" -- grep -qx "messages went to the spool $D/spool" "$D/day1.out"
expect_run "  ...and what to do about the skipped contact" 0 "*" "" -- grep -q '^1 contacts were skipped (blocked by the gate.*tallyman why DEBT_ID' "$D/day1.out"
expect_run "every debt started" 0 "5" "" -- sqlite3 "$DB" "select count(*) from debts where journey = 'demo' and journey_state = 'remind'"
expect_run "one email each where allowed" 0 "4" "" -- sqlite3 "$DB" "select count(*) from outbox where channel = 'email' and status = 'sent'"
expect_run "planned in the send window (10:00 local)" 0 "2026-11-23T15:00:00Z" "" -- sqlite3 "$DB" "select strftime('%Y-%m-%dT%H:%M:%SZ', send_at, 'unixepoch') from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D1'"
expect_run "spooled once each" 0 "4" "" -- sh -c "ls '$D/spool/email' | wc -l | tr -d ' '"
expect_run "New York needs email consent: skipped, rule named" 0 "skipped|US-NY/email-consent" "" -- sqlite3 "$DB" "select o.status, o.blocked_by from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D6'"
expect_run "decisions recorded" 0 "5" "" -- sqlite3 "$DB" "select count(*) from gate_decisions"
expect_run "timer set for day 4" 0 "5" "" -- sqlite3 "$DB" "select count(*) from debts where timer_go = 'letter'"
expect_run "contacts count towards the caps" 0 "4" "" -- sqlite3 "$DB" "select count(*) from contacts"

expect_run "the message is rendered from the template, with the name" 0 "*" "" -- grep -q "Hello Zenobia" "$D/spool/email/D1:demo:1:0.json"
expect_run "  ...and its disclosures" 0 "*" "" -- grep -q "This communication is from a debt collector" "$D/spool/email/D1:demo:1:0.json"
for word in Zenobia Quillfeather; do
    expect_run "no plaintext '$word' in the store (outbox messages are encrypted)" 1 "0" "" -- sh -c "cat '$DB'* | grep -c -a '$word'"
done
expect_run "rerun of day 1 sends nothing" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool"
expect_run "still one email each" 0 "5" "" -- sqlite3 "$DB" "select count(*) from outbox"
expect_run "still four files" 0 "4" "" -- sh -c "ls '$D/spool/email' | wc -l | tr -d ' '"

printf '%s\n' '{"key":"c4","type":"cease","debt_id":"D4","at":"2026-11-30T12:00:00Z"}' \
    '{"key":"p1","type":"payment","debt_id":"D1","at":"2026-11-24T12:00:00Z","amount":"100.00"}' \
    '{"key":"d2","type":"dispute","debt_id":"D2","at":"2026-11-24T12:00:00Z"}' >"$D/ev.jsonl"
"$T" --db "$DB" event "$D/ev.jsonl" >/dev/null 2>&1
expect_run "day 2: events" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-24 --spool "$D/spool"
expect_run "a payment in full closes the journey" 0 "paid|paid|" "" -- sqlite3 "$DB" "select journey_state, closed_reason, coalesce(timer_go, '') from debts where debt_id = 'D1'"
expect_run "a dispute holds" 0 "hold|" "" -- sqlite3 "$DB" "select journey_state, coalesce(timer_go, '') from debts where debt_id = 'D2'"
expect_run "days 3 and 4: the timer fires once" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-25 --days 2 --spool "$D/spool"
expect_run "letters for the two still open (New York too: no consent rule for letters)" 0 "2" "" -- sqlite3 "$DB" "select count(*) from outbox where channel = 'letter' and status = 'sent'"
expect_run "D4's cease is on file already: the gate stops its letter" 0 "skipped|US-FED/cease-communication" "" -- sqlite3 "$DB" "select o.status, o.blocked_by from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D4' and o.channel = 'letter'"
expect_run "no timer fired twice" 0 "3" "" -- sqlite3 "$DB" "select count(*) from debts where journey_state = 'letter'"
expect_run "an event later in time waits for its day" 0 "letter" "" -- sqlite3 "$DB" "select journey_state from debts where debt_id = 'D4'"
expect_run "a day with nothing to do" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-27 --spool "$D/spool"
cp "$E2E_TMP/out" "$D/quiet.out"
expect_run "  ...says so" 0 "*" "" -- grep -qE '^nothing to do: no new debts, events or timers(; the next timers fall due at 2026-|, and no timer is set)' "$D/quiet.out"
expect_run "day of the cease" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-30 --spool "$D/spool"
expect_run "the cease is worked on its day" 0 "hold" "" -- sqlite3 "$DB" "select journey_state from debts where debt_id = 'D4'"
expect_run "every event worked once" 0 "0" "" -- sqlite3 "$DB" "select count(*) from events where worked = 0"
expect_run "audit chain intact" 0 "*" "" -- "$T" --db "$DB" audit verify
expect_run "an event after the journey ended is said in the audit log" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export --debt D1 | grep -q 'event.after_close.*\"ended\":\"paid\"'"
expect_run "journey steps audited" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export --debt D1 | grep -c '\"closed\":\"paid\"'"

# Events fed day by day: a bad line is named by its line in the file.
printf '%s\n' '{"key":"f1","type":"payment","debt_id":"D3","at":"2026-11-28T12:00:00Z","amount":"x"}' 'not json' >"$D/feed.jsonl"
expect_run "bad fed events: named by file line, exit 1" 1 "*" "feed.jsonl:1: amount:" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-28 --rewind --events "$D/feed.jsonl" --spool "$D/spool"
cp "$E2E_TMP/err" "$D/feed.err"
expect_run "  ...and the broken line too" 0 "*" "" -- grep -q "feed.jsonl:2: not a valid JSON object" "$D/feed.err"

# Bad use.
expect_run "no store" 1 "" "no such store" -- "$T" --db "$D/none.db" --scripts "$TREE" --draft run
expect_run "bad date" 2 "" "--date" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-02-30
expect_run "no journeys" 1 "" "no journeys" -- "$T" --db "$DB" --scripts "$TREE/regulations" --draft run --date 2026-11-23

# A broken journey: the debt it fails on is reported, the rest carry on.
cp "$TREE/strategies/demo.lua" "$D/demo.bak"
sed -i 's/remind = { enter = function(j) j:send("email", "early_reminder") end,/remind = { enter = function(j, d) if d.debt_id == "D7" then error("no reminder for D7") end j:send("email", "early_reminder") end,/' "$TREE/strategies/demo.lua"
printf 'external_id,debt_id,state,balance,currency,phone,email,address1,city,zip\nC7,D7,MA,10.00,USD,+16175560001,x1@example.com,1 Elm St,Springfield,01101\nC8,D8,MA,10.00,USD,+16175560002,x2@example.com,2 Elm St,Springfield,01101\n' >"$D/b.csv"
"$T" --db "$DB" import accounts "$D/b.csv" >/dev/null 2>&1
expect_run "script error reported, run goes on" 1 "*" "debt D7: " -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-27 --rewind --spool "$D/spool"
cp "$E2E_TMP/err" "$D/err7"
expect_run "the error names the script line" 0 "*" "" -- grep -q "demo.lua:8: no reminder for D7" "$D/err7"
expect_run "the other new debt still started" 0 "remind" "" -- sqlite3 "$DB" "select journey_state from debts where debt_id = 'D8'"
expect_run "the failed one waits for the next run" 0 "" "" -- sqlite3 "$DB" "select coalesce(journey, '') from debts where debt_id = 'D7'"
cp "$D/demo.bak" "$TREE/strategies/demo.lua"

# Crash safety: a larger portfolio, stopped at named points (core/stopat.h) inside the
# run's batches of 500 (journey steps, the gate, dispatch), killed there with SIGKILL,
# then rerun. While stopped, the store shows exactly the committed batches, so each kill
# provably lands in the middle of the work.
DB2="$D/crash.db"
awk 'BEGIN { print "external_id,debt_id,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip";
  for (i = 1; i <= 3000; i++) printf "C%d,D%d,PA,America/New_York,%d.00,USD,%d,+1617%07d,c%d@example.com,%d Main St,Springfield,01101\n", i, i, 10 + i % 500, i % 90, i, i, i }' >"$D/big.csv"
"$T" --db "$DB2" import accounts "$D/big.csv" >/dev/null 2>&1
RUN2="$T --db $DB2 --scripts $TREE --draft run --date 2026-11-23 --spool $D/spool2"
q2() { sqlite3 "$DB2" "$1"; }
crash_checks() {
    expect_run "$1: integrity" 0 "ok" "" -- sqlite3 "$DB2" "pragma integrity_check"
    expect_run "$1: audit chain" 0 "*" "" -- "$T" --db "$DB2" audit verify
}
if expect_stopped "run in the steps' write-back" run.step@1200 "$D/run.log" $RUN2; then
    expect_eq "run stopped at the 1200th step: two batches of steps stored" 1000 "$(q2 'select count(*) from debts where journey_step = 1')"
    kill_stopped "run killed in the steps' write-back"
fi
crash_checks "killed in the steps' write-back"
expect_eq "killed in the steps' write-back: the batch under way is gone" "1000|1000" "$(q2 'select count(*), count(distinct debt_id) from outbox')"
if expect_stopped "run in the gate" run.gate@700 "$D/run.log" $RUN2; then
    expect_eq "run stopped at the 700th contact judged: every step stored, one batch judged" "3000|500|2500" "$(q2 "select (select count(*) from debts where journey_step = 1), (select count(*) from outbox where status = 'ready'), (select count(*) from outbox where status = 'planned')")"
    kill_stopped "run killed in the gate"
fi
crash_checks "killed in the gate"
expect_eq "killed in the gate: one batch of contacts judged and counted" "500|500" "$(q2 "select (select count(*) from outbox where status = 'ready'), (select count(*) from contacts)")"
if expect_stopped "run in dispatch" run.sent@700 "$D/run.log" $RUN2; then
    expect_eq "run stopped at the 700th message marked sent: one batch marked" 500 "$(q2 "select count(*) from outbox where status = 'sent'")"
    spooled=$(ls "$D/spool2/email" | wc -l | tr -d ' ')
    expect_eq "  ...while at least 700 are spooled" yes "$([ "$spooled" -ge 700 ] && echo yes || echo "no, $spooled")"
    kill_stopped "run killed in dispatch"
fi
crash_checks "killed in dispatch"
expect_eq "killed in dispatch: one batch marked sent" 500 "$(q2 "select count(*) from outbox where status = 'sent'")"
expect_run "rerun after the kills" 0 "*" "*" -- "$T" --db "$DB2" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool2"
cp "$E2E_TMP/err" "$D/rerun.err"
expect_run "  ...says nothing but the takeover of the killed run's lease" 1 "*" "" -- grep -v "taking over the cycle lease of pid [0-9]* on host .*: that process has ended" "$D/rerun.err"
expect_run "every debt started once" 0 "3000|3000" "" -- sqlite3 "$DB2" "select count(*), count(distinct debt_id) from outbox"
expect_run "every email sent" 0 "3000" "" -- sqlite3 "$DB2" "select count(*) from outbox where status = 'sent'"
expect_run "one file per message, none twice" 0 "3000" "" -- sh -c "ls '$D/spool2/email' | wc -l | tr -d ' '"
expect_run "every step counted once" 0 "3000" "" -- sqlite3 "$DB2" "select count(*) from debts where journey_step = 1"
expect_run "one outbox.sent audit record per message" 0 "3000|3000" "" -- sqlite3 "$DB2" "select count(*), count(distinct subject) from audit where action = 'outbox.sent'"
finish
