#!/bin/sh
# bench/bench_pg.sh (`make bench-pg`): the store on PostgreSQL next to SQLite,
# on this machine: import rows/s, events/s and one day of the daily cycle over
# a synthetic portfolio (TM_BENCH_PG_N debts, default 100,000), each on a
# SQLite file and on a throw-away PostgreSQL cluster on a Unix socket
# (tests/pg/start.sh; fsync off, as a test cluster). Prints figures; asserts
# nothing.
set -u
T="${TM_BIN:-./tallyman}"
N="${TM_BENCH_PG_N:-100000}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-bench-pg.XXXXXX")
P=$(mktemp -d -u /tmp/tm-pg.XXXXXX)
trap 'sh tests/pg/stop.sh "$P"; rm -rf "$W"' EXIT
trap 'exit 1' INT TERM
U=$(sh tests/pg/start.sh "$P") || exit 0
(echo "N = $N"; cat examples/portfolio/generate.lua) >"$W/gen.lua"
"$T" eval --raw --instr-limit 100000000000 --time-limit 600000 --mem-limit 4294967296 "$W/gen.lua" >"$W/accounts.csv" || exit 0
# One payment event for every debt.
awk -F, 'NR > 1 { printf "{\"key\":\"b%d\",\"type\":\"payment\",\"debt_id\":\"%s\",\"at\":\"2026-11-22T10:00:00Z\",\"amount\":\"1.00\"}\n", NR, $2 }' \
    "$W/accounts.csv" >"$W/events.jsonl"
now() { date +%s.%N; }
rate() { awk -v n="$2" -v a="$3" -v b="$4" -v what="$1" 'BEGIN { printf "  %-34s %9.0f /s  (%.2f s)\n", what, n / (b - a), b - a }'; }
# PostgreSQL first: its first import makes the key file both stores use.
for store in postgresql sqlite; do
    if [ "$store" = sqlite ]; then DB="$W/b.db"; else DB="$U"; fi
    S() { "$T" --db "$DB" --key-file "$W/k.key" "$@"; }
    echo "$store ($N debts)"
    a=$(now); S import accounts "$W/accounts.csv" >/dev/null 2>&1; b=$(now)
    rate "import accounts (rows)" "$N" "$a" "$b"
    a=$(now); S event "$W/events.jsonl" >/dev/null 2>&1; b=$(now)
    rate "event (payments)" "$N" "$a" "$b"
    a=$(now); S --draft run --date 2026-11-23 --spool "$W/spool-$store" --quiet >"$W/run.out" 2>&1; b=$(now)
    rate "run, day 1 (debts)" "$N" "$a" "$b"
    grep -E "^time" "$W/run.out" | sed 's/^/    /'
    a=$(now); S audit verify >/dev/null 2>&1; b=$(now)
    rate "audit verify (records)" "$(S audit export 2>/dev/null | wc -l)" "$a" "$b"
done
