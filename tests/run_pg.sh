#!/bin/sh
# tests/run_pg.sh: the store's tests on PostgreSQL (`make test-pg`, and a
# part of `make test`). Starts a throw-away cluster (tests/pg/start.sh),
# runs the store's unit tests with TM_TEST_DB_URL naming it (each store a
# schema of its own) and the end-to-end test that does the same work on
# SQLite and PostgreSQL (tests/e2e/test_pg.sh), then stops the cluster and
# removes it. Environment: TM_BIN, TM_BUILD. Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 2
: "${TM_BIN:?TM_BIN must name the tallyman binary}"
: "${TM_BUILD:?TM_BUILD must name the build directory}"
dir=$(mktemp -d -u /tmp/tm-pg.XXXXXX)
trap 'sh tests/pg/stop.sh "$dir"' EXIT
trap 'exit 1' INT TERM # the EXIT trap then stops the cluster
url=$(sh tests/pg/start.sh "$dir") || { echo "PostgreSQL could not be started"; echo "0 passed, 1 failed"; exit 1; }
pass=0
fail=0
part() {
    name=$1
    shift
    out=$("$@" 2>&1)
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 20
        fail=$((fail + 1))
        return
    fi
    printf '%s\n' "$out" | grep -E 'FAIL|:[0-9]+: ' | head -n 20
    echo "$name: $line"
    pass=$((pass + ${line%% passed*}))
    f=${line#*passed, }
    fail=$((fail + ${f%% failed*}))
}
# The unit tests whose stores come from tm_test_store().
for t in test_store test_store_both test_store_govern test_tokens test_people test_audit test_keycheck; do
    part "unit $t" env TM_TEST_DB_URL="$url" "$TM_BUILD/tests/unit/$t"
done
part "e2e test_pg.sh" env TM_TEST_DB_URL="$url" TM_BIN="$TM_BIN" sh tests/e2e/test_pg.sh
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
