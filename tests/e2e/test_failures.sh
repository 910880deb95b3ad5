#!/bin/sh
# tests/e2e/test_failures.sh: `tallyman run` when scripts fail: a regulation
# whose check fails is counted apart from ordinary blocks, told once with its
# file and line, and the run exits 1; a journey whose segment hits a limit is
# named with file and line, and after the first hit its remaining debts are
# parked at once (counted, not timed); a run for a day before the last day
# worked is refused unless --rewind is given, which is audited.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

# A tree with the shipped regulations and channels, and one simple journey.
tree() {
    mkdir -p "$1/strategies"
    cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$1/"
    cat >"$1/strategies/demo.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo",
  priority = 50,
  segment = function(d) return true end,
  start = "remind",
  send_window = { "10:00", "18:00" },
  states = {
    remind = { enter = function(j) j:send("email", "early_reminder") end },
  },
}
LUA
}
accounts() {
    awk -v n="$2" 'BEGIN { print "external_id,debt_id,state,timezone,balance,currency,phone,email,address1,city,zip";
        for (i = 1; i <= n; i++) printf "C%d,D%d,MA,America/New_York,10.00,USD,+1617%07d,c%d@example.com,%d Main St,Springfield,01101\n", i, i, i, i, i }' >"$1"
}

# --- 15: a regulation whose check fails ------------------------------------
tree "$D/t15"
cat >"$D/t15/regulations/house.lua" <<'LUA'
return regulation {
    id = "HOUSE",
    rules = {
        { id = "throws", cite = "House policy 1", channels = { "email" },
          check = function(c)
              local x = nil
              return x.y
          end },
    },
}
LUA
accounts "$D/a15.csv" 3
"$T" --db "$D/r15.db" import accounts "$D/a15.csv" >/dev/null 2>&1
"$T" --db "$D/r15.db" --scripts "$D/t15" --draft run --date 2026-11-23 --spool "$D/sp15" >"$D/r15.out" 2>"$D/r15.err"
expect_run "a rule that failed: run exits 1" 1 "*" "*" -- sh -c "exit $?"
expect_run "  ...counted apart from blocks" 0 "*" "" -- grep -q "contacts: 3 planned, 0 allowed, 0 blocked, 3 stopped by a rule that failed" "$D/r15.out"
expect_run "  ...not in the blocked-by-rule table" 0 "*" "" -- sh -c "! grep -q '^blocked by rule' '$D/r15.out'"
expect_run "  ...told once, with file and line" 0 "1" "" -- sh -c "grep -c 'HOUSE/throws (House policy 1): $D/t15/regulations/house.lua:7: attempt to index ' '$D/r15.out'"
expect_run "  ...with the contacts it stopped" 0 "*" "" -- grep -Eq "house.lua:7: attempt to index .*: 3 contacts\$" "$D/r15.out"
expect_run "  ...nothing sent" 0 "0" "" -- sqlite3 "$D/r15.db" "select count(*) from outbox where status = 'sent'"
expect_run "  ...the decisions name the rule" 0 "3" "" -- sqlite3 "$D/r15.db" "select count(*) from gate_decisions where blocked_by = 'HOUSE/throws'"
expect_run "  ...audited once" 0 "1" "" -- sh -c "'$T' --db '$D/r15.db' audit export | grep -c 'gate.rule_failed'"
expect_run "  ...audit chain intact" 0 "*" "" -- "$T" --db "$D/r15.db" audit verify

# --- 14: a journey whose segment runs into a limit ---------------------------
# "spin" comes first by priority and loops; "demo" would take every debt. The
# debts are parked, not handed to demo, and the limit is hit once, not once
# per debt (counted by the sandboxes and in the audit log, not timed).
tree "$D/t14"
cat >"$D/t14/strategies/spin.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "spin",
  priority = 10,
  segment = function(d)
    while true do end
  end,
  start = "s",
  states = { s = {} },
}
LUA
accounts "$D/a14.csv" 6
"$T" --db "$D/r14.db" import accounts "$D/a14.csv" >/dev/null 2>&1
"$T" --db "$D/r14.db" --scripts "$D/t14" --draft run --date 2026-11-23 --workers 0 --spool "$D/sp14" >"$D/r14.out" 2>"$D/r14.err"
expect_run "a segment that hits a limit: run exits 1" 1 "*" "*" -- sh -c "exit $?"
expect_run "  ...each debt's message names the file and line" 0 "6" "" -- sh -c "grep -c '^debt D[0-9]: $D/t14/strategies/spin.lua:6: instruction limit exceeded (in the segment of journey spin)\$' '$D/r14.err'"
expect_run "  ...the limit was hit once, not once per debt" 0 "*" "" -- grep -q "^script limits hit: 1\$" "$D/r14.out"
expect_run "  ...the rest parked at once" 0 "*" "" -- grep -q "spin: $D/t14/strategies/spin.lua:6: instruction limit exceeded (in the segment of journey spin): hit 1 time, 5 debts parked at once" "$D/r14.out"
expect_run "  ...no debt handed to the next journey" 0 "0" "" -- sqlite3 "$D/r14.db" "select count(*) from debts where journey is not null and journey <> ''"
expect_run "  ...the summary counts them in no journey" 0 "*" "" -- grep -q "6 debts in no journey (6 of them parked by a script error), 6 script errors" "$D/r14.out"
expect_run "  ...each parked debt audited with the same reason" 0 "6" "" -- sh -c "'$T' --db '$D/r14.db' audit export | grep 'journey.parked' | grep -c 'spin.lua:6: instruction limit exceeded (in the segment of journey spin)'"
expect_run "  ...the debts wait for the next run" 0 "*" "" -- sh -c "'$T' --db '$D/r14.db' --scripts '$D/t14' --draft run --date 2026-11-24 --workers 0 --spool '$D/sp14' 2>/dev/null | grep -q '6 debts in no journey'"
"$T" --db "$D/r14.db" --scripts "$D/t14" --draft run --date 2026-11-25 --workers 2 --spool "$D/sp14" >"$D/r14w.out" 2>/dev/null
expect_run "  ...with two workers, at most one hit each" 0 "*" "" -- grep -Eq "^script limits hit: [12]\$" "$D/r14w.out"

# A journey higher in priority still takes its debts; only those that reach
# the stopped journey are parked.
cat >"$D/t14/strategies/first.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "first",
  priority = 5,
  segment = function(d) return d.debt_id == "D1" or d.debt_id == "D2" end,
  start = "s",
  states = { s = {} },
}
LUA
"$T" --db "$D/r14.db" --scripts "$D/t14" --draft run --date 2026-11-26 --workers 0 --spool "$D/sp14" >"$D/r14p.out" 2>/dev/null
expect_run "a journey ahead in priority still takes its debts" 0 "2" "" -- sqlite3 "$D/r14.db" "select count(*) from debts where journey = 'first'"
expect_run "  ...the rest are parked, the limit hit once" 0 "*" "" -- grep -q "hit 1 time, 3 debts parked at once" "$D/r14p.out"

# A journey whose start state loops: stopped after the first debt too.
tree "$D/t14b"
cat >"$D/t14b/strategies/demo.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo",
  segment = function(d) return true end,
  start = "s",
  states = { s = { enter = function(j)
    local n = 0
    while true do n = n + 1 end
  end } },
}
LUA
accounts "$D/a14b.csv" 4
"$T" --db "$D/r14b.db" import accounts "$D/a14b.csv" >/dev/null 2>&1
"$T" --db "$D/r14b.db" --scripts "$D/t14b" --draft run --date 2026-11-23 --workers 0 --spool "$D/sp14b" >"$D/r14b.out" 2>"$D/r14b.err"
expect_run "a start state that hits a limit: hit once" 0 "*" "" -- grep -q "^script limits hit: 1\$" "$D/r14b.out"
expect_run "  ...named with file and line" 0 "*" "" -- grep -q "demo: $D/t14b/strategies/demo.lua:[78]: instruction limit exceeded: hit 1 time, 3 debts parked at once" "$D/r14b.out"

# --- 16: a run for a day before the last day worked ---------------------------
tree "$D/t16"
accounts "$D/a16.csv" 2
"$T" --db "$D/r16.db" import accounts "$D/a16.csv" >/dev/null 2>&1
LAST="select date(value * 86400, 'unixepoch') from cycle where name = 'last_day'"
AUDITS="select count(*) from audit"
expect_run "day 25" 0 "*" "" -- "$T" --db "$D/r16.db" --scripts "$D/t16" --draft run --date 2026-11-25 --spool "$D/sp16"
expect_run "  ...is the last day worked" 0 "2026-11-25" "" -- sqlite3 "$D/r16.db" "$LAST"
expect_run "the same day again is a rerun, not a rewind" 0 "*" "" -- "$T" --db "$D/r16.db" --scripts "$D/t16" --draft run --date 2026-11-25 --spool "$D/sp16"
n_audit=$(sqlite3 "$D/r16.db" "$AUDITS")
expect_run "an earlier day is refused, naming the last day and --rewind" 1 "" "--date 2026-11-24 is before 2026-11-25, the last day this store has worked; running it would move the cycle back: give --rewind" -- "$T" --db "$D/r16.db" --scripts "$D/t16" --draft run --date 2026-11-24 --spool "$D/sp16b"
expect_run "  ...the last day stays" 0 "2026-11-25" "" -- sqlite3 "$D/r16.db" "$LAST"
expect_run "  ...nothing written: no audit record" 0 "$n_audit" "" -- sqlite3 "$D/r16.db" "$AUDITS"
expect_run "  ...no spool made" 1 "*" "*" -- test -e "$D/sp16b"
expect_run "  ...--days from an earlier day too" 1 "" "give --rewind" -- "$T" --db "$D/r16.db" --scripts "$D/t16" --draft run --date 2026-11-20 --days 3 --spool "$D/sp16"
expect_run "with --rewind: runs, and says so" 0 "*" "rewinding the cycle from 2026-11-25, the last day worked, to 2026-11-24 (audited)" -- "$T" --db "$D/r16.db" --scripts "$D/t16" --draft run --date 2026-11-24 --rewind --spool "$D/sp16"
expect_run "  ...the last day is the one run" 0 "2026-11-24" "" -- sqlite3 "$D/r16.db" "$LAST"
expect_run "  ...audited" 0 "*" "" -- sh -c "'$T' --db '$D/r16.db' audit export | grep -q '\"action\":\"cycle.rewind\".*\"last_day\":\"2026-11-25\",\"to\":\"2026-11-24\",\"days\":1'"
expect_run "  ...audit chain intact" 0 "*" "" -- "$T" --db "$D/r16.db" audit verify
expect_run "--rewind on a later day changes nothing" 0 "*" "" -- "$T" --db "$D/r16.db" --scripts "$D/t16" --draft run --date 2026-11-26 --rewind --spool "$D/sp16"
expect_run "  ...and audits nothing" 0 "1" "" -- sh -c "'$T' --db '$D/r16.db' audit export | grep -c 'cycle.rewind'"

finish
