#!/bin/sh
# tests/e2e/test_simulate.sh: `tallyman simulate` end to end on a small generated portfolio:
# a strategy against itself differs by exactly 0; a challenger that sends nothing in the
# early stage collects differently, the same way twice with one seed; the HTML report is
# self-contained; the user's store is never written; bad input is refused clearly.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/p.db"
# 300 debts across states, zones, balances and delinquency stages (awk, not
# examples/portfolio/generate.lua: that is Lua 5.4 and this suite also runs on LuaJIT).
awk 'BEGIN {
  split("MA PA TX CA FL NY IL OH GA WA", st, " ")
  split("America/New_York America/New_York America/Chicago America/Los_Angeles America/New_York America/New_York America/Chicago America/New_York America/New_York America/Los_Angeles", tz, " ")
  split("0 5 12 25 40 75 100 150 200 400", dpd, " ")
  print "external_id,debt_id,first_name,last_name,state,timezone,phone,email,balance,currency,days_past_due,debt_type"
  for (i = 1; i <= 300; i++) {
    s = 1 + (i * 7) % 10; g = 1 + (i * 3) % 10
    printf "C%04d,D%04d,Ann,Lee%d,%s,%s,+1617555%04d,a%d@example.org,%d.%02d,USD,%d,%s\n",
      i, i, i, st[s], tz[s], i, i, 50 + (i * 37) % 2500, i % 100, dpd[g] + i % 5,
      (i % 3 == 0) ? "medical" : (i % 3 == 1) ? "credit_card" : "telecom"
  }
}' >"$D/a.csv"
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
SUM0=$(cksum <"$DB")

# The challenger: early_stage that never sends (a copy of the days-past-due set,
# examples/strategies/dpd, whose early_stage takes every 1-30 debt; one file edited).
DPD="$ROOT/examples/strategies/dpd"
cp -r "$DPD" "$D/quiet"
sed -i 's/strategy\.send_first(j, [^)]*)/local _ = j/g; s/j:send("call", "early_call")/local _ = j/' "$D/quiet/early_stage.lua"
# Wrappers as files, since expect_run runs its command under timeout(1).
S="$D/sim.sh"
mkdir -p "$D/tmp"
printf '#!/bin/sh\nTMPDIR="%s" exec "%s" --db "%s" --scripts "%s" --draft simulate --date 2026-11-23 "$@"\n' "$D/tmp" "$T" "$DB" "$ROOT/scripts" >"$S"
chmod +x "$S"
col="$D/col.sh" # col MEASURE COLUMN FILE: a column of a measure's row in the table
cat >"$col" <<'EOF2'
#!/bin/sh
awk -v m="$1" -v c="$2" 'index($0, m) == 1 { sub("^" m " *", ""); split($0, f, " +"); print f[c]; exit }' "$3"
EOF2
chmod +x "$col"

expect_run "A vs A" 0 "*" "" -- "$S" --days 20 --strategy "$ROOT/scripts/strategies" --vs "$ROOT/scripts/strategies" --seed 5 --quiet
cp "$E2E_TMP/out" "$D/aa.txt"
expect_run "  ...difference in collected is exactly 0" 0 "0.00" "" -- "$col" collected 3 "$D/aa.txt"
expect_run "  ...and its interval is [0, 0]" 0 "[0.00," "" -- "$col" collected 4 "$D/aa.txt"
expect_run "  ...no measure flagged" 1 "" "" -- grep -F ' *' "$D/aa.txt"
expect_run "  ...and something was collected" 0 "*" "" -- awk '/^collected / { n++; if ($2 + 0 > 0) ok = 1 } END { exit !(n == 1 && ok) }' "$D/aa.txt"

expect_run "one thread" 0 "*" "" -- "$S" --days 10 --strategy "$ROOT/scripts/strategies" --seed 3 --workers 0 --quiet
cp "$E2E_TMP/out" "$D/w0.txt"
expect_run "three workers: the same measures" 0 "*" "" -- "$S" --days 10 --strategy "$ROOT/scripts/strategies" --seed 3 --workers 3 --quiet
cp "$E2E_TMP/out" "$D/w3.txt"
expect_run "  ...to the cent" 0 "" "" -- cmp "$D/w0.txt" "$D/w3.txt"

expect_run "shipped vs quiet early stage" 0 "*" "" -- "$S" --days 20 --strategy "$DPD" --vs "$D/quiet" --seed 9 --report "$D/r.html"
cp "$E2E_TMP/out" "$D/ab1.txt"
# The table's columns: measure, A, B, B - A, interval.
expect_run "  ...net collected after cost, with its interval" 0 "*" "" -- grep -qE '^net collected after cost +-?[0-9,]+\.[0-9]{2} +-?[0-9,]+\.[0-9]{2} +[-+]?[0-9,]+\.[0-9]{2} +\[' "$D/ab1.txt"
expect_run "  ...amounts with thousands separators" 0 "*" "" -- grep -qE '^collected +[0-9]{1,3}(,[0-9]{3})+\.[0-9]{2} ' "$D/ab1.txt"
expect_run "  ...the currency said" 0 "*" "" -- grep -qx '(amounts in USD)' "$D/ab1.txt"
expect_run "  ...a one-line verdict" 1 "*" "" -- sh -c "grep -c '^verdict: ' '$D/ab1.txt' | grep -vqx 1"
expect_run "  ...on net collected" 0 "*" "" -- grep -qE '^verdict: (B is better|B is worse|no clear difference).* net of contact cost' "$D/ab1.txt"
expect_run "  ...blocked-by-rule lists most first" 0 "*" "" -- awk '/^  blocked contact attempts by rule/ { on = 1; prev = -1; next } on && /^    / { m = $NF + 0 > $(NF-1) + 0 ? $NF + 0 : $(NF-1) + 0; if (prev >= 0 && m > prev) bad = 1; prev = m; n++; next } { on = 0 } END { exit bad || n < 2 }' "$D/ab1.txt"
expect_run "  ...A and B side by side: messages, blocked attempts, journeys" 0 "3" "" -- sh -c "grep -cE '^  (messages|blocked contact attempts by rule|by journey and variant) +A( debts)? ' '$D/ab1.txt'"
expect_run "  ...the early stage's variants apart, with each arm's debts and net" 0 "*" "" -- grep -qE '^    early_stage +champion +[0-9]+ +-?[0-9,]+\.[0-9]{2} +[0-9]+ +-?[0-9,]+\.[0-9]{2}$' "$D/ab1.txt"
expect_run "  ...the groups' debts add up to the portfolio, for each arm" 0 "*" "" -- awk '/^simulation: / { n = $2 } /^  by journey and variant / { on = 1; next } on && /^    / { a += $3; b += $5; next } on { on = 0; done = 1 } END { exit !(done && a == n && b == n) }' "$D/ab1.txt"
expect_run "  ...each arm's roll rates" 0 "2" "" -- sh -c "grep -cE '^  [AB]: roll rates' '$D/ab1.txt'"
expect_run "  ...and in the report" 0 "*" "" -- grep -q '<h2>By journey and variant</h2>' "$D/r.html"
expect_run "  ...the report gives the verdict too" 0 "*" "" -- grep -q '<p class="verdict"><b>verdict: ' "$D/r.html"
expect_run "  ...collected differs" 0 "*" "" -- awk '/^collected / { n++; if ($2 != $3 && $3 != "") ok = 1 } END { exit !(n == 1 && ok) }' "$D/ab1.txt"
expect_run "  ...fewer contacts per debt" 0 "*" "" -- awk '/^contacts per debt / { n++; if ($5 + 0 < $4 + 0) ok = 1 } END { exit !(n == 1 && ok) }' "$D/ab1.txt"
expect_run "  ...the same again with the same seed" 0 "*" "" -- "$S" --days 20 --strategy "$DPD" --vs "$D/quiet" --seed 9 --report "$D/r2.html"
cp "$E2E_TMP/out" "$D/ab2.txt"
expect_run "  ...identical output" 0 "*" "" -- cmp "$D/ab1.txt" "$D/ab2.txt"
expect_run "  ...another seed, other figures" 0 "*" "" -- "$S" --days 20 --strategy "$DPD" --vs "$D/quiet" --seed 10 --quiet
cp "$E2E_TMP/out" "$D/ab3.txt"
expect_run "  ...differ" 1 "*" "*" -- cmp -s "$D/ab1.txt" "$D/ab3.txt"
expect_run "  ...blocked attempts by rule listed" 0 "*" "" -- grep -q "blocked contact attempts by rule" "$D/ab1.txt"
expect_run "  ...roll-rate matrix printed" 0 "*" "" -- grep -q "^    1-30 " "$D/ab1.txt"

expect_run "report written" 0 "*" "" -- test -s "$D/r.html"
expect_run "  ...with inline SVG" 0 "*" "" -- grep -q "<svg" "$D/r.html"
expect_run "  ...no network loads" 1 "" "" -- grep -E "https?://" "$D/r.html"
expect_run "  ...day ticks on the x axis (20 days: every 2nd)" 0 "*" "" -- sh -c "grep -o 'text-anchor=\"middle\">[0-9]*</text>' '$D/r.html' | sed 's/[^0-9]*\([0-9]*\)<.*/\1/' | tr '\n' ' ' | grep -qx '2 4 6 8 10 12 14 16 18 20 '"
expect_run "  ...round y ticks" 0 "*" "" -- sh -c "grep -o 'text-anchor=\"end\">[^<]*%</text>' '$D/r.html' | sed 's/.*\">//; s/%<.*//' | awk '{ v[NR] = \$1 } END { if (NR < 2) exit 1; s = v[2] - v[1]; if (s != 1 && s != 2 && s != 5 && s != 10 && s != 0.5 && s != 0.2 && s != 0.1 && s != 20 && s != 50) exit 1; for (i = 2; i <= NR; i++) if (v[i] - v[i-1] - s > 1e-9 || s - (v[i] - v[i-1]) > 1e-9) exit 1 }'"
expect_run "  ...the store's path relative to its folder" 0 "*" "" -- grep -q '<th class="l">store (copied, not changed)</th><td class="l">p.db</td>' "$D/r.html"
expect_run "  ...amounts in the currency, with separators" 0 "*" "" -- grep -qE '<p>Amounts in USD\.</p>' "$D/r.html"
expect_run "  ...tables fit the page" 0 "*" "" -- grep -q 'table{border-collapse:collapse;margin:1em 0;max-width:100%}' "$D/r.html"
expect_run "  ...no external scripts or styles" 1 "" "" -- grep -E "<script|<link|@import|src=" "$D/r.html"
expect_run "  ...the seed and script hashes" 0 "*" "" -- sh -c "grep -q '>9<' '$D/r.html' && grep -Eq '<code>[0-9a-f]{64}</code>' '$D/r.html'"
expect_run "  ...strings escaped" 0 "*" "" -- sh -c "mkdir -p '$D/<b>&x' && cp -r '$D/quiet/.' '$D/<b>&x/' && '$T' --db '$DB' --scripts '$ROOT/scripts' --draft simulate --date 2026-11-23 --days 2 --strategy '$D/<b>&x' --report '$D/e.html' --quiet >/dev/null && grep -q '&lt;b&gt;&amp;x' '$D/e.html' && ! grep -q '<b>&x' '$D/e.html'"

expect_run "the user's store is unchanged" 0 "$SUM0" "" -- sh -c "cksum <'$DB'"
expect_run "  ...no journeys started in it" 0 "0" "" -- sqlite3 "$DB" "select count(*) from debts where journey is not null"
expect_run "  ...no temporary copies left" 0 "" "" -- ls "$D/tmp"

# A world file: errors name the field; a world where nobody answers collects only self-cures.
printf '{"channels":{"sms":{"answer":2}}}' >"$D/bad_world.json"
expect_run "bad world: the field is named" 2 "" "channels.sms.answer" -- "$S" --days 2 --strategy "$ROOT/scripts/strategies" --world "$D/bad_world.json"
printf '{"costs_typo":1}' >"$D/bad_costs.json"
expect_run "bad costs: the field is named" 2 "" "costs_typo" -- "$S" --days 2 --strategy "$ROOT/scripts/strategies" --costs "$D/bad_costs.json"

# Bad use.
expect_run "no --days" 2 "" "--days is required" -- "$S" --strategy "$ROOT/scripts/strategies"
expect_run "--strategy defaults to the strategies of the set that runs" 0 "*" "" -- "$S" --days 2 --seed 3 --quiet
cp "$E2E_TMP/out" "$D/default.txt"
expect_run "  ...and says which" 0 "*" "" -- grep -q "^A: the draft.s strategies/" "$D/default.txt"
expect_run "--days 0" 2 "" "--days" -- "$S" --days 0 --strategy "$ROOT/scripts/strategies"
expect_run "--days 3651" 2 "" "--days" -- "$S" --days 3651 --strategy "$ROOT/scripts/strategies"
expect_run "bad seed" 2 "" "--seed" -- "$S" --days 2 --seed -3 --strategy "$ROOT/scripts/strategies"
expect_run "unknown strategy dir" 2 "" "no such directory" -- "$S" --days 2 --strategy "$D/nope"
expect_run "unknown --vs dir" 2 "" "no such directory" -- "$S" --days 2 --strategy "$ROOT/scripts/strategies" --vs "$D/nope"
mkdir -p "$D/empty"
expect_run "a strategy dir with no journeys" 1 "" "no journeys" -- "$S" --days 2 --strategy "$D/empty"
expect_run "no store" 1 "" "no such store" -- "$T" --db "$D/none.db" --scripts "$ROOT/scripts" --draft simulate --days 2 --strategy "$ROOT/scripts/strategies"
expect_run "bad date" 2 "" "--date" -- "$S" --days 2 --date 2026-02-30 --strategy "$ROOT/scripts/strategies"
expect_run "help says the journeys are reset" 0 "*" "" -- sh -c "'$T' simulate --help | grep -q 'starts afresh'"
expect_run "store still unchanged after all that" 0 "$SUM0" "" -- sh -c "cksum <'$DB'"
finish
