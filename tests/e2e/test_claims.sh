#!/bin/sh
# tests/e2e/test_claims.sh: what a message says goes to the compliance gate
# with the contact. A letter whose template claims "threatens_suit" is
# refused on a time-barred debt (Regulation F 1006.26(b)), with the rule named,
# and sent on a debt that is not; lint checks the claims field.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/c.db"
TREE="$D/tree"
mkdir -p "$TREE/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"
# A legal-action letter, added to the letters (before the list's last brace).
head -n -1 "$ROOT/scripts/channels/letter.lua" >"$TREE/channels/letter.lua"
cat >>"$TREE/channels/letter.lua" <<'LUA'
    template {
        id = "legal_review", channel = "letter", placeholders = P, claims = { "threatens_suit" },
        disclosures = { "mini_miranda" },
        en = { text = "Dear {{consumer.first_name}}, your {{debt.creditor}} account {{debt.id}} may be referred to an attorney for legal action." },
        es = { text = "Estimado/a {{consumer.first_name}}: su cuenta de {{debt.creditor}} {{debt.id}} puede pasar a un abogado para acciones legales." },
    },
}
LUA
cat >"$TREE/strategies/legal.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "legal", segment = function(d) return true end, start = "s",
  states = { s = { enter = function(j) j:send("letter", "legal_review") end } },
  blocked = function() return "skip" end,
}
LUA
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,charge_off_date,last_payment_date,phone,email,address1,city,zip
C1,OLD,Ann,Lee,TX,America/Chicago,900.00,USD,3000,2017-01-15,2016-12-01,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,NEW,Bob,Ray,TX,America/Chicago,900.00,USD,60,,2026-09-20,+16175551002,c2@example.com,2 Main St,Springfield,01101
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
expect_run "lint takes the claims" 0 "*" "*" -- "$T" lint "$TREE"
expect_run "a day" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --quiet
expect_run "no threat of suit on a time-barred debt" 0 "OLD|skipped" "" -- sqlite3 "$DB" "select d.debt_id, o.status from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'OLD'"
expect_run "  ...the rule is named" 0 "*" "" -- sh -c "sqlite3 '$DB' \"select o.blocked_by from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'OLD'\" | grep -q 'US-FED/time-barred-suit-threat'"
expect_run "the same letter on a debt within the limitation period goes out" 0 "NEW|sent" "" -- sqlite3 "$DB" "select d.debt_id, o.status from outbox o join debts d on d.id = o.debt_id where d.debt_id = 'NEW'"
sed 's/claims = { "threatens_suit" }/claims = { "Threatens Suit" }/' "$TREE/channels/letter.lua" >"$D/bad.lua" && cp "$D/bad.lua" "$TREE/channels/letter.lua"
expect_run "a claim that is not a field name is named by lint" 1 "*" "*" -- "$T" lint "$TREE"
cp "$E2E_TMP/out" "$D/lint.txt"
expect_run "  ...with the file, line and field" 0 "*" "" -- grep -q 'channels/letter.lua:[0-9]*: template legal_review: claims\[1\] must be a message field name' "$D/lint.txt"
finish
