#!/bin/sh
# examples/demo.sh: the main job, run by `make demo`. For now: evaluate the
# example scripts in the sandbox and show what each prints, including a
# runaway script stopped at its limit.
set -u
cd "$(dirname "$0")/.." || exit 1
T="${TM_BIN:-./tallyman}"
echo "== tallyman $("$T" --version)"
for f in examples/eval/*.lua; do
    echo
    echo "== tallyman eval $f"
    "$T" eval "$f"
    echo "(exit $?)"
done
