#!/bin/sh
# examples/demo.sh: the main job, run by `make demo`.
#   1. The compliance gate: every request in examples/requests.jsonl judged
#      against the shipped regulations, with a summary by rule.
#   2. The sandbox: the example scripts evaluated, including a runaway
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
echo "== tallyman audit verify"
"$T" --db out/demo.db audit verify
for f in examples/eval/*.lua; do
    echo
    echo "== tallyman eval $f"
    "$T" eval "$f"
    echo "(exit $?)"
done
