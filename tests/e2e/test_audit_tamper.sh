#!/bin/sh
# tests/e2e/test_audit_tamper.sh: `audit verify` compares what is stored
# exactly. Each case edits a copy of the store with the sqlite3 CLI the way an
# outside test did (text appended to the head, a seq or a time that is not an
# integer, bytes hidden after a NUL, an emptied log) and wants exit 1 naming
# the record; `audit export` must show bytes after a NUL, not hide them.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/t.db"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,state,balance,currency
C1,D1,Zelda,MA,10.00,USD
C2,D2,Ambrose,TX,20.00,USD
CSV
printf '{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"1.00"}\n' >"$D/e.jsonl"
"$T" --db "$DB" import accounts "$D/a.csv" 2>/dev/null
"$T" --db "$DB" event "$D/e.jsonl" 2>/dev/null
# Records: 1 and 2 the accounts, 3 the import, 4 the payment; the head names 4.
expect_run "the untouched store verifies" 0 "audit chain intact: 4 records" "" -- "$T" --db "$DB" audit verify

# tamper NAME SQL RECORD PROBLEM: on a fresh copy, SQL makes verify fail at RECORD.
n=0
tamper() {
    n=$((n + 1))
    cp "$DB" "$D/c$n.db"
    cp "$DB.key" "$D/c$n.db.key"
    sqlite3 "$D/c$n.db" "$2"
    expect_run "$1" 1 "" "audit chain broken at record $3: $4" -- "$T" --db "$D/c$n.db" audit verify
}
tamper "text appended to the head's mac" "UPDATE audit_head SET mac = mac || 'x'" 4 "the chain's head record was changed: its mac is 65 characters"
tamper "text appended to the head's hash" "UPDATE audit_head SET hash = hash || '00'" 4 "the chain's head record was changed: its hash is 66 characters"
tamper "head seq as '4abc'" "UPDATE audit_head SET seq = seq || 'abc'" 4 "the chain's head record was changed: its seq is stored as text"
tamper "head seq as 4.7" "UPDATE audit_head SET seq = seq + 0.7" 4 "the chain's head record was changed: its seq is stored as a real number"
tamper "a record's at with text appended" "UPDATE audit SET at = at || 'x' WHERE seq = 2" 2 "record 2 was changed (its at is stored as text"
tamper "a record's at plus 0.9" "UPDATE audit SET at = at + 0.9 WHERE seq = 3" 3 "record 3 was changed (its at is stored as a real number"
tamper "bytes after a NUL in details" "UPDATE audit SET details = details || char(0) || ',\"refund\":1' WHERE seq = 4" 4 "record 4 was changed (its details holds a NUL byte"
tamper "bytes after a NUL in actor" "UPDATE audit SET actor = actor || char(0) || 'mallory' WHERE seq = 1" 1 "record 1 was changed (its actor holds a NUL byte"
tamper "an emptied log on a store full of data" "DELETE FROM audit; DELETE FROM audit_head" 1 "the audit log is empty, but the store holds 2 consumers, 2 debts, 1 events"

# An older chain put back whole (records and head from a copy taken before
# the events and a second import): every record and the head verify, but the
# store holds a debt whose creation the chain does not record.
cp "$DB" "$D/old.db"
printf 'external_id,debt_id,first_name,state,balance,currency\nC3,D3,Ana,NY,5.00,USD\n' >"$D/b.csv"
"$T" --db "$DB" import accounts "$D/b.csv" 2>/dev/null
expect_run "the grown store verifies" 0 "audit chain intact: 6 records" "" -- "$T" --db "$DB" audit verify
cp "$DB" "$D/back.db"
cp "$DB.key" "$D/back.db.key"
sqlite3 "$D/back.db" "ATTACH '$D/old.db' AS old; DELETE FROM audit; DELETE FROM audit_head;
    INSERT INTO audit SELECT * FROM old.audit; INSERT INTO audit_head SELECT * FROM old.audit_head"
expect_run "an older chain put back" 1 "" "audit chain broken at record 5: the chain ends too soon: it records 2 debts created, but the store holds 3" -- "$T" --db "$D/back.db" audit verify

# Export shows every stored byte, says which record is malformed, exit 1.
cp "$DB" "$D/x.db"
cp "$DB.key" "$D/x.db.key"
sqlite3 "$D/x.db" "UPDATE audit SET actor = actor || char(0) || 'mallory' WHERE seq = 1"
expect_run "export names the malformed record, exit 1" 1 "*" "audit record 1 is not as tallyman writes it" -- "$T" --db "$D/x.db" audit export
expect_run "export shows the bytes after the NUL" 0 "*" "" -- sh -c "'$T' --db '$D/x.db' audit export 2>/dev/null | grep -q '\"actor\":\"import\\\\u0000mallory\"'"
expect_run "export writes the records after it" 0 "6" "" -- sh -c "'$T' --db '$D/x.db' audit export 2>/dev/null | wc -l"
expect_run "an intact export exits 0" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export | grep -c '\"seq\"' | grep -qx 6"
finish
