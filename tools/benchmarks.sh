#!/bin/sh
# tools/benchmarks.sh: writes BENCHMARKS.md at the root from the output of
# `make bench`, with the machine, the date, the commit and how to reproduce
# each figure.
#
#   sh tools/benchmarks.sh              runs `make bench` (long: the 1,000,000-debt
#                                       day and the growth runs) and writes BENCHMARKS.md
#   sh tools/benchmarks.sh FILE         writes BENCHMARKS.md from a saved `make bench` output
#
# The output is cut into the sections `bench/run.sh` prints ("== NAME"); each
# goes under its heading (the onboarding day, import and events, growth, the
# gate and decide, the rest) verbatim, and bench_growth.sh's "growth:" lines
# become the growth table. A section missing from the output says so.
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=BENCHMARKS.md
if [ $# -gt 1 ]; then
    echo "usage: sh tools/benchmarks.sh [MAKE_BENCH_OUTPUT]" >&2
    exit 2
fi
if [ $# -eq 1 ]; then
    IN=$1
    [ -r "$IN" ] || { echo "tools/benchmarks.sh: cannot read $IN" >&2; exit 1; }
else
    mkdir -p build
    IN=build/bench.out
    make -s bench >"$IN" 2>&1 || { echo "tools/benchmarks.sh: make bench failed (see $IN)" >&2; exit 1; }
fi

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes)"
fi
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
cores=$(nproc 2>/dev/null || echo "?")
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
os=$(uname -sr)
sqlite=$(pkg-config --modversion sqlite3 2>/dev/null || echo "?")
lua=$(pkg-config --modversion lua5.4 2>/dev/null || echo "?")
when=$(date -u -r "$IN" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || date -u '+%Y-%m-%d %H:%M UTC')
# What else ran: on a shared machine the wall times say more about the others.
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

# section NAME...: the lines of the first of the named sections, without its header.
section() {
    awk -v names=" $* " '
        /^== / { name = substr($0, 4); on = index(names, " " name " ") > 0 && !seen[name]++; next }
        on { print }' "$IN"
}

# fenced TITLE HOW NAME...: a heading, how to reproduce, and the sections' lines.
fenced() {
    title=$1 how=$2
    shift 2
    body=$(section "$@")
    printf '\n## %s\n\nReproduce: %s\n\n' "$title" "$how"
    if [ -n "$body" ]; then
        printf '```\n%s\n```\n' "$body"
    else
        printf '(not in this run of `make bench`: %s)\n' "$*"
    fi
}

{
    printf '# Benchmarks\n\n'
    printf 'Written by `sh tools/benchmarks.sh` from the output of `make bench`; do not edit by hand.\n\n'
    printf '| | |\n|---|---|\n'
    printf '| machine | %s, %s cores, %s, %s |\n' "${cpu:-unknown CPU}" "$cores" "${mem:-? GiB}" "$os"
    printf '| libraries | SQLite %s, Lua %s |\n' "$sqlite" "$lua"
    printf '| date | %s |\n' "$when"
    printf '| commit | %s |\n' "$commit"
    printf '| load | %s (1, 5, 15-minute load averages when this file was written, on %s cores) |\n' "$load" "$cores"
    printf '| reproduce | `make bench > bench.out && sh tools/benchmarks.sh bench.out` (each section names its own command) |\n'
    printf '\nWall times depend on what else the machine runs; the CPU times (user + system,\n'
    printf 'all threads) of the growth table depend much less on it.\n'

    fenced "The onboarding day: the daily cycle's first day" \
        '`sh bench/bench_cycle.sh` (`TM_BENCH_CYCLE_N` debts, default 1,000,000)' bench_cycle.sh
    fenced "Import and events" \
        '`make build/lua54/bench/bench_store && build/lua54/bench/bench_store ./tallyman` (`TM_BENCH_ROWS` rows, default 1,000,000)' \
        bench_store

    printf '\n## How cost grows\n\n'
    printf 'Reproduce: `sh bench/bench_growth.sh` (`TM_BENCH_GROWTH_SIZES`, default "10000 100000 1000000").\n'
    printf 'The same work at three sizes spanning 100x: linear cost shows as a flat CPU-per-unit column.\n'
    printf 'At the smallest size the fixed start-up cost (opening the store, loading and checking the\n'
    printf 'scripts) is a visible part of the per-unit figure.\n\n'
    if grep -q '^growth: [a-z]' "$IN"; then
        printf '| step | size | wall s | CPU s | CPU us per unit | units/s of CPU | peak kB |\n'
        printf '|---|---:|---:|---:|---:|---:|---:|\n'
        sed -n 's/^growth: //p' "$IN" | awk '
            $1 ~ /^(import|event|first-day)$/ && $4 == "wall" {
                printf "| %s | %s %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $5, $8, $11, $13, $18 }'
        rest=$(section bench_growth.sh | grep -v '^growth: [a-z-]* *[0-9]')
        [ -n "$rest" ] && printf '\n```\n%s\n```\n' "$rest"
    else
        printf '(not in this run of `make bench`: bench_growth.sh)\n'
    fi

    fenced "The gate and decide" \
        '`make build/lua54/bench/bench_gate && build/lua54/bench/bench_gate`; `sh bench/bench_decisions.sh`' \
        bench_gate
    body=$(section bench_decisions.sh)
    [ -n "$body" ] && printf '\n```\n%s\n```\n' "$body"

    printf '\n## Everything else `make bench` printed\n\n```\n'
    awk '/^== / { name = substr($0, 4); skip = name ~ /^(bench_cycle\.sh|bench_store|bench_growth\.sh|bench_gate|bench_decisions\.sh)$/ }
         !skip { print }' "$IN"
    printf '```\n'
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
echo "wrote $OUT from $IN"
