#!/bin/sh
# examples/sim/compare_libraries.sh: the segmented strategy library
# (scripts/strategies) against the days-past-due library it replaced
# (examples/strategies/dpd), on the demo portfolio, over 90 days from
# 2026-11-23, paired by debt with one seed: the figures in strategies.md
# ("The segmented library against the days-past-due library").
#
#   1. the 10,000-account sample (examples/portfolio/accounts.csv) imported
#      into a scratch store (no payments yet: the simulated consumers make
#      them);
#   2. `tallyman simulate` with the working tree's script set (--draft), A the
#      days-past-due folder, B the shipped library, the default (assumed)
#      world unless WORLD names a --world file, the default costs.
#
# Usage: examples/sim/compare_libraries.sh [REPORT.html]
# Environment: TM_BIN (default ./tallyman), SEED (default 7), DAYS (default
# 90), WORLD (a --world file; default none: the stated assumptions).
set -eu
cd "$(dirname "$0")/../.."
T=${TM_BIN:-./tallyman}
REPORT=${1:-}
W=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-compare.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$T" --db "$W/demo.db" import accounts examples/portfolio/accounts.csv >/dev/null 2>&1
set -- --days "${DAYS:-90}" --date 2026-11-23 --seed "${SEED:-7}" \
    --strategy "$PWD/examples/strategies/dpd" --vs "$PWD/scripts/strategies"
[ -n "${WORLD:-}" ] && set -- "$@" --world "$WORLD"
[ -n "$REPORT" ] && set -- "$@" --report "$REPORT"
"$T" --db "$W/demo.db" --scripts scripts --draft simulate "$@"
