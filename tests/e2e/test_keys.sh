#!/bin/sh
# tests/e2e/test_keys.sh: a store knows its keys. Every command that opens a
# store with a key refuses another store's key file, an older copy of its own,
# and a missing one (no new key for a store that holds data), naming the key
# file and the store, exit 1, nothing written. Regressions for "a wrong key
# file is used to write": with another store's key, import, event, pay and run
# exited 0, overwrote personal data under the foreign key and chained audit
# records under it, breaking the chain for good.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
A="$D/a.db"
B="$D/b.db"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,phone,balance,currency,tier
C1,D1,Zelda,Quintero,MA,+16175550101,100.00,USD,gold
C2,D2,Ambrose,Fairweather,TX,,20.00,USD,
CSV
cat >"$D/changed.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,phone,balance,currency,tier
C1,D1,Mallory,Quintero,MA,+16175550199,100.00,USD,gold
C3,D3,Eve,Other,NY,,5.00,USD,
CSV
printf '{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"1.00"}\n' >"$D/e1.jsonl"
printf '{"key":"e2","type":"phone_change","debt_id":"D1","at":"2026-11-21T10:00:00Z","phone":"+16175550142"}\n' >"$D/e2.jsonl"
printf '{"key":"p1","debt_id":"D1","amount":"5.00","card_number":"4111111111111111","expiry":"12/30","at":"2026-11-22T10:00:00Z"}\n' >"$D/pay.jsonl"
echo '{"id":"q1","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"MA"},"debt":{"id":"D1"}}' >"$D/q.jsonl"

"$T" --db "$A" import accounts "$D/a.csv" 2>/dev/null
"$T" --db "$A" event "$D/e1.jsonl" 2>/dev/null
"$T" --db "$B" import accounts "$D/a.csv" 2>/dev/null
expect_run "the store records check values for its keys, never a key" 0 "2" "" -- sqlite3 "$A" "select count(*) from key_checks where length(check_value) = 64 and check_value not in ('$(sed -n 's/^v1 //p' "$A.key")', '$(sed -n 's/^hmac //p' "$A.key")')"

state() { sqlite3 "$A" .dump | sha256sum; sha256sum <"$A.key"; sha256sum <"$B.key"; }
before=$(state)
WRONG="key file $B.key does not belong to store $A: key version 1 does not match"
W="$T --db $A --key-file $B.key" # (the test directory's name has no spaces)
expect_run "import with another store's key" 1 "" "$WRONG" -- $W import accounts "$D/changed.csv"
expect_run "event with another store's key" 1 "" "$WRONG" -- $W event "$D/e2.jsonl"
expect_run "pay with another store's key" 1 "" "$WRONG" -- $W pay "$D/pay.jsonl"
expect_run "run with another store's key" 1 "" "$WRONG" -- $W --draft run --date 2026-11-24
expect_run "keys rotate with another store's key" 1 "" "$WRONG" -- $W keys rotate
expect_run "decide --record with another store's key" 1 "" "$WRONG" -- $W --draft decide --record "$D/q.jsonl"
expect_run "scripts with another store's key" 1 "" "$WRONG" -- $W scripts list
expect_run "queue close with another store's key" 1 "" "$WRONG" -- $W queue close 1 --by agent7
expect_run "audit verify with another store's key" 1 "" "$WRONG" -- $W audit verify
expect_run "audit export with another store's key" 1 "" "$WRONG" -- $W audit export
expect_run "simulate with another store's key" 1 "" "$WRONG" -- $W --scripts "$ROOT/scripts" --draft simulate --date 2026-11-24 --days 2 --strategy "$ROOT/scripts/strategies"
expect_run "  ...with it in \$TALLYMAN_KEY_FILE too" 1 "" "$WRONG" -- env TALLYMAN_KEY_FILE="$B.key" "$T" --db "$A" event "$D/e2.jsonl"
expect_run "  ...nothing written: store and both key files unchanged" 0 "*" "" -- test "$(state)" = "$before"
expect_run "  ...the chain holds under the store's own key" 0 "audit chain intact: 4 records" "" -- "$T" --db "$A" audit verify

# A missing key file: an error for a store that holds data, never a new key.
mv "$A.key" "$D/a.key.kept"
MISSING="key file $A.key is missing, and store $A already holds data"
expect_run "import without the key file" 1 "" "$MISSING" -- "$T" --db "$A" import accounts "$D/changed.csv"
expect_run "  ...no key file made" 1 "*" "*" -- test -e "$A.key"
expect_run "event without the key file" 1 "" "$MISSING" -- "$T" --db "$A" event "$D/e2.jsonl"
expect_run "scripts without the key file" 1 "" "$MISSING" -- "$T" --db "$A" scripts list
expect_run "run without the key file" 1 "" "$MISSING" -- "$T" --db "$A" --draft run --date 2026-11-24
mv "$D/a.key.kept" "$A.key"
expect_run "  ...nothing written" 0 "*" "" -- test "$(state)" = "$before"
expect_run "a new store still gets its key file on first use" 0 "*" "created the key file $D/c.db.key" -- "$T" --db "$D/c.db" import accounts "$D/a.csv"

# An older copy of the key file, after a rotation, lacks the current version.
cp -p "$A.key" "$D/a.key.v1"
expect_run "keys rotate" 0 "*" "" -- "$T" --db "$A" keys rotate
expect_run "  ...the store learnt key version 2" 0 "0|1|2" "" -- sqlite3 "$A" "select group_concat(version, '|') from (select version from key_checks order by version)"
expect_run "the key file from before the rotation is refused" 1 "" "key file $D/a.key.v1 lacks key version 2, which store $A uses" -- "$T" --db "$A" --key-file "$D/a.key.v1" event "$D/e2.jsonl"
expect_run "the current file works" 0 "*" "1 applied" -- "$T" --db "$A" event "$D/e2.jsonl"

# A store from before check values adopts its own key file, confirmed by its
# data, and still refuses another's.
sqlite3 "$A" "delete from key_checks"
before=$(state)
expect_run "an older store refuses another store's key" 1 "" "key file $B.key does not belong to store $A" -- $W import accounts "$D/changed.csv"
expect_run "  ...nothing written" 0 "*" "" -- test "$(state)" = "$before"
expect_run "an older store adopts its own key" 0 "*" "2 accepted" -- "$T" --db "$A" import accounts "$D/a.csv"
expect_run "  ...and records its check values" 0 "3" "" -- sqlite3 "$A" "select count(*) from key_checks"
expect_run "the chain holds after all of it" 0 "*" "" -- "$T" --db "$A" audit verify

# Rotation moves every encrypted value to the new version: consumers' personal
# data, debts' attributes and the outbox's rendered messages (regression: the
# outbox was left on the old version), and says how many of each.
R="$D/r.db"
cat >"$D/r.csv" <<'CSV'
external_id,debt_id,first_name,last_name,address1,city,state,zip,phone,email,balance,currency,days_past_due,tier
C1,D1,Zelda,Quintero,12 Main St,Boston,MA,02110,+16175550101,z@example.com,100.00,USD,45,gold
C2,D2,Ambrose,Fairweather,9 Elm Rd,Austin,TX,73301,+15125550101,a@example.com,20.00,USD,60,
CSV
"$T" --db "$R" import accounts "$D/r.csv" 2>/dev/null
activate_set "$R" "$ROOT/scripts" >/dev/null
"$T" --db "$R" run --date 2026-11-24 >/dev/null 2>&1
# Two debts never paid, 45 and 60 days past due: the library's first_contact
# journey renders four messages (a call and an email or text to each).
expect_run "the run left rendered messages under key version 1" 0 "4" "" -- sqlite3 "$R" "select count(*) from outbox where key_version = 1 and substr(hex(payload), 3, 8) = '00000001'"
expect_run "keys rotate counts each kind" 0 "key version 2 is now current; 7 records re-encrypted
  consumers (personal data): 2
  debts (attributes): 1
  outbox (message payloads): 4" "" -- "$T" --db "$R" keys rotate
expect_run "  ...no consumer left on version 1" 0 "0" "" -- sqlite3 "$R" "select count(*) from consumers where key_version <> 2 or substr(hex(pii), 3, 8) <> '00000002'"
expect_run "  ...no debt's attributes" 0 "0" "" -- sqlite3 "$R" "select count(*) from debts where attributes is not null and substr(hex(attributes), 3, 8) <> '00000002'"
expect_run "  ...no outbox payload" 0 "0" "" -- sqlite3 "$R" "select count(*) from outbox where key_version is not null and (key_version <> 2 or substr(hex(payload), 3, 8) <> '00000002')"
expect_run "  ...the audit record counts them too" 0 "*" "" -- sh -c "'$T' --db '$R' audit export | grep -q '\"records_reencrypted\":7,\"consumers\":2,\"debts\":1,\"outbox\":4'"
# With version 1 retired from the key file, everything still reads: a store
# without check values must decrypt a value of each kind under each of the
# file's versions to adopt it, and an address change decrypts and rewrites a
# consumer's personal data.
grep -v '^v1 ' "$R.key" >"$D/r.v2.key"
chmod 600 "$D/r.v2.key"
sqlite3 "$R" "delete from key_checks"
printf '{"key":"a1","type":"address_change","debt_id":"D1","at":"2026-11-25T10:00:00Z","address1":"1 New Rd","city":"Boston","state":"MA","zip":"02110"}\n' >"$D/addr.jsonl"
expect_run "everything decrypts under version 2 alone" 0 "*" "1 applied" -- "$T" --db "$R" --key-file "$D/r.v2.key" event "$D/addr.jsonl"
expect_run "  ...and the chain holds" 0 "*" "" -- "$T" --db "$R" --key-file "$D/r.v2.key" audit verify
finish
