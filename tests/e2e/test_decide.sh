#!/bin/sh
# tests/e2e/test_decide.sh: `tallyman decide`, `test` and `lint` through the CLI.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"

# --- decide on the shipped regulations -------------------------------------
cat >"$D/req.jsonl" <<'JSON'
{"id":"ok","now":"2026-11-23T15:00:00Z","channel":"call","dialer":"manual","consumer":{"state":"NY","timezones":["America/New_York"]},"debt":{"id":"D1"}}
{"id":"early","now":"2026-11-23T12:59:59Z","channel":"call","dialer":"manual","consumer":{"state":"NY","timezones":["America/New_York"]}}

{"id":"cease","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY","flags":["cease"]}}
not json at all
{"now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY"}}
{"id":"zz","channel":"call","consumer":{"state":"ZZ"}}
{"id":"tz","channel":"call","consumer":{"state":"NY","timezones":["Mars/Olympus"]}}
{"id":"date","now":"2026-02-30T10:00:00Z","channel":"call","consumer":{"state":"NY"}}
{"id":"chan","channel":"fax","consumer":{"state":"NY"}}
{"id":"flag","channel":"call","consumer":{"state":"NY","flags":["vip"]}}
{"id":"future","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY"},"history":[{"channel":"call","at":"2026-11-24T15:00:00Z"}]}
{"id":7,"now":"2026-11-23T15:00:00Z","channel":"email","consumer":{"state":"NY","timezones":["America/New_York"],"consent":{"email":true}}}
JSON
"$T" decide "$D/req.jsonl" >"$D/out.jsonl" 2>"$D/err.txt"
rc=$?
expect_run "decide exits 1 when a line had an error" 1 "*" "*" -- sh -c "exit $rc"
expect_run "one output line per request line" 0 "12" "" -- sh -c "wc -l <'$D/out.jsonl' | tr -d ' '"
line() { sed -n "${1}p" "$D/out.jsonl"; }
has() { case "$(line "$1")" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
check_line() {
    name=$1 n=$2 needle=$3
    if has "$n" "$needle"; then E2E_PASS=$((E2E_PASS + 1)); else
        E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $name: line $n lacks $needle: $(line "$n")"; fi
}
check_line "allowed" 1 '"id":"ok","allow":true,"blocked_by":[]'
check_line "scripts hash" 1 '"scripts":"'
check_line "blocked with citation" 2 '"rule":"US-FED/inconvenient-time","cite":"12 CFR 1006.6(b)(1)(i); 15 U.S.C. 1692c(a)(1)"'
check_line "next allowed" 2 '"next_allowed_at":"2026-11-23T13:00:00Z","requires"'
check_line "cease never" 3 '"next_allowed_at":null'
check_line "bad json" 4 '{"line":5,"id":null,"error":"not valid JSON'
check_line "missing id" 5 '"error":"id: is required'
check_line "unknown state" 6 '"id":"zz","error":"consumer.state: unknown state'
check_line "unknown zone" 7 '"error":"consumer.timezones[0]: unknown time zone'
check_line "impossible date" 8 '"id":"date","error":"now:'
check_line "unknown channel" 9 '"error":"channel: unknown value'
check_line "unknown flag" 10 '"error":"consumer.flags[0]: unknown flag'
check_line "history in the future" 11 '"error":"history[0].at: is in the future'
check_line "numeric id, requires" 12 '"id":7,"allow":true'
check_line "requires optout notice" 12 '"requires":["optout_notice"]'

expect_run "decide from stdin" 0 "*" "" -- sh -c "head -n 1 '$D/req.jsonl' | '$T' decide"
expect_run "decide --help" 0 "*" "" -- "$T" decide --help
expect_run "decide missing file" 1 "*" "cannot open" -- "$T" decide "$D/nope.jsonl"

# --- a compliance officer's own folder --------------------------------------
mkdir -p "$D/mine/regulations"
cat >"$D/mine/regulations/house.lua" <<'LUA'
return regulation {
    id = "HOUSE",
    rules = {
        { id = "no-sundays", cite = "House policy 1", days = { "sun" } },
        { id = "two-a-week", cite = "House policy 2", channels = { "call" },
          cap = { count = 2, days = 7, of = { "call" } } },
    },
}
LUA
cat >"$D/mine/regulations/house_spec.lua" <<'LUA'
local r = { channel = "call", consumer = { state = "NY", timezones = { "America/New_York" } } }
describe("house", function()
    it("blocks Sunday", function()
        r.now = "2026-11-22T15:00:00Z"
        assert_blocked(decide(r), "HOUSE/no-sundays")
    end)
    it("is deliberately wrong", function()
        r.now = "2026-11-23T15:00:00Z"
        assert_blocked(decide(r), "HOUSE/no-sundays")
    end)
end)
LUA
expect_run "test on own folder" 1 "*" "*" -- "$T" test "$D/mine"
"$T" test "$D/mine" >"$D/t.out" 2>&1
expect_run "test reports file:line" 0 "*" "" -- grep -q "house_spec.lua:9: expected the contact to be blocked" "$D/t.out"
expect_run "test summary line" 0 "1 passed, 1 failed" "" -- tail -n 1 "$D/t.out"
expect_run "lint clean folder" 0 "" "" -- "$T" lint "$D/mine"

# --- lint and fail-closed on broken rules -----------------------------------
mkdir -p "$D/broken/regulations"
cat >"$D/broken/regulations/bad.lua" <<'LUA'
return regulation {
    id = "BAD",
    rules = {
        { id = "no-cite", channels = { "call" }, block = true },
        { id = "typo", cite = "X 1", chanels = { "sms" }, block = true },
        { id = "throws", cite = "X 2", check = function(c) error("boom") end },
    },
}
LUA
"$T" lint "$D/broken" >"$D/lint.out" 2>&1
expect_run "lint exit 1" 1 "*" "*" -- "$T" lint "$D/broken"
cp "$D/mine/regulations/house.lua" "$D/broken/regulations/good.lua"
expect_run "lint one broken file in its tree: exit 1" 1 "*" "" -- "$T" lint "$D/broken/regulations/bad.lua"
expect_run "lint one broken file in its tree: names it" 0 "*" "" -- sh -c "'$T' lint '$D/broken/regulations/bad.lua' | grep -q 'bad.lua:4:'"
expect_run "lint one good file beside a broken one" 0 "" "" -- "$T" lint "$D/broken/regulations/good.lua"
expect_run "lint a shipped file that requires a module" 0 "" "" -- "$T" lint scripts/regulations/time_barred.lua
expect_run "lint names the missing citation" 0 "*" "" -- grep -q "bad.lua:4: rule 'no-cite' has no citation" "$D/lint.out"
expect_run "lint names the unknown field" 0 "*" "" -- grep -q "bad.lua:5: rule 'typo': unknown field 'chanels'" "$D/lint.out"
echo '{"id":"x","now":"2026-11-23T15:00:00Z","channel":"letter","consumer":{"state":"NY"}}' >"$D/one.jsonl"
# A set with a rule that does not load is refused whole: nothing is decided
# with part of a regulation missing.
expect_run "a set with a broken rule is refused" 1 "" "bad.lua:5: rule 'typo': unknown field 'chanels'" -- "$T" decide --scripts "$D/broken" "$D/one.jsonl"
mkdir -p "$D/throws/regulations"
cat >"$D/throws/regulations/bad.lua" <<'LUA'
return regulation {
    id = "BAD",
    rules = {
        { id = "throws", cite = "X 2", check = function(c) error("boom") end },
    },
}
LUA
"$T" decide --scripts "$D/throws" "$D/one.jsonl" >"$D/fc.out" 2>"$D/fc.err"
expect_run "throwing check fails closed" 0 "*" "" -- grep -q '"rule":"BAD/throws".*rule failed: .*boom' "$D/fc.out"
expect_run "fail closed is never allowed" 0 "*" "" -- grep -q '"allow":false' "$D/fc.out"

# A check that fails (a script error, a limit) still blocks, failing closed,
# but the answer is not the rule's: decide exits 1, the reason names the
# script and line, and each failure is told once on stderr.
mkdir -p "$D/fails/regulations"
cat >"$D/fails/regulations/house.lua" <<'LUA'
return regulation {
    id = "HOUSE",
    rules = {
        { id = "throws", cite = "House policy 1", channels = { "letter" },
          check = function(c) error("boom") end },
        { id = "spins", cite = "House policy 2", channels = { "email" },
          check = function(c)
              while true do end
          end },
    },
}
LUA
printf '%s\n' '{"id":"a","now":"2026-11-23T15:00:00Z","channel":"letter","consumer":{"state":"NY"}}' \
    '{"id":"b","now":"2026-11-23T15:00:00Z","channel":"letter","consumer":{"state":"NY"}}' \
    '{"id":"c","now":"2026-11-23T15:00:00Z","channel":"email","consumer":{"state":"NY","consent":{"email":true}}}' >"$D/three.jsonl"
"$T" decide --scripts "$D/fails" "$D/three.jsonl" >"$D/rf.out" 2>"$D/rf.err"
expect_run "a rule that failed: decide exits 1" 1 "*" "*" -- sh -c "exit $?"
expect_run "  ...every request still answered" 0 "3" "" -- sh -c "wc -l <'$D/rf.out' | tr -d ' '"
expect_run "  ...blocked, with the rule, its citation and where it failed" 0 "*" "" -- grep -q '"rule":"HOUSE/throws","cite":"House policy 1","reason":"rule failed: '"$D"'/fails/regulations/house.lua:5: boom","next_allowed_at":null,"failed":true' "$D/rf.out"
expect_run "  ...a limit names the script and line too" 0 "*" "" -- grep -q '"rule":"HOUSE/spins".*"reason":"rule failed: '"$D"'/fails/regulations/house.lua:8: instruction limit exceeded".*"failed":true' "$D/rf.out"
expect_run "  ...each failure told once on stderr" 0 "2" "" -- sh -c "grep -c '^tallyman: rule HOUSE/' '$D/rf.err'"
expect_run "  ...with how many requests it touched" 0 "*" "" -- grep -q "tallyman: rule HOUSE/throws (House policy 1) failed for 2 requests: $D/fails/regulations/house.lua:5: boom" "$D/rf.err"
expect_run "a request no failing rule applies to: exit 0" 0 "*" "" -- sh -c "echo '{\"id\":\"d\",\"now\":\"2026-11-23T15:00:00Z\",\"channel\":\"call\",\"consumer\":{\"state\":\"NY\"}}' | '$T' decide --scripts '$D/fails'"

printf 'return regulation { id = "S", rules = { { id = "x", cite = "y", block = true }\n' >"$D/broken/regulations/syntax.lua"
expect_run "lint fails on a syntax error" 1 "*" "" -- "$T" lint "$D/broken"
cp "$E2E_TMP/out" "$D/lint2.out"
expect_run "  ...naming its file and line" 0 "*" "" -- grep -q "syntax.lua:2: '}' expected" "$D/lint2.out"
expect_run "decide refuses a set that does not compile" 1 "" "syntax.lua:2:" -- "$T" decide --scripts "$D/broken" "$D/one.jsonl"

# --- --threads: the same lines, errors, summary and failures as one thread ---
# Many lines (batches of 2048 go to the workers), with bad ones among them.
awk 'BEGIN {
    split("NY CA TX MA WA FL", st, " "); split("call sms email letter", ch, " ");
    for (i = 1; i <= 6000; i++) {
        if (i % 997 == 0) { print "not json"; continue }
        if (i % 1499 == 0) { printf "{\"id\":\"z%d\",\"channel\":\"call\",\"consumer\":{\"state\":\"ZZ\"}}\n", i; continue }
        printf "{\"id\":\"t%d\",\"now\":\"2026-11-2%dT%02d:%02d:00Z\",\"channel\":\"%s\",\"consumer\":{\"state\":\"%s\",\"consent\":{\"email\":true}},\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-20T15:00:00Z\",\"outcome\":\"conversation\"}]}\n",
            i, 3 + i % 6, i % 24, i % 60, ch[1 + i % 4], st[1 + i % 6]
    } }' >"$D/many.jsonl"
"$T" decide --summary "$D/many.jsonl" "$D/req.jsonl" >"$D/t1.out" 2>"$D/t1.err"
rc1=$?
"$T" decide --summary --threads 2 "$D/many.jsonl" "$D/req.jsonl" >"$D/t2.out" 2>"$D/t2.err"
rc2=$?
expect_run "decide --threads 2: the same exit code" 0 "*" "" -- sh -c "[ $rc1 = 1 ] && [ $rc2 = 1 ]"
expect_run "  ...the same lines in the same order" 0 "*" "" -- cmp "$D/t1.out" "$D/t2.out"
expect_run "  ...every line answered" 0 "6012" "" -- sh -c "wc -l <'$D/t2.out' | tr -d ' '"
expect_run "  ...the same summary" 0 "*" "" -- cmp "$D/t1.err" "$D/t2.err"
"$T" decide --threads 3 --scripts "$D/fails" "$D/three.jsonl" "$D/three.jsonl" >"$D/rf3.out" 2>"$D/rf3.err"
expect_run "  ...a rule that failed: exit 1" 1 "*" "*" -- sh -c "exit $?"
expect_run "  ...each failure told once, counted over every worker" 0 "*" "" -- grep -q "tallyman: rule HOUSE/throws (House policy 1) failed for 4 requests" "$D/rf3.err"
expect_run "--threads needs a number" 2 "" "--threads needs a number from 1 to 64, not 'x'" -- "$T" decide --threads x "$D/one.jsonl"
expect_run "--threads 0 is refused" 2 "" "from 1 to 64" -- "$T" decide --threads 0 "$D/one.jsonl"
expect_run "--threads goes without --explain" 2 "" "--threads goes without --explain and --record" -- "$T" decide --threads 2 --explain "$D/one.jsonl"

finish
