#!/bin/sh
# tests/e2e/test_versions.sh: a debt stays on the journey version it started
# on unless a migration is declared. Day 1 starts debts on version 1; the
# journey is then changed (version 2, a state renamed, another template);
# old debts go on with version 1's transitions and templates while new debts
# follow version 2; lint notes the bump without migration; a debt whose old
# text is gone is parked and audited; version 3 declares migrations and the
# old debts move at their next step.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/v.db"
TREE="$D/tree"
mkdir -p "$TREE/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"
J="$TREE/strategies/demo.lua"
cat >"$J" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo", version = 1,
  start = "remind",
  send_window = { "10:00", "18:00" },
  states = {
    remind = { enter = function(j) j:send("email", "early_reminder") end,
               after = { days(3), "letter" } },
    letter = { enter = function(j) j:send("letter", "mid_letter") end },
    hold = {},
  },
}
LUA
q() { sqlite3 "$DB" "$1"; }
printf 'external_id,debt_id,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip\nC1,D1,MA,America/New_York,100.00,USD,10,+16175560001,x1@example.com,1 Elm St,Springfield,01101\nC2,D2,TX,America/Chicago,200.00,USD,20,+16175560002,x2@example.com,2 Elm St,Springfield,01101\n' >"$D/a.csv"
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1

expect_run "day 1 on version 1" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool"
expect_run "both started on version 1, with its text's hash" 0 "2" "" -- sqlite3 "$DB" "select count(*) from debts where journey_version = '1' and length(journey_hash) = 64"
expect_run "version 1's text is kept" 0 "demo|1|strategies/demo.lua" "" -- sqlite3 "$DB" "select journey, version, path from journey_texts"
expect_run "  ...under the hash the debts record" 0 "2" "" -- sqlite3 "$DB" "select count(*) from debts d join journey_texts t on t.hash = d.journey_hash"
expect_run "  ...and audited once" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export | grep -c journey.archived"

# The journey changes: version 2 renames letter to notice, which sends an
# email (another template), and waits two days instead of three.
cat >"$J" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo", version = 2,
  start = "remind",
  send_window = { "10:00", "18:00" },
  states = {
    remind = { enter = function(j) j:send("email", "early_reminder") end,
               after = { days(2), "notice" } },
    notice = { enter = function(j) j:send("email", "mid_reminder") end },
    hold = {},
  },
}
LUA
expect_run "lint: a bump without migration is a note, not a problem" 0 "$TREE/strategies/demo.lua: note: journey demo is at version 2 and declares no migration from version 1: debts started on it keep running the text they started on" "" -- "$T" --db "$DB" --scripts "$TREE" lint
printf 'external_id,debt_id,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip\nC3,D3,MA,America/New_York,300.00,USD,10,+16175560001,x1@example.com,1 Elm St,Springfield,01101\n' >"$D/b.csv"
"$T" --db "$DB" import accounts "$D/b.csv" >/dev/null 2>&1
expect_run "day 2 on version 2" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-24 --spool "$D/spool"
expect_run "the new debt starts on version 2" 0 "2|remind|notice" "" -- sqlite3 "$DB" "select journey_version, journey_state, timer_go from debts where debt_id = 'D3'"
expect_run "the old ones keep version 1's timer" 0 "D1|1|letter
D2|1|letter" "" -- sqlite3 "$DB" "select debt_id, journey_version, timer_go from debts where debt_id in ('D1', 'D2') order by debt_id"
expect_run "two texts kept" 0 "1
2" "" -- sqlite3 "$DB" "select version from journey_texts order by version"
cp "$DB" "$D/parked.db"
cp "$DB.key" "$D/parked.db.key"
expect_run "days 3 and 4" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-25 --days 2 --spool "$D/spool"
LAST="select d.debt_id, d.journey_state, d.journey_version, o.channel, o.template from debts d join outbox o on o.debt_id = d.id where o.id = (select max(id) from outbox where debt_id = d.id) order by d.debt_id"
expect_run "old debts followed version 1 (letter, mid_letter); the new one version 2 (notice, mid_reminder)" 0 "D1|letter|1|letter|mid_letter
D2|letter|1|letter|mid_letter
D3|notice|2|email|mid_reminder" "" -- sqlite3 "$DB" "$LAST"
expect_run "the audit says which version each step ran" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export --debt D1 | grep -c '\"to\":\"letter\".*\"version\":1'"

# A debt whose old text is gone is parked, with an error naming journey,
# version and hash; the others carry on.
H1=$(q "select hash from journey_texts where version = 1")
sqlite3 "$D/parked.db" "delete from journey_texts where version = 1"
expect_run "missing old text: reported, the run goes on" 1 "*" "journey demo version 1 (text sha256 $H1): the archived text is missing; the debt is parked in state 'remind'" -- "$T" --db "$D/parked.db" --scripts "$TREE" --draft run --date 2026-11-25 --days 2 --spool "$D/spool3"
expect_run "  ...parked where they were" 0 "D1|remind|1
D2|remind|1
D3|notice|2" "" -- sqlite3 "$D/parked.db" "select debt_id, journey_state, journey_version from debts order by debt_id"
expect_run "  ...and audited" 0 "*" "" -- sh -c "'$T' --db '$D/parked.db' audit export --debt D1 | grep -q 'journey.parked.*$H1'"
expect_run "  ...the audit chain holds" 0 "*" "" -- "$T" --db "$D/parked.db" audit verify

# A migration naming a state version 3 does not have fails lint.
mkdir -p "$D/bad/strategies"
cp -r "$ROOT/scripts/lib" "$D/bad/"
sed -e 's/version = 2,/version = 3, migrate = { [1] = { states = { letter = "notce" } } },/' "$J" >"$D/bad/strategies/demo.lua"
expect_run "lint: a migration to a missing state is a problem" 1 "*" "" -- "$T" --scripts "$D/bad" lint
cp "$E2E_TMP/out" "$D/lint.out"
expect_run "  ...named" 0 "*" "" -- grep -q "journey demo: migrate\[1\].states.letter: no state 'notce' in version 3" "$D/lint.out"

# Version 3 declares migrations: old debts move at their next step.
sed -i -e 's/version = 2,/version = 3, migrate = { [1] = { states = { letter = "notice" } }, [2] = {} },/' \
       -e 's/hold = {},/hold = {}, done = { final = "handled" },/' \
       -e 's/  states = {/  on = { dispute = "hold" },\n  states = {/' "$J"
expect_run "lint: migrations declared, no note" 0 "" "" -- "$T" --db "$DB" --scripts "$TREE" lint
printf '%s\n' '{"key":"x1","type":"dispute","debt_id":"D1","at":"2026-11-28T12:00:00Z"}' >"$D/ev.jsonl"
"$T" --db "$DB" event "$D/ev.jsonl" >/dev/null 2>&1
expect_run "day 6 on version 3" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-28 --spool "$D/spool"
expect_run "D1 migrated (letter -> notice) and handled the event on version 3" 0 "hold|3" "" -- sqlite3 "$DB" "select journey_state, journey_version from debts where debt_id = 'D1'"
expect_run "  ...the hash is version 3's" 0 "3" "" -- sqlite3 "$DB" "select t.version from debts d join journey_texts t on t.hash = d.journey_hash where d.debt_id = 'D1'"
expect_run "  ...audited as a migration" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export --debt D1 | grep -q '\"action\":\"journey.migrate\".*\"from_version\":1,\"to_version\":3,\"from_state\":\"letter\",\"to_state\":\"notice\"'"
expect_run "D2 has had no step yet: still on version 1" 0 "letter|1" "" -- sqlite3 "$DB" "select journey_state, journey_version from debts where debt_id = 'D2'"
printf '%s\n' '{"key":"x2","type":"dispute","debt_id":"D2","at":"2026-11-29T12:00:00Z"}' '{"key":"x3","type":"dispute","debt_id":"D3","at":"2026-11-29T12:00:00Z"}' >"$D/ev2.jsonl"
"$T" --db "$DB" event "$D/ev2.jsonl" >/dev/null 2>&1
expect_run "day 7" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-29 --spool "$D/spool"
expect_run "D2 and D3 moved to version 3 too" 0 "D2|hold|3
D3|hold|3" "" -- sqlite3 "$DB" "select debt_id, journey_state, journey_version from debts where debt_id in ('D2', 'D3') order by debt_id"
expect_run "three migrations audited" 0 "3" "" -- sh -c "'$T' --db '$DB' audit export | grep -c journey.migrate"
expect_run "audit chain intact" 0 "*" "" -- "$T" --db "$DB" audit verify
finish
