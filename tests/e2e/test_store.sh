#!/bin/sh
# tests/e2e/test_store.sh: import, events, encryption at rest, key rotation and
# the audit chain, through the CLI.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/t.db"
S() { "$T" --db "$DB" "$@"; }

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,address1,city,state,zip,phone,email,balance,currency,debt_type,days_past_due,last_payment_date,loyalty_tier
C1,D1,Zelda,Quintero,"12 Main St, Apt 4",Boston,MA,02110,+16175550101,zelda.quintero@example.com,1234.56,USD,credit_card,45,2026-09-01,gold
C1,D2,Zelda,Quintero,"12 Main St, Apt 4",Boston,MA,02110,+16175550101,zelda.quintero@example.com,99.00,USD,medical,12,,
C2,D3,"Ambrose ""Bo""",Fairweather,9 Elm Rd,Austin,TX,73301,,,15,USD,utility,200,2025-01-31,
C3,D4,Bad,State,1 Road,Nowhere,ZZ,00000,,,10.00,USD,,,,
C4,D5,Bad,Money,1 Road,Boston,MA,02110,,,12.345,USD,,,,
C5,D6,Bad,Date,1 Road,Boston,MA,02110,,,12.34,USD,,,2026-02-30,
C6,D7,Bad,Phone,1 Road,Boston,MA,02110,617-555-0101,,12.34,USD,,,,
C1,D1,Dup,Row,1 Road,Boston,MA,02110,,,1.00,USD,,,,
C7,D8,Neg,Amount,1 Road,Boston,MA,02110,,,-5.00,USD,,,,
C8,D9,Bad,Currency,1 Road,Boston,MA,02110,,,5.00,XYZ,,,,
CSV
expect_run "import reports rejected rows, exit 1" 1 "*" "a.csv:5: state:" -- "$T" --db "$DB" import accounts "$D/a.csv"
S import accounts "$D/a.csv" 2>"$D/err2"
expect_run "every bad row named" 0 "*" "" -- sh -c "grep -c '^$D/a.csv:[0-9]*: ' '$D/err2' | grep -qx 7"
expect_run "money with too many decimals" 0 "*" "" -- grep -q "a.csv:6: balance:" "$D/err2"
expect_run "impossible date" 0 "*" "" -- grep -q "a.csv:7: last_payment_date:" "$D/err2"
expect_run "phone not E.164" 0 "*" "" -- grep -q "a.csv:8: phone:" "$D/err2"
expect_run "same debt twice in one file" 0 "*" "" -- grep -q "a.csv:9: debt_id: 'D1' appears twice" "$D/err2"
expect_run "re-import changes nothing" 0 "*" "" -- grep -q "debts: 0 new, 0 changed, 3 unchanged" "$D/err2"
expect_run "key file created next to the db, 0600" 0 "600" "" -- stat -c %a "$DB.key"
expect_run "three debts stored" 0 "3" "" -- sqlite3 "$DB" "select count(*) from debts"
expect_run "balance in minor units" 0 "123456" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id='D1'"
for word in Zelda Quintero Fairweather "Main St" zelda.quintero 6175550101 Boston gold; do
    expect_run "no plaintext '$word' in the database" 1 "0" "" -- sh -c "cat '$DB'* | grep -c -a '$word'"
done

# JSON lines, and a header problem
printf '{"external_id":"C9","debt_id":"D10","state":"NY","balance":250.5,"currency":"USD"}\n{"external_id":"C9","debt_id":"D11","state":"NY","balance":"x","currency":"USD"}\n' >"$D/b.jsonl"
expect_run "json lines import" 1 "*" "b.jsonl:2: balance:" -- "$T" --db "$DB" import accounts "$D/b.jsonl"
expect_run "json number kept exact" 0 "25050" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id='D10'"
printf 'external_id,debt_id,state,currency\nC1,D1,MA,USD\n' >"$D/c.csv"
expect_run "header missing a column" 1 "" "c.csv:1: header: missing column 'balance'" -- "$T" --db "$DB" import accounts "$D/c.csv"

# Events
cat >"$D/e.jsonl" <<'JSON'
{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"34.56"}
{"key":"e2","type":"promise","debt_id":"D1","at":"2026-11-20T11:00:00Z","amount":"100.00","due":"2026-12-01"}
{"key":"e3","type":"dispute","debt_id":"D2","at":"2026-11-20T12:00:00Z"}
{"key":"e4","type":"cease","debt_id":"D3","at":"2026-11-20T12:00:00Z"}
{"key":"e5","type":"contact","debt_id":"D1","at":"2026-11-21T15:00:00Z","channel":"call","outcome":"conversation"}
{"key":"e6","type":"phone_change","debt_id":"D1","at":"2026-11-21T16:00:00Z","phone":"+16175550199"}
{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"34.56"}
{"key":"e7","type":"payment","debt_id":"NOPE","at":"2026-11-21T10:00:00Z","amount":"1.00"}
{"key":"e8","type":"payment","debt_id":"D1","at":"2026-11-01T10:00:00Z","amount":"1.00"}
{"key":"e9","type":"teleport","debt_id":"D1","at":"2026-11-21T10:00:00Z"}
JSON
expect_run "events: rejected ones named, exit 1" 1 "*" "e.jsonl:8: debt_id: unknown debt 'NOPE'" -- "$T" --db "$DB" event "$D/e.jsonl"
expect_run "payment applied once" 0 "120000" "" -- sqlite3 "$DB" "select balance_minor from debts where debt_id='D1'"
expect_run "dispute recorded" 0 "pending" "" -- sqlite3 "$DB" "select dispute from debts where debt_id='D2'"
expect_run "cease flag on the consumer" 0 "cease" "" -- sqlite3 "$DB" "select c.flags from consumers c join debts d on d.consumer_id=c.id where d.debt_id='D3'"
expect_run "out-of-order event kept, not applied" 0 "out_of_order" "" -- sqlite3 "$DB" "select status from events where key='e8'"
expect_run "unknown-debt event kept" 0 "unknown_debt" "" -- sqlite3 "$DB" "select status from events where key='e7'"
S event "$D/e.jsonl" 2>"$D/err3"
expect_run "events rerun: all duplicates" 0 "*" "" -- grep -q "0 applied, 9 duplicates skipped" "$D/err3"
expect_run "no plaintext new phone" 1 "0" "" -- sh -c "cat '$DB'* | grep -c -a 6175550199"

# Audit chain and keys
expect_run "audit verify intact" 0 "*" "" -- "$T" --db "$DB" audit verify
expect_run "audit export for a debt" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export --debt D1 | grep -q '\"subject\":\"debt:D1\"'"
expect_run "audit export: times in RFC 3339" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export | head -1 | grep -qE '^\{\"seq\":1,\"at\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\",'"
# --from and --to take a plain date (the whole UTC day) or an RFC 3339 time.
day=$(sqlite3 "$DB" "select date(min(at), 'unixepoch') from audit")
n_day=$(sqlite3 "$DB" "select count(*) from audit where date(at, 'unixepoch') = '$day'")
expect_eq "audit export --from/--to DATE: that whole day" "$n_day" "$("$T" --db "$DB" audit export --from "$day" --to "$day" | wc -l | tr -d ' ')"
expect_eq "  ...as RFC 3339 times" "$n_day" "$("$T" --db "$DB" audit export --from "${day}T00:00:00Z" --to "$(date -u -d "$day + 1 day" +%Y-%m-%d)T00:00:00Z" | wc -l | tr -d ' ')"
expect_run "audit export: a bad --from is named" 2 "" "--from needs a date (YYYY-MM-DD) or an RFC 3339 time, not '23/11/2026'" -- "$T" --db "$DB" audit export --from 23/11/2026
expect_run "keys rotate" 0 "*" "" -- "$T" --db "$DB" keys rotate
expect_run "records moved to key version 2" 0 "0" "" -- sqlite3 "$DB" "select count(*) from consumers where key_version <> 2"
expect_run "attributes re-encrypted too" 0 "0" "" -- sqlite3 "$DB" "select count(*) from debts where attributes is not null and substr(hex(attributes), 3, 8) <> '00000002'"
expect_run "old records still readable after rotation (re-import is a no-op)" 0 "*" "" -- sh -c "'$T' --db '$DB' import accounts '$D/a.csv' 2>&1 | grep -q 'debts: 0 new, 0 changed'"
printf 'external_id,debt_id,first_name,state,balance,currency\nC20,D20,Rotated,MA,7.00,USD\n' >"$D/after.csv"
expect_run "import still works after rotation" 0 "*" "debts: 1 new" -- "$T" --db "$DB" import accounts "$D/after.csv"
expect_run "  ...its record under key version 2" 0 "1|2" "" -- sqlite3 "$DB" "select count(*), max(c.key_version) from consumers c join debts d on d.consumer_id = c.id where d.debt_id = 'D20'"
expect_run "  ...and the chain still verifies" 0 "*" "" -- "$T" --db "$DB" audit verify
# Decisions and script sets are recorded and audited too.
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
GEN=$(activate_set "$DB" "$ROOT/scripts")
expect_run "the shipped scripts proposed, approved and activated" 0 "1" "" -- sqlite3 "$DB" "select count(*) from script_generations where status = 'active' and hash = '$GEN'"
expect_run "proposing the same set again keeps nothing new" 0 "*" "" -- sh -c "'$T' --db '$DB' scripts propose '$ROOT/scripts' 2>/dev/null | grep -q 'already kept as active'"
echo '{"id":"q1","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"MA"},"debt":{"id":"D1"}}' >"$D/q.jsonl"
expect_run "decide --record" 0 "*" "" -- "$T" --db "$DB" decide --record "$D/q.jsonl"
expect_run "decision stored with the active script set" 0 "1" "" -- sqlite3 "$DB" "select count(*) from gate_decisions where scripts_hash = '$GEN'"
expect_run "decisions bound into the audit chain" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export | grep '\"action\":\"gate.decisions\"' | grep -q '\"count\":1,'"
expect_run "the generation's texts are the active set's, kept in the store" 0 "1" "" -- sqlite3 "$DB" "select count(*) from script_generations where hash = '$GEN' and status = 'active'"
expect_run "chain intact after all of it" 0 "*" "" -- "$T" --db "$DB" audit verify
mkdir -p "$D/badset/regulations"
printf 'return regulation { id = "X", rules = { { id = "a", block = true } } }\n' >"$D/badset/regulations/x.lua"
expect_run "a set with problems is not proposed" 1 "*" "the set was not proposed" -- "$T" --db "$DB" scripts propose "$D/badset"
expect_run "  ...nothing kept" 0 "1" "" -- sqlite3 "$DB" "select count(*) from script_generations"
sqlite3 "$DB" "update audit set details = '{}' where seq = 3"
expect_run "tampered audit record named" 1 "" "audit chain broken at record 3: record 3 was changed" -- "$T" --db "$DB" audit verify
expect_run "database integrity" 0 "ok" "" -- sqlite3 "$DB" "pragma integrity_check"
expect_run "events without a store are refused" 1 "" "no such store" -- "$T" --db "$E2E_TMP/none.db" event /dev/null
expect_run "  ...and no empty store is left behind" 1 "*" "*" -- test -e "$E2E_TMP/none.db"
finish
