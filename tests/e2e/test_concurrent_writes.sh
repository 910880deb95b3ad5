#!/bin/sh
# tests/e2e/test_concurrent_writes.sh: commands that write while a run works.
# `event` and `keys rotate` write the store (and its audit chain) between two
# of the run's transactions; each waits its turn, reads the chain's tail in
# its own transaction, and every one of them finishes: exit 0, the audit
# chain intact, every message spooled once, every event applied once, and
# personal data re-encrypted under the new key version still read by the run.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TREE="$D/tree"
mkdir -p "$TREE/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"
cat >"$TREE/strategies/demo.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo",
  segment = function(d) return true end,
  start = "remind",
  send_window = { "10:00", "18:00" },
  states = {
    remind = { enter = function(j) j:send("email", "early_reminder") end, on = { dispute = "hold" } },
    hold = {},
  },
}
LUA
accounts() { # accounts N FILE: N consumers in Massachusetts, one debt each
    awk -v n="$1" 'BEGIN {
        print "external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip";
        for (i = 1; i <= n; i++)
            printf "C%d,D%d,Name%d,Family%d,MA,America/New_York,%d.00,USD,10,+1617%07d,c%d@example.com,%d Main St,Springfield,01101\n", i, i, i, i, 100 + i, i, i, i;
    }' >"$2"
}
events() { # events PREFIX N FILE: N disputes dated the day before the run
    awk -v p="$1" -v n="$2" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "{\"key\":\"%s%d\",\"type\":\"dispute\",\"debt_id\":\"D%d\",\"at\":\"2026-11-22T12:00:00Z\"}\n", p, i, i;
    }' >"$3"
}
check_store() { # check_store LABEL DB SPOOL DEBTS EVENTS
    expect_run "$1: audit chain intact" 0 "*" "" -- "$T" --db "$2" audit verify
    expect_run "$1: SQLite integrity" 0 "ok" "" -- sqlite3 "$2" "pragma integrity_check"
    expect_run "$1: one message planned per debt" 0 "$4" "" -- sqlite3 "$2" "select count(*) from outbox"
    expect_run "$1: each sent, or stopped by a dispute that came in first" 0 "0" "" -- sqlite3 "$2" "select count(*) from outbox where not (status = 'sent' or blocked_by like '%dispute%')"
    sent=$(sqlite3 "$2" "select count(*) from outbox where status = 'sent'")
    expect_run "$1: one file per message sent ($sent)" 0 "$sent" "" -- sh -c "ls '$3/email' | wc -l | tr -d ' '"
    expect_run "$1: every event applied once" 0 "$5" "" -- sqlite3 "$2" "select count(*) from events where status = 'applied'"
}

# 1. The run stopped between two of its transactions (journeys started and
# audited, the gate not yet run): an event file and a key rotation write in
# between, then the run goes on and appends after them.
DB="$D/a.db"
accounts 40 "$D/a.csv"
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
events ev 5 "$D/ev.jsonl"
if start_stopped run.gate "$D/run1.log" "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool1"; then
    expect_run "event while the run is stopped before the gate: applied" 0 "*" "5 applied" -- "$T" --db "$DB" event "$D/ev.jsonl"
    expect_run "keys rotate while the run is stopped: done" 0 "*" "" -- "$T" --db "$DB" keys rotate
    kill -CONT "$STOPPED_PID"
    wait "$STOPPED_PID"
    rc=$?
    expect_run "the run goes on after them and finishes (exit 0)" 0 "0" "" -- echo "$rc"
    expect_run "  ...and reports no store error" 1 "*" "" -- grep -q "UNIQUE\|tallyman: 2026" "$D/run1.log"
    check_store "stopped before the gate" "$DB" "$D/spool1" 40 5
    expect_run "  ...every message greets its consumer by name (the key file read again after the rotation)" 0 "0" "" -- sh -c "grep -L 'Hello Name' '$D/spool1/email/'* | wc -l | tr -d ' '"
    expect_run "  ...the gate saw the disputes that came in" 0 "5" "" -- sqlite3 "$DB" "select count(*) from outbox where status <> 'sent'"
else
    expect_run "the run stops before the gate" 0 "*" "*" -- false
fi

# 2. The same before dispatch: the messages are rendered and ready; an event
# and a rotation come in; the run sends each message once.
DB="$D/b.db"
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
if start_stopped run.dispatch "$D/run2.log" "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool2"; then
    expect_run "event while the run is stopped before dispatch: applied" 0 "*" "5 applied" -- "$T" --db "$DB" event "$D/ev.jsonl"
    expect_run "keys rotate while the run is stopped before dispatch: done" 0 "*" "" -- "$T" --db "$DB" keys rotate
    kill -CONT "$STOPPED_PID"
    wait "$STOPPED_PID"
    rc=$?
    expect_run "the run sends after them and finishes (exit 0)" 0 "0" "" -- echo "$rc"
    check_store "stopped before dispatch" "$DB" "$D/spool2" 40 5
    expect_run "  ...every message was judged before them and goes out" 0 "40" "" -- sqlite3 "$DB" "select count(*) from outbox where status = 'sent'"
else
    expect_run "the run stops before dispatch" 0 "*" "*" -- false
fi

# 3. No stopping: a run over a few thousand debts, with event files and a
# rotation started while it works. Each waits for the run's current batch
# (the store's busy timeout) and gets in between two batches.
DB="$D/c.db"
accounts 3000 "$D/c.csv"
"$T" --db "$DB" import accounts "$D/c.csv" >/dev/null 2>&1
"$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool3" --workers 1 >"$D/run3.out" 2>"$D/run3.err" &
RUN=$!
sleep 0.2
for k in 1 2 3; do
    events "w${k}_" 20 "$D/ev$k.jsonl"
    expect_run "event file $k during the run: applied" 0 "*" "20 applied" -- "$T" --db "$DB" event "$D/ev$k.jsonl"
done
expect_run "keys rotate during the run: done" 0 "*" "" -- "$T" --db "$DB" keys rotate
wait "$RUN"
rc=$?
expect_run "the run finishes (exit 0)" 0 "0" "" -- echo "$rc"
expect_run "  ...with nothing on stderr" 0 "" "" -- cat "$D/run3.err"
check_store "writes during a run" "$DB" "$D/spool3" 3000 60
expect_run "  ...every message greets its consumer by name" 0 "0" "" -- sh -c "grep -L 'Hello Name' '$D/spool3/email/'* | wc -l | tr -d ' '"
finish
