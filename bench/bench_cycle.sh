#!/bin/sh
# bench/bench_cycle.sh: one day of the daily cycle over a synthetic portfolio
# (default 1,000,000 debts, the issue's target of a day in under 60 s; TM_BENCH_CYCLE_N to change), with the shipped
# regulations, journeys and templates (the working tree, run as a draft: a
# benchmark has no second person to approve a set): debts per second and peak memory.
# Prints figures; asserts nothing.
set -u
T="${TM_BIN:-./tallyman}"
N="${TM_BENCH_CYCLE_N:-1000000}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-bench-cycle.XXXXXX")
trap 'rm -rf "$W"' EXIT
(echo "N = $N"; cat examples/portfolio/generate.lua) >"$W/gen.lua"
"$T" eval --raw --instr-limit 100000000000 --time-limit 600000 --mem-limit 4294967296 "$W/gen.lua" >"$W/accounts.csv" || exit 0
"$T" --db "$W/b.db" import accounts "$W/accounts.csv" >/dev/null 2>&1
now() { date +%s.%N; }
peak() { # peak RSS in kB and CPU use of the command, when GNU time is installed
    if [ -x /usr/bin/time ]; then /usr/bin/time -f "%M %P" -o "$W/rss" "$@"; else "$@"; fi
}
t0=$(now)
peak "$T" --db "$W/b.db" --draft run --date 2026-11-23 --spool "$W/spool" --quiet >"$W/out" 2>&1
t1=$(now)
rss=$(cut -d' ' -f1 "$W/rss" 2>/dev/null || echo "?"); cpu=$(cut -d' ' -f2 "$W/rss" 2>/dev/null || echo "?")
awk -v n="$N" -v a="$t0" -v b="$t1" -v rss="$rss" -v cpu="$cpu" 'BEGIN {
    s = b - a
    printf "daily cycle, day 1 (every debt starts): %d debts in %.2f s = %.0f debts/s, peak RSS %s kB, CPU %s (200%% = both cores)\n", n, s, n / s, rss, cpu }'
grep -E "^contacts|^no usable|^messages|^time" "$W/out" | sed 's/^/  /'
# Every message's recipient is resolved on the workers from the decrypted
# contact points and sealed (encrypted) with the message in the outbox.
with=$(find "$W/spool" -name '*.json' -exec cat {} + | grep -o '"to":"' | wc -l | tr -d ' ')
echo "  recipients resolved and encrypted in the outbox: $with messages with a recipient"
t0=$(now)
peak "$T" --db "$W/b.db" --draft run --date 2026-11-24 --days 6 --spool "$W/spool" --quiet >"$W/out" 2>&1
t1=$(now)
rss=$(cut -d' ' -f1 "$W/rss" 2>/dev/null || echo "?"); cpu=$(cut -d' ' -f2 "$W/rss" 2>/dev/null || echo "?")
awk -v n="$N" -v a="$t0" -v b="$t1" -v rss="$rss" -v cpu="$cpu" 'BEGIN {
    s = b - a
    printf "daily cycle, days 2-7 (timers, events, gate, dispatch): %.2f s for 6 days = %.1f s a day, %.0f debt-days/s, peak RSS %s kB, CPU %s\n", s, s / 6, n * 6 / s, rss, cpu }'
grep -E "^contacts|^messages|^time" "$W/out" | sed 's/^/  /'
