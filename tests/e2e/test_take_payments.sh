#!/bin/sh
# tests/e2e/test_take_payments.sh: `tallyman pay` takes card payments through
# the (test) gateway: the card number becomes a token at the edge and is found
# nowhere afterwards, velocity limits refuse the fourth attempt on a card
# within the hour, each key is charged once, a gateway time-out stays pending
# and is retried, and an approved charge is a payment like any other.
# The attempts that count are those in the window before each request's own
# time, whatever today's date is; a request older than its debt's last event
# is refused before it is charged, and an approved charge is applied whatever
# its order.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/p.db"
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip
C1,D1,Ann,Lee,TX,America/Chicago,100.00,USD,20,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20,+16175551002,c2@example.com,2 Main St,Springfield,01101
C3,D3,Cy,Fox,TX,America/Chicago,300.00,USD,20,+16175551003,c3@example.com,3 Main St,Springfield,01101
C4,D4,Di,Oak,TX,America/Chicago,400.00,USD,20,+16175551004,c4@example.com,4 Main St,Springfield,01101
C5,D5,Ed,Elm,TX,America/Chicago,500.00,USD,20,+16175551005,c5@example.com,5 Main St,Springfield,01101
C6,D6,Fa,Ash,TX,America/Chicago,600.00,USD,20,+16175551006,c6@example.com,6 Main St,Springfield,01101
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
expect_run "the same file again charges nothing twice (exit 1: its rejected lines again)" 1 "$D/req.jsonl: 0 approved, 0 declined, 1 pending (gateway time-out: retried by the next run), 1 refused by velocity limits, 4 already taken, 3 rejected" "*" -- "$T" --db "$DB" pay "$D/req.jsonl"
expect_run "  ...the balance is unchanged" 0 "7000" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D1'"
expect_run "  ...the pending one was tried again with its key" 0 "1" "" -- sqlite3 "$DB" "select count(*) from payment_attempts where idempotency_key = 'k3'"
expect_run "a token from an earlier charge is taken too" 0 "*" "" -- sh -c "tok=\$(sqlite3 '$DB' \"select instrument_token from payment_attempts where idempotency_key = 'k1'\"); printf '{\"key\":\"k9\",\"debt_id\":\"D2\",\"amount\":\"7.00\",\"token\":\"%s\",\"at\":\"2026-11-24T15:00:00Z\"}\n' \$tok | '$T' --db '$DB' pay -"
expect_run "  ...D2 paid 7.00" 0 "19300" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D2'"
tok=$(sqlite3 "$DB" "select instrument_token from payment_attempts where idempotency_key = 'k1'")
printf '{"key":"f1","debt_id":"D2","amount":7.1,"token":"%s","at":"2026-11-24T15:00:00Z"}\n' "$tok" >"$D/float.jsonl"
expect_run "an amount with cents as a JSON number is refused, named" 1 "*" "float.jsonl:1: amount: give an amount with cents as a string" -- "$T" --db "$DB" pay "$D/float.jsonl"
expect_run "  ...and nothing charged" 0 "19300" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D2'"

# The same file again, as if a year or three later (or earlier): the attempts
# of the window before each request's own time count, not those near today.
# (faketime preloads a library, which a sanitizer build refuses: skipped there.)
if command -v faketime >/dev/null 2>&1 && faketime -f '+1d' "$T" --version >/dev/null 2>&1; then
    for shift in +1100d -1100d; do
        cp "$DB" "$D/clock.db"
        cp "$DB.key" "$D/clock.db.key"
        expect_run "the same file again, $shift from today: nothing charged twice" 1 "$D/req.jsonl: 0 approved, 0 declined, 1 pending (gateway time-out: retried by the next run), 1 refused by velocity limits, 4 already taken, 3 rejected" "req.jsonl:5: refused: too many attempts on this card" -- faketime -f "$shift" "$T" --db "$D/clock.db" pay "$D/req.jsonl"
        expect_run "  ...D1's balance unchanged" 0 "7000" "" -- sqlite3 "$D/clock.db" "select balance_minor from debts where debt_id = 'D1'"
    done
else
    echo "note: faketime not installed or not usable with this binary; the runs at other dates are skipped"
fi

# Velocity is judged at each request's own time: three attempts on a card at
# 16:00-16:20 do not count against a request on it dated 14:00, even when
# that request comes later in the file.
cat >"$D/v.jsonl" <<'REQ'
{"key":"v1","debt_id":"D3","amount":"1.00","card_number":"5105105105105100","at":"2026-11-23T16:00:00Z"}
{"key":"v2","debt_id":"D3","amount":"1.00","card_number":"5105105105105100","at":"2026-11-23T16:10:00Z"}
{"key":"v3","debt_id":"D3","amount":"1.00","card_number":"5105105105105100","at":"2026-11-23T16:20:00Z"}
{"key":"v4","debt_id":"D4","amount":"1.00","card_number":"5105105105105100","at":"2026-11-23T14:00:00Z"}
{"key":"v5","debt_id":"D4","amount":"1.00","card_number":"5105105105105100","at":"2026-11-23T16:30:00Z"}
REQ
expect_run "an earlier-dated request is judged on its own window" 1 "$D/v.jsonl: 4 approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 1 refused by velocity limits, 0 already taken, 0 rejected" "v.jsonl:5: refused: too many attempts on this card" -- "$T" --db "$DB" pay "$D/v.jsonl"

# Ordering is checked before charging: a request dated 11:00 on a debt whose
# last event is a contact at 12:00 is refused, not charged, and the rest of
# the file goes on; a second run says the same, not "already taken".
printf '{"key":"c1","type":"contact","debt_id":"D5","at":"2026-11-23T12:00:00Z","channel":"call","outcome":"conversation"}\n' >"$D/contact.jsonl"
expect_run "a contact at 12:00" 0 "*" "*" -- "$T" --db "$DB" event "$D/contact.jsonl"
cat >"$D/late.jsonl" <<'REQ'
{"key":"o1","debt_id":"D5","amount":"50.00","card_number":"4111111111111111","at":"2026-11-23T11:00:00Z"}
{"key":"o2","debt_id":"D5","amount":"20.00","card_number":"378282246310005","at":"2026-11-23T13:00:00Z"}
REQ
for run in first second; do
    expect_run "a payment dated before the debt's last event, $run run: refused, named, not charged" 1 "$D/late.jsonl: $([ $run = first ] && echo 1 || echo 0) approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 0 refused by velocity limits, $([ $run = first ] && echo 0 || echo 1) already taken, 1 rejected" "late.jsonl:1: at: older than the last event applied to debt 'D5' (2026-11-23T1$([ $run = first ] && echo 2 || echo 3):00:00Z): not charged" -- "$T" --db "$DB" pay "$D/late.jsonl"
done
expect_run "  ...no attempt on file for it, the next line charged" 0 "o2|approved" "" -- sqlite3 "$DB" "select idempotency_key, outcome from payment_attempts where idempotency_key like 'o%'"
expect_run "  ...D5: 500.00 - 20.00" 0 "48000" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D5'"
expect_run "  ...every approved charge is a payment" 0 "0" "" -- sqlite3 "$DB" "select count(*) from payment_attempts a where outcome = 'approved' and not exists (select 1 from events e where e.key = 'pay:' || a.idempotency_key and e.status = 'applied')"

# An approved charge is applied whatever its order: while the charge of r1
# (11:00) is on file and its payment not yet applied, a contact at 12:00 is
# applied to the debt; the payment goes in all the same.
printf '{"key":"r1","debt_id":"D6","amount":"60.00","card_number":"4111111111111111","at":"2026-11-23T11:00:00Z"}\n' >"$D/race.jsonl"
printf '{"key":"c2","type":"contact","debt_id":"D6","at":"2026-11-23T12:00:00Z","channel":"call","outcome":"attempt"}\n' >"$D/contact2.jsonl"
if start_stopped pay.charged "$D/race.log" "$T" --db "$DB" pay "$D/race.jsonl"; then
    expect_run "a later contact applied while the charge is in flight" 0 "*" "*" -- "$T" --db "$DB" event "$D/contact2.jsonl"
    kill -CONT "$STOPPED_PID"
    wait "$STOPPED_PID"
    expect_run "  ...the charge's run ends well" 0 "1" "" -- grep -c "race.jsonl: 1 approved" "$D/race.log"
else
    expect_run "pay stops at pay.charged" 0 "" "" -- false
fi
expect_run "  ...the approved charge is a payment: 600.00 - 60.00" 0 "54000" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D6'"
expect_run "  ...its event applied, the debt's last event still 12:00" 0 "applied|2026-11-23 12:00:00" "" -- sqlite3 "$DB" "select e.status, datetime(d.last_event_at, 'unixepoch') from events e join debts d on d.id = e.debt_id where e.key = 'pay:r1'"

# A charge an earlier build approved but kept unapplied (its payment event
# kept out of order) is applied by the next run, not taken as done.
sqlite3 "$DB" "update events set status = 'out_of_order' where key = 'pay:r1'; delete from payments where event_id is null and debt_id = (select id from debts where debt_id = 'D6'); update debts set balance_minor = 60000 where debt_id = 'D6'"
expect_run "an approved charge left unapplied is applied by the next run" 0 "$D/race.jsonl: 0 approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 0 refused by velocity limits, 1 already taken, 0 rejected" "" -- "$T" --db "$DB" pay "$D/race.jsonl"
expect_run "  ...D6 paid once more: 600.00 - 60.00" 0 "54000|1" "" -- sqlite3 "$DB" "select balance_minor, (select count(*) from payments p where p.debt_id = d.id) from debts d where debt_id = 'D6'"
expect_run "  ...its event now applied" 0 "applied" "" -- sqlite3 "$DB" "select status from events where key = 'pay:r1'"

expect_run "no file" 2 "" "pay needs a FILE" -- "$T" --db "$DB" pay
expect_run "unknown gateway" 2 "" "--gateway" -- "$T" --db "$DB" pay "$D/req.jsonl" --gateway acme
expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
