#!/bin/sh
# bench/run.sh: runs every benchmark and prints its figures (no assertions).
# Environment: TM_BIN, TM_BUILD (set by `make bench`).
set -u
cd "$(dirname "$0")/.." || exit 1
for b in "$TM_BUILD"/bench/bench_*; do
    [ -x "$b" ] || continue
    case "$b" in *.d) continue ;; esac
    echo "== $(basename "$b")"
    "$b"
done
if [ "${TM_BENCH_LUAJIT:-1}" = 1 ] && make -s LUA=luajit build/luajit/bench/bench_sandbox >/dev/null 2>&1; then
    echo "== bench_sandbox (LuaJIT build)"
    build/luajit/bench/bench_sandbox
fi
echo "== bench_cycle.sh"
sh bench/bench_cycle.sh
echo "== bench_serve.sh"
sh bench/bench_serve.sh
echo "== bench_decisions.sh"
sh bench/bench_decisions.sh
echo "== bench_sim.sh"
sh bench/bench_sim.sh
echo "== bench_growth.sh"
sh bench/bench_growth.sh
