#!/bin/sh
# tests/e2e/test_explain.sh: `tallyman decide --explain` (text and JSON): every
# regulation that applies and why, each rule's verdict, what the message must
# carry and the generation, on the shipped regulations.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"

# A call at 07:30 in Boston (too early), two calls already this week, an
# email needing an opt-out notice, and a bad line among them.
cat >"$D/req.jsonl" <<'JSON'
{"id":"early","now":"2026-11-23T12:30:00Z","channel":"call","dialer":"manual","consumer":{"state":"MA","city":"Boston","timezones":["America/New_York"]},"debt":{"id":"D1"}}
{"id":"mail","now":"2026-11-23T15:00:00Z","channel":"email","consumer":{"state":"TX","timezones":["America/Chicago"],"consent":{"email":true}}}
{"id":"bad","channel":"call","consumer":{"state":"ZZ"}}
JSON
"$T" decide --explain "$D/req.jsonl" >"$D/out.txt" 2>"$D/err.txt"
expect_eq "explain: a bad line makes exit 1" 1 "$?"
has() { grep -qF -- "$2" "$1"; }
check() {
    if has "$2" "$3"; then E2E_PASS=$((E2E_PASS + 1)); else
        E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $1: no '$3' in $(head -c 600 "$2")"; fi
}
check "request line" "$D/out.txt" 'request "early": call (personal, collection) at 2026-11-23T12:30:00Z, collector third_party, consumer in MA (Boston), debt D1'
check "decision" "$D/out.txt" 'decision: blocked by 1 rule; next allowed: 2026-11-23T13:00:00Z'
check "generation" "$D/out.txt" 'generation: '
check "federal law applies, and why" "$D/out.txt" '  applies: every state; binds third_party, debt_buyer collectors, this one is third_party'
check "a state law applies, and why" "$D/out.txt" '  applies: the consumer'"'"'s state is MA'
check "script named relative to the tree" "$D/out.txt" '(regulations/states/ma.lua)'
check "blocked verdict with reason and next time" "$D/out.txt" '                  outside 08:00-21:00 local time in America/New_York (07:30 there); next allowed: 2026-11-23T13:00:00Z'
check "not applicable and why" "$D/out.txt" '  not applicable  work-email: applies to channel email only; this one is call'
check "a regulation that does not apply" "$D/out.txt" "  US-CA      applies in CA only; the consumer's state is MA (regulations/states/ca.lua)"
check "what the message must carry, and which rule asks" "$D/out.txt" '  optout_notice (US-FED/electronic-optout-notice'
check "a bad line is told in its place" "$D/out.txt" 'line 3: request "bad": consumer.state: unknown state'

# JSON: one object a request, the decision line's members and the explanation.
"$T" decide --explain --json "$D/req.jsonl" >"$D/out.jsonl" 2>/dev/null
expect_eq "explain --json: a bad line makes exit 1" 1 "$?"
expect_eq "explain --json: one line a request" 3 "$(lines_of "$D/out.jsonl")"
"$T" decide "$D/req.jsonl" >"$D/plain.jsonl" 2>/dev/null
# The explanation starts with the decision line's own members, unchanged.
expect_eq "explain --json: the decision as decide gives it" \
    "$(sed -n 1p "$D/plain.jsonl" | sed 's/}$//')" \
    "$(sed -n 1p "$D/out.jsonl" | sed 's/,"generation":.*//')"
check "explain --json: verdicts" "$D/out.jsonl" '{"rule":"US-FED/inconvenient-time","cite":"12 CFR 1006.6(b)(1)(i); 15 U.S.C. 1692c(a)(1)","verdict":"blocked","reason":"outside 08:00-21:00 local time in America/New_York (07:30 there)","next_allowed_at":"2026-11-23T13:00:00Z"}'
check "explain --json: not applicable" "$D/out.jsonl" '"verdict":"not_applicable","why":"applies to channel email only; this one is call"}'
check "explain --json: a regulation that does not apply" "$D/out.jsonl" '"id":"US-CA","name":'
check "explain --json: the bad line as decide gives it" "$D/out.jsonl" '{"line":3,"id":"bad","error":"consumer.state: unknown state'

# An unknown request field: the decision is given, the field named with a
# "did you mean", in the decision line and in the explanation.
echo '{"id":"tz","now":"2026-11-23T15:00:00Z","channel":"call","dialer":"manual","consumer":{"state":"NY","timezone":["America/Chicago"]}}' >"$D/tz.jsonl"
expect_run "an unknown field is a warning, the decision still given" 0 \
    '{"id":"tz","allow":true,"blocked_by":[],"next_allowed_at":"2026-11-23T15:00:00Z","requires":[],"assumed":[],"time_barred":false,"time_barred_on":null,"scripts":"'"$(sed -n 's/.*"scripts":"\([0-9a-f]*\)".*/\1/p' "$D/plain.jsonl" | head -n 1)"'","warnings":["consumer.timezone: unknown field, not read (did you mean \"timezones\"?)"]}' \
    "" -- "$T" decide "$D/tz.jsonl"
expect_run "the explanation tells the warning too" 0 "*" "" -- sh -c "'$T' decide --explain '$D/tz.jsonl' | grep -qxF 'warning: consumer.timezone: unknown field, not read (did you mean \"timezones\"?)'"

expect_run "--json without --explain is a usage error" 2 "" "--json goes with --explain" -- "$T" decide --json "$D/req.jsonl"

finish
