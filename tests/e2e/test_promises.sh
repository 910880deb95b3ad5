#!/bin/sh
# tests/e2e/test_promises.sh: promises to pay judged over the days of the
# cycle: paid in full is kept (even before its due date), nothing paid by the
# end of the grace is broken, part paid is partly kept; a promise not kept
# becomes a broken_promise event the promise-to-pay journey follows up, and
# each verdict is audited once, however often a day is rerun.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/p.db"
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip
C1,D1,Ann,Lee,TX,America/Chicago,100.00,USD,20,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20,+16175551002,c2@example.com,2 Main St,Springfield,01101
C3,D3,Cy,Fox,TX,America/Chicago,300.00,USD,20,+16175551003,c3@example.com,3 Main St,Springfield,01101
C4,D4,Di,Moe,TX,America/Chicago,400.00,USD,20,+16175551004,c4@example.com,4 Main St,Springfield,01101
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
activate_set "$DB" "$(cd "$(dirname "$0")/../.." && pwd)/scripts" >/dev/null
cat >"$D/ev.jsonl" <<'EV'
{"key":"pr1","type":"promise","debt_id":"D1","at":"2026-11-23T16:00:00Z","amount":"50.00","due":"2026-11-27"}
{"key":"pr2","type":"promise","debt_id":"D2","at":"2026-11-23T16:00:00Z","amount":"50.00","due":"2026-11-27"}
{"key":"pr3","type":"promise","debt_id":"D3","at":"2026-11-23T16:00:00Z","amount":"50.00","due":"2026-11-27"}
{"key":"pr4","type":"promise","debt_id":"D4","at":"2026-11-23T16:00:00Z","amount":"50.00","due":"2026-12-10"}
{"key":"pay1a","type":"payment","debt_id":"D1","at":"2026-11-24T16:00:00Z","amount":"30.00"}
{"key":"pay1b","type":"payment","debt_id":"D1","at":"2026-11-25T16:00:00Z","amount":"20.00"}
{"key":"pay3","type":"payment","debt_id":"D3","at":"2026-11-26T16:00:00Z","amount":"20.00"}
{"key":"pay3late","type":"payment","debt_id":"D3","at":"2026-11-29T16:00:00Z","amount":"30.00"}
EV
expect_run "8 days with the events fed on their day" 0 "*" "*" -- "$T" --db "$DB" run --date 2026-11-22 --days 8 --events "$D/ev.jsonl" --spool "$D/spool" --quiet
expect_run "two payments that add up keep the promise" 0 "kept" "" -- sqlite3 "$DB" "select p.status from promises p join debts d on d.id = p.debt_id where d.debt_id = 'D1'"
expect_run "nothing paid by the due date: broken" 0 "broken" "" -- sqlite3 "$DB" "select p.status from promises p join debts d on d.id = p.debt_id where d.debt_id = 'D2'"
expect_run "part paid in time (the rest late): partly kept" 0 "partially_kept" "" -- sqlite3 "$DB" "select p.status from promises p join debts d on d.id = p.debt_id where d.debt_id = 'D3'"
expect_run "not yet due: still open" 0 "open" "" -- sqlite3 "$DB" "select p.status from promises p join debts d on d.id = p.debt_id where d.debt_id = 'D4'"
expect_run "broken_promise events, dated the day after the due date" 0 "D2|2026-11-28
D3|2026-11-28" "" -- sqlite3 "$DB" "select d.debt_id, date(e.at, 'unixepoch') from events e join debts d on d.id = e.debt_id where e.type = 'broken_promise' order by 1"
expect_run "the journey followed it up" 0 "D2|promise_watch|broken" "" -- sqlite3 "$DB" "select debt_id, journey, journey_state from debts where debt_id = 'D2'"
expect_run "the follow-up email went out" 0 "sent" "" -- sqlite3 "$DB" "select o.status from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'D2' and o.template = 'broken_promise'"
expect_run "  ...naming the amount and the date promised" 0 "*" "" -- sh -c "grep -l 'payment of 50.00 USD you planned for November 27, 2026' '$D'/spool/email/D2:promise_watch:*.json"
expect_run "verdicts audited" 0 "promise.broken|1
promise.partially_kept|1" "" -- sqlite3 "$DB" "select action, count(*) from audit where action like 'promise.%' group by 1 order by 1"
expect_run "rerunning the days judges nothing twice" 0 "*" "*" -- "$T" --db "$DB" run --date 2026-11-27 --days 3 --rewind --spool "$D/spool" --quiet
expect_run "  ...still one verdict each" 0 "2" "" -- sqlite3 "$DB" "select count(*) from audit where action like 'promise.%'"
expect_run "  ...and one event each" 0 "2" "" -- sqlite3 "$DB" "select count(*) from events where type = 'broken_promise'"
expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
