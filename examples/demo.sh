#!/bin/sh
# examples/demo.sh: the main job, run by `make demo`.
#   1. The compliance gate: every request in examples/requests.jsonl judged
#      against the shipped regulations, with a summary by rule.
#   2. The store: the synthetic portfolio imported, with the payments its
#      debts make, then 30 days of the daily cycle (journeys, the gate at
#      each contact's planned time, the outbox), and the audit chain checked.
#   3. The sandbox: the example scripts evaluated, including a runaway
#      script stopped at its limit.
set -u
cd "$(dirname "$0")/.." || exit 1
mkdir -p out
T="${TM_BIN:-./tallyman}"
echo "== $("$T" --version)"
echo
echo "== tallyman decide examples/requests.jsonl  (decisions in out/decisions.jsonl)"
mkdir -p out
"$T" decide --summary examples/requests.jsonl >out/decisions.jsonl
echo
echo "first decision:"
head -n 1 out/decisions.jsonl
echo
echo "== tallyman import accounts examples/portfolio/accounts.csv  (store: out/demo.db)"
rm -f out/demo.db out/demo.db-wal out/demo.db-shm  # a fresh store each run (the key file stays)
"$T" --db out/demo.db import accounts examples/portfolio/accounts.csv
echo
echo "== tallyman run --date 2026-11-23 --days 30 --events examples/portfolio/outcomes.jsonl"
echo "   (the daily cycle for 30 days, the debts' payments fed in on the day they happen;"
echo "    messages in out/spool)"
rm -rf out/spool
"$T" --db out/demo.db run --date 2026-11-23 --days 30 --events examples/portfolio/outcomes.jsonl \
    --spool out/spool --quiet
echo
echo "== tallyman graph early_stage --mermaid"
"$T" graph early_stage --mermaid
echo
echo "== tallyman audit verify"
"$T" --db out/demo.db audit verify
for f in examples/eval/*.lua; do
    echo
    echo "== tallyman eval $f"
    "$T" eval "$f"
    echo "(exit $?)"
done
