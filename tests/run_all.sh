#!/bin/sh
# tests/run_all.sh: the whole suite, run by `make test`.
#
# Runs every part and adds up their "N passed, N failed" lines:
#   the layer rule and the script API reference (tools/),
#   C unit tests (one binary per module), end-to-end CLI tests (tests/e2e/*.sh),
#   the hostile-script corpus through `tallyman eval`, the Lua specs through
#   `tallyman test`, the store's tests on a throw-away PostgreSQL
#   (tests/run_pg.sh), then all of it again on a LuaJIT build (TM_LUAJIT_SUITE=1).
# Environment: TM_BIN (the tallyman binary), TM_BUILD (its build directory).
# The last line is "N passed, N failed"; the exit code is 1 if anything failed.
set -u
cd "$(dirname "$0")/.." || exit 2
: "${TM_BIN:?TM_BIN must name the tallyman binary}"
: "${TM_BUILD:?TM_BUILD must name the build directory}"
TOTAL_PASS=0
TOTAL_FAIL=0
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-tests.XXXXXX")
trap 'rm -rf "$LOG_DIR"' EXIT

# run_part NAME COMMAND...: runs a part, shows its failures, adds its counts.
run_part() {
    name=$1
    shift
    log="$LOG_DIR/part.log"
    "$@" >"$log" 2>&1
    rc=$?
    line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(printf '%s' "$line" | sed -E 's/^([A-Za-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/')
    f=$(printf '%s' "$line" | sed -E 's/^([A-Za-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/')
    if [ -z "$line" ]; then
        p=0
        f=1
        echo "== $name: no result line (exit $rc)"
        tail -n 20 "$log"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "== $name: exit $rc with no failure counted"
        tail -n 20 "$log"
    else
        echo "== $name: $p passed, $f failed"
        if [ "$f" -ne 0 ]; then
            grep -E 'FAIL|Error|error|:[0-9]+:' "$log" | head -n 40
        fi
    fi
    TOTAL_PASS=$((TOTAL_PASS + p))
    TOTAL_FAIL=$((TOTAL_FAIL + f))
}

run_suite() {
    bin=$1
    build=$2
    tag=$3
    for t in "$build"/tests/unit/test_* "$build"/tests/sandbox/test_*; do
        [ -x "$t" ] || continue
        case "$t" in *.d|*.o) continue ;; esac
        run_part "$tag unit $(basename "$t")" env TM_BIN="$bin" TM_TEST_TIMEOUT=900 "$t"
    done
    run_part "$tag hostile corpus" sh tests/sandbox/run_hostile.sh "$bin"
    for t in tests/e2e/test_*.sh; do
        [ -f "$t" ] || continue
        run_part "$tag e2e $(basename "$t")" env TM_BIN="$bin" sh "$t"
    done
    run_part "$tag lua specs" "$bin" test --require-specs
}

run_part "layers (tools/check_layers.sh)" sh tools/check_layers.sh
run_part "script API reference (tools/luadoc.sh --check)" sh tools/luadoc.sh --check
run_suite "$TM_BIN" "$TM_BUILD" "lua5.4"
# The store on PostgreSQL: its unit tests and the same work done on both stores.
run_part "postgresql (tests/run_pg.sh)" env TM_BIN="$TM_BIN" TM_BUILD="$TM_BUILD" sh tests/run_pg.sh

if [ "${TM_LUAJIT_SUITE:-}" = 1 ]; then
    if make -s LUA=luajit test-unit >"$LOG_DIR/lj.log" 2>&1; then
        LJ_BUILD="$(pwd)/build/luajit"
        run_suite "$LJ_BUILD/tallyman" "$LJ_BUILD" "luajit"
    else
        echo "== luajit build failed"
        tail -n 30 "$LOG_DIR/lj.log"
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
    fi
fi

echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
