#!/bin/sh
# tests/e2e/test_take_payments.sh: `tallyman pay` takes card payments through
# the (test) gateway: the card number becomes a token at the edge and is found
# nowhere afterwards, velocity limits refuse the fourth attempt on a card
# within the hour, each key is charged once, a gateway time-out stays pending
# and is retried, and an approved charge is a payment like any other.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/p.db"
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due
C1,D1,Ann,Lee,TX,America/Chicago,100.00,USD,20
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
cat >"$D/req.jsonl" <<'REQ'
{"key":"k1","debt_id":"D1","amount":"25.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}
{"key":"k2","debt_id":"D1","amount":"10.01","card_number":"4111111111111111","at":"2026-11-23T15:05:00Z"}
{"key":"k3","debt_id":"D2","amount":"20.02","card_number":"5555555555554444","at":"2026-11-23T15:06:00Z"}
{"key":"k4","debt_id":"D1","amount":"5.00","card_number":"4111 1111 1111 1111","at":"2026-11-23T15:10:00Z"}
{"key":"k5","debt_id":"D1","amount":"5.00","card_number":"4111111111111111","at":"2026-11-23T15:20:00Z"}
{"key":"k6","debt_id":"D2","amount":"5.00","card_number":"4111111111111112","at":"2026-11-23T15:21:00Z"}
{"key":"k7","debt_id":"NOPE","amount":"5.00","card_number":"5555555555554444","at":"2026-11-23T15:22:00Z"}
{"key":"k8","debt_id":"D2","amount":"5.001","card_number":"5555555555554444","at":"2026-11-23T15:23:00Z"}
{"key":"k1","debt_id":"D1","amount":"25.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}
REQ
expect_run "a batch of requests" 1 "$D/req.jsonl: 2 approved, 1 declined, 1 pending (gateway time-out: retried by the next run), 1 refused by velocity limits, 1 already taken, 3 rejected" "*" -- "$T" --db "$DB" pay "$D/req.jsonl"
err=$(cat "$E2E_TMP/err")
chk() { if [ "$2" = 1 ]; then E2E_PASS=$((E2E_PASS + 1)); else E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $1"; echo "$err" | head -10; fi; }
chk "the fourth attempt on a card in the hour is refused" "$(echo "$err" | grep -c 'req.jsonl:5: refused: too many attempts on this card')"
chk "a bad card number is named, not echoed" "$(echo "$err" | grep -c 'req.jsonl:6: card_number:')"
chk "an unknown debt is named" "$(echo "$err" | grep -c "req.jsonl:7: debt_id: no debt 'NOPE'")"
chk "more cents than the currency has" "$(echo "$err" | grep -c 'req.jsonl:8: amount:')"
expect_run "approved charges are payments: 100.00 - 25.00 - 5.00" 0 "7000" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D1'"
expect_run "  ...with the card's token" 0 "2" "" -- sqlite3 "$DB" "select count(*) from payments where instrument_token like 'tok_%_1111_visa'"
expect_run "  ...as events the journey will see" 0 "2" "" -- sqlite3 "$DB" "select count(*) from events where key like 'pay:%' and type = 'payment'"
expect_run "every attempt on file with its outcome" 0 "k1|approved
k2|declined
k3|timeout
k4|approved" "" -- sqlite3 "$DB" "select idempotency_key, outcome from payment_attempts order by 1"
expect_run "every attempt audited, the refusal too" 0 "payment.approved|2
payment.declined|1
payment.refused|1
payment.timeout|1" "" -- sqlite3 "$DB" "select action, count(*) from audit where action like 'payment.%' group by 1 order by 1"
for pan in 4111111111111111 5555555555554444 4111111111111112 "4111 1111 1111 1111"; do
    expect_run "no card number in the store: $pan" 1 "0" "" -- sh -c "cat '$DB'* | grep -c -a '$pan'"
done
expect_run "the same file again charges nothing twice" 0 "$D/req.jsonl: 0 approved, 0 declined, 1 pending (gateway time-out: retried by the next run), 1 refused by velocity limits, 4 already taken, 3 rejected" "*" -- sh -c "'$T' --db '$DB' pay '$D/req.jsonl'; true"
expect_run "  ...the balance is unchanged" 0 "7000" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D1'"
expect_run "  ...the pending one was tried again with its key" 0 "1" "" -- sqlite3 "$DB" "select count(*) from payment_attempts where idempotency_key = 'k3'"
expect_run "a token from an earlier charge is taken too" 0 "*" "" -- sh -c "tok=\$(sqlite3 '$DB' \"select instrument_token from payment_attempts where idempotency_key = 'k1'\"); printf '{\"key\":\"k9\",\"debt_id\":\"D2\",\"amount\":\"7.00\",\"token\":\"%s\",\"at\":\"2026-11-24T15:00:00Z\"}\n' \$tok | '$T' --db '$DB' pay -"
expect_run "  ...D2 paid 7.00" 0 "19300" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D2'"
printf '{"key":"f1","debt_id":"D2","amount":7.1,"token":"tok_x","at":"2026-11-24T15:00:00Z"}\n' >"$D/float.jsonl"
expect_run "an amount with cents as a JSON number is refused, named" 1 "*" "float.jsonl:1: amount: give an amount with cents as a string" -- "$T" --db "$DB" pay "$D/float.jsonl"
expect_run "  ...and nothing charged" 0 "19300" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D2'"
expect_run "no file" 2 "" "pay needs a FILE" -- "$T" --db "$DB" pay
expect_run "unknown gateway" 2 "" "--gateway" -- "$T" --db "$DB" pay "$D/req.jsonl" --gateway acme
expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
