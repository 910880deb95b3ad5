#!/bin/sh
# examples/models/train.sh: makes the shipped scoring models in
# scripts/models/ from the synthetic portfolio, reproducibly:
#
#   1. the 10,000-account sample (examples/portfolio/accounts.csv);
#   2. what those debts paid in the 60 days after 2026-11-23
#      (examples/portfolio/outcomes.jsonl, drawn by generate.lua with
#      OUTCOMES = true: see its header);
#   3. both imported into a scratch store;
#   4. `tallyman score train` fits
#        ptp        propensity to pay within 60 days, every debt;
#        self_cure  the same outcome for debts at most 30 days past due
#                   (early-stage accounts that pay without collection work).
#
# Usage: examples/models/train.sh [OUT_DIR]   (default scripts/models)
# Environment: TM_BIN (default ./tallyman).
set -eu
cd "$(dirname "$0")/../.."
T=${TM_BIN:-./tallyman}
OUT=${1:-scripts/models}
W=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-train.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"

"$T" --db "$W/train.db" import accounts examples/portfolio/accounts.csv >/dev/null
# The payments only: the answers to messages in the file need a run's messages.
grep '"type":"payment"' examples/portfolio/outcomes.jsonl >"$W/payments.jsonl"
"$T" --db "$W/train.db" event "$W/payments.jsonl" >/dev/null

"$T" --db "$W/train.db" score train --as-of 2026-11-23 --days 60 \
    --name ptp --out "$OUT/ptp.json"
echo
"$T" --db "$W/train.db" score train --as-of 2026-11-23 --days 60 --max-dpd 30 \
    --name self_cure --out "$OUT/self_cure.json"
