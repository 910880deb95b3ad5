#!/bin/sh
# tests/e2e/test_delivery.sh: every message reaches a person and every answer
# comes back. Consents from the placement; each message's recipient resolved
# from the encrypted contact points (by channel, place and the time a change
# holds from) and never stored in plain text; a message with no usable point
# handed back to its journey (no-contact-point), which falls back to a channel
# it may use; receipts and replies by message key (bounces mark a point bad,
# STOP opts out at once); and the bad input refused by line and field with
# nothing half-applied.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$D/d.db"
TREE="$D/tree"
mkdir -p "$TREE/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"
cat >"$TREE/strategies/d.lua" <<'LUA'
local journey = require("lib.journey")
local strategy = require("lib.strategy")
return journey {
  id = "d",
  segment = function(d) return true end,
  start = "one",
  send_window = { "10:00", "18:00" },
  blocked = strategy.fallback(),
  states = {
    one = { enter = function(j)
              j:send("email", "early_reminder"); j:send("sms", "early_reminder")
              j:send("letter", "mid_letter")
              if j.debt.debt_id == "D4" then j:send("call", "early_call", { place = "work" }) end
            end,
            after = { days(3), "two" } },
    two = { enter = function(j) j:send("email", "mid_reminder"); j:send("sms", "mid_reminder")
                                j:send("letter", "mid_letter") end },
  },
}
LUA
cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,address1,city,state,zip,phone,email,timezone,balance,currency,days_past_due,sms_consent,email_consent,consent_date,consent_source,preferred_channel
C1,D1,Zenobia,Quillfeather,12 Juniper Ln,Boston,MA,02110,+16175550101,zenobia@example.com,America/New_York,100.00,USD,10,yes,yes,2026-01-05,application,sms
C2,D2,Bob,Ray,,,TX,,+12145550102,,America/Chicago,200.00,USD,20,no,,,,
C3,D3,Cy,Fox,3 Oak St,Austin,TX,78701,+15125550103,cy@example.com,America/Chicago,50.00,USD,20,maybe,,,,
C4,D4,Di,Moe,4 Pine Rd,Erie,PA,16501,+18145550104,di@example.com,America/New_York,75.00,USD,15,1,0,2025-12-01,phone call,email
C5,D5,Ed,Ng,5 Elm St,Tulsa,OK,74101,+19185550105,ed@example.com,America/Chicago,60.00,USD,15,TRUE,,2026-13-01,web,
C6,D6,Flo,Ito,6 Ash Ct,Reno,NV,89501,+17755550106,flo@example.com,America/Los_Angeles,60.00,USD,15,yes,,,,fax
C7,D7,Gus,Orr,7 Fir Ln,Provo,UT,84601,+18015550107,gus@example.com,America/Denver,60.00,USD,15,y,,,,
CSV

# --- consent columns -------------------------------------------------------
expect_run "a consent column with an unknown value is refused by line and field" 1 "*" \
    "a.csv:4: sms_consent: 'maybe' is not a consent: yes, no, true, false, 1 or 0" -- \
    "$T" --db "$DB" import accounts "$D/a.csv"
expect_run "  ...a bad consent date by line and field" 1 "*" "a.csv:6: consent_date:" -- \
    "$T" --db "$DB" import accounts "$D/a.csv"
expect_run "  ...a preferred channel that is none" 1 "*" "a.csv:7: preferred_channel: 'fax' is not a channel" -- \
    "$T" --db "$DB" import accounts "$D/a.csv"
expect_run "  ...an abbreviation that is none of the six values" 1 "*" "a.csv:8: sms_consent: 'y' is not a consent" -- \
    "$T" --db "$DB" import accounts "$D/a.csv"
q() { sqlite3 "$DB" "$1"; }
expect_eq "the good rows are in, the refused ones are not" "C1 C2 C4" "$(q "select group_concat(external_id, ' ') from consumers order by id")"
expect_eq "consents as given (yes/no/1/0)" "C1:sms,email C2: C4:sms" \
    "$(q "select group_concat(external_id || ':' || consent, ' ') from consumers order by id")"
expect_eq "consent date, source and preferred channel kept" "2026-01-05|application|sms" \
    "$(q "select consent_date, consent_source, preferred_channel from consumers where external_id = 'C1'")"
expect_run "importing the same file again changes nothing" 1 "*" "0 changed; debts: 0 new, 0 changed, 3 unchanged" -- \
    "$T" --db "$DB" import accounts "$D/a.csv"

# --- recipients ------------------------------------------------------------
expect_run "run: messages with no usable contact point are counted and listed" 0 "*" "" -- \
    "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-23 --spool "$D/spool"
cp "$E2E_TMP/out" "$D/run1.out"
expect_eq "  ...counted" 1 "$(grep -c '^no usable contact point: 3 contacts not sent' "$D/run1.out")"
expect_eq "  ...listed by rule" 1 "$(grep -c '^  no-contact-point  *3$' "$D/run1.out")"
expect_eq "  ...the journey moved the refused ones to a channel it may use" 1 \
    "$(grep -c '^moved to another channel after a refusal:.*' "$D/run1.out")"
expect_eq "  ...and run says where the messages went" 1 "$(grep -c "^messages went to the spool $D/spool$" "$D/run1.out")"
expect_eq "D2 (no email, no address, no SMS consent) gets no email or letter" "no-contact-point|no-contact-point" \
    "$(q "select group_concat(blocked_by, '|') from outbox where idempotency_key in ('D2:d:1:0', 'D2:d:1:2')")"
expect_eq "D4's call at work: no work number on file" "skipped|no-contact-point" \
    "$(q "select status, blocked_by from outbox where idempotency_key = 'D4:d:1:3'")"
expect_eq "D4 (email consent 0, no SMS refusal) texted, not blocked" "sent" \
    "$(q "select status from outbox where idempotency_key = 'D4:d:1:1'")"
expect_eq "the email goes to the consumer's email" '"zenobia@example.com"' \
    "$(jq -c .to "$D/spool/email/D1:d:1:0.json")"
expect_eq "the SMS to their phone" '"+16175550101"' "$(jq -c .to "$D/spool/sms/D1:d:1:1.json")"
expect_eq "the letter to their postal address" '"Zenobia Quillfeather\n12 Juniper Ln\nBoston, MA 02110"' \
    "$(jq -c .to "$D/spool/letter/D1:d:1:2.json")"
expect_eq "each message has the members the webhook schema lists" \
    "$(jq -c '.required | sort' "$ROOT/docs/webhook.schema.json")" "$(jq -c 'keys' "$D/spool/email/D1:d:1:0.json")"
expect_eq "no message in the spool without a recipient" 0 \
    "$(cat "$D"/spool/*/*.json | jq -c 'select(.to == null or .to == "")' | wc -l | tr -d ' ')"
expect_eq "spool files are 0600 in 0700 directories" "700 700 600" \
    "$(stat -c %a "$D/spool") $(stat -c %a "$D/spool/email") $(stat -c %a "$D/spool/email/D1:d:1:0.json")"
plain=0
for s in zenobia@example.com 6175550101 "Juniper Ln" Quillfeather di@example.com; do
    n=$(cat "$DB" "$DB-wal" 2>/dev/null | grep -ac "$s")
    plain=$((plain + n))
done
expect_eq "no phone, email, address or name in the database file in plain text" 0 "$plain"

# --- receipts and replies --------------------------------------------------
cat >"$D/bad.jsonl" <<'EOF'
{"key":"x1","type":"delivered","message":"D9:nope:1:0","at":"2026-11-23T16:10:00Z"}
{"key":"x2","type":"delivered","message":"D2:d:1:0","at":"2026-11-23T16:10:00Z"}
{"key":"x3","type":"delivered","debt_id":"D2","message":"D1:d:1:2","at":"2026-11-23T16:10:00Z"}
{"key":"x4","type":"bounced","message":"D1:d:1:0","kind":"mushy","at":"2026-11-23T16:10:00Z"}
{"key":"x5","type":"delivered","at":"2026-11-23T16:10:00Z"}
{"key":"x6","type":"phone_change","debt_id":"D1","at":"2026-11-24T00:00:00Z","phone":"617-555-0199"}
{"key":"x7","type":"address_change","debt_id":"D1","at":"2026-11-24T00:00:00Z","address1":"9 Elm St","city":"Boston","zip":"02111"}
{"key":"x8","type":"address_change","debt_id":"D1","at":"2026-11-24T00:00:00Z","address1":"9 Elm St","city":"Boston","state":"XX","zip":"02111"}
{"key":"x9","type":"email_change","debt_id":"D1","at":"2026-11-24T00:00:00Z","email":"two@@example.com"}
EOF
before="$(q "select count(*) from contacts")|$(q "select count(*) from events")"
expect_run "bad receipts and changes are refused by line and field" 1 "*" "9 rejected" -- "$T" --db "$DB" event "$D/bad.jsonl"
cp "$E2E_TMP/err" "$D/bad.err"
for want in "bad.jsonl:1: message: unknown message key 'D9:nope:1:0'" \
            "bad.jsonl:2: message: message 'D2:d:1:0' was not sent (it is skipped)" \
            "bad.jsonl:3: debt_id: 'D2' is not the debt of message 'D1:d:1:2' (D1)" \
            "bad.jsonl:4: kind: must be hard or soft" \
            "bad.jsonl:5: message: is required for delivered" \
            "bad.jsonl:6: phone: not an E.164 number" \
            "bad.jsonl:7: state: is required for address_change (address1, city, state and zip)" \
            "bad.jsonl:8: state:" \
            "bad.jsonl:9: email:"; do
    expect_eq "  ...$want" 1 "$(grep -cF "$want" "$D/bad.err")"
done
expect_eq "  ...nothing of them applied" "$before" "$(q "select count(*) from contacts")|$(q "select count(*) from events")"

cat >"$D/ok.jsonl" <<'EOF'
{"key":"r1","type":"delivered","message":"D1:d:1:1","at":"2026-11-23T16:00:00Z"}
{"key":"r2","type":"bounced","message":"D1:d:1:0","at":"2026-11-23T16:05:00Z"}
{"key":"r3","type":"inbound_reply","message":"D1:d:1:1","at":"2026-11-23T16:10:00Z","text":"Stop texting me!"}
{"key":"r4","type":"inbound_reply","message":"D4:d:1:1","at":"2026-11-23T16:10:00Z","text":"Who is this?"}
{"key":"r5","type":"phone_change","debt_id":"D4","at":"2026-11-27T00:00:00Z","phone":"+18145550999"}
EOF
expect_run "receipts and replies by message key" 0 "*" "5 applied" -- "$T" --db "$DB" event "$D/ok.jsonl"
expect_eq "a receipt sets the outcome of the contact it was" "delivered" \
    "$(q "select outcome from contacts where message = 'D1:d:1:1' and direction = 'outbound'")"
expect_eq "a hard bounce: the contact failed and the email is marked bad" "failed|1" \
    "$(q "select k.outcome, c.email_bad = c.email_hash from contacts k, consumers c where k.message = 'D1:d:1:0' and c.external_id = 'C1'")"
expect_eq "a reply counts as an inbound contact" "2" "$(q "select count(*) from contacts where direction = 'inbound'")"
expect_eq "STOP opts the consumer out of that channel at once" "sms|" \
    "$(q "select optout from consumers where external_id = 'C1'")|$(q "select optout from consumers where external_id = 'C4'")"
expect_eq "  ...with an audit record citing the law" 1 \
    "$(q "select count(*) from audit where action = 'consumer.optout' and details like '%12 CFR 1006.6(e)%' and details like '%47 CFR 64.1200(a)(10)%'")"
expect_eq "  ...and the reply's words are not kept" 0 "$(cat "$DB" "$DB-wal" 2>/dev/null | grep -ac 'texting me')"

# --- the next messages follow the answers --------------------------------
expect_run "run three days later" 0 "*" "" -- \
    "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-26 --spool "$D/spool"
expect_eq "no more email to the bounced address" "no-contact-point" \
    "$(q "select blocked_by from outbox where idempotency_key = 'D1:d:2:0'")"
expect_eq "no more SMS after STOP" "skipped" "$(q "select status from outbox where idempotency_key = 'D1:d:2:1'")"
expect_eq "a phone change is used only from its time on: the old number before it" '"+18145550104"' \
    "$(jq -c .to "$D/spool/sms/D4:d:2:1.json")"
expect_run "a reply for a closed debt is refused" 1 "*" "closed.jsonl:2: debt_id: debt 'D4' is closed (paid)" -- \
    sh -c "printf '%s\n%s\n' '{\"key\":\"p4\",\"type\":\"payment\",\"debt_id\":\"D4\",\"at\":\"2026-11-27T10:00:00Z\",\"amount\":\"75.00\"}' \
        '{\"key\":\"r9\",\"type\":\"inbound_reply\",\"message\":\"D4:d:1:1\",\"at\":\"2026-11-27T11:00:00Z\",\"text\":\"STOP\"}' >'$D/closed.jsonl'; \
        '$T' --db '$DB' event '$D/closed.jsonl'"
expect_eq "  ...and changes nothing" "" "$(q "select optout from consumers where external_id = 'C4'")"
finish
