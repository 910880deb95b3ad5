#!/bin/sh
# tests/e2e/test_crash.sh: crash safety. An import and an event run are stopped at
# named points (core/stopat.h): right after a committed batch, and in the middle of
# a batch not yet committed. While stopped, the store shows exactly the committed
# part of the work (so the kill provably lands mid-work); the process is then killed
# with SIGKILL (it must die of that signal) and restarted. Afterwards no record is
# lost, half-written or duplicated, the audit chain verifies and SQLite's integrity
# check passes. Kills inside the daily run are in test_run.sh.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/crash.db"
N=12000
E=6000
awk -v n=$N 'BEGIN {
    print "external_id,debt_id,first_name,last_name,state,balance,currency,phone";
    for (i = 1; i <= n; i++)
        printf "C%d,D%d,Name%d,Family%d,NY,%d.%02d,USD,+1212555%04d\n", i % 9000, i, i, i, 10 + i % 900, i % 100, i % 10000;
}' >"$D/big.csv"
awk -v n=$N -v e=$E 'BEGIN {
    for (i = 1; i <= e; i++)
        printf "{\"key\":\"k%d\",\"type\":\"payment\",\"debt_id\":\"D%d\",\"at\":\"2026-11-2%dT10:00:00Z\",\"amount\":\"0.01\"}\n", i, 1 + (i * 7) % n, 1 + int(i * 8 / e);
}' >"$D/events.jsonl"

q() { sqlite3 "$DB" "$1"; }

# check_store NAME DEBTS: the store is whole and holds exactly DEBTS debts, each once
# and each with one account.created audit record.
check_store() {
    expect_run "$1: integrity_check" 0 "ok" "" -- sqlite3 "$DB" "pragma integrity_check"
    expect_run "$1: audit chain verifies" 0 "*" "" -- "$T" --db "$DB" audit verify
    expect_run "$1: debts, each once" 0 "$2|$2" "" -- sqlite3 "$DB" "select count(*), count(distinct debt_id) from debts"
    expect_run "$1: one account.created record per debt" 0 "$2|$2" "" -- sqlite3 "$DB" "select count(*), count(distinct subject) from audit where action = 'account.created'"
}

# check_events NAME EVENTS: exactly EVENTS events recorded, each applied once.
check_events() {
    expect_run "$1: events recorded" 0 "$2" "" -- sqlite3 "$DB" "select count(*) from events"
    expect_run "$1: one payment per applied event" 0 "$2|$2" "" -- sqlite3 "$DB" "select (select count(*) from payments), (select count(*) from events where status = 'applied' and type = 'payment')"
}

IMPORT="$T --db $DB import accounts $D/big.csv --batch 2000"

# Inside the second batch (row 3500 of 2000-row batches): one batch is committed.
if expect_stopped "import inside a batch" import.row@3500 "$D/log" $IMPORT; then
    expect_eq "import stopped inside its 2nd batch: the store holds the 1st batch only" 2000 "$(q 'select count(*) from debts')"
    kill_stopped "import killed inside its 2nd batch"
fi
check_store "import killed inside its 2nd batch" 2000

# Right after the second committed batch of a rerun (rows 2001-4000 new).
if expect_stopped "import after a commit" batch.committed@2 "$D/log" $IMPORT; then
    expect_eq "import stopped after its 2nd commit: both batches stored" 4000 "$(q 'select count(*) from debts')"
    kill_stopped "import killed after its 2nd commit"
fi
check_store "import killed after its 2nd commit" 4000

# Deeper into a rerun: row 9100, four batches committed.
if expect_stopped "import deep in a rerun" import.row@9100 "$D/log" $IMPORT; then
    expect_eq "import stopped at row 9100: four batches stored" 8000 "$(q 'select count(*) from debts')"
    kill_stopped "import killed at row 9100"
fi
check_store "import killed at row 9100" 8000

expect_run "import completes after the kills" 0 "*" "*" -- "$T" --db "$DB" import accounts "$D/big.csv"
check_store "import finished" $N

EVENT="$T --db $DB event $D/events.jsonl --batch 1000"
if expect_stopped "events inside a batch" event.row@1500 "$D/log" $EVENT; then
    expect_eq "events stopped inside their 2nd batch: the 1st batch only" 1000 "$(q 'select count(*) from events')"
    kill_stopped "events killed inside their 2nd batch"
fi
check_store "events killed inside their 2nd batch" $N
check_events "events killed inside their 2nd batch" 1000

if expect_stopped "events after a commit" batch.committed@3 "$D/log" $EVENT; then
    expect_eq "events stopped after their 3rd commit" 3000 "$(q 'select count(*) from events')"
    kill_stopped "events killed after their 3rd commit"
fi
check_store "events killed after their 3rd commit" $N
check_events "events killed after their 3rd commit" 3000

expect_run "events complete after the kills" 0 "*" "*" -- "$T" --db "$DB" event "$D/events.jsonl"
check_events "events finished" $E
check_store "events finished" $N
finish
