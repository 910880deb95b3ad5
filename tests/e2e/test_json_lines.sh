#!/bin/sh
# tests/e2e/test_json_lines.sh: JSON lines are read one way by import, event,
# decide and pay (core/jsonl.h). Lines are numbered with blank ones counted
# (a line of spaces and tabs is blank for all four), CRLF and a last line
# without its newline are read, a line over 1 MiB is named FILE:LINE as too
# long and the rest of the file goes on, and a line cut short is placed at
# the same column whoever reads it.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/j.db"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,state,balance,currency
C1,D1,TX,100.00,USD
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1

# A line of more than 1 MiB: one string value that long, so only the
# reader's limit refuses it.
big() { printf '{"%s":"' "$1"; head -c 1048576 /dev/zero | tr '\0' x; printf '"}\n'; }

# Import: blank lines counted, CRLF, a line too long, no final newline.
{
    printf '{"external_id":"C2","debt_id":"D2","state":"TX","balance":"5.00","currency":"USD"}\r\n'
    printf ' \t \r\n\n'
    big notes
    printf '{"external_id":"C3","debt_id":"D3","state":"TX","balance":"7.00","currency":"USD"}'
} >"$D/i.jsonl"
expect_run "import: a line too long is named, the rest imported" 1 "*" \
    "i.jsonl:4: line too long (more than 1048576 bytes)" -- "$T" --db "$DB" import accounts "$D/i.jsonl"
expect_run "  ...the CRLF line and the last line without its newline" 0 "D1
D2
D3" "" -- sqlite3 "$DB" "select debt_id from debts order by 1"

# Event: the same.
{
    printf '\n   \n{"key":"e1","type":"contact","debt_id":"D1","at":"2026-11-20T10:00:00Z","channel":"call","outcome":"attempt"}\r\n'
    big key
    printf '{"key":"e2","type":"contact","debt_id":"D1","at":"2026-11-20T11:00:00Z","channel":"sms","outcome":"delivered"}'
} >"$D/e.jsonl"
expect_run "event: a line too long is named, the rest applied" 1 "*" \
    "e.jsonl:4: line too long (more than 1048576 bytes)" -- "$T" --db "$DB" event "$D/e.jsonl"
expect_run "  ...both events applied" 0 "e1,e2" "" -- sqlite3 "$DB" "select group_concat(key) from (select key from events order by key)"

# Decide: an error line for the long one, a decision for the others.
{
    printf '\t\n{"id":"a","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"TX"}}\r\n'
    big id
    printf '{"id":"b","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"TX"}}'
} >"$D/q.jsonl"
expect_run "decide: a line too long is an error line, the rest decided" 1 "*" "" -- "$T" decide "$D/q.jsonl"
cp "$E2E_TMP/out" "$D/q.out"
expect_run "  ...three answers" 0 "3" "" -- sh -c "wc -l <'$D/q.out' | tr -d ' '"
expect_run "  ...named by its line" 0 '{"line":3,"id":null,"error":"line too long (more than 1048576 bytes)"}' "" -- sed -n 2p "$D/q.out"
expect_run "  ...the last line without its newline decided" 0 "*" "" -- grep -q '"id":"b"' "$D/q.out"

# Pay: blank lines skipped (spaces included), a line too long rejected, not charged.
{
    printf '  \n'
    big key
    printf '{"key":"k1","debt_id":"D1","amount":"5.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}\r\n'
} >"$D/p.jsonl"
expect_run "pay: a line too long is rejected, the rest taken" 1 \
    "$D/p.jsonl: 1 approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 0 refused by velocity limits, 0 already taken, 1 rejected" \
    "p.jsonl:2: line too long (more than 1048576 bytes)" -- "$T" --db "$DB" pay "$D/p.jsonl"
printf '\t \n{"key":"k2","debt_id":"D1","amount":"6.00","card_number":"4111111111111111","at":"2026-11-23T16:00:00Z"}\n \n' >"$D/p2.jsonl"
expect_run "pay: lines of spaces are blank, as for event and import" 0 \
    "$D/p2.jsonl: 1 approved, 0 declined, 0 pending (gateway time-out: retried by the next run), 0 refused by velocity limits, 0 already taken, 0 rejected" \
    "" -- "$T" --db "$DB" pay "$D/p2.jsonl"

# A line cut short, with CRLF: decide and event place it at the same column,
# just past the line's own text (the line's end is not part of it).
printf '{"id":\r\n' >"$D/cut.jsonl"
expect_run "decide: a line cut short, column within the line" 1 \
    '{"line":1,"id":null,"error":"not valid JSON: unexpected end of text (column 7)"}' "" -- "$T" decide "$D/cut.jsonl"
expect_run "event: the same column" 1 "*" "cut.jsonl:1: not a valid JSON object: unexpected end of text (column 7)" \
    -- "$T" --db "$DB" event "$D/cut.jsonl"

expect_run "the audit chain holds" 0 "*" "*" -- "$T" --db "$DB" audit verify
finish
