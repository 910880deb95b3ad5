#!/bin/sh
# tests/e2e/test_train.sh: `tallyman score train` end to end: a store from
# the synthetic portfolio and the payments its generator draws, a fitted
# scorecard that rediscovers the hidden propensity, the model scoring from a
# script, and clear errors for bad use.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/t.db"

# The generator needs Lua 5.4 (integer operators); the LuaJIT build checks
# that the shipped outcomes are what it draws only when run on 5.4.
if ! "$T" --version | grep -q LuaJIT; then
    (echo 'OUTCOMES = true'; cat "$ROOT/examples/portfolio/generate.lua") >"$D/o.lua"
    "$T" eval --raw --instr-limit 2000000000 --time-limit 60000 "$D/o.lua" >"$D/outcomes.jsonl"
    expect_run "shipped outcomes are what the generator draws" 0 "" "" -- cmp "$D/outcomes.jsonl" "$ROOT/examples/portfolio/outcomes.jsonl"
fi
# The payments only: the answers to messages need the messages (a run) first.
grep '"type":"payment"' "$ROOT/examples/portfolio/outcomes.jsonl" >"$D/outcomes.jsonl"
expect_run "accounts imported" 0 "*" "*" -- "$T" --db "$DB" import accounts "$ROOT/examples/portfolio/accounts.csv"
expect_run "outcomes applied" 0 "*" "*" -- "$T" --db "$DB" event "$D/outcomes.jsonl"

mkdir -p "$D/tree/models"
expect_run "train ptp" 0 "*" "" -- "$T" --db "$DB" score train --as-of 2026-11-23 --days 60 --out "$D/tree/models/ptp.json"
out=$(cat "$E2E_TMP/out")
check() { # NAME CONDITION-RESULT
    if [ "$2" = 1 ]; then E2E_PASS=$((E2E_PASS + 1)); else E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $1"; echo "$out" | head -20; fi
}
check "reports the rows" "$(echo "$out" | grep -c '^debts: 10000 (2885 paid')"
auc=$(echo "$out" | sed -n 's/^AUC: training [0-9.]*, holdout \([0-9.]*\)$/\1/p')
check "holdout AUC above 0.7 ($auc)" "$(awk -v a="$auc" 'BEGIN { print (a > 0.7) ? 1 : 0 }')"
check "ten calibration deciles" "$(echo "$out" | grep -cE '^ +[0-9]+ +[0-9]+ +0\.[0-9]+ +[01]\.[0-9]+$' | awk '{ print ($1 == 10) ? 1 : 0 }')"
# The model carries its validation figures.
check "validation in the file" "$(grep -c '"auc_holdout"' "$D/tree/models/ptp.json")"
check "recent payments are a feature" "$(grep -c '"name": "payments_last_90_days"' "$D/tree/models/ptp.json")"

# Same store, same options: the same bytes.
expect_run "train again" 0 "*" "" -- "$T" --db "$DB" score train --as-of 2026-11-23 --days 60 --out "$D/ptp2.json" --name ptp
expect_run "deterministic" 0 "" "" -- cmp "$D/tree/models/ptp.json" "$D/ptp2.json"

# The hidden propensity: an old, large, charged-off debt scores far below a
# current small one; the model's reasons name days past due.
printf '%s\n' 'local lo, r = tm.score("ptp", {days_past_due = 600, balance = 9000, debt_type = "medical", state = "TX", days_since_charge_off = 400})' \
    'local hi = tm.score("ptp", {days_past_due = 0, balance = 200, debt_type = "auto_loan", state = "TX", days_since_last_payment = 10})' \
    'return lo < 0.1 and hi > 0.5, r[1].feature' >"$D/s.lua"
expect_run "trained model scores from a script" 0 'true
"days_past_due"' "" -- "$T" eval --scripts "$D/tree" "$D/s.lua"
expect_run "trained model lints clean" 0 "" "" -- "$T" lint "$D/tree"

# Early-stage subset.
expect_run "max-dpd subset" 0 "*" "" -- "$T" --db "$DB" score train --as-of 2026-11-23 --max-dpd 30 --out "$D/sc.json"
out=$(cat "$E2E_TMP/out")
check "subset counts" "$(echo "$out" | grep -c '5420 left out by --max-dpd')"

# Contact history is learnt from: a portfolio where reaching the consumer
# (a right-party contact before the as-of day) goes with paying, and a broken
# promise with not paying, and nothing else differs.
DB3="$D/contacts.db"
awk 'BEGIN {
    print "external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due"
    for (i = 1; i <= 1200; i++) printf "K%d,X%d,A,B,TX,America/Chicago,500.00,USD,40\n", i, i
}' >"$D/k.csv"
awk 'BEGIN {
    srand(7)
    for (i = 1; i <= 1200; i++) {
        rpc = (i % 2 == 0); broke = (i % 5 == 0)
        if (rpc) printf "{\"key\":\"c%d\",\"type\":\"contact\",\"debt_id\":\"X%d\",\"at\":\"2026-11-10T15:00:00Z\",\"channel\":\"call\",\"outcome\":\"conversation\"}\n", i, i
        else printf "{\"key\":\"c%d\",\"type\":\"contact\",\"debt_id\":\"X%d\",\"at\":\"2026-11-10T15:00:00Z\",\"channel\":\"call\",\"outcome\":\"not_connected\"}\n", i, i
        if (broke) printf "{\"key\":\"b%d\",\"type\":\"broken_promise\",\"debt_id\":\"X%d\",\"at\":\"2026-11-12T15:00:00Z\"}\n", i, i
        p = (rpc ? 0.7 : 0.2) * (broke ? 0.3 : 1)
        if (rand() < p) printf "{\"key\":\"p%d\",\"type\":\"payment\",\"debt_id\":\"X%d\",\"at\":\"2026-12-01T15:00:00Z\",\"amount\":\"50.00\"}\n", i, i
    }
}' >"$D/k.jsonl"
"$T" --db "$DB3" import accounts "$D/k.csv" >/dev/null 2>&1
"$T" --db "$DB3" event "$D/k.jsonl" >/dev/null 2>&1
expect_run "train on contact history" 0 "*" "" -- "$T" --db "$DB3" score train --as-of 2026-11-23 --days 60 --out "$D/tree/models/contact.json" --name contact
out=$(cat "$E2E_TMP/out")
auc=$(echo "$out" | sed -n 's/^AUC: training [0-9.]*, holdout \([0-9.]*\)$/\1/p')
check "contact history predicts: holdout AUC above 0.65 ($auc)" "$(awk -v a="$auc" 'BEGIN { print (a > 0.65) ? 1 : 0 }')"
printf '%s\n' 'local reached = tm.score("contact", {right_party_contacts_before = 1, broken_promises_before = 0, last_contact_outcome = "conversation", days_past_due = 40, balance = 500, state = "TX"})' \
    'local missed = tm.score("contact", {right_party_contacts_before = 0, broken_promises_before = 1, last_contact_outcome = "not_connected", days_past_due = 40, balance = 500, state = "TX"})' \
    'return reached > 0.5 and missed < 0.25' >"$D/k.lua"
expect_run "  ...reaching the consumer scores high, a broken promise low" 0 "true" "" -- "$T" eval --scripts "$D/tree" "$D/k.lua"

# Bad use.
expect_run "no --out" 2 "" "train needs --out FILE" -- "$T" --db "$DB" score train
expect_run "bad as-of" 2 "" "--as-of" -- "$T" --db "$DB" score train --out "$D/x.json" --as-of 2026-02-30
expect_run "bad bins" 2 "" "--bins needs a number from 2 to 20" -- "$T" --db "$DB" score train --out "$D/x.json" --bins 1
expect_run "bad l2" 2 "" "--l2" -- "$T" --db "$DB" score train --out "$D/x.json" --l2 0
expect_run "bad holdout" 2 "" "--holdout" -- "$T" --db "$DB" score train --out "$D/x.json" --holdout 1.5
expect_run "unknown option" 2 "" "unknown option" -- "$T" --db "$DB" score train --out "$D/x.json" --frob 1
expect_run "unknown subcommand" 2 "" "unknown score command 'fly'" -- "$T" score fly
expect_run "no store" 1 "" "no such store" -- "$T" --db "$D/none.db" score train --out "$D/x.json"
expect_run "nothing paid: one class" 1 "" "*" -- "$T" --db "$DB" score train --as-of 2030-01-01 --out "$D/x.json"
check "one-class error names the problem" "$(grep -ci 'class\|paid' "$E2E_TMP/err")"
expect_run "no file left by a failed fit" 1 "" "" -- test -e "$D/x.json"
expect_run "help" 0 "*" "" -- "$T" score train --help
finish
