#!/bin/sh
# tests/e2e/test_simulate_fit.sh: `tallyman simulate fit` recovers a known
# world. A portfolio's history is made by `simulate` with stated parameters
# (--world, the simulated store kept with --keep); the fit from that store
# gives each identifiable parameter an interval that holds the true value; a
# simulation run on the fitted world says it was fitted and from how many
# outcomes. Bad input: a history too short to fit, a world file with a rate
# outside 0..1, and the usage errors.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/p.db"
awk 'BEGIN {
  split("MA PA TX CA FL NY IL OH GA WA", st, " ")
  split("America/New_York America/New_York America/Chicago America/Los_Angeles America/New_York America/New_York America/Chicago America/New_York America/New_York America/Los_Angeles", tz, " ")
  split("0 5 12 25 40 75 100 150 200 400", dpd, " ")
  print "external_id,debt_id,first_name,last_name,state,timezone,phone,email,balance,currency,days_past_due,debt_type,sms_consent,autodial_consent,consent_date,consent_source"
  for (i = 1; i <= 1500; i++) {
    s = 1 + (i * 7) % 10; g = 1 + (i * 3) % 10
    printf "C%04d,D%04d,Ann,Lee%d,%s,%s,+1617555%04d,a%d@example.org,%d.%02d,USD,%d,%s,yes,yes,2026-01-05,application\n",
      i, i, i, st[s], tz[s], i, i, 50 + (i * 37) % 2500, i % 100, dpd[g] + i % 5,
      (i % 3 == 0) ? "medical" : (i % 3 == 1) ? "credit_card" : "telecom"
  }
}' >"$D/a.csv"
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
# The truth: none of these is a built-in value.
cat >"$D/truth.json" <<'JSON'
{"channels": {"call": {"answer": 0.35}, "sms": {"answer": 0.15}, "email": {"answer": 0.08}},
 "pay": 0.2, "promise": 0.45, "dispute": 0.05, "keep_base": 0.25, "keep_ptp": 0.5,
 "pressure_response": 0.15, "self_cure": 0.002}
JSON
mkdir -p "$D/tmp"
S="$D/sim.sh"
printf '#!/bin/sh\nTMPDIR="%s" exec "%s" --scripts "%s" --draft "$@"\n' "$D/tmp" "$T" "$ROOT/scripts" >"$S"
chmod +x "$S"
# The history comes from the days-past-due journeys kept in examples/ (a
# library that does not change with the shipped one).
expect_run "history from a known world" 0 "*" "" -- "$S" --db "$DB" simulate --date 2026-09-01 --days 60 --seed 4 --strategy "$ROOT/examples/strategies/dpd" --world "$D/truth.json" --keep "$D/kept.db" --quiet
cp "$E2E_TMP/out" "$D/sim1.txt"
expect_run "  ...says the world was assumed" 0 "*" "" -- grep -q '^world: assumed: the built-in values as changed by .*truth.json (not fitted)$' "$D/sim1.txt"
expect_run "  ...the simulated store kept, with its key" 0 "*" "" -- test -s "$D/kept.db.key"
expect_run "fit" 0 "*" "" -- "$S" --db "$D/kept.db" simulate fit --from 2026-09-01 --as-of 2026-10-30 --out "$D/fit.json"
cp "$E2E_TMP/out" "$D/fit.txt"
expect_run "  ...counts what it read" 0 "*" "" -- grep -qE '^world fitted from 2026-09-01 to 2026-10-30: [0-9]+ contacts, [0-9]+ outcomes; written to ' "$D/fit.txt"
# Each true value inside its fitted interval.
W="$D/within.py" # within.py FIT FIELD TRUE: the true value inside the fitted interval (not too wide)
cat >"$W" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["fitted"]["intervals"][sys.argv[2]]
t = float(sys.argv[3])
print("%s: %.4f in [%.4f, %.4f]" % (sys.argv[2], t, f["lo"], f["hi"]))
sys.exit(0 if f["lo"] <= t <= f["hi"] and f["hi"] - f["lo"] <= max(1.5 * t, 0.004) else 1)
PY
for p in channels.call.answer:0.35 channels.sms.answer:0.15 pay:0.2 promise:0.45 dispute:0.05 \
         keep_base:0.25 keep_ptp:0.5 pressure_response:0.15 self_cure:0.002; do
    expect_run "  ...recovers ${p%%:*} (${p#*:}) within its interval" 0 "*" "" -- python3 "$W" "$D/fit.json" "${p%%:*}" "${p#*:}"
done
expect_run "  ...complaints stay assumed, and the file says so" 0 "*" "" -- python3 -c "import json,sys; a=json.load(open('$D/fit.json'))['fitted']['assumed']; sys.exit(0 if 'channels.call.complaint' in a else 1)"
expect_run "the fitted world simulates" 0 "*" "" -- "$S" --db "$DB" simulate --date 2026-09-01 --days 2 --world "$D/fit.json" --quiet --report "$D/r.html"
cp "$E2E_TMP/out" "$D/sim2.txt"
expect_run "  ...and says it was fitted, from how many outcomes" 0 "*" "" -- grep -qE '^world: fitted from the store.s history \([0-9]+ outcomes of [0-9]+ contacts, up to 2026-10-30\): ' "$D/sim2.txt"
expect_run "  ...in the report too" 0 "*" "" -- grep -qE 'fitted from [0-9]+ outcomes of [0-9]+ contacts up to 2026-10-30' "$D/r.html"

# A history too short: said, nothing written.
expect_run "too short to fit" 1 "" "too short to fit: 0 contacts, at least 20 needed" -- "$S" --db "$DB" simulate fit --as-of 2026-10-30 --out "$D/none.json"
expect_run "  ...nothing written" 1 "" "" -- test -e "$D/none.json"
# A rate outside 0..1 in a world file: the field is named.
sed 's/"answer": 0.35/"answer": 1.35/' "$D/truth.json" >"$D/bad.json"
expect_run "a rate above 1" 2 "" "channels.call.answer: must be a number from 0 to 1" -- "$S" --db "$DB" simulate --date 2026-09-01 --days 1 --world "$D/bad.json"
sed 's/"pay": 0.2/"pay": -0.2/' "$D/truth.json" >"$D/bad2.json"
expect_run "a rate below 0, as fit's starting values" 2 "" "pay: must be a number from 0 to 1" -- "$S" --db "$D/kept.db" simulate fit --as-of 2026-10-30 --out "$D/x.json" --world "$D/bad2.json"
expect_run "fit needs --as-of" 2 "" "needs --as-of" -- "$S" --db "$DB" simulate fit --out "$D/x.json"
expect_run "fit needs --out" 2 "" "needs --out" -- "$S" --db "$DB" simulate fit --as-of 2026-10-30
expect_run "--from after --as-of" 2 "" "after --as-of" -- "$S" --db "$DB" simulate fit --as-of 2026-10-30 --from 2026-11-01 --out "$D/x.json"
expect_run "--keep onto a file that exists" 2 "" "already exists" -- "$S" --db "$DB" simulate --date 2026-09-01 --days 1 --keep "$D/kept.db"
finish
