#!/bin/sh
# tests/e2e/test_contact_model.sh: `tallyman score train-contact` and
# j:best_slot end to end. A portfolio whose calls are answered most at 22:00
# local, then 19:00, least at 10:00: the fitted model says so; a journey that
# asks for the best slot gets 19:00, because the gate does not allow 22:00;
# a channel the consumer cannot be reached on gives nil and the reason; a
# history too short to fit and a model fitted on other features are refused.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/c.db"
TREE="$D/tree"
mkdir -p "$TREE/strategies" "$TREE/models"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"

# 200 card holders in Texas (UTC-6 in November); the last ten have no email.
awk 'BEGIN {
  print "external_id,debt_id,first_name,last_name,state,timezone,phone,email,balance,currency,days_past_due,debt_type,autodial_consent,consent_date,consent_source"
  for (i = 1; i <= 200; i++)
    printf "C%03d,D%03d,Ann,Lee,TX,America/Chicago,+1512555%04d,%s,500.00,USD,40,credit_card,yes,2026-01-05,application\n", i, i, i, (i > 190) ? "" : "a" i "@example.org"
}' >"$D/a.csv"
# Two weeks of calls (2026-11-01 to 14) at 10:00, 19:00 and 22:00 local:
# answered by 1 in 20, 9 in 20 and 12 in 20 consumers.
awk 'BEGIN {
  n = 0
  for (day = 1; day <= 14; day++)
    for (i = 1; i <= 200; i++) {
      split("16 1 4", utc, " "); split("1 9 12", hit, " ")
      for (k = 1; k <= 3; k++) {
        d = day + (k > 1 ? 1 : 0)  # 19:00 and 22:00 local are the next day in UTC
        at = sprintf("2026-11-%02dT%02d:00:00Z", d, utc[k])
        out = ((i + day * 7) % 20 < hit[k]) ? "conversation" : "not_connected"
        printf "{\"key\":\"k%d\",\"type\":\"contact\",\"debt_id\":\"D%03d\",\"at\":\"%s\",\"channel\":\"call\",\"outcome\":\"%s\"}\n", ++n, i, at, out
      }
    }
}' | sort -t'"' -k16 >"$D/h.jsonl"
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
expect_run "history applied" 0 "*" "*" -- "$T" --db "$DB" event "$D/h.jsonl"

expect_run "train-contact" 0 "*" "" -- "$T" --db "$DB" score train-contact --as-of 2026-11-20 --pay-days 3 --out "$TREE/models/contact.json"
cp "$E2E_TMP/out" "$D/train.txt"
expect_run "  ...counts the contacts" 0 "*" "" -- grep -q '^as of 2026-11-20: 8400 outbound contacts of 200 consumers, payment window 3 days$' "$D/train.txt"
expect_run "  ...the segment is fitted" 0 "*" "" -- grep -q '^segments (debt types) fitted: 1$' "$D/train.txt"
# Monday is weekday 1: hours 24+10, 24+19 and 24+22 of the week (1-based in jq: +1).
rate() { python3 -c "import json,sys; m=json.load(open('$TREE/models/contact.json')); print(m['segments']['credit_card']['call']['rpc'][$1])"; }
expect_run "  ...10:00 about 0.05" 0 "*" "" -- python3 -c "import sys; sys.exit(not abs($(rate 34) - 0.05) < 0.05)"
expect_run "  ...19:00 about 0.45" 0 "*" "" -- python3 -c "import sys; sys.exit(not abs($(rate 43) - 0.45) < 0.06)"
expect_run "  ...22:00 about 0.60" 0 "*" "" -- python3 -c "import sys; sys.exit(not abs($(rate 46) - 0.60) < 0.06)"
expect_run "train-contact is deterministic" 0 "*" "" -- "$T" --db "$DB" score train-contact --as-of 2026-11-20 --pay-days 3 --out "$D/again.json" --name contact
expect_run "  ...the same bytes" 0 "" "" -- cmp "$TREE/models/contact.json" "$D/again.json"

cat >"$TREE/strategies/learned.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "learned", start = "first",
  states = {
    first = { enter = function(j, debt)
      local slot, why = j:best_slot { channels = { "call" }, within = days(3) }
      if not slot then error("no slot: " .. why) end
      if not slot.checked or slot.channel ~= "call" then error("unchecked slot") end
      j:send(slot.channel, "early_call", { at = slot.at })
      local e, ewhy = j:best_slot { channels = { "email" }, within = days(3) }
      if e then j:move("has_email")
      elseif ewhy == "the consumer cannot be reached on any channel asked (email)" then j:move("no_email")
      else error("email: " .. ewhy) end
    end },
    has_email = {}, no_email = {},
  },
}
LUA
expect_run "a day with the learned slot" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --quiet
# Monday 2026-11-23 19:00 CST is 2026-11-24T01:00:00Z.
WANT=$(date -u -d 2026-11-24T01:00:00Z +%s)
expect_run "every call planned at 19:00 local, the best hour the gate allows (not 22:00)" 0 "200|$WANT" "" -- sqlite3 "$DB" "select count(*), min(send_at) from outbox where channel = 'call' and send_at = $WANT"
expect_run "  ...no email for a consumer without one: nil and the reason" 0 "has_email|190
no_email|10" "" -- sqlite3 "$DB" "select journey_state, count(*) from debts group by 1 order by 1"

# A history too short to fit: said, nothing written.
DB2="$D/short.db"
head -3 "$D/a.csv" >"$D/s.csv"
"$T" --db "$DB2" import accounts "$D/s.csv" >/dev/null 2>&1
grep '"D001"' "$D/h.jsonl" | head -10 >"$D/s.jsonl"
"$T" --db "$DB2" event "$D/s.jsonl" >/dev/null 2>&1
expect_run "too short to fit" 1 "" "too short to fit: 10 outbound contacts, at least 30 needed" -- "$T" --db "$DB2" score train-contact --as-of 2026-11-20 --out "$D/short.json"
expect_run "  ...nothing written" 1 "" "" -- test -e "$D/short.json"

# A model fitted on other features is refused when the set loads, naming the field.
sed 's/"segment":"debt_type"/"segment":"risk_band"/' "$TREE/models/contact.json" >"$D/other.json"
cp "$D/other.json" "$TREE/models/contact.json"
expect_run "a model of other features" 1 "" "features.segment" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-24 --quiet

expect_run "bad --pay-days" 2 "" "--pay-days" -- "$T" --db "$DB" score train-contact --pay-days 0 --out "$D/x.json"
expect_run "no --out" 2 "" "needs --out" -- "$T" --db "$DB" score train-contact
finish
