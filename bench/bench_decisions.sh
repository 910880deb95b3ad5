#!/bin/sh
# bench/bench_decisions.sh: what the decision log costs the store. A week of
# the daily cycle over a synthetic portfolio (TM_BENCH_DECISIONS_N debts,
# default 20,000) keeps every gate decision, allowed and blocked, with the
# request fields it was judged on; the pages of the log's tables and index
# (SQLite's dbstat) over the decisions kept give the bytes a decision takes,
# and so the store's growth per million decisions. The generation's texts
# are kept once per generation and counted apart. Prints figures; asserts
# nothing.
set -u
T="${TM_BIN:-./tallyman}"
N="${TM_BENCH_DECISIONS_N:-20000}"
W=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-bench-decisions.XXXXXX")
trap 'rm -rf "$W"' EXIT
command -v sqlite3 >/dev/null || { echo "store growth per million decisions: (sqlite3 not installed)"; exit 0; }
(echo "N = $N"; cat examples/portfolio/generate.lua) >"$W/gen.lua"
"$T" eval --raw --instr-limit 100000000000 --time-limit 600000 --mem-limit 4294967296 "$W/gen.lua" >"$W/accounts.csv" || exit 0
"$T" --db "$W/b.db" import accounts "$W/accounts.csv" >/dev/null 2>&1
"$T" --db "$W/b.db" run --date 2026-11-23 --days 7 --spool "$W/spool" --quiet >/dev/null 2>&1
sqlite3 "$W/b.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
sqlite3 -separator ' ' "$W/b.db" "
SELECT (SELECT count(*) FROM gate_log), (SELECT sum(allow = 0) FROM gate_log),
       (SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ('gate_log', 'gate_log_debt', 'gate_names')),
       (SELECT coalesce(sum(length(request)), 0) FROM gate_log),
       (SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ('gate_texts', 'gate_gen_files')
           OR name LIKE 'sqlite_autoindex_gate_%');" >"$W/fig"
read -r n blocked bytes req texts <"$W/fig"
awk -v n="$n" -v b="$blocked" -v bytes="$bytes" -v req="$req" -v texts="$texts" -v debts="$N" 'BEGIN {
    if (n == 0) { print "no decisions were made"; exit }
    per = bytes / n
    printf "decision log: %d decisions (%d blocked) over %d debts and 7 days: %.1f bytes a decision in the store (its request fields %.1f)\n", n, b, debts, per, req / n
    printf "store growth per million decisions: %.1f MB\n", per * 1e6 / 1e6
    printf "  (the generation'"'"'s texts, kept once: %.1f kB)\n", texts / 1e3 }'
