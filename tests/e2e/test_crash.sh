#!/bin/sh
# tests/e2e/test_crash.sh: crash safety. An import and an event run are killed
# with SIGKILL at random points and restarted; afterwards no record is lost
# or duplicated, the audit chain verifies and SQLite's integrity check passes.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/crash.db"
N=60000
E=30000
awk -v n=$N 'BEGIN {
    print "external_id,debt_id,first_name,last_name,state,balance,currency,phone";
    for (i = 1; i <= n; i++)
        printf "C%d,D%d,Name%d,Family%d,NY,%d.%02d,USD,+1212555%04d\n", i % 45000, i, i, i, 10 + i % 900, i % 100, i % 10000;
}' >"$D/big.csv"
awk -v n=$N -v e=$E 'BEGIN {
    for (i = 1; i <= e; i++)
        printf "{\"key\":\"k%d\",\"type\":\"payment\",\"debt_id\":\"D%d\",\"at\":\"2026-11-2%dT10:00:00Z\",\"amount\":\"0.01\"}\n", i, 1 + (i * 7) % n, 1 + int(i * 8 / e);
}' >"$D/events.jsonl"

check_store() {
    expect_run "$1: integrity_check" 0 "ok" "" -- sqlite3 "$DB" "pragma integrity_check"
    expect_run "$1: audit chain verifies" 0 "*" "" -- "$T" --db "$DB" audit verify
    expect_run "$1: no debt twice" 0 "0" "" -- sqlite3 "$DB" "select count(*) - count(distinct debt_id) from debts"
}

kill_at() { # kill_at SECONDS COMMAND...: runs the command and SIGKILLs it after SECONDS
    secs=$1
    shift
    "$@" >/dev/null 2>&1 &
    pid=$!
    sleep "$secs"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

"$T" --db "$DB" import accounts "$D/big.csv" --batch 100000 >/dev/null 2>&1 && rm -f "$DB" "$DB-wal" "$DB-shm"
# Kill points: random within the run (seeded by the clock, printed for a rerun).
rand_delay() { awk -v seed="$(date +%s%N)" -v lo="$1" -v hi="$2" 'BEGIN { srand(seed % 100000); printf "%.2f", lo + rand() * (hi - lo) }'; }
for s in $(rand_delay 0.1 0.5) $(rand_delay 0.4 0.9) $(rand_delay 0.8 1.3); do
    kill_at "$s" "$T" --db "$DB" import accounts "$D/big.csv" --batch 2000
    check_store "import killed after ${s}s"
done
"$T" --db "$DB" import accounts "$D/big.csv" >/dev/null 2>&1
expect_run "import completed: every debt once" 0 "$N" "" -- sqlite3 "$DB" "select count(*) from debts"
check_store "import finished"

for s in $(rand_delay 0.1 0.4) $(rand_delay 0.3 0.7); do
    kill_at "$s" "$T" --db "$DB" event "$D/events.jsonl" --batch 1000
    check_store "events killed after ${s}s"
    expect_run "events killed after ${s}s: payments match applied events" 0 "0" "" -- sqlite3 "$DB" "select (select count(*) from payments) - (select count(*) from events where status = 'applied' and type = 'payment')"
done
"$T" --db "$DB" event "$D/events.jsonl" >/dev/null 2>&1
expect_run "every event recorded once" 0 "$E" "" -- sqlite3 "$DB" "select count(*) from events"
expect_run "every payment applied once" 0 "$E" "" -- sqlite3 "$DB" "select count(*) from payments"
check_store "events finished"
finish
