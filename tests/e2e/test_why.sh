#!/bin/sh
# tests/e2e/test_why.sh: `tallyman why DEBT_ID`: the debt's story in time
# order (journey steps, contacts planned, each gate verdict with its rules
# and generation, messages sent, events, payments, promises), as text and
# as JSON lines; bad input refused.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

head -n 41 "$ROOT/examples/portfolio/accounts.csv" >"$D/a.csv"
# The days-past-due journeys kept in examples/ (a library that does not
# change with the shipped one), so the days below stay what they test.
cp -r "$ROOT/scripts" "$D/tree"
rm -rf "$D/tree/strategies"
cp -r "$ROOT/examples/strategies/dpd" "$D/tree/strategies"
S="$T --db $D/s.db --scripts $D/tree" # (temporary paths hold no spaces)
$S import accounts "$D/a.csv" >/dev/null 2>&1
expect_run "two days" 0 "*" "" -- $S --draft run --date 2026-11-23 --days 2 --spool "$D/spool" --quiet
q() { sqlite3 "$D/s.db" "$1"; }
# A day with nothing to do says when the next timers fall due (and how to
# run that day).
$S --draft run --date 2026-11-25 --spool "$D/spool" >"$D/quiet.out" 2>&1
expect_run "a quiet day says when the next timers fall due" 0 "*" "" -- grep -qE '^nothing to do: no new debts, events or timers; the next timers fall due at 2026-11-2[6-9]T[0-9:]+Z \([0-9]+ that day\): run --date 2026-11-2[6-9]$' "$D/quiet.out"
# A debt with a blocked contact, then a promise and a payment on it.
debt=$(q "select debt_id from gate_decisions where allow = 0 order by id limit 1")
cat >"$D/e.jsonl" <<EOF2
{"key":"pr1","type":"promise","debt_id":"$debt","at":"2026-11-25T10:00:00Z","amount":"50.00","due":"2026-12-01"}
{"key":"pay1","type":"payment","debt_id":"$debt","at":"2026-11-25T11:00:00Z","amount":"1234.00"}
EOF2
expect_run "events" 0 "*" "*" -- $S event "$D/e.jsonl"
$S why "$debt" >"$D/why.txt" 2>"$D/err.txt"
expect_eq "why: exit 0" 0 "$?"
check() {
    if grep -qE -- "$2" "$D/why.txt"; then E2E_PASS=$((E2E_PASS + 1)); else
        E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $1: no '$2' in $(head -c 900 "$D/why.txt")"; fi
}
check "the debt and its balance" "^debt $debt, creditor .*: balance [0-9,]+\\.[0-9]{2} USD \\(placed "
check "the journey's first step" '^2026-11-2[0-9]T[0-9:]+Z  journey   [a-z_]+ \(variant [a-z_]+\), start: \(none\) -> '
check "a contact planned" '^2026-11-2[0-9]T[0-9:]+Z  planned   [a-z]+ "[a-z_]+" for 2026-11-2'
check "a blocked verdict with its rule and generation" '^2026-11-2[0-9]T[0-9:]+Z  gate      [a-z]+ blocked by [A-Z-]+/[a-z0-9-]+(, [A-Z-]+/[a-z0-9-]+)*; next allowed [^ ]+ \(decision [0-9]+, generation [0-9a-f]{12}\)'
check "a promise" '^2026-11-25T10:00:00Z  promise   50\.00 USD due 2026-12-01'
check "a payment with thousands separators" '^2026-11-25T11:00:00Z  payment   1,234\.00 USD'
check "the events" '^2026-11-25T11:00:00Z  event     payment'
# Time order.
cut -c1-20 "$D/why.txt" | tail -n +2 >"$D/times"
sort "$D/times" >"$D/sorted"
expect_run "in time order" 0 "" "" -- cmp "$D/times" "$D/sorted"
# As many gate lines as the decision log holds for the debt.
expect_eq "every decision on the debt" "$(q "select count(*) from gate_decisions where debt_id = '$debt'")" "$(grep -c '  gate  ' "$D/why.txt")"

# JSON lines: the same facts.
$S why "$debt" --json >"$D/why.jsonl"
expect_eq "why --json: a line an entry and the debt's" "$(lines_of "$D/why.txt")" "$(lines_of "$D/why.jsonl")"
expect_run "why --json: each line is JSON" 0 "*" "" -- sh -c "jq -e . '$D/why.jsonl' >/dev/null"
expect_run "why --json: the blocked verdict's rules" 0 "*" "" -- sh -c "jq -e 'select(.kind == \"gate\" and .allow == false) | .blocked_by[0]' '$D/why.jsonl' | grep -q /"

# Bad input.
expect_run "why: unknown debt" 1 "" "no debt 'NOPE' in the store" -- $S why NOPE
expect_run "why: no debt given" 2 "" "which debt?" -- $S why
expect_run "why: two debts" 2 "" "one debt at a time" -- $S why A B
expect_run "why: unknown option" 2 "" "unknown option '--bogus'" -- $S why "$debt" --bogus
expect_run "why: no store" 1 "" "no such store (" -- "$T" --db "$D/none.db" why D1
expect_eq "no store was made" 1 "$([ -e "$D/none.db" ] && echo 0 || echo 1)"
finish
