#!/bin/sh
# tests/e2e/test_serve_routes.sh: the service's routes for people and the
# systems around them, each doing what its command does through the same
# code: POST /v1/payments (tallyman pay), a debt's story and explanation
# (tallyman why, decide --explain), the audit log (audit export, verify), the
# work queues (tallyman queue) and simulations (tallyman simulate). Every
# response is checked against docs/openapi.json.
. "$(dirname "$0")/serve_lib.sh"

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip
C1,D1,Ann,Lee,TX,America/Chicago,100.00,USD,20,+16175550174,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20,+16175551002,c2@example.com,2 Main St,Springfield,01101
C3,D3,Cy,Fox,TX,America/Chicago,300.00,USD,20,+16175551003,c3@example.com,3 Main St,Springfield,01101
CSV
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
INTEG=$("$T" --db "$DB" tokens create --role integration --name crm | tail -n 1)
AGENT=$("$T" --db "$DB" tokens create --role agent --name desk | tail -n 1)
AUDITOR=$("$T" --db "$DB" tokens create --role auditor --name books | tail -n 1)
DIALER=$("$T" --db "$DB" tokens create --role dialer --name dialer | tail -n 1)
# The service answers with the store's active set: the shipped tree, approved.
people "$DB"
chmod 0777 "$D"
activate_set "$DB" "$ROOT/scripts" >/dev/null || { echo "FAIL the shipped set cannot be activated"; exit 1; }
start_serve "$D/log" --listen 127.0.0.1:0 || exit 1
A="Authorization: Bearer $INTEG"

# --- POST /v1/payments: what `tallyman pay` does ------------------------------------------------
cat >"$D/pay.json" <<'JSON'
[{"key":"k1","debt_id":"D1","amount":"25.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"},
 {"key":"k2","debt_id":"D1","amount":"10.01","card_number":"4111 1111 1111 1111","at":"2026-11-23T15:05:00Z"},
 {"key":"k3","debt_id":"D2","amount":"20.02","card_number":"5555555555554444","at":"2026-11-23T15:06:00Z"},
 {"key":"k4","debt_id":"NOPE","amount":"5.00","card_number":"5555555555554444","at":"2026-11-23T15:07:00Z"},
 {"key":"k5","debt_id":"D2","amount":"5.00","card_number":"5555555555554444","note":"card 4111 1111 1111 1111","at":"2026-11-23T15:08:00Z"},
 {"key":"k1","debt_id":"D1","amount":"25.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}]
JSON
call "payments: a batch" POST /v1/payments /v1/payments 200 -H "$J" -H "$A" --data-binary @"$D/pay.json"
body_has "payments: the counts" '"items":6,"approved":1,"declined":1,"pending":1,"duplicates":1,"refused":0,"rejected":2'
body_has "payments: approved, with the card's token" '{"index":0,"status":"approved","token":"tok_'
body_has "payments: a decline" '"index":1,"status":"declined"'
body_has "payments: a time-out is pending" '"index":2,"status":"pending"'
body_has "payments: an unknown debt names the field" '"field":"debt_id"'
body_has "payments: a card number in another field is named, not echoed" '"field":"note"'
body_has "payments: the same key and request again is a duplicate" '{"index":5,"status":"duplicate"'
body_lacks "payments: no card number in the reply" '4111111111111111'
body_lacks "payments: no grouped card number in the reply" '4111 1111'
expect_run "payments: the approved charge is a payment on the debt" 0 "7500" "" -- sqlite3 "$DB" "SELECT balance_minor FROM debts WHERE debt_id = 'D1'"
expect_run "payments: the card number is nowhere in the store" 1 "" "" -- sh -c "strings '$DB' '$DB-wal' 2>/dev/null | grep -E '4111111111111111|4111 1111|5555555555554444'"
expect_run "payments: nor in the request log" 1 "" "" -- grep -E '4111|5555555555554444|Ann|Lee' "$D/log"
expect_run "payments: the audit chain holds" 0 "*" "" -- "$T" --db "$DB" audit verify
TOKEN=$(sed -n 's/.*"index":0,"status":"approved","token":"\(tok_[^"]*\)".*/\1/p' "$D/body")
printf '{"key":"k9","debt_id":"D1","amount":"1.00","token":"%s","at":"2026-11-23T15:30:00Z"}\n' "$TOKEN" >"$D/pay.jsonl"
call "payments: JSON lines, a token instead of the number" POST /v1/payments /v1/payments 200 -H 'Content-Type: application/x-ndjson' -H "$A" --data-binary @"$D/pay.jsonl"
body_has "payments: by token" '"approved":1'
printf '{"key":"k10","debt_id":"D1","amount":"1.00","token":"tok_4111111111111111","at":"2026-11-23T15:31:00Z"}\n' >"$D/bad.jsonl"
call "payments: a token this engine did not issue" POST /v1/payments /v1/payments 200 -H 'Content-Type: application/x-ndjson' -H "$A" --data-binary @"$D/bad.jsonl"
body_has "payments: the token is refused" '"rejected":1'
body_lacks "payments: and not echoed" '4111111111111111'
printf '{"key":"k1","debt_id":"D1","amount":"26.00","card_number":"4111111111111111","at":"2026-11-23T15:00:00Z"}\n' >"$D/reuse.jsonl"
call "payments: a key reused for another payment" POST /v1/payments /v1/payments 200 -H 'Content-Type: application/x-ndjson' -H "$A" --data-binary @"$D/reuse.jsonl"
body_has "payments: the reuse is refused, not charged" '"rejected":1'
body_has "payments: the reuse names the key" '"field":"key"'
printf '[{"key":"k11","card_number":"4111111111111111", }]' >"$D/mal.json"
call "payments: malformed JSON" POST /v1/payments /v1/payments 400 -H "$J" -H "$A" --data-binary @"$D/mal.json"
body_has "payments: malformed JSON names the place" '"code":"malformed_json"'
printf '[{"key":"k11","debt_id":4111111111111111x}]' >"$D/mal2.json"
call "payments: malformed JSON next to a card number" POST /v1/payments /v1/payments 400 -H "$J" -H "$A" --data-binary @"$D/mal2.json"
body_lacks "payments: the malformed text is not echoed when it holds a card number" '4111111111111111'
call "payments: no items" POST /v1/payments /v1/payments 400 -H "$J" -H "$A" --data '[]'
call "payments: wrong content type" POST /v1/payments /v1/payments 415 -H 'Content-Type: text/plain' -H "$A" --data '[]'
call "payments: wrong method" GET /v1/payments /v1/payments 405 -H "$A"
call "payments: without credentials" POST /v1/payments /v1/payments 401 -H "$J" --data '[]'
call "payments: a dialer may not" POST /v1/payments /v1/payments 403 -H "$J" -H "Authorization: Bearer $DIALER" --data '[]'
for i in 1 2 3; do
    printf '{"key":"v%s","debt_id":"D3","amount":"1.00","card_number":"378282246310005","at":"2026-11-24T10:0%s:00Z"}\n' "$i" "$i"
done >"$D/vel.jsonl"
printf '{"key":"v4","debt_id":"D3","amount":"1.00","card_number":"378282246310005","at":"2026-11-24T10:04:00Z"}\n' >>"$D/vel.jsonl"
call "payments: velocity" POST /v1/payments /v1/payments 200 -H 'Content-Type: application/x-ndjson' -H "Authorization: Bearer $AGENT" --data-binary @"$D/vel.jsonl"
body_has "payments: the fourth attempt on a card in the hour is refused" '"index":3,"status":"refused","token":"tok_'
body_has "payments: refused says why" '"code":"velocity_limit","message":"too many attempts on this card within the window"'

# --- GET /v1/debts/{id}/story: what `tallyman why --json` shows -------------------------------------
S="Authorization: Bearer $AUDITOR"
call "story" GET /v1/debts/{id}/story /v1/debts/D1/story 200 -H "$S"
"$T" --db "$DB" why D1 --json >"$D/why.jsonl"
expect_run "story: the same head and entries as tallyman why --json" 0 "same" "" -- python3 -c '
import json, sys
got = json.load(open(sys.argv[1]))
want = [json.loads(l) for l in open(sys.argv[2])]
print("same" if [got["debt"]] + got["entries"] == want and len(want) > 2 else "differs: %r" % got)' "$D/body" "$D/why.jsonl"
body_has "story: the payment taken above" '"kind":"payment","amount_minor":2500'
body_lacks "story: no personal data" 'Ann'
body_lacks "story: no phone" '6175550174'
call "story: an unknown debt" GET /v1/debts/{id}/story /v1/debts/NOPE/story 404 -H "$S"
body_has "story: 404 names the id" '"field":"id"'
call "story: an id too long for any debt" GET /v1/debts/{id}/story "/v1/debts/$(head -c 300 /dev/zero | tr '\0' x)/story" 404 -H "$S"
call "story: wrong method" POST /v1/debts/{id}/story /v1/debts/D1/story 405 -H "$S"
call "story: without credentials" GET /v1/debts/{id}/story /v1/debts/D1/story 401
call "story: a dialer may not" GET /v1/debts/{id}/story /v1/debts/D1/story 403 -H "Authorization: Bearer $DIALER"

# --- POST /v1/debts/{id}/explain: what `decide --explain --json` shows ------------------------------
printf '{"id":"x1","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY","timezones":["America/New_York"]}}' >"$D/ex.json"
call "explain" POST /v1/debts/{id}/explain /v1/debts/D1/explain 200 -H "$J" -H "$S" --data-binary @"$D/ex.json"
printf '{"id":"x1","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY","timezones":["America/New_York"]},"debt":{"id":"D1"}}\n' >"$D/ex.jsonl"
expect_eq "explain: what tallyman decide --explain --json writes, the debt's id from the path" \
    "$("$T" decide --explain --json "$D/ex.jsonl" 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')" \
    "$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$D/body")"
call "explain: the body may name the same debt" POST /v1/debts/{id}/explain /v1/debts/D1/explain 200 -H "$J" -H "$S" --data-binary @"$D/ex.jsonl"
call "explain: another debt in the body" POST /v1/debts/{id}/explain /v1/debts/D2/explain 400 -H "$J" -H "$S" --data-binary @"$D/ex.jsonl"
body_has "explain: names debt.id" '"field":"debt.id"'
call "explain: an invalid request names the field" POST /v1/debts/{id}/explain /v1/debts/D1/explain 400 -H "$J" -H "$S" --data '{"id":"x","consumer":{"state":"NY"}}'
body_has "explain: the field" '"field":"channel"'
call "explain: malformed JSON" POST /v1/debts/{id}/explain /v1/debts/D1/explain 400 -H "$J" -H "$S" --data '{"id":'
body_has "explain: malformed" '"code":"malformed_json"'
call "explain: an unknown debt" POST /v1/debts/{id}/explain /v1/debts/NOPE/explain 404 -H "$J" -H "$S" --data-binary @"$D/ex.json"
call "explain: wrong content type" POST /v1/debts/{id}/explain /v1/debts/D1/explain 415 -H 'Content-Type: text/plain' -H "$S" --data-binary @"$D/ex.json"
call "explain: wrong method" GET /v1/debts/{id}/explain /v1/debts/D1/explain 405 -H "$S"
call "explain: without credentials" POST /v1/debts/{id}/explain /v1/debts/D1/explain 401 -H "$J" --data-binary @"$D/ex.json"
call "explain: an integration token may not" POST /v1/debts/{id}/explain /v1/debts/D1/explain 403 -H "$J" -H "$A" --data-binary @"$D/ex.json"

# --- GET /v1/audit: what `tallyman audit export` gives; GET /v1/audit/verify ---------------------------
AU="Authorization: Bearer $AUDITOR"
call "audit: a debt's records" GET /v1/audit "/v1/audit?debt=D1" 200 -H "$AU"
"$T" --db "$DB" audit export --debt D1 >"$D/export.jsonl"
expect_run "audit: the same records as tallyman audit export --debt" 0 "same" "" -- python3 -c '
import json, sys
got = json.load(open(sys.argv[1]))
want = [json.loads(l) for l in open(sys.argv[2])]
print("same" if got["records"] == want and got["count"] == len(want) > 0 and got["next_after"] is None else "differs")' "$D/body" "$D/export.jsonl"
body_has "audit: times in RFC 3339" '"at":"2026-11-23T15:00:00Z"'
body_lacks "audit: no card number" '4111111111111111'
body_lacks "audit: no name" 'Ann'
call "audit: by action" GET /v1/audit "/v1/audit?action=payment.declined" 200 -H "$AU"
body_has "audit: the one decline" '"count":1,'
body_has "audit: of that action" '"action":"payment.declined"'
call "audit: by actor" GET /v1/audit "/v1/audit?actor=serve:crm&action=payment.approved" 200 -H "$AU"
body_has "audit: the crm token's approved payments" '"count":2,'
call "audit: a period" GET /v1/audit "/v1/audit?from=2026-11-24&to=2026-11-24&action=payment.approved" 200 -H "$AU"
body_has "audit: the day's approved payments (the velocity test's three)" '"count":3,'
call "audit: first page" GET /v1/audit "/v1/audit?limit=2" 200 -H "$AU"
NEXT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next_after"])' "$D/body")
FIRST=$(python3 -c 'import json,sys; print([r["seq"] for r in json.load(open(sys.argv[1]))["records"]])' "$D/body")
call "audit: next page" GET /v1/audit "/v1/audit?limit=2&after=$NEXT" 200 -H "$AU"
SECOND=$(python3 -c 'import json,sys; print([r["seq"] for r in json.load(open(sys.argv[1]))["records"]])' "$D/body")
expect_eq "audit: pages follow on" "[1, 2] [3, 4]" "$FIRST $SECOND"
ALL=$("$T" --db "$DB" audit export | wc -l)
call "audit: the last page" GET /v1/audit "/v1/audit?limit=1000" 200 -H "$AU"
body_has "audit: every record, no next page" "\"count\":$ALL,\"next_after\":null}"
call "audit: a bad date" GET /v1/audit "/v1/audit?from=yesterday" 400 -H "$AU"
body_has "audit: names from" '"field":"from"'
call "audit: a bad limit" GET /v1/audit "/v1/audit?limit=0" 400 -H "$AU"
body_has "audit: names limit" '"field":"limit"'
call "audit: an unknown filter" GET /v1/audit "/v1/audit?who=me" 400 -H "$AU"
body_has "audit: names it" '"field":"who"'
call "audit: wrong method" POST /v1/audit /v1/audit 405 -H "$AU"
call "audit: without credentials" GET /v1/audit /v1/audit 401
call "audit: an agent may not" GET /v1/audit /v1/audit 403 -H "Authorization: Bearer $AGENT"
call "audit verify" GET /v1/audit/verify /v1/audit/verify 200 -H "$AU"
body_has "audit verify: intact" "\"intact\":true,\"records\":"
call "audit verify: wrong method" POST /v1/audit/verify /v1/audit/verify 405 -H "$AU"
call "audit verify: without credentials" GET /v1/audit/verify /v1/audit/verify 401
call "audit verify: an integration token may not" GET /v1/audit/verify /v1/audit/verify 403 -H "$A"
sqlite3 "$DB" "CREATE TABLE kept AS SELECT details FROM audit WHERE seq = 3; UPDATE audit SET details = '{\"key\":\"forged\"}' WHERE seq = 3"
call "audit verify: a changed record" GET /v1/audit/verify /v1/audit/verify 409 -H "$AU"
body_has "audit verify: names the record" '"code":"audit_chain_broken","message":"audit chain broken at record 3'
body_has "audit verify: broken_at" '"broken_at":3'
sqlite3 "$DB" "UPDATE audit SET details = (SELECT details FROM kept) WHERE seq = 3; DROP TABLE kept"
call "audit verify: the record put back" GET /v1/audit/verify /v1/audit/verify 200 -H "$AU"

# --- the agent queues: what `tallyman queue` shows and closes; claims ----------------------------------
TREE="$D/tree"
# The shipped tree with one journey of its own: every debt to a desk.
cp -R "$ROOT/scripts" "$TREE" && rm -rf "$TREE/strategies"/* && cat >"$TREE/strategies/desk.lua" <<'LUA'
return require("lib.journey") { id = "desk", segment = function(d) return true end, start = "agent",
  states = { agent = { enter = function(j) j:queue("hard_cases", { reason = "call them" }) end } } }
LUA
expect_run "queues: a day that hands every debt to a queue" 0 "*" "" -- "$T" --db "$DB" --scripts "$TREE" --draft run --date 2026-11-25 --quiet
AGENT2=$("$T" --db "$DB" tokens create --role agent --name desk2 | tail -n 1)
G="Authorization: Bearer $AGENT"
G2="Authorization: Bearer $AGENT2"
"$T" --db "$DB" queue hard_cases --json >"$D/queue.jsonl"
call "queue: the open items" GET /v1/queues/{name} /v1/queues/hard_cases 200 -H "$G"
FIRST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][0]["id"])' "$D/body")
SECOND=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][1]["id"])' "$D/body")
expect_run "queue: the items tallyman queue --json shows, with claim and consumer" 0 "same" "" -- python3 -c '
import json, sys
got = json.load(open(sys.argv[1]))
want = [json.loads(l) for l in open(sys.argv[2])]
strip = [{k: v for k, v in i.items() if k not in ("claim", "consumer")} for i in got["items"]]
print("same" if got["queue"] == "hard_cases" and strip == want and len(want) == 3 else "differs: %r %r" % (strip, want))' "$D/body" "$D/queue.jsonl"
body_has "queue: an agent sees the phone in clear" '"phone":"+16175550174"'
body_has "queue: and the name" '"first_name":"Ann","last_name":"Lee"'
# Each debt whose consumer was shown in clear is on the record: who, which
# debt, which fields, the route; `audit export --actor` answers "what did
# this one look at".
"$T" --db "$DB" audit export --actor desk >"$D/looked.jsonl" 2>/dev/null
expect_eq "queue: one access record per debt shown in clear" 3 \
    "$(grep '"action":"personal_data.read"' "$D/looked.jsonl" | grep -c '"route":"/v1/queues/{name}"')"
expect_run "queue: the record names the debt and the fields" 0 "*" "" -- \
    grep -q '"subject":"debt:D1".*"fields":\["first_name","last_name","phone","email"\]' "$D/looked.jsonl"
ENGQ=$("$T" --db "$DB" tokens create --role auditor --name peek | tail -n 1)
call "queue: an auditor may not work a queue" GET /v1/queues/{name} /v1/queues/hard_cases 403 -H "Authorization: Bearer $ENGQ"
call "queue: an unknown queue" GET /v1/queues/{name} /v1/queues/nope 404 -H "$G"
body_has "queue: 404 names the queue" '"field":"name"'
call "queue: wrong method" POST /v1/queues/{name} /v1/queues/hard_cases 405 -H "$G"
call "queue: without credentials" GET /v1/queues/{name} /v1/queues/hard_cases 401

call "claim: the next item" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 200 -H "$G"
body_has "claim: the oldest item" "\"id\":$FIRST,"
body_has "claim: held by the caller" '"claim":{"by":"serve:desk","until":"'
call "claim: the next for another agent is another item" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 200 -H "$G2"
body_has "claim: the second item" "\"id\":$SECOND,"
call "claim: a claimed item by name" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 409 -H "$G2" -H "$J" --data "{\"item\":$FIRST}"
body_has "claim: 409 says who holds it" "\"code\":\"claimed\",\"message\":\"item $FIRST is claimed by serve:desk until "
call "claim: one's own item again renews it" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 200 -H "$G" -H "$J" --data "{\"item\":$FIRST,\"ttl\":600}"
call "claim: the third" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 200 -H "$G" -H "$J" --data '{}'
call "claim: none left" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 404 -H "$G2"
body_has "claim: queue_empty" '"code":"queue_empty"'
call "claim: an item not in the queue" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 404 -H "$G" -H "$J" --data '{"item":999999}'
call "claim: a bad item" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 400 -H "$G" -H "$J" --data '{"item":"x"}'
body_has "claim: names item" '"field":"item"'
call "claim: a bad ttl" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 400 -H "$G" -H "$J" --data '{"ttl":5}'
call "claim: malformed" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 400 -H "$G" -H "$J" --data '{"item":'
call "claim: wrong content type" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 415 -H "$G" -H 'Content-Type: text/plain' --data '{}'
call "claim: an unknown queue" POST /v1/queues/{name}/claim /v1/queues/nope/claim 404 -H "$G"
call "claim: wrong method" GET /v1/queues/{name}/claim /v1/queues/hard_cases/claim 405 -H "$G"
call "claim: without credentials" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 401
call "claim: an integration token may not" POST /v1/queues/{name}/claim /v1/queues/hard_cases/claim 403 -H "$A"
call "queue: claims show" GET /v1/queues/{name} /v1/queues/hard_cases 200 -H "$G"
body_has "queue: the second item is desk2's" '"claim":{"by":"serve:desk2"'

C="/v1/queues/hard_cases/items/$FIRST/close"
call "close: by another than the holder" POST /v1/queues/{name}/items/{id}/close "$C" 409 -H "$G2" -H "$J" --data '{"outcome":"no answer"}'
call "close: a bad outcome" POST /v1/queues/{name}/items/{id}/close "$C" 400 -H "$G" -H "$J" --data '{"outcome":7}'
body_has "close: names outcome" '"field":"outcome"'
call "close: wrong content type" POST /v1/queues/{name}/items/{id}/close "$C" 415 -H "$G" -H 'Content-Type: text/plain' --data '{}'
call "close: by the holder" POST /v1/queues/{name}/items/{id}/close "$C" 200 -H "$G" -H "$J" --data '{"outcome":"promise taken"}'
body_has "close: closed, by whom, with the outcome" '"closed_by":"serve:desk"'
body_has "close: the outcome" '"outcome":"promise taken"'
body_has "close: status" '"status":"closed"'
body_lacks "close: no personal data in the reply" '6175550174'
expect_run "close: as tallyman queue shows it" 0 "*" "" -- sh -c "'$T' --db '$DB' queue hard_cases --all --json | grep '\"id\":$FIRST,' | grep -q '\"closed_by\":\"serve:desk\"'"
expect_run "close: audited as the command audits it" 0 "1" "" -- sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'queue.closed' AND subject = 'queue:$FIRST' AND actor = 'serve:desk'"
expect_run "claims are audited" 0 "*" "" -- sh -c "sqlite3 '$DB' \"SELECT count(*) FROM audit WHERE action = 'queue.claimed'\" | grep -qx 4"
call "close: again" POST /v1/queues/{name}/items/{id}/close "$C" 404 -H "$G" -H "$J" --data '{}'
call "close: an item of another queue" POST /v1/queues/{name}/items/{id}/close "/v1/queues/other/items/$SECOND/close" 404 -H "$G2"
call "close: not an id" POST /v1/queues/{name}/items/{id}/close "/v1/queues/hard_cases/items/x/close" 404 -H "$G2"
call "close: wrong method" GET /v1/queues/{name}/items/{id}/close "$C" 405 -H "$G"
call "close: without credentials" POST /v1/queues/{name}/items/{id}/close "$C" 401
call "close: an integration token may not" POST /v1/queues/{name}/items/{id}/close "$C" 403 -H "$A"
# No role of today's table works a queue without TM_PERM_PII_READ: the
# masked form (tm_contact_points_mask) is tested in tests/unit/test_contact.c.

stop_serve "routes"
# --- simulations as jobs: what `tallyman simulate` runs --------------------------------------------------
mkdir -p "$D/tmp"
SERVE_ENV="TMPDIR=$D/tmp" SERVE_GLOBAL="--scripts $ROOT/scripts --draft" start_serve "$D/log2" --listen 127.0.0.1:0 || exit 1
P="Authorization: Bearer $("$T" --db "$DB" tokens create --role strategy --name planner | tail -n 1)"
call "simulations: start a job" POST /v1/simulations /v1/simulations 202 -H "$J" -H "$P" --data '{"days":3,"seed":7,"date":"2026-11-23"}'
ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$D/body")
expect_run "simulations: Location names the job" 0 "*" "" -- grep -qi "^Location: /v1/simulations/$ID" "$D/headers"
i=0
while [ $i -lt 120 ]; do
    curl -s -H "$P" "http://127.0.0.1:$PORT/v1/simulations/$ID" | grep -q '"status":"running"' || break
    sleep 0.5
    i=$((i + 1))
done
call "simulation: done" GET /v1/simulations/{id} "/v1/simulations/$ID" 200 -H "$P"
body_has "simulation: done" '"status":"done"'
body_has "simulation: progress to the last day" '"progress":{"arm":"A","day":3,"days":3,"arms":1}'
"$T" --db "$DB" --scripts "$ROOT/scripts" --draft simulate --days 3 --seed 7 --date 2026-11-23 --quiet >"$D/sim.txt" 2>/dev/null
expect_eq "simulation: the summary is what tallyman simulate prints" "$(cat "$D/sim.txt")" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"], end="")' "$D/body")"
call "simulation: the report" GET /v1/simulations/{id}/report "/v1/simulations/$ID/report" 200 -H "$P"
expect_run "simulation: the report is the HTML simulate --report writes" 0 "*" "" -- grep -qi '<html' "$D/body"
expect_run "simulation: served as HTML" 0 "*" "" -- grep -qi '^Content-Type: text/html' "$D/headers"
call "simulations: days are required" POST /v1/simulations /v1/simulations 400 -H "$J" -H "$P" --data '{"seed":1}'
body_has "simulations: names days" '"field":"days"'
call "simulations: a bad date" POST /v1/simulations /v1/simulations 400 -H "$J" -H "$P" --data '{"days":2,"date":"soon"}'
body_has "simulations: names date" '"field":"date"'
call "simulations: a member it does not take" POST /v1/simulations /v1/simulations 400 -H "$J" -H "$P" --data '{"days":2,"strategy":"/etc"}'
call "simulations: malformed" POST /v1/simulations /v1/simulations 400 -H "$J" -H "$P" --data '{"days":'
call "simulations: wrong content type" POST /v1/simulations /v1/simulations 415 -H 'Content-Type: text/plain' -H "$P" --data '{}'
call "simulations: wrong method" GET /v1/simulations /v1/simulations 405 -H "$P"
call "simulations: without credentials" POST /v1/simulations /v1/simulations 401 -H "$J" --data '{"days":1}'
call "simulations: an agent may not" POST /v1/simulations /v1/simulations 403 -H "$J" -H "$G" --data '{"days":1}'
call "simulation: unknown" GET /v1/simulations/{id} /v1/simulations/0123456789abcdef0123456789abcdef 404 -H "$P"
call "simulation: wrong method" POST /v1/simulations/{id} "/v1/simulations/$ID" 405 -H "$P"
call "simulation: without credentials" GET /v1/simulations/{id} "/v1/simulations/$ID" 401
call "simulation: an agent may not" GET /v1/simulations/{id} "/v1/simulations/$ID" 403 -H "$G"
call "simulation report: unknown" GET /v1/simulations/{id}/report /v1/simulations/nope/report 404 -H "$P"
call "simulation report: wrong method" POST /v1/simulations/{id}/report "/v1/simulations/$ID/report" 405 -H "$P"
call "simulation report: without credentials" GET /v1/simulations/{id}/report "/v1/simulations/$ID/report" 401
call "simulation report: an agent may not" GET /v1/simulations/{id}/report "/v1/simulations/$ID/report" 403 -H "$G"
# Two long ones run; a third is refused until one is done; a report is
# there only once its job is.
call "simulations: a long one" POST /v1/simulations /v1/simulations 202 -H "$J" -H "$P" --data '{"days":3650,"date":"2026-11-23"}'
LONG=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$D/body")
call "simulations: a second long one" POST /v1/simulations /v1/simulations 202 -H "$J" -H "$P" --data '{"days":3650,"date":"2026-11-23"}'
call "simulations: a third while two run" POST /v1/simulations /v1/simulations 429 -H "$J" -H "$P" --data '{"days":1}'
body_has "simulations: 429 says why" '"code":"too_many_jobs"'
expect_run "simulations: 429 says when to try again" 0 "*" "" -- grep -qi '^Retry-After:' "$D/headers"
call "simulation report: not before the job is done" GET /v1/simulations/{id}/report "/v1/simulations/$LONG/report" 409 -H "$P"
call "simulation: running" GET /v1/simulations/{id} "/v1/simulations/$LONG" 200 -H "$P"
body_has "simulation: running, with its progress" '"status":"running"'
call "the service answers while simulations run" GET /healthz /healthz 200
stop_serve "simulations"
expect_run "simulations: none outlives the service" 1 "" "" -- sh -c "sleep 1; ps -eo args | grep -F -- '--db $DB' | grep -v grep | grep -F simulate"

spec_covered "every documented route of these, with every status, was checked" "$SERVE_ROUTES_ELSEWHERE" ''
finish
