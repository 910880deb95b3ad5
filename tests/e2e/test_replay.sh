#!/bin/sh
# tests/e2e/test_replay.sh: every decision the cycle makes, allowed and
# blocked, is kept with what it was judged on, and `tallyman decide
# --replay` judges each again with the generation that made it (its texts
# kept in the store, whatever the working tree holds now): all the same on
# an untouched store; a decision changed in the store is named, exit 1.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

head -n 201 "$ROOT/examples/portfolio/accounts.csv" >"$D/a.csv"
cp -r "$ROOT/scripts" "$D/tree"
S="$T --db $D/s.db --scripts $D/tree" # (temporary paths hold no spaces)
$S import accounts "$D/a.csv" >/dev/null 2>&1
expect_run "three days" 0 "*" "" -- $S --draft run --date 2026-11-23 --days 3 --spool "$D/spool" --quiet
# expect_glob NAME RC PATTERN -- CMD...: exit RC and stdout matching the
# shell pattern.
expect_glob() {
    gname=$1 grc=$2 gpat=$3
    shift 4
    expect_run "$gname" "$grc" "*" "*" -- "$@"
    case "$(cat "$E2E_TMP/out")" in $gpat) ;; *)
        E2E_FAIL=$((E2E_FAIL + 1)); E2E_PASS=$((E2E_PASS - 1))
        echo "FAIL $gname: stdout does not match '$gpat': $(head -c 400 "$E2E_TMP/out")" ;; esac
}
q() { sqlite3 "$D/s.db" "$1"; }
planned=$(q "select count(*) from outbox where status <> 'skipped' or blocked_by is not null")
expect_run "blocked contacts are kept too" 0 "*" "" -- sh -c "test $(q 'select count(*) from gate_log where allow = 0') -gt 0"
expect_run "allowed contacts are kept" 0 "*" "" -- sh -c "test $(q 'select count(*) from gate_log where allow = 1') -gt 0"
expect_eq "each kept decision names its debt" 0 "$(q 'select count(*) from gate_log where debt is null')"
expect_eq "each blocked decision names its rules" 0 "$(q 'select count(*) from gate_decisions where allow = 0 and blocked_by is null')"
expect_eq "the generation that judged them is kept whole" 1 "$(q 'select count(distinct set_hash) from gate_gen_files')"
expect_eq "its hash is the one the decisions name" "$(q 'select distinct set_hash from gate_gen_files')" "$(q 'select distinct scripts_hash from gate_decisions')"
n=$(q 'select count(*) from gate_log')
expect_run "replay: every decision the same" 0 "$n decisions judged again: $n the same, 0 different, 0 could not be judged (1 generation loaded from the store)" "" -- $S decide --replay

# The working tree changes (a regulation removed): the replay still uses
# the generation that made the decisions.
rm "$D/tree/regulations/states/ny.lua"
expect_glob "replay ignores the working tree" 0 "$n decisions judged again: $n the same*" -- $S decide --replay

# One debt's decisions, and --verbose.
debt=$(q "select debt_id from gate_decisions where allow = 0 limit 1")
m=$(q "select count(*) from gate_decisions where debt_id = '$debt'")
expect_glob "replay --debt: that debt's only" 0 "*$m decisions judged again: $m the same*" -- $S decide --replay --debt "$debt" --verbose
$S decide --replay --debt "$debt" --verbose >"$D/v.txt"
expect_eq "--verbose: a line a decision" $((m + 1)) "$(lines_of "$D/v.txt")"

# A kept decision changed by hand: named, exit 1.
id=$(q "select id from gate_log where allow = 0 limit 1")
q "update gate_log set allow = 1, next = null, rules = null where id = $id"
expect_glob "a changed decision is named" 1 "decision $id (debt *): recorded allowed; judged again blocked by *1 different*" -- $S decide --replay
# ...and the audit chain no longer matches the batch that held it.
expect_run "audit verify names the changed batch" 1 "" "gate.decisions" -- $S audit verify
q "update gate_log set request = x'01' where id = $id"
expect_glob "a damaged request cannot be judged" 1 "decision $id *cannot be judged again: the recorded request cannot be read*" -- $S decide --replay --from "$id" --to "$id"

# Bad input.
expect_run "replay: unknown debt" 1 "" "no debt 'NOPE' in the store" -- $S decide --replay --debt NOPE
expect_run "replay: bad --from" 2 "" "--from: not a decision id" -- $S decide --replay --from x
expect_run "replay: unknown option" 2 "" "--replay takes" -- $S decide --replay --bogus
expect_run "replay: no store" 1 "" "no such store (" -- "$T" --db "$D/none.db" decide --replay
expect_eq "no store was made" 1 "$([ -e "$D/none.db" ] && echo 0 || echo 1)"
finish
