#!/bin/sh
# tests/e2e/test_key_reuse.sh: an idempotency key names one event or one
# payment. The same event or payment sent again (members in another order,
# the card as a token) is a duplicate and changes nothing; the key on another
# debt, amount or content is refused as a conflicting reuse, naming the line
# and where the key was first used, in the same file or an earlier run, and
# nothing of it is applied or charged.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/k.db"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,state,balance,currency
C1,D1,TX,100.00,USD
C2,D2,TX,200.00,USD
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1

cat >"$D/e.jsonl" <<'EV'
{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"10.00"}
{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"90.00"}
{"key":"e1","type":"payment","debt_id":"D2","at":"2026-11-20T10:00:00Z","amount":"10.00"}
{"amount":"10.00","at":"2026-11-20T10:00:00Z","debt_id":"D1","type":"payment","key":"e1"}
{"key":"e2","type":"dispute","debt_id":"D2","at":"2026-11-20T11:00:00Z"}
{"key":"e2","type":"cease","debt_id":"D2","at":"2026-11-20T11:00:00Z"}
{"key":"e3","type":"contact","debt_id":"D2","at":"2026-11-20T12:00:00Z","channel":"call","outcome":"attempt"}
EV
expect_run "event: a key reused for another amount is refused, naming both lines" 1 "" "e.jsonl:2: key: 'e1' was first used on $D/e.jsonl:1 for another event" -- "$T" --db "$DB" event "$D/e.jsonl"
cp "$E2E_TMP/err" "$D/err1"
expect_run "  ...for another debt" 0 "*" "" -- grep -q "e.jsonl:3: key: 'e1' was first used on .*e.jsonl:1 for another event (at 2026-11-20T10:00:00Z): a key names one event, so this one is refused as a conflicting reuse" "$D/err1"
expect_run "  ...for another type" 0 "*" "" -- grep -q "e.jsonl:6: key: 'e2' was first used on .*e.jsonl:5" "$D/err1"
expect_run "  ...the same event in another order is a duplicate" 0 "*" "" -- grep -q "7 events: 3 applied, 1 duplicates skipped, 3 rejected" "$D/err1"
expect_run "  ...only the first applied" 0 "9000|20000" "" -- sqlite3 "$DB" "select (select balance_minor from debts where debt_id = 'D1'), (select balance_minor from debts where debt_id = 'D2')"
expect_run "  ...no cease on D2's consumer" 0 "" "" -- sqlite3 "$DB" "select flags from consumers where external_id = 'C2'"
printf '{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"11.00"}\n{"key":"e3","type":"contact","debt_id":"D2","at":"2026-11-20T12:00:00Z","channel":"call","outcome":"attempt"}\n' >"$D/e2.jsonl"
expect_run "event: in a later run too, naming the earlier file and line" 1 "" "e2.jsonl:1: key: 'e1' was first used on $D/e.jsonl:1 for another event" -- "$T" --db "$DB" event "$D/e2.jsonl"
cp "$E2E_TMP/err" "$D/err3"
expect_run "  ...the same event again is still a duplicate" 0 "*" "" -- grep -q "2 events: 0 applied, 1 duplicates skipped, 1 rejected" "$D/err3"
expect_run "  ...D1 unchanged" 0 "9000" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D1'"

cat >"$D/p.jsonl" <<'REQ'
{"key":"k1","debt_id":"D1","amount":"25.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}
{"key":"k1","debt_id":"D1","amount":"30.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}
{"key":"k1","debt_id":"D2","amount":"25.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}
{"key":"k1","debt_id":"D1","amount":"25.00","card_number":"5555555555554444","at":"2026-11-23T15:00:00Z"}
{"key":"k1","debt_id":"D1","amount":"25.00","card_number":"4111111111111111","at":"2026-11-23T15:30:00Z"}
{"key":"k1","debt_id":"D1","amount":"25","card_number":"4111 1111 1111 1111","at":"2026-11-23T09:00:00-06:00"}
REQ
expect_run "pay: a key reused for another amount, debt, card or time is refused, not charged" 1 "$D/p.jsonl: 1 approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 0 refused by velocity limits, 1 already taken, 4 rejected" "p.jsonl:2: key: 'k1' was first used on $D/p.jsonl:1 for another payment" -- "$T" --db "$DB" pay "$D/p.jsonl"
cp "$E2E_TMP/err" "$D/err2"
for l in 3 4 5; do
    expect_run "  ...line $l named" 0 "*" "" -- grep -q "p.jsonl:$l: key: 'k1' was first used on .*p.jsonl:1 for another payment (at 2026-11-23T15:00:00Z)" "$D/err2"
done
expect_run "  ...charged once, for the first" 0 "1|2500" "" -- sqlite3 "$DB" "select count(*), sum(amount_minor) from payment_attempts"
expect_run "  ...D1 paid once" 0 "6500" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id = 'D1'"
tok=$(sqlite3 "$DB" "select instrument_token from payment_attempts where idempotency_key = 'k1'")
printf '{"key":"k1","debt_id":"D1","amount":"25.00","token":"%s","at":"2026-11-23T15:00:00Z"}\n{"key":"k1","debt_id":"D1","amount":"26.00","token":"%s","at":"2026-11-23T15:00:00Z"}\n' "$tok" "$tok" >"$D/p2.jsonl"
expect_run "pay: a later run, the card as its token: a duplicate; another amount: refused" 1 "$D/p2.jsonl: 0 approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 0 refused by velocity limits, 1 already taken, 1 rejected" "p2.jsonl:2: key: 'k1' was first used on $D/p.jsonl:1 for another payment" -- "$T" --db "$DB" pay "$D/p2.jsonl"
expect_run "  ...still charged once" 0 "1|6500" "" -- sqlite3 "$DB" "select (select count(*) from payment_attempts), (select balance_minor from debts where debt_id = 'D1')"
expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
