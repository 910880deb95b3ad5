#!/bin/sh
# tests/e2e/test_regulations.sh: the regulation library accounted for and shown
# to counsel: `tallyman regulations table`, `lint` failing on a state nobody
# looked at, and the decision's new fields through `tallyman decide`.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

# --- the table for counsel -----------------------------------------------------
"$T" regulations table >"$D/table.txt" 2>"$D/table.err"
expect_run "the table prints" 0 "*" "" -- sh -c "exit $?"
missing=""
for s in AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ \
         NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY; do
    grep -q "^US-$s | " "$D/table.txt" || missing="$missing $s"
done
expect_run "every state and DC has a row" 0 "" "" -- sh -c "printf '%s' '$missing'"
expect_run "a state with no rule says so and names the statute checked" 0 \
    "US-WY | (statement) | statement of what the state adds: no contact rule beyond federal law |  | Wyo. Stat. 33-11-101 et seq. (Collection Agency Board) | no | the statute's text was not read (memory only); no state contact rule is known | " \
    "" -- "$T" regulations table --state WY
expect_run "a rule row: its number, citation and verified" 0 "*" "" -- \
    sh -c "'$T' regulations table --state DC | grep -q '^US-DC | call-cap | frequency (call) | 4 in 7 days | D.C. Code 28-3814(d)(4)(A)(i) | yes | '"
expect_run "an unverified rule says what is missing" 0 "*" "" -- \
    sh -c "'$T' regulations table --state NY | grep 'communication-frequency-per-account' | grep -q '| no | the amended 6 RCNY 5-77 text was not found'"
expect_run "--state keeps to the state and its cities" 0 "0" "" -- \
    sh -c "'$T' regulations table --state NY | grep -v '^US-NY[ -]' | wc -l | tr -d ' '"
"$T" regulations table --csv >"$D/table.csv"
expect_run "--csv has a header" 0 "jurisdiction,rule,limits,number,citation,verified,missing,interpretation" "" -- head -1 "$D/table.csv"
expect_run "--csv quotes fields with commas" 0 "*" "" -- \
    sh -c "grep -q '^US-MA,call-frequency-personal,\"frequency (call, sms, whatsapp at personal)\",2 in 7 days,' '$D/table.csv'"
expect_run "--csv has the same rows" 0 "$(($(lines_of "$D/table.txt") + 1))" "" -- sh -c "python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1]))))' '$D/table.csv'"
expect_run "an unknown state is a usage error" 2 "" "unknown state 'ZZ'" -- "$T" regulations table --state ZZ
expect_run "no subcommand is a usage error" 2 "" "table" -- "$T" regulations
expect_run "an unknown option is a usage error" 2 "" "--wide" -- "$T" regulations table --wide

# --- lint: every state accounted for --------------------------------------------
mkdir -p "$D/tree"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$D/tree/"
expect_run "the shipped regulations account for every state" 0 "" "" -- "$T" lint "$D/tree"
sed -i '/^    state("WY"/,/^          "no contact rule beyond federal law", false, NOT_READ),$/d' "$D/tree/regulations/states/others.lua"
expect_run "a state with neither rules nor a statement fails lint, named" 1 "*" "" -- "$T" lint "$D/tree"
expect_run "  ...as US-WY" 0 "*" "" -- sh -c "'$T' lint '$D/tree' | grep -q 'US-WY is not accounted for'"
cp -r "$ROOT/scripts/regulations" "$D/tree/"
cat >>"$D/tree/regulations/states/others.lua" <<'LUA'
-- (appended) a statement without the statute checked
LUA
sed -i 's/^    state("AL", "Alabama", "Ala. Code 40-12-80 (collection agency licence tax); no consumer debt-collection practices act known",/    state("AL", "Alabama", nil,/' "$D/tree/regulations/states/others.lua"
expect_run "a statement must name the statute checked" 0 "*" "" -- \
    sh -c "'$T' lint '$D/tree' | grep -q 'statement: needs checked'"

mkdir -p "$D/one/regulations"
cat >"$D/one/regulations/x.lua" <<'LUA'
return regulation { id = "US-ZZ", applies = { state = "MA" }, rules = {
    { id = "a", cite = "c", block = true, verified = false },
    { id = "b", cite = "c", block = true, owners = { "bank" } },
    { id = "m", cite = "c", time_barred_margin = 0 },
} }
LUA
"$T" lint "$D/one" >"$D/lint.txt" 2>&1
expect_run "lint: the new rule fields are checked" 1 "*" "*" -- sh -c "exit $?"
expect_run "  ...verified = false needs missing" 0 "*" "" -- grep -q "rule 'a': verified = false needs missing" "$D/lint.txt"
expect_run "  ...an unknown owner" 0 "*" "" -- grep -q "rule 'b': owners: unknown value 'bank'" "$D/lint.txt"
expect_run "  ...a margin out of range" 0 "*" "" -- grep -q "rule 'm': time_barred_margin: must be a whole number of days" "$D/lint.txt"

# --- decide: the new fields ------------------------------------------------------
cat >"$D/req.jsonl" <<'JSON'
{"id":"robot","now":"2026-11-23T15:00:00Z","channel":"call","dialer":"robot","consumer":{"state":"NY"}}
{"id":"att","now":"2026-11-23T15:00:00Z","channel":"call","dialer":"manual","consumer":{"state":"NY","attorney":{"since":"2026-11-24"}}}
{"id":"nodate","now":"2026-11-23T15:00:00Z","channel":"letter","consumer":{"state":"NY"},"debt":{"default_date":"2026-02-30"}}
{"id":"barred","now":"2026-11-19T20:00:00Z","channel":"letter","consumer":{"state":"CA","timezones":["America/Los_Angeles"]},"debt":{"id":"D1","type":"credit_card","last_payment_date":"2022-11-18"}}
{"id":"lastday","now":"2026-11-19T05:00:00Z","channel":"letter","consumer":{"state":"CA","timezones":["America/Los_Angeles"]},"debt":{"id":"D1","type":"credit_card","last_payment_date":"2022-11-18","default_date":"2022-11-18"}}
JSON
"$T" decide "$D/req.jsonl" >"$D/out.jsonl" 2>/dev/null
expect_run "decide exits 1 for the bad lines" 1 "*" "*" -- sh -c "exit $?"
line() { sed -n "${1}p" "$D/out.jsonl"; }
expect_run "an unknown dialer is named" 0 "*" "" -- sh -c "sed -n 1p '$D/out.jsonl' | grep -q '\"error\":\"dialer: unknown value '\"'\"'robot'\"'\"''"
expect_run "an attorney since after now is named" 0 "*" "" -- sh -c "sed -n 2p '$D/out.jsonl' | grep -q 'consumer.attorney.since: is after now'"
expect_run "a date that does not exist is named" 0 "*" "" -- sh -c "sed -n 3p '$D/out.jsonl' | grep -q 'debt.default_date'"
expect_run "time-barred from the day after the last day, with the date and what was assumed" 0 "*" "" -- \
    sh -c "sed -n 4p '$D/out.jsonl' | grep -q '\"assumed\":\[\"debt.default_date\"\],\"time_barred\":true,\"time_barred_on\":\"2026-11-19\",\"time_barred_by\":\"law\"'"
expect_run "the last day in the consumer's own date is not time-barred" 0 "*" "" -- \
    sh -c "sed -n 5p '$D/out.jsonl' | grep -q '\"time_barred\":false,\"time_barred_on\":\"2026-11-19\"'"
finish
