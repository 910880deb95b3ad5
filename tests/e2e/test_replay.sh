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

# Decisions that turn on the request's optional facts (dialer, line,
# consumer.attorney, debt.owner, consumer.language, consumer.requests,
# history[].required_by_law and purpose, consent.more_calls_at, debt.notices
# and default_date), recorded by decide --record, each beside its twin
# without the fact: the verdicts differ, and every one is judged the same
# again, so each fact was kept.
N="2026-11-23T15:00:00Z"
cat >"$D/facts.jsonl" <<EOF
{"id":"dial-manual","now":"$N","channel":"call","dialer":"manual","line":"cell","consumer":{"state":"NY","timezones":["America/New_York"]},"debt":{"id":"F1"}}
{"id":"dial-absent","now":"$N","channel":"call","line":"cell","consumer":{"state":"NY","timezones":["America/New_York"]},"debt":{"id":"F1"}}
{"id":"att-consented","now":"$N","channel":"call","dialer":"manual","consumer":{"state":"TX","attorney":{"since":"2026-10-01","consented":true}},"debt":{"id":"F2"}}
{"id":"att-plain","now":"$N","channel":"call","dialer":"manual","consumer":{"state":"TX","attorney":{"since":"2026-10-01"}},"debt":{"id":"F2"}}
{"id":"owner-creditor","now":"$N","channel":"letter","consumer":{"state":"TX"},"debt":{"id":"F3","owner":"original_creditor","time_barred":true},"message":{"threatens_suit":true}}
{"id":"owner-absent","now":"$N","channel":"letter","consumer":{"state":"TX"},"debt":{"id":"F3","time_barred":true},"message":{"threatens_suit":true}}
{"id":"required-by-law","now":"$N","channel":"letter","consumer":{"state":"NY","city":"New York","language":"es"},"debt":{"id":"F4","notices":{"validation":"2026-11-21"},"default_date":"2026-01-05"},"history":[{"channel":"letter","at":"2026-11-20T15:00:00Z","outcome":"delivered","required_by_law":true,"debt":"F4"},{"channel":"letter","at":"2026-11-21T15:00:00Z","outcome":"delivered","required_by_law":true,"purpose":"validation_notice","debt":"F4"}]}
{"id":"not-said","now":"$N","channel":"letter","consumer":{"state":"NY","city":"New York","language":"en"},"debt":{"id":"F4"},"history":[{"channel":"letter","at":"2026-11-20T15:00:00Z","outcome":"delivered","debt":"F4"},{"channel":"letter","at":"2026-11-21T15:00:00Z","outcome":"delivered","debt":"F4"}]}
{"id":"no-calls-at","now":"$N","channel":"call","dialer":"manual","consumer":{"state":"TX","consent":{"more_calls_at":"2026-11-20T10:00:00Z"},"requests":[{"type":"no_calls_at","at":"2026-11-01T10:00:00Z","form":"written","from":"08:00","to":"12:00"}]},"debt":{"id":"F5"}}
{"id":"no-requests","now":"$N","channel":"call","dialer":"manual","consumer":{"state":"TX"},"debt":{"id":"F5"}}
{"id":"nothing-given","now":"$N","channel":"call","consumer":{"state":"NY","timezones":["America/New_York"]},"debt":{"id":"F6"},"history":[{"channel":"call","at":"2026-11-20T15:00:00Z","outcome":"voicemail","debt":"F6"}]}
EOF
first=$(( $(q 'select max(id) from gate_log') + 1 ))
R="$T --db $D/s.db --scripts $ROOT/scripts"
expect_run "decide --record: the facts" 0 "*" "" -- $R --draft decide --record "$D/facts.jsonl"
expect_eq "the facts change the verdicts" "1,0,1,0,0,0,1,0,0,1,0" "$(q "select group_concat(allow) from (select allow from gate_log where id >= $first order by id)")"
expect_eq "  ...or the rules that block" "US-FED/time-barred-suit-threat" "$(q "select blocked_by from gate_decisions where id = $((first + 4))")"
expect_run "replay: the facts judged the same" 0 "11 decisions judged again: 11 the same, 0 different, 0 could not be judged (1 generation loaded from the store)" "" -- $R decide --replay --from "$first"
# A row kept by an older tallyman (encoding version 1: without the facts)
# is still read, what it lacks not given: nothing-given, written again in
# version 1, is still blocked for an autodialed call (had the dialer read
# as manual, it would be allowed).
last=$((first + 10))
q "update gate_log set request = x'01' || substr(request, 2, length(request) - 2) where id = $last and hex(substr(request, -1)) = '00'"
expect_eq "  (the row is now in version 1)" "01" "$(q "select hex(substr(request, 1, 1)) from gate_log where id = $last")"
expect_run "replay: a version 1 row judged the same" 0 "1 decisions judged again: 1 the same, 0 different, 0 could not be judged (1 generation loaded from the store)" "" -- $R decide --replay --from "$last"
# A row changed by hand: the dialer's request in place of dial-manual's.
q "update gate_log set request = (select request from gate_log where id = $((first + 1))) where id = $first"
expect_glob "a row changed by hand is still named" 1 "decision $first (debt F1, call at 2026-11-23T15:00:00Z): recorded allowed; judged again blocked by US-FED-ALL/tcpa-autodialed-call*9 the same, 1 different*" -- $R decide --replay --from "$first" --to "$((first + 9))"

# Bad input.
expect_run "replay: unknown debt" 1 "" "no debt 'NOPE' in the store" -- $S decide --replay --debt NOPE
expect_run "replay: bad --from" 2 "" "--from: not a decision id" -- $S decide --replay --from x
expect_run "replay: unknown option" 2 "" "--replay takes" -- $S decide --replay --bogus
expect_run "replay: no store" 1 "" "no such store (" -- "$T" --db "$D/none.db" decide --replay
expect_eq "no store was made" 1 "$([ -e "$D/none.db" ] && echo 0 || echo 1)"
finish
