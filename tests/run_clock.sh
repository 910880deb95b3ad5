#!/bin/sh
# tests/run_clock.sh: the whole suite (tests/run_all.sh) with the clock moved, run by
# `make test-clock`: once a year ahead and once a year back, through libfaketime
# (Debian's faketime package), so that no test depends on today's date.
#
# Before each run it checks that the moved clock really reaches the programs the
# tests run: date(1), SQLite's own clock and tallyman's (the time an import writes
# into the audit log). A clock that did not move fails the run rather than letting
# it pass on the real date.
# Environment: as tests/run_all.sh (TM_BIN, TM_BUILD, TM_LUAJIT_SUITE).
# Output: each run's parts, its total as "== clock OFFSET: N passed, N failed", then
# the combined "N passed, N failed"; the exit code is 1 if anything failed.
set -u
cd "$(dirname "$0")/.." || exit 2
: "${TM_BIN:?TM_BIN must name the tallyman binary}"
if ! command -v faketime >/dev/null 2>&1; then
    echo "tests/run_clock.sh: faketime is not installed (Debian package faketime; tools/deps.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-clock.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
TOTAL_PASS=0
TOTAL_FAIL=0

# clock_moved OFFSET_DAYS: 0 when date(1), SQLite and tallyman all read a clock moved by
# OFFSET_DAYS (within an hour of it); prints what each read otherwise.
clock_moved() {
    want=$(( $(date +%s) + $1 * 86400 ))
    spec=$(printf '%+dd' "$1")
    ok=0
    got_date=$(faketime -m -f "$spec" date +%s)
    got_sqlite=$(faketime -m -f "$spec" sqlite3 :memory: "select cast(strftime('%s', 'now') as integer)")
    rm -f "$WORK/probe.db" "$WORK/probe.db.key"
    printf 'external_id,debt_id,state,balance,currency\nC1,D1,MA,10.00,USD\n' >"$WORK/probe.csv"
    faketime -m -f "$spec" "$TM_BIN" --db "$WORK/probe.db" import accounts "$WORK/probe.csv" >/dev/null 2>&1
    got_tm=$(sqlite3 "$WORK/probe.db" "select max(at) from audit" 2>/dev/null)
    for what in "date:$got_date" "sqlite3:$got_sqlite" "tallyman:$got_tm"; do
        v=${what#*:}
        case "$v" in '' | *[!0-9]*) v=0 ;; esac
        d=$((v - want))
        if [ "$d" -gt 3600 ] || [ "$d" -lt -3600 ]; then
            echo "== clock $spec: ${what%%:*} read $v, not about $want: libfaketime did not take effect"
            ok=1
        fi
    done
    return $ok
}

for days in 365 -365; do
    spec=$(printf '%+dd' "$days")
    if ! clock_moved "$days"; then
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
        continue
    fi
    # -m: the multi-threaded libfaketime, since the workers of `tallyman run` read clocks.
    faketime -m -f "$spec" sh tests/run_all.sh >"$WORK/run.log" 2>&1
    rc=$?
    sed '$d' "$WORK/run.log"
    last=$(tail -n 1 "$WORK/run.log")
    p=$(printf '%s' "$last" | sed -n -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p')
    f=$(printf '%s' "$last" | sed -n -E 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "== clock $spec: no result line (exit $rc): $last"
        p=0
        f=1
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "== clock $spec: exit $rc with no failure counted"
        f=1
    fi
    echo "== clock $spec: $p passed, $f failed"
    TOTAL_PASS=$((TOTAL_PASS + p))
    TOTAL_FAIL=$((TOTAL_FAIL + f))
done

echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
