#!/bin/sh
# tests/e2e/test_script_sets.sh: what runs on a store is its active script
# set. A tree is proposed (lint and every spec first, its texts kept in the
# store, the rule-level difference printed), approved by someone other than
# the proposer holding each role the change needs, activated, rolled back;
# `run`, `decide --db` and `simulate` use the active set and print its hash,
# a working tree runs only with --draft and says so, and every refusal is
# exit 1 (2 for usage), changes nothing and is audited.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/s.db"
ME=$(id -un)
R="$E2E_REVIEWER"
as_reviewer true || { echo "FAIL the reviewer cannot be made (run as root)"; exit 1; }

# A store that does not exist is refused by every command that needs one,
# saying how to make one, and none is left behind.
for c in "scripts list" "scripts propose $ROOT/scripts" "audit verify" "audit export" "keys rotate" "run --date 2026-11-23"; do
    # shellcheck disable=SC2086 # the command's words
    expect_run "$c without a store" 1 "" "no such store (" -- "$T" --db "$D/none.db" $c
done
expect_run "users add of someone else on no store" 1 "" "the first person of a new store is the one creating it" -- "$T" --db "$D/none.db" users add "$R" --role compliance
expect_run "  ...no store and no key file left behind" 0 "" "" -- sh -c "ls '$D' | grep none || true"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due
C1,D1,Zenobia,Quillfeather,MA,America/New_York,100.00,USD,10
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1

# People: the first is the one who creates the list, made admin.
expect_run "the first person adds themselves, made admin" 0 "$ME: given compliance, admin" "" -- "$T" --db "$DB" users add "$ME" --role compliance
expect_run "the admin adds the reviewer" 0 "$R: given strategy" "" -- "$T" --db "$DB" users add "$R" --role strategy
expect_run "a non-admin adding people is refused" 1 "" "only an admin adds people" -- "$AS_REVIEWER" "$T" --db "$DB" users add "$R" --role compliance
expect_run "  ...audited" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export 2>/dev/null | grep -c -- \"\$1\"" sh '"action":"users.refused"'
expect_run "  ...the roles unchanged" 0 "*" "" -- sh -c "'$T' --db '$DB' users list | grep '^$R ' | grep -qv compliance"
expect_run "an unknown role is a usage error" 2 "" "not a role" -- "$T" --db "$DB" users add "$R" --role boss

# Nothing is active yet: run refuses, and says how to get a set active.
expect_run "run with no active set" 1 "" "has no active script set: propose one" -- "$T" --db "$DB" run --date 2026-11-23 --spool "$D/sp"
expect_run "run naming a working tree without --draft" 2 "" "add --draft to run the tree as a draft" -- "$T" --db "$DB" --scripts "$ROOT/scripts" run --date 2026-11-23 --spool "$D/sp"
expect_run "  ...audited" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export 2>/dev/null | grep -c -- \"\$1\"" sh 'scripts.refused.*without --draft'
expect_run "  ...nothing worked" 0 "0" "" -- sqlite3 "$DB" "select count(*) from debts where journey is not null"

# A tree with a regulation, a journey and a spec of its own.
TREE="$D/tree"
cp -r "$ROOT/scripts" "$TREE"
cat >"$TREE/policies/acme.lua" <<'LUA'
return regulation {
    id = "POLICY-ACME",
    applies = { creditor = "Acme" },
    rules = {
        { id = "calling-hours", cite = "Acme Policy 1", channels = { "call" },
          window = { from = "09:00", to = "20:00" } },
    },
}
LUA
GEN1=$("$T" --db "$DB" scripts propose "$TREE" 2>"$D/p1.err")
expect_run "propose prints the hash on a line of its own first" 0 "*" "" -- sh -c "printf '%s\n' '$GEN1' | head -n 1 | grep -qx '[0-9a-f]\{64\}'"
GEN1=$(printf '%s\n' "$GEN1" | head -n 1)
expect_run "  ...lint and the specs ran" 0 "*" "" -- grep -q " passed, 0 failed" "$D/p1.err"
expect_run "  ...kept as proposed" 0 "proposed|$ME" "" -- sqlite3 "$DB" "select status, proposed_by from script_generations where hash = '$GEN1'"
expect_run "  ...audited" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export 2>/dev/null | grep -c -- \"\$1\"" sh '"action":"scripts.proposed"'
S1=$(echo "$GEN1" | cut -c1-12)
expect_run "list shows it" 0 "*" "" -- sh -c "'$T' --db '$DB' scripts list | grep -q '^$S1  proposed'"

expect_run "approving one's own proposal is refused" 1 "" "a set is approved by someone other than its proposer" -- "$T" --db "$DB" scripts approve "$S1"
expect_run "  ...audited" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export 2>/dev/null | grep -c -- \"\$1\"" sh '"action":"scripts.refused".*proposer'
expect_run "the reviewer approves as strategy, the role it holds" 0 "$R approved $GEN1 as strategy
still needs approval by: compliance, engineer" "" -- "$AS_REVIEWER" "$T" --db "$DB" scripts approve "$S1"
expect_run "approving without the roles it still needs is refused" 1 "" "may not approve $S1: it still needs approval by the compliance, engineer roles" -- "$AS_REVIEWER" "$T" --db "$DB" scripts approve "$S1"
expect_run "activating an unapproved set is refused" 1 "" "is not approved" -- "$T" --db "$DB" scripts activate "$S1"
expect_run "activating an unknown set is refused" 1 "" "no such script generation" -- "$T" --db "$DB" scripts activate abcdef12
expect_run "a GEN that is not hex is refused" 1 "" "is not a generation" -- "$T" --db "$DB" scripts activate zz
expect_run "approve with no GEN is a usage error" 2 "" "needs one GEN" -- "$T" --db "$DB" scripts approve
expect_run "  ...nothing changed but the strategy approval" 0 "proposed|strategy" "" -- sqlite3 "$DB" "select status, group_concat(role) from script_generations g left join script_approvals a on a.generation = g.id where hash = '$GEN1'"
expect_run "  ...every refusal audited" 0 "6" "" -- sh -c "'$T' --db '$DB' audit export 2>/dev/null | grep -c -- \"\$1\"" sh '"action":"scripts.refused"'

"$T" --db "$DB" users add "$R" --role compliance --role engineer >/dev/null
"$T" --db "$DB" users disable "$R" >/dev/null
expect_run "a disabled person may not approve, whatever their roles" 1 "" "which tm-e2e-reviewer does not hold" -- "$AS_REVIEWER" "$T" --db "$DB" scripts approve "$S1"
"$T" --db "$DB" users enable "$R" >/dev/null
expect_run "the reviewer approves with every role it needs" 0 "*" "" -- "$AS_REVIEWER" "$T" --db "$DB" scripts approve "$S1"
expect_run "  ...approved" 0 "approved" "" -- sqlite3 "$DB" "select status from script_generations where hash = '$GEN1'"
expect_run "activate" 0 "active: $GEN1 (was none)" "" -- "$T" --db "$DB" scripts activate "$S1"
expect_run "  ...audited with who" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export 2>/dev/null | grep -c -- \"\$1\"" sh "\"actor\":\"$ME\".*\"action\":\"scripts.activated\""

# What runs is the active set, and the run says which.
expect_run "run uses the active set and prints its hash" 0 "*" "" -- sh -c "'$T' --db '$DB' run --date 2026-11-23 --spool '$D/sp' | grep -qx 'script set $GEN1 (active)'"
echo '{"id":"q1","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"MA"},"debt":{"id":"D1"}}' >"$D/q.jsonl"
expect_run "decide --db decides with the active set" 0 "*" "" -- sh -c "'$T' --db '$DB' decide '$D/q.jsonl' | grep -q '\"scripts\":\"$GEN1\"'"
expect_run "decide without a store still decides with the tree" 0 "*" "" -- sh -c "'$T' decide '$D/q.jsonl' | grep -q '\"allow\"'"

# A draft: the working tree, said in every output.
sed -i 's/to = "20:00"/to = "19:00"/' "$TREE/policies/acme.lua"
expect_run "the tree was changed" 0 "*" "" -- grep -q '"19:00"' "$TREE/policies/acme.lua"
expect_run "decide --draft marks each decision" 0 "*" "" -- sh -c "'$T' --db '$DB' --scripts '$TREE' --draft decide '$D/q.jsonl' | grep -q '\"draft\":true}'"
expect_run "run --draft says DRAFT" 0 "*" "" -- sh -c "'$T' --db '$DB' --scripts '$TREE' --draft run --date 2026-11-24 --spool '$D/sp' | grep -q '^DRAFT: script set'"
expect_run "--draft elsewhere is a usage error" 2 "" "--draft is for run, decide, simulate and serve" -- "$T" --db "$DB" --draft scripts list

# A change to a regulation: the difference names the rule and its window,
# and needs the compliance role.
OUT=$("$T" --db "$DB" scripts propose "$TREE" 2>/dev/null)
GEN2=$(printf '%s\n' "$OUT" | head -n 1)
S2=$(echo "$GEN2" | cut -c1-12)
expect_run "the difference names the rule and the window" 0 "*" "" -- sh -c "printf '%s\n' \"\$1\" | grep -qx '~ rule POLICY-ACME/calling-hours: window 09:00-20:00 -> window 09:00-19:00'" sh "$OUT"
expect_run "  ...and the file" 0 "*" "" -- sh -c "printf '%s\n' \"\$1\" | grep -qx '~ file policies/acme.lua'" sh "$OUT"
expect_run "  ...it needs compliance only" 0 "*" "" -- sh -c "printf '%s\n' \"\$1\" | grep -qx 'proposed by $ME, .* files; needs approval by: compliance'" sh "$OUT"
expect_run "show gives the history and the difference" 0 "*" "" -- sh -c "'$T' --db '$DB' scripts show '$S2' | grep -q 'window 09:00-20:00 -> window 09:00-19:00'"
"$T" --db "$DB" users revoke "$R" --role compliance >/dev/null
expect_run "a strategy approver may not approve a regulation change" 1 "" "still needs approval by the compliance role" -- "$AS_REVIEWER" "$T" --db "$DB" scripts approve "$S2"
"$T" --db "$DB" users add "$R" --role compliance >/dev/null
expect_run "the compliance approver may" 0 "*" "" -- "$AS_REVIEWER" "$T" --db "$DB" scripts approve "$S2"
expect_run "activate the second set" 0 "active: $GEN2 (was $GEN1)" "" -- "$T" --db "$DB" scripts activate "$S2"
expect_run "  ...the first is retired" 0 "retired" "" -- sqlite3 "$DB" "select status from script_generations where hash = '$GEN1'"
expect_run "rollback goes back to the first" 0 "active: $GEN1 (rolled back from $GEN2)" "" -- "$T" --db "$DB" scripts rollback
expect_run "  ...audited" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export 2>/dev/null | grep -c -- \"\$1\"" sh '"action":"scripts.rolled_back"'
expect_run "a second rollback has nowhere to go" 1 "" "no earlier active set" -- "$T" --db "$DB" scripts rollback

# Proposals that fail a check are refused, and nothing is kept.
n_before=$(sqlite3 "$DB" "select count(*) from script_generations")
BAD="$D/bad"
cp -r "$ROOT/scripts" "$BAD"
printf 'return regulation { id = "US-ZZ", rules = { { id = "a", block = true } } }\n' >"$BAD/regulations/zz.lua"
expect_run "a proposal that fails lint is refused" 1 "*" "lint found problems (above): the set was not proposed" -- "$T" --db "$DB" scripts propose "$BAD"
rm "$BAD/regulations/zz.lua"
cat >"$BAD/regulations/zz_spec.lua" <<'LUA'
describe("a spec that fails", function()
  it("fails", function() expect(1).to_be(2) end)
end)
LUA
expect_run "a proposal whose spec fails is refused" 1 "*" "a spec failed (above): the set was not proposed" -- "$T" --db "$DB" scripts propose "$BAD"
expect_run "a strategy folder is not a tree to propose" 1 "" "is a strategy folder, not a script tree" -- "$T" --db "$DB" scripts propose "$ROOT/scripts/strategies"
mkdir -p "$D/noregs/lib"
cp "$ROOT/scripts/lib/"*.lua "$D/noregs/lib/"
expect_run "a tree with no regulation is refused" 1 "*" "has no regulation: a set without one would allow every contact" -- "$T" --db "$DB" scripts propose "$D/noregs"
expect_run "  ...nothing kept" 0 "$n_before" "" -- sqlite3 "$DB" "select count(*) from script_generations"

# A set that does not load whole is refused, never run with a part left out.
DR="$D/draft"
cp -r "$ROOT/scripts" "$DR"
printf 'local journey = require("lib.journey")\nreturn journey { id = "broken", start = "a", states = { a = { after = { days(1), "nowhere" } } } }\n' >"$DR/strategies/broken.lua"
expect_run "a draft with a broken journey is refused" 1 "*" "a set with a journey left out is not run" -- "$T" --db "$DB" --scripts "$DR" --draft run --date 2026-11-25 --spool "$D/sp"

# What was approved is exactly what runs: a text changed in the store is refused.
sqlite3 "$DB" "update script_texts set text = text || ' ' where sha256 = (select sha256 from script_files f join script_generations g on g.id = f.generation where g.hash = '$GEN1' and f.path = 'regulations/federal.lua')"
expect_run "a stored text changed after approval is refused" 1 "" "does not load" -- "$T" --db "$DB" run --date 2026-11-25 --spool "$D/sp"
expect_run "the audit chain holds" 0 "*" "" -- "$T" --db "$DB" audit verify

finish
