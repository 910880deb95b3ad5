#!/bin/sh
# bench/bench_growth.sh: how the cost of an import, of events and of the
# onboarding day (the first day of a portfolio, every debt starting) grows
# with the work: the same steps at three sizes spanning 100x (default 10,000,
# 100,000 and 1,000,000 debts; TM_BENCH_GROWTH_SIZES="N1 N2 N3" to change).
# For each step and size: the wall time, the CPU time (user + system, all
# threads), the CPU time per row or debt and peak memory. Cost that stays
# linear shows as a flat "CPU us/unit" column down the sizes.
#
# Prints one "growth:" line per measure (tools/benchmarks.sh reads them) and
# asserts nothing. Needs GNU time (/usr/bin/time) for CPU and memory.
set -u
T="${TM_BIN:-./tallyman}"
SIZES="${TM_BENCH_GROWTH_SIZES:-10000 100000 1000000}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-bench-growth.XXXXXX")
trap 'rm -rf "$W"' EXIT
if [ ! -x /usr/bin/time ]; then
    echo "growth: skipped (GNU time is not installed)"
    exit 0
fi

# measure STEP N UNIT CMD...: runs CMD once and prints its line.
measure() {
    step=$1 n=$2 unit=$3
    shift 3
    /usr/bin/time -f "%e %U %S %M" -o "$W/time" "$@" >"$W/out" 2>&1
    rc=$?
    read -r wall user sys rss <"$W/time" || { echo "growth: $step $n: no timing (exit $rc)"; return; }
    awk -v step="$step" -v n="$n" -v unit="$unit" -v wall="$wall" -v user="$user" -v sys="$sys" -v rss="$rss" \
        -v rc="$rc" 'BEGIN {
        cpu = user + sys
        printf "growth: %-10s %9d %-6s wall %8.2f s  CPU %8.2f s  CPU %7.1f us/%s  %8.0f %s/s of CPU  peak %7d kB%s\n",
               step, n, unit "s", wall, cpu, cpu * 1e6 / n, unit, n / (cpu > 0 ? cpu : 1e-9), unit, rss,
               rc == 0 ? "" : "  (exit " rc ")" }'
}

for n in $SIZES; do
    (echo "N = $n"; cat examples/portfolio/generate.lua) >"$W/gen.lua"
    "$T" eval --raw --instr-limit 100000000000 --time-limit 600000 --mem-limit 4294967296 "$W/gen.lua" \
        >"$W/accounts.csv" || { echo "growth: cannot generate $n accounts"; continue; }
    # Events: one payment for each debt, in time order (a day of payments
    # from the creditor's file), keyed once each.
    awk -F, 'NR > 1 { printf "{\"key\":\"p%d\",\"type\":\"payment\",\"debt_id\":\"%s\",\"at\":\"2026-11-22T%02d:%02d:%02dZ\",\"amount\":\"1.00\"}\n", NR, $2, int(NR / 3600) % 24, int(NR / 60) % 60, NR % 60 }' \
        "$W/accounts.csv" >"$W/events.jsonl"
    rm -f "$W/b.db" "$W/b.db-wal" "$W/b.db-shm" "$W/b.db.key"
    rm -rf "$W/spool"
    measure import "$n" row "$T" --db "$W/b.db" import accounts "$W/accounts.csv"
    cp "$W/b.db" "$W/e.db" && cp "$W/b.db.key" "$W/e.db.key"
    measure event "$n" event "$T" --db "$W/e.db" event "$W/events.jsonl"
    rm -f "$W/e.db" "$W/e.db-wal" "$W/e.db-shm" "$W/e.db.key"
    measure first-day "$n" debt "$T" --db "$W/b.db" --draft run --date 2026-11-23 --spool "$W/spool" --quiet
    grep -E "^messages:" "$W/out" | sed "s/^/  first-day $n: /"
done
