#!/bin/sh
# tests/e2e/test_card_numbers.sh: a card number is taken in one place only,
# the card_number of a payment (pay, event), where it becomes a token at once.
# Anywhere else, in any command that reads records (import CSV and JSON
# lines, every column, extra attribute columns and names too; event; pay;
# decide), the record is refused naming its line and field, and the number
# is never echoed. A payment token must be one this engine issued: the keyed
# hash inside it is checked, so "tok_<card number>", paths and markup are
# refused. Afterwards no card number, in any spelling, is anywhere: tables,
# WAL, audit export, output.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/c.db"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,state,balance,currency,note
C1,D1,Ann,TX,100.00,USD,ok
C2,D2,Bob,TX,200.00,USD,card 4111 1111 1111 1111 exp 12/27
C3,D3,Cy,TX,300.00,USD,ok
C4,D4,Di,TX,400.00,USD,5555-5555-5555-4444
C5,D5,4012888888881881,TX,500.00,USD,ok
CSV
expect_run "import: rows holding a card number refused, the rest accepted" 1 "*" "a.csv:3: note: holds a card number" -- "$T" --db "$DB" import accounts "$D/a.csv"
cp "$E2E_TMP/err" "$D/err.import"
expect_run "  ...an extra column with dashes" 0 "*" "" -- grep -q "a.csv:5: note: holds a card number" "$D/err.import"
expect_run "  ...a personal-data column" 0 "*" "" -- grep -q "a.csv:6: first_name: holds a card number" "$D/err.import"
expect_run "  ...two accepted" 0 "D1
D3" "" -- sqlite3 "$DB" "select debt_id from debts order by 1"
printf 'external_id,debt_id,state,balance,currency,4111111111111111\nC9,D9,TX,1.00,USD,x\n' >"$D/h.csv"
expect_run "import: a column named by a card number" 1 "" "h.csv:1: header: column 6 holds a card number" -- "$T" --db "$DB" import accounts "$D/h.csv"
cat >"$D/a.jsonl" <<'JSON'
{"external_id":"C6","debt_id":"D6","state":"TX","balance":"10.00","currency":"USD","loyalty":4111111111111111}
{"external_id":"C7","debt_id":"D7","state":"TX","balance":"10.00","currency":"USD","city":"Austin"}
{"external_id":"C8","debt_id":"D8","state":"TX","balance":"10.00","currency":"USD","378282246310005":"x"}
{"external_id":"6011111111111117","debt_id":"D10","state":"TX","balance":"10.00","currency":"USD"}
JSON
expect_run "import JSON lines: a number holding a card number" 1 "*" "a.jsonl:1: loyalty: holds a card number" -- "$T" --db "$DB" import accounts "$D/a.jsonl"
cp "$E2E_TMP/err" "$D/err.importj"
expect_run "  ...a member name" 0 "*" "" -- grep -q "a.jsonl:3: (a column name): holds a card number" "$D/err.importj"
expect_run "  ...the consumer's id" 0 "*" "" -- grep -q "a.jsonl:4: external_id: holds a card number" "$D/err.importj"
expect_run "  ...the clean row accepted" 0 "D7" "" -- sqlite3 "$DB" "select debt_id from debts where debt_id like 'D%' and debt_id not in ('D1', 'D3')"

# Tokens: one issued by this engine is taken, nothing else.
printf '{"key":"k1","debt_id":"D1","amount":"10.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}\n' >"$D/p0.jsonl"
expect_run "pay: a card number in card_number is charged" 0 "*" "" -- "$T" --db "$DB" pay "$D/p0.jsonl"
tok=$(sqlite3 "$DB" "select instrument_token from payment_attempts where idempotency_key = 'k1'")
# The same shape, a hash from another key file (its mac is all letters, so
# no digits of it can read as a card number).
forged=$(printf '%s' "$tok" | sed 's/^tok_\(.\{12\}\)............/tok_\1ffffffffffff/')
cat >"$D/p.jsonl" <<REQ
{"key":"t1","debt_id":"D1","amount":"1.00","token":"tok_4111111111111111","at":"2026-11-23T16:00:00Z"}
{"key":"t2","debt_id":"D1","amount":"1.00","token":"tok_","at":"2026-11-23T16:01:00Z"}
{"key":"t3","debt_id":"D1","amount":"1.00","token":"tok_../../x_1111_visa","at":"2026-11-23T16:02:00Z"}
{"key":"t4","debt_id":"D1","amount":"1.00","token":"tok_<b onmouseover=x>_1111_visa","at":"2026-11-23T16:03:00Z"}
{"key":"t5","debt_id":"D1","amount":"1.00","token":"$forged","at":"2026-11-23T16:04:00Z"}
{"key":"t6","debt_id":"D1","amount":"1.00","token":"$tok","at":"2026-11-23T16:05:00Z"}
{"key":"t7","debt_id":"D1","amount":"1.00","token":"$tok","memo":"4111 1111 1111 1111","at":"2026-11-23T16:06:00Z"}
{"key":"4111111111111111","debt_id":"D1","amount":"1.00","token":"$tok","at":"2026-11-23T16:07:00Z"}
{"key":"t9","debt_id":"D1","amount":"1.00","token":"$tok","x":{"y":["4111-1111-1111-1111"]},"at":"2026-11-23T16:08:00Z"}
REQ
expect_run "pay: only the engine's own token is charged" 1 "$D/p.jsonl: 1 approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 0 refused by velocity limits, 0 already taken, 8 rejected" "p.jsonl:1: token: holds a card number: refused, not charged" -- "$T" --db "$DB" pay "$D/p.jsonl"
cp "$E2E_TMP/err" "$D/err.pay"
expect_run "  ...tok_ alone" 0 "*" "" -- grep -q "p.jsonl:2: token: is not a token" "$D/err.pay"
expect_run "  ...a path" 0 "*" "" -- grep -q "p.jsonl:3: token: is not a token" "$D/err.pay"
expect_run "  ...markup" 0 "*" "" -- grep -q "p.jsonl:4: token: is not a token" "$D/err.pay"
expect_run "  ...a token from another key file" 0 "*" "" -- grep -q "p.jsonl:5: token: is not a token this engine issued" "$D/err.pay"
expect_run "  ...a memo holding a card number" 0 "*" "" -- grep -q "p.jsonl:7: memo: holds a card number" "$D/err.pay"
expect_run "  ...the key holding one" 0 "*" "" -- grep -q "p.jsonl:8: key: holds a card number" "$D/err.pay"
expect_run "  ...deep in the request, named by its path" 0 "*" "" -- grep -q "p.jsonl:9: x.y\[0\]: holds a card number" "$D/err.pay"
expect_run "  ...none of them on file" 0 "k1
t6" "" -- sqlite3 "$DB" "select idempotency_key from payment_attempts order by 1"
expect_run "  ...nor any token but the engine's" 0 "1" "" -- sqlite3 "$DB" "select count(distinct instrument_token) from payments"

# Events: the same rules.
cat >"$D/e.jsonl" <<EV
{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-24T10:00:00Z","amount":"1.00","instrument_token":"tok_4111111111111111"}
{"key":"e2","type":"payment","debt_id":"D1","at":"2026-11-24T10:01:00Z","amount":"1.00","instrument_token":"tok_../../x_1111_visa"}
{"key":"e3","type":"contact","debt_id":"D1","at":"2026-11-24T10:02:00Z","channel":"call","outcome":"attempt","notes":"read me 4111111111111111"}
{"key":"e4","type":"payment","debt_id":"D1","at":"2026-11-24T10:03:00Z","amount":"1.00","instrument_token":"$tok"}
{"key":"e5","type":"payment","debt_id":"D1","at":"2026-11-24T10:04:00Z","amount":"1.00","card_number":"5555555555554444"}
{"key":"e6","type":"address_change","debt_id":"D1","at":"2026-11-24T10:05:00Z","address1":"4111 1111 1111 1111 Main St"}
{"key":"e7","type":"payment","debt_id":"D1","at":"2026-11-24T10:06:00Z","amount":"1.00","instrument_token":"$forged"}
EV
expect_run "event: card numbers outside card_number refused, named" 1 "*" "e.jsonl:1: instrument_token: holds a card number" -- "$T" --db "$DB" event "$D/e.jsonl"
cp "$E2E_TMP/err" "$D/err.event"
expect_run "  ...a token that is a path" 0 "*" "" -- grep -q "e.jsonl:2: instrument_token: is not a token" "$D/err.event"
expect_run "  ...free text" 0 "*" "" -- grep -q "e.jsonl:3: notes: holds a card number" "$D/err.event"
expect_run "  ...an address" 0 "*" "" -- grep -q "e.jsonl:6: address1: holds a card number" "$D/err.event"
expect_run "  ...a forged token" 0 "*" "" -- grep -q "e.jsonl:7: instrument_token: is not a token this engine issued" "$D/err.event"
expect_run "  ...the engine's token and a card_number applied" 0 "e4|applied
e5|applied" "" -- sqlite3 "$DB" "select key, status from events where key like 'e%' order by 1"

# decide: a request never carries one.
cat >"$D/q.jsonl" <<'REQ'
{"id":"q1","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"MA","city":"4111 1111 1111 1111"}}
{"id":"4111111111111111","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"MA"}}
{"id":"q3","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"MA"},"history":[{"channel":"call","at":"2026-11-20T15:00:00Z","outcome":"attempt","note":"5555555555554444"}]}
{"id":"q4","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"MA"}}
REQ
expect_run "decide: requests holding a card number refused, named, the rest decided" 1 "*" "" -- "$T" decide "$D/q.jsonl"
cp "$E2E_TMP/out" "$D/out.decide"
expect_run "  ...the field named" 0 "*" "" -- grep -q '"line":1,"id":"q1","error":"consumer.city: holds a card number' "$D/out.decide"
expect_run "  ...the number not echoed as the id" 0 "*" "" -- grep -q '"line":2,"id":null,"error":"id: holds a card number' "$D/out.decide"
expect_run "  ...deep in the history" 0 "*" "" -- grep -q '"line":3,"id":"q3","error":"history\[0\].note: holds a card number' "$D/out.decide"
expect_run "  ...q4 decided" 0 "*" "" -- grep -q '"id":"q4","allow"' "$D/out.decide"

# The byte search: no card number, in any spelling, anywhere.
"$T" --db "$DB" audit export >"$D/audit.jsonl" 2>/dev/null
for pan in 4111111111111111 "4111 1111 1111 1111" 4111-1111-1111-1111 5555-5555-5555-4444 5555555555554444 4012888888881881 378282246310005 6011111111111117; do
    expect_run "no '$pan' in the store, WAL, audit or output" 1 "0" "" -- \
        sh -c "cat '$DB'* '$D/audit.jsonl' '$D'/err.* '$D/out.decide' | grep -c -a -F '$pan'"
done
expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
