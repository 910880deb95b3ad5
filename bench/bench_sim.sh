#!/bin/sh
# bench/bench_sim.sh: `tallyman simulate` over a synthetic portfolio (default 20,000 debts x
# 30 days; TM_BENCH_SIM_N and TM_BENCH_SIM_DAYS to change) with the shipped regulations,
# journeys and templates: simulated debt-days per second (the daily cycle, the response model
# and the events fed back) and peak memory. Prints figures; asserts nothing.
set -u
T="${TM_BIN:-./tallyman}"
N="${TM_BENCH_SIM_N:-20000}"
DAYS="${TM_BENCH_SIM_DAYS:-30}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-bench-sim.XXXXXX")
trap 'rm -rf "$W"' EXIT
(echo "N = $N"; cat examples/portfolio/generate.lua) >"$W/gen.lua"
"$T" eval --raw --instr-limit 100000000000 --time-limit 600000 --mem-limit 4294967296 "$W/gen.lua" >"$W/accounts.csv" || exit 0
"$T" --db "$W/b.db" import accounts "$W/accounts.csv" >/dev/null 2>&1
now() { date +%s.%N; }
peak() { # peak RSS in kB of the command, when GNU time is installed
    if [ -x /usr/bin/time ]; then /usr/bin/time -f "%M" -o "$W/rss" "$@"; else "$@"; fi
}
t0=$(now)
peak "$T" --db "$W/b.db" --draft simulate --date 2026-11-23 --days "$DAYS" --strategy scripts/strategies \
    --seed 1 --quiet >"$W/out" 2>&1
t1=$(now)
rss=$(cat "$W/rss" 2>/dev/null || echo "?")
awk -v n="$N" -v d="$DAYS" -v a="$t0" -v b="$t1" -v rss="$rss" 'BEGIN {
    s = b - a
    printf "simulate, one strategy: %d debts x %d days in %.2f s = %.0f debt-days/s, peak RSS %s kB\n", n, d, s, n * d / s, rss }'
grep -E "^(collected|contacts per debt|right-party)" "$W/out" | sed 's/^/  /'
