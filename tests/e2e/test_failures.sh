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
    awk -v n="$2" 'BEGIN { print "external_id,debt_id,state,timezone,balance,currency";
        for (i = 1; i <= n; i++) printf "C%d,D%d,MA,America/New_York,10.00,USD\n", i, i }' >"$1"
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
"$T" --db "$D/r15.db" --scripts "$D/t15" run --date 2026-11-23 --spool "$D/sp15" >"$D/r15.out" 2>"$D/r15.err"
expect_run "a rule that failed: run exits 1" 1 "*" "*" -- sh -c "exit $?"
expect_run "  ...counted apart from blocks" 0 "*" "" -- grep -q "contacts: 3 planned, 0 allowed, 0 blocked, 3 stopped by a rule that failed" "$D/r15.out"
expect_run "  ...not in the blocked-by-rule table" 0 "*" "" -- sh -c "! grep -q '^blocked by rule' '$D/r15.out'"
expect_run "  ...told once, with file and line" 0 "1" "" -- sh -c "grep -c 'HOUSE/throws (House policy 1): $D/t15/regulations/house.lua:7: attempt to index a nil value' '$D/r15.out'"
expect_run "  ...with the contacts it stopped" 0 "*" "" -- grep -q "house.lua:7: attempt to index a nil value (local 'x'): 3 contacts" "$D/r15.out"
expect_run "  ...nothing sent" 0 "0" "" -- sqlite3 "$D/r15.db" "select count(*) from outbox where status = 'sent'"
expect_run "  ...the decisions name the rule" 0 "3" "" -- sqlite3 "$D/r15.db" "select count(*) from decisions where blocked_by = 'HOUSE/throws'"
expect_run "  ...audited once" 0 "1" "" -- sh -c "'$T' --db '$D/r15.db' audit export | grep -c 'gate.rule_failed'"
expect_run "  ...audit chain intact" 0 "*" "" -- "$T" --db "$D/r15.db" audit verify

finish
