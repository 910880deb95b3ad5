#!/bin/sh
# tests/e2e/test_optional_fields.sh: the shipped journeys on debts imported
# with only the required fields (external_id, debt_id, state, balance,
# currency), and with each optional field that decides a journey given alone:
# every debt gets a journey, no script fails, and the run's summary adds up
# (issue: pre_delinquency compared a missing days_past_due with a number on
# every day, and the summary said "0 debts in no journey" beside "(none) 1").
# With no phone, email or address on file no message can reach anyone, so the
# segmented library traces them (skip_trace) instead of planning sends; the
# days-past-due library (examples/strategies/dpd) routes the same debts by
# their one field.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/o.db"

# Only the required fields: early_stage by default; events put the others in
# the journeys that follow them.
cat >"$D/required.csv" <<'CSV'
external_id,debt_id,state,balance,currency
C1,R1,MA,100.00,USD
C2,R2,TX,200.00,USD
C3,R3,NY,300.00,USD
C4,R4,CA,400.00,USD
C5,R5,FL,500.00,USD
CSV
# One optional field at a time, the one a journey's segment reads.
cat >"$D/one_each.csv" <<'CSV'
external_id,debt_id,state,balance,currency,days_past_due
C6,P1,MA,100.00,USD,0
C7,M1,MA,100.00,USD,45
C8,L1,MA,100.00,USD,120
C9,L2,MA,100.00,USD,400
CSV
cat >"$D/charged_off.csv" <<'CSV'
external_id,debt_id,state,balance,currency,charge_off_date
C10,L3,PA,900.00,USD,2025-03-31
CSV
expect_run "import required only" 0 "*" "*" -- "$T" --db "$DB" import accounts "$D/required.csv"
expect_run "import one optional field each" 0 "*" "*" -- "$T" --db "$DB" import accounts "$D/one_each.csv"
expect_run "import charged off" 0 "*" "*" -- "$T" --db "$DB" import accounts "$D/charged_off.csv"
activate_set "$DB" "$(cd "$(dirname "$0")/../.." && pwd)/scripts" >/dev/null
printf '%s\n' '{"key":"e1","type":"dispute","debt_id":"R2","at":"2026-11-22T12:00:00Z"}' \
    '{"key":"e2","type":"hardship","debt_id":"R3","at":"2026-11-22T12:00:00Z"}' \
    '{"key":"e3","type":"promise","debt_id":"R4","at":"2026-11-22T12:00:00Z","amount":"50.00","due":"2026-11-30"}' \
    '{"key":"e4","type":"cease","debt_id":"R5","at":"2026-11-22T12:00:00Z"}' >"$D/ev.jsonl"
expect_run "events" 0 "*" "*" -- "$T" --db "$DB" event "$D/ev.jsonl"

expect_run "day 1: no script error, exit 0" 0 "*" "" -- "$T" --db "$DB" run --date 2026-11-23 --workers 0 --spool "$D/spool"
cp "$E2E_TMP/out" "$D/day1.out"
J="select coalesce(journey, '(none)') from debts where debt_id ="
expect_run "only required fields, no contact point: skip_trace" 0 "skip_trace" "" -- sqlite3 "$DB" "$J 'R1'"
expect_run "  ...disputed: dispute_hold" 0 "dispute_hold" "" -- sqlite3 "$DB" "$J 'R2'"
expect_run "  ...hardship: hardship" 0 "hardship" "" -- sqlite3 "$DB" "$J 'R3'"
expect_run "  ...a promise: promise_watch" 0 "promise_watch" "" -- sqlite3 "$DB" "$J 'R4'"
expect_run "  ...cease: no_contact" 0 "no_contact" "" -- sqlite3 "$DB" "$J 'R5'"
for id in P1 M1 L1 L2 L3; do
    expect_run "one optional field alone ($id), no contact point: skip_trace" 0 "skip_trace" "" -- sqlite3 "$DB" "$J '$id'"
done
expect_run "every debt in a journey" 0 "0" "" -- sqlite3 "$DB" "select count(*) from debts where journey is null or journey = ''"
expect_run "the summary: 10 started, 0 in no journey, no script error" 0 "*" "" -- grep -Eq "^journeys: 10 started, .* 0 debts in no journey, 6 handed to agent queues\$" "$D/day1.out"
# The table under "debts by journey and state" adds up to the debts.
TOTAL='/^debts by journey and state:/ { on = 1; next } on && NF { s += $NF } END { print s + 0 }'
expect_run "the journey table adds up to the 10 debts" 0 "10" "" -- awk "$TOTAL" "$D/day1.out"
expect_run "no (none) row" 1 "*" "" -- grep -q "(none)" "$D/day1.out"

# Three weeks on: every timer and state each journey reaches, with nothing
# but the required fields to go on.
expect_run "21 more days: no script error" 0 "*" "" -- "$T" --db "$DB" run --date 2026-11-24 --days 21 --workers 0 --spool "$D/spool"
cp "$E2E_TMP/out" "$D/days.out"
expect_run "  ...no debt parked" 0 "0" "" -- sh -c "'$T' --db '$DB' audit export | grep -c 'journey.parked' || true"
expect_run "  ...the table still adds up" 0 "10" "" -- awk "$TOTAL" "$D/days.out"
# Only required fields: no phone, email or address on file, so no message can
# reach anyone; none is planned for them, none sent to nobody.
expect_run "  ...no message went out without a recipient" 0 "0" "" -- sqlite3 "$DB" "select count(*) from outbox where status = 'sent'"
expect_run "  ...none was planned for a consumer without a contact point" 0 "0" "" -- sqlite3 "$DB" "select count(*) from outbox o join debts d on d.id = o.debt_id where d.debt_id in ('R1','P1','M1','L1','L2','L3')"
expect_run "  ...audit chain intact" 0 "*" "" -- "$T" --db "$DB" audit verify

# A journey that fails on a debt: the summary counts it in no journey, and
# says it was parked (the table's "(none)" row is the same number).
mkdir -p "$D/tree"
cp -r "$(dirname "$0")/../../scripts/." "$D/tree/"
sed -i 's/segment = function(d) return seg.stopped(d) end,/segment = function(d) return d.days_past_due <= 0 end,/' "$D/tree/strategies/no_contact.lua"
expect_run "the broken segment is in place" 0 "*" "" -- grep -q "return d.days_past_due <= 0" "$D/tree/strategies/no_contact.lua"
printf 'external_id,debt_id,state,balance,currency\nC11,X1,MA,10.00,USD\n' >"$D/x.csv"
"$T" --db "$DB" import accounts "$D/x.csv" >/dev/null 2>&1
expect_run "a segment that fails on a debt: exit 1" 1 "*" "no_contact.lua:15: attempt to compare nil with number (in the segment of journey no_contact)" -- "$T" --db "$DB" --scripts "$D/tree" --draft run --date 2026-12-16 --workers 0 --spool "$D/spool"
cp "$E2E_TMP/out" "$D/bad.out"
expect_run "  ...counted in no journey, said parked" 0 "*" "" -- grep -q "1 debts in no journey (1 of them parked by a script error)" "$D/bad.out"
expect_run "  ...as the table's (none) row" 0 "*" "" -- grep -Eq "^  \\(none\\) +1\$" "$D/bad.out"
finish
