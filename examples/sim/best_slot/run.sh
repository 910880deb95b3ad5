#!/bin/sh
# examples/sim/best_slot/run.sh: the uplift of the learned slot, in
# simulation (strategies.md, "The learned slot in simulation").
#  1. 2,000 debts answered by the consumers of world.json (evenings answer
#     most) are worked 45 days by explore/, which texts or calls every two
#     days at hours from 08:00 to 20:00; the simulated store is kept.
#  2. `score train-contact` learns the channel and hour model from it.
#  3. fixed/ (every two days at 10:00) against learned/ (the same days and
#     channels, at j:best_slot's hour within the day), 60 days, one seed, on
#     the portfolio as placed, with the model in the script set.
# Usage: sh examples/sim/best_slot/run.sh [TALLYMAN] (prints the comparison)
set -eu
T="${1:-./tallyman}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
W="$(mktemp -d "${TMPDIR:-/tmp}/best-slot.XXXXXX")"
trap 'rm -rf "$W"' EXIT
awk 'BEGIN {
  split("MA PA TX CA FL NY IL OH GA WA", st, " ")
  split("America/New_York America/New_York America/Chicago America/Los_Angeles America/New_York America/New_York America/Chicago America/New_York America/New_York America/Los_Angeles", tz, " ")
  split("0 5 12 25 40 75 100 150 200 400", dpd, " ")
  print "external_id,debt_id,first_name,last_name,state,timezone,phone,email,balance,currency,days_past_due,debt_type,sms_consent,autodial_consent,consent_date,consent_source"
  for (i = 1; i <= 2000; i++) {
    s = 1 + (i * 7) % 10; g = 1 + (i * 3) % 10
    printf "C%04d,D%04d,Ann,Lee%d,%s,%s,+1617555%04d,a%d@example.org,%d.%02d,USD,%d,%s,yes,yes,2026-01-05,application\n",
      i, i, i, st[s], tz[s], i, i, 50 + (i * 37) % 2500, i % 100, dpd[g] + i % 5,
      (i % 3 == 0) ? "medical" : (i % 3 == 1) ? "credit_card" : "telecom"
  }
}' >"$W/a.csv"
"$T" --db "$W/p.db" import accounts "$W/a.csv" >/dev/null 2>&1
cp -r "$ROOT/scripts" "$W/tree"
TMPDIR="$W" "$T" --db "$W/p.db" --scripts "$W/tree" --draft simulate --date 2026-08-01 --days 45 \
    --strategy "$HERE/explore" --world "$HERE/world.json" --seed 7 --keep "$W/hist.db" --quiet >/dev/null
"$T" --db "$W/hist.db" score train-contact --as-of 2026-09-14 --pay-days 7 --out "$W/tree/models/contact.json"
echo
TMPDIR="$W" "$T" --db "$W/p.db" --scripts "$W/tree" --draft simulate --date 2026-10-01 --days 60 \
    --strategy "$HERE/fixed" --vs "$HERE/learned" --world "$HERE/world.json" --seed 11 \
    --costs "$ROOT/examples/sim/costs.json" --quiet
