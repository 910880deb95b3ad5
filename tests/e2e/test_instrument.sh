#!/bin/sh
# tests/e2e/test_instrument.sh: payment instruments are tokenised at the edge.
# A card number in a payment event is checked and replaced by a token; the
# number never reaches a table, the WAL, the audit log, an export or a
# message (byte search of everything the run leaves behind).
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/t.db"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,balance,currency
C1,D1,Ann,Lee,MA,1000.00,USD
C2,D2,Bob,Ray,TX,500.00,USD
CSV
expect_run "accounts" 0 "*" "*" -- "$T" --db "$DB" import accounts "$D/a.csv"

cat >"$D/e.jsonl" <<'EV'
{"key":"p1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"10.00","card_number":"4111111111111111"}
{"key":"p2","type":"payment","debt_id":"D1","at":"2026-11-20T11:00:00Z","amount":"10.00","card_number":"4111 1111 1111 1111"}
{"key":"p3","type":"payment","debt_id":"D2","at":"2026-11-20T12:00:00Z","amount":"20.00","card_number":"378282246310005"}
{"key":"p4","type":"payment","debt_id":"D2","at":"2026-11-20T13:00:00Z","amount":"20.00","card_number":"4111111111111112"}
{"key":"p5","type":"payment","debt_id":"D2","at":"2026-11-20T14:00:00Z","amount":"20.00","card_number":"9999888877776666"}
{"key":"p6","type":"payment","debt_id":"D2","at":"2026-11-20T15:00:00Z","amount":"20.00","card_number":4111111111111111}
{"key":"p7","type":"payment","debt_id":"D2","at":"2026-11-20T16:00:00Z","amount":"5.00","routing_number":"021000021"}
{"key":"p8","type":"payment","debt_id":"D2","at":"2026-11-20T17:00:00Z","amount":"5.00","routing_number":"021000022"}
{"key":"p9","type":"payment","debt_id":"NOPE","at":"2026-11-20T17:00:00Z","amount":"5.00","card_number":"6011111111111117"}
{"key":"p10","type":"payment","debt_id":"D2","at":"2026-11-20T18:00:00Z","amount":"5.00","card_number":"5555555555554444"
EV
expect_run "events with instruments" 1 "*" "*" -- "$T" --db "$DB" event "$D/e.jsonl"
cp "$E2E_TMP/out" "$D/out1"
cp "$E2E_TMP/err" "$D/err1"
expect_run "bad Luhn named by field" 0 "*" "" -- grep -q "e.jsonl:4: card_number:" "$D/err1"
expect_run "unknown brand named by field" 0 "*" "" -- grep -q "e.jsonl:5: card_number:" "$D/err1"
expect_run "a number, not a string, refused" 0 "*" "" -- grep -q "e.jsonl:6: card_number:" "$D/err1"
expect_run "bad routing number named" 0 "*" "" -- grep -q "e.jsonl:8: routing_number:" "$D/err1"
expect_run "broken line named" 0 "*" "" -- grep -q "e.jsonl:10:" "$D/err1"
expect_run "four payments applied" 0 "4" "" -- sqlite3 "$DB" "select count(*) from payments"
expect_run "tokens stored, one per card" 0 "tok_0005_amex
tok_1111_visa" "" -- sqlite3 "$DB" "select distinct 'tok_' || substr(instrument_token, length(instrument_token) - 8) from payments where instrument_token is not null order by 1"
expect_run "same card, same token" 0 "1" "" -- sqlite3 "$DB" "select count(distinct instrument_token) from payments p join debts d on d.id = p.debt_id where d.debt_id = 'D1'"
expect_run "token shape" 0 "2" "" -- sqlite3 "$DB" "select count(*) from payments where instrument_token glob 'tok_[0-9a-f]*_1111_visa'"
expect_run "audit records carry the token" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export > '$D/audit.jsonl' && grep -q 'tok_' '$D/audit.jsonl'"
expect_run "audit chain intact" 0 "*" "" -- "$T" --db "$DB" audit verify

# The byte search: no card number, in any spelling, anywhere.
for pan in 4111111111111111 "4111 1111 1111 1111" 378282246310005 4111111111111112 9999888877776666 6011111111111117 5555555555554444; do
    expect_run "no '$pan' in the store, WAL, audit or output" 1 "0" "" -- \
        sh -c "cat '$DB'* '$D/audit.jsonl' '$D/out1' '$D/err1' | grep -c -a -F '$pan'"
done
finish
