#!/bin/sh
# tests/e2e/test_luadoc.sh: the script API reference cannot fall behind.
# tools/luadoc.sh --check passes on the tree as it is, and fails, naming the
# problem, on a copy where a registered function lost its /*** block, a block
# names its function otherwise or lacks a @param, the generated
# scripts/types/tm.lua is stale, a function is registered with no block,
# strategies.md no longer mentions a function, or its contents miss a section.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D="$E2E_TMP"

# fresh: a copy of what the tool reads, in $D/t.
fresh() {
    rm -rf "$D/t"
    mkdir -p "$D/t/tools" "$D/t/scripts/types"
    cp -R "$ROOT/sandbox" "$D/t/sandbox"
    cp "$ROOT/tools/luadoc.sh" "$D/t/tools/"
    cp "$ROOT/strategies.md" "$D/t/"
    cp "$ROOT/scripts/types/tm.lua" "$D/t/scripts/types/"
}
# edit FILE SED-SCRIPT: the copy's FILE through sed.
edit() { sed "$2" "$D/t/$1" >"$D/t/$1.new" && mv "$D/t/$1.new" "$D/t/$1"; }
# check NAME EXIT TEXT: runs the copy's luadoc.sh --check, wants exit EXIT and
# TEXT in what it prints (the problems go to stdout, as check_layers.sh's do).
check() {
    sh "$D/t/tools/luadoc.sh" --check >"$D/out" 2>&1
    rc=$?
    expect_eq "$1 (exit)" "$2" "$rc"
    case "$(cat "$D/out")" in
        *"$3"*) expect_eq "$1" 1 1 ;;
        *) expect_eq "$1" "output with: $3" "$(head -c 600 "$D/out")" ;;
    esac
}

fresh
check "the tree as it is passes" 0 "passed, 0 failed"

fresh
# Drop the block above l_time_add_days (from its /*** to the line before the function).
awk '/^\/\*\*\*$/ { n = NR } { l[NR] = $0 } END { for (i = 1; i <= NR; i++) { if (l[i] ~ /^static int l_time_add_days\(/) { for (k = n; k < i; k++) skip[k] = 1 } } for (i = 1; i <= NR; i++) if (!skip[i]) print l[i] }' \
    "$D/t/sandbox/lb_time.c" >"$D/t/x" && mv "$D/t/x" "$D/t/sandbox/lb_time.c"
check "a registered function without a block fails" 1 "tm.time.add_days (l_time_add_days) is registered but has no /*** block above it"

fresh
edit sandbox/lb_util.c 's/@function tm.bucket(key)/@function tm.bucket_of(key)/'
check "a block that names its function otherwise fails" 1 "says @function tm.bucket_of, but scripts call it tm.bucket"

fresh
edit sandbox/lb_pay.c '/@param bps {integer}/d'
check "a parameter without @param fails" 1 "tm.money.percent: parameter bps has no @param"

fresh
edit sandbox/lb_time.c 's/@return {boolean} Monday to Friday/@return {boolean} Monday to Friday (changed)/'
check "a stale reference fails" 1 "scripts/types/tm.lua: stale"
expect_run "make luadoc brings it up to date" 0 "" "" -- sh "$D/t/tools/luadoc.sh"
check "then the check passes" 0 "passed, 0 failed"

fresh
edit sandbox/lb_channel.c 's/    {"measure", l_sms_measure},/    {"measure", l_sms_measure},\n    {"count", l_sms_count},/'
check "a new registered function with no block fails" 1 "tm.sms.count (l_sms_count) is registered but has no /*** block above it"

fresh
edit strategies.md 's/tm\.time\.add_days/tm.time.plus_days/g'
check "strategies.md must mention every function" 1 "tm.time.add_days is registered but strategies.md does not document it"

fresh
printf '\n## A section left out\n\nText.\n' >>"$D/t/strategies.md"
check "the contents must list every section" 1 "the contents lack the section \"A section left out\" (#a-section-left-out)"

finish
