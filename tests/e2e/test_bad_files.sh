#!/bin/sh
# tests/e2e/test_bad_files.sh: inputs that are not what they seem. A directory
# given as the file is an error (exit 1, "Is a directory") for decide, event,
# pay and import, never an empty file. A JSON object with two members of one
# name has no one meaning (readers keep the first or the last), so the line is
# refused everywhere, naming the member, and nothing of it is applied or
# charged. An amount thousands of digits long is "too large", not "required".
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/b.db"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,state,balance,currency
C1,D1,TX,100.00,USD
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
mkdir "$D/dir"

expect_run "decide: a directory" 1 "" "dir: cannot read: Is a directory" -- "$T" decide "$D/dir"
expect_run "event: a directory" 1 "" "dir: cannot read: Is a directory" -- "$T" --db "$DB" event "$D/dir"
expect_run "pay: a directory" 1 "" "dir: cannot read: Is a directory" -- "$T" --db "$DB" pay "$D/dir"
expect_run "import: a directory" 1 "" "Is a directory" -- "$T" --db "$DB" import accounts "$D/dir"
expect_run "  ...nothing recorded" 0 "0|0" "" -- sqlite3 "$DB" "select (select count(*) from events), (select count(*) from payment_attempts)"

# Duplicate members: decide and event kept the first, import and pay the last.
printf '{"id":"q1","now":"2026-11-23T15:00:00Z","channel":"sms","channel":"call","consumer":{"state":"MA"}}\n{"id":"q2","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"MA","state":"TX"}}\n' >"$D/q.jsonl"
expect_run "decide: duplicate members refused, named" 1 "*" "" -- "$T" decide "$D/q.jsonl"
cp "$E2E_TMP/out" "$D/out.q"
expect_run "  ...at the top" 0 "*" "" -- grep -q '"line":1,"id":null,"error":"not valid JSON: duplicate member .channel.' "$D/out.q"
expect_run "  ...inside consumer" 0 "*" "" -- grep -q '"line":2,"id":null,"error":"not valid JSON: duplicate member .state.' "$D/out.q"
printf '{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"1.00","amount":"99.00"}\n{"key":"e2","type":"contact","debt_id":"D1","at":"2026-11-20T11:00:00Z","channel":"call","outcome":"attempt"}\n' >"$D/e.jsonl"
expect_run "event: duplicate members refused, named, the rest applied" 1 "" "e.jsonl:1: not a valid JSON object: duplicate member 'amount'" -- "$T" --db "$DB" event "$D/e.jsonl"
expect_run "  ...nothing of it applied" 0 "10000|e2" "" -- sqlite3 "$DB" "select (select balance_minor from debts where debt_id = 'D1'), (select group_concat(key) from events)"
printf '{"external_id":"C2","debt_id":"D2","state":"TX","balance":"5.00","balance":"5000.00","currency":"USD"}\n{"external_id":"C3","debt_id":"D3","state":"TX","balance":"5.00","currency":"USD"}\n' >"$D/i.jsonl"
expect_run "import: duplicate members refused, named" 1 "*" "i.jsonl:1: not valid JSON: duplicate member 'balance'" -- "$T" --db "$DB" import accounts "$D/i.jsonl"
expect_run "  ...the other row imported" 0 "D1
D3" "" -- sqlite3 "$DB" "select debt_id from debts order by 1"
printf '{"key":"k1","debt_id":"D1","amount":"1.00","amount":"99.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}\n{"key":"k2","debt_id":"D1","debt_id":"D3","amount":"1.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}\n' >"$D/p.jsonl"
expect_run "pay: duplicate members refused, named, not charged" 1 "$D/p.jsonl: 0 approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 0 refused by velocity limits, 0 already taken, 2 rejected" "p.jsonl:1: line: not a JSON object: duplicate member 'amount'" -- "$T" --db "$DB" pay "$D/p.jsonl"
cp "$E2E_TMP/err" "$D/err.p"
expect_run "  ...the second named too" 0 "*" "" -- grep -q "p.jsonl:2: line: not a JSON object: duplicate member 'debt_id'" "$D/err.p"
expect_run "  ...nothing charged" 0 "0" "" -- sqlite3 "$DB" "select count(*) from payment_attempts"

# An amount of 5,000 digits, as a string and as a number.
digits=$(printf '%05000d' 9 | tr 0 9)
printf '{"key":"e3","type":"payment","debt_id":"D1","at":"2026-11-21T10:00:00Z","amount":"%s"}\n{"key":"e4","type":"promise","debt_id":"D1","at":"2026-11-21T11:00:00Z","due":"2026-12-01","amount":%s}\n' "$digits" "$digits" >"$D/big.jsonl"
expect_run "event: a 5,000-digit amount is too large" 1 "" "big.jsonl:1: amount: is too large (5000 characters)" -- "$T" --db "$DB" event "$D/big.jsonl"
expect_run "  ...as a number too" 0 "*" "" -- sh -c "'$T' --db '$DB' event '$D/big.jsonl' 2>&1 | grep -q 'big.jsonl:2: amount: is too large (5000 characters)'"
printf '{"key":"k3","debt_id":"D1","amount":"%s","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}\n{"key":"k4","debt_id":"D1","amount":%s,"card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}\n' "$digits" "$digits" >"$D/bigp.jsonl"
expect_run "pay: a 5,000-digit amount is too large, not charged" 1 "*" "bigp.jsonl:1: amount: is too large (5000 characters)" -- "$T" --db "$DB" pay "$D/bigp.jsonl"
expect_run "  ...as a number too" 0 "*" "" -- sh -c "'$T' --db '$DB' pay '$D/bigp.jsonl' 2>&1 | grep -q 'bigp.jsonl:2: amount: is too large (5000 digits)'"
expect_run "  ...nothing charged or applied" 0 "0|10000" "" -- sqlite3 "$DB" "select (select count(*) from payment_attempts), (select balance_minor from debts where debt_id = 'D1')"
expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
