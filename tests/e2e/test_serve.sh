#!/bin/sh
# tests/e2e/test_serve.sh: `tallyman serve` and `tallyman tokens` over real
# HTTP and HTTPS on 127.0.0.1 (a free port chosen by the kernel): every route,
# status and error shape (checked against docs/openapi.json), tokens and roles,
# limits, TLS with a throw-away CA, graceful shutdown with a request in flight,
# and reloading the scripts under load without a failed request.
. "$(dirname "$0")/serve_lib.sh"

# --- tokens ------------------------------------------------------------------------
expect_run "tokens: a role is required" 2 "" "create needs --role and --name" -- "$T" --db "$DB" tokens create --name x
expect_run "tokens: unknown role" 2 "" "unknown role 'boss'" -- "$T" --db "$DB" tokens create --role boss --name x
"$T" --db "$DB" tokens create --role dialer --name dialer1 >"$D/t1" 2>/dev/null
DIALER=$(tail -n 1 "$D/t1")
expect_eq "tokens: the token is alone on the last line (256 bits, hex)" 1 \
    "$(printf '%s\n' "$DIALER" | grep -cE '^tm_[0-9a-f]{64}$')"
INTEG=$("$T" --db "$DB" tokens create --role integration --name crm | tail -n 1)
ENG=$("$T" --db "$DB" tokens create --role engineer --name ops | tail -n 1)
ADMIN=$("$T" --db "$DB" tokens create --role admin --name root | tail -n 1)
DIALER2=$("$T" --db "$DB" tokens create --role dialer --name dialer2 | tail -n 1)
OLD=$("$T" --db "$DB" tokens create --role dialer --name old --expires 1d --now 2020-01-01T00:00:00Z | tail -n 1)
expect_run "tokens: a name is not reused" 1 "" "a token named 'dialer1' exists already" -- "$T" --db "$DB" tokens create --role dialer --name dialer1
expect_run "tokens: only the hash is stored" 0 "0" "" -- sqlite3 "$DB" "SELECT count(*) FROM api_tokens WHERE hash = '${DIALER#tm_}' OR hash = '$DIALER'"
expect_run "tokens: list" 0 "*" "" -- sh -c "'$T' --db '$DB' tokens list | grep -c '^dialer1 *dialer ' | grep -qx 1"
expect_run "tokens: revoking an unknown name" 1 "" "no token named 'nope'" -- "$T" --db "$DB" tokens revoke nope
expect_run "tokens: made and revoked are audited" 0 "*" "" -- "$T" --db "$DB" audit verify

# --- plain HTTP on loopback only -----------------------------------------------------------
expect_run "serve: plain HTTP refused on a non-loopback address" 2 "" "is not a loopback address" -- "$T" --db "$DB" serve --listen 0.0.0.0:0
expect_run "serve: --listen is required" 2 "" "--listen ADDR:PORT is required" -- "$T" --db "$DB" serve
expect_run "serve: a bad address" 2 "" "--listen: ADDR:PORT" -- "$T" --db "$DB" serve --listen nowhere
expect_run "serve: a missing store" 1 "" "no such store" -- "$T" --db "$D/none.db" serve --listen 127.0.0.1:0

start_serve "$D/log1" --listen 127.0.0.1:0 --max-body 65536 --max-headers 4096 --idle-timeout 2 || exit 1

# --- health, readiness, metrics ----------------------------------------------------------------
call "healthz without credentials" GET /healthz /healthz 200
body_has "healthz" '"status":"ok"'
call "readyz" GET /readyz /readyz 200
HASH=$(sed -n 's/.*"scripts":"\([0-9a-f]*\)".*/\1/p' "$D/body")
call "metrics without credentials" GET /metrics /metrics 401
expect_run "401 says how to authenticate" 0 "*" "" -- grep -qi '^WWW-Authenticate: Bearer' "$D/headers"
call "metrics with a dialer token" GET /metrics /metrics 403 -H "Authorization: Bearer $DIALER"
body_has "403 error shape" '{"error":{"code":"forbidden","message":'
call "metrics with an unknown token" GET /metrics /metrics 401 -H "Authorization: Bearer tm_0000"
body_has "unknown token" '"unknown token"'
call "metrics with an engineer token" GET /metrics /metrics 200 -H "Authorization: Bearer $ENG"
body_has "metrics: requests by route and status" 'tallyman_http_requests_total{route="/healthz",status="200"} 1'
body_has "metrics: the generation served" "tallyman_generation_info{scripts=\"$HASH\"} 1"
body_has "metrics: latency histogram" 'tallyman_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 1'
call "metrics for an admin" GET /metrics /metrics 200 -H "Authorization: Bearer $ADMIN"

# --- decide: what `tallyman decide` answers, byte for byte -------------------------------------
cat >"$D/req.jsonl" <<'JSON'
{"id":"ok","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY","timezones":["America/New_York"]},"debt":{"id":"D1"}}
{"id":"early","now":"2026-11-23T12:59:59Z","channel":"call","consumer":{"state":"NY","timezones":["America/New_York"]}}
{"id":"cease","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY","flags":["cease"]}}
{"id":7,"now":"2026-11-23T15:00:00Z","channel":"email","consumer":{"state":"MA","timezones":["America/New_York"],"consent":{"email":true}},"message":{"optout_notice":false}}
JSON
"$T" decide "$D/req.jsonl" >"$D/cli.jsonl" 2>/dev/null
n=0
while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" >"$D/one.json"
    call "decide request $n" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json"
    expect_eq "decide request $n: the same bytes as tallyman decide" "$(sed -n "${n}p" "$D/cli.jsonl")" "$(cat "$D/body")"
done <"$D/req.jsonl"
{ printf '['; paste -sd, "$D/req.jsonl" | tr -d '\n'; printf ']'; } >"$D/arr.json"
call "decide an array" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $ADMIN" --data-binary @"$D/arr.json"
expect_eq "decide an array: the decisions in order, as tallyman decide" "[$(paste -sd, "$D/cli.jsonl")]" "$(cat "$D/body")"
printf '[{"id":"a","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY"}},{"id":"b","channel":"call","consumer":{"state":"ZZ"}},3]' >"$D/mixed.json"
call "decide an array with bad items" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/mixed.json"
body_has "a bad item names its index, id and field" '{"index":1,"id":"b","error":{"code":"invalid_request","message":"consumer.state: '
body_has "an item that is not an object" '{"index":2,"id":null,"error":{"code":"invalid_request"'
call "decide an empty array" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data '[]'
expect_eq "an empty array gives an empty array" "[]" "$(cat "$D/body")"

# --- decide: errors ----------------------------------------------------------------------------------
call "malformed JSON" POST /v1/decide /v1/decide 400 -H "$J" -H "Authorization: Bearer $DIALER" --data '{"id":"x", "channel": }'
body_has "malformed JSON names the offset" '"code":"malformed_json","message":"malformed JSON at offset 23 (line 1, column 23)'
call "a member twice" POST /v1/decide /v1/decide 400 -H "$J" -H "Authorization: Bearer $DIALER" --data '{"id":"x","id":"y","channel":"call","consumer":{"state":"NY"}}'
body_has "a member twice is refused" "duplicate object key near '\\\"id\\\"'"
call "invalid request names the field" POST /v1/decide /v1/decide 400 -H "$J" -H "Authorization: Bearer $DIALER" --data '{"id":"x","consumer":{"state":"NY"}}'
body_has "the field" '"field":"channel"'
call "not an object" POST /v1/decide /v1/decide 400 -H "$J" -H "Authorization: Bearer $DIALER" --data '"hello"'
call "wrong content type" POST /v1/decide /v1/decide 415 -H 'Content-Type: text/plain' -H "Authorization: Bearer $DIALER" --data '{}'
body_has "415 names the header" '"field":"Content-Type"'
call "no content type" POST /v1/decide /v1/decide 415 -H "Authorization: Bearer $DIALER" -H 'Content-Type:' --data '{}'
call "wrong method" GET /v1/decide /v1/decide 405 -H "Authorization: Bearer $DIALER"
expect_run "405 says Allow: POST" 0 "*" "" -- grep -qi '^Allow: POST' "$D/headers"
call "decide without credentials" POST /v1/decide /v1/decide 401 -H "$J" --data '{}'
call "decide with a revoked-later token" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER2" --data-binary @"$D/one.json"
"$T" --db "$DB" tokens revoke dialer2 >/dev/null
call "a revoked token is refused at once" POST /v1/decide /v1/decide 401 -H "$J" -H "Authorization: Bearer $DIALER2" --data-binary @"$D/one.json"
body_has "revoked" 'the token was revoked'
call "an expired token" POST /v1/decide /v1/decide 401 -H "$J" -H "Authorization: Bearer $OLD" --data-binary @"$D/one.json"
body_has "expired" 'the token has expired'
call "decide with an integration token" POST /v1/decide /v1/decide 403 -H "$J" -H "Authorization: Bearer $INTEG" --data-binary @"$D/one.json"
expect_run "a used token's last use is kept" 0 "*" "" -- sh -c "'$T' --db '$DB' tokens list | grep '^dialer1 ' | grep -q ' 20[0-9][0-9]-.* 20[0-9][0-9]-'"

# --- unknown routes, oversize and slow requests ----------------------------------------------------------
code=$(curl -s -o "$D/body" -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
expect_eq "unknown route: 404" 404 "$code"
body_has "404 error shape" '{"error":{"code":"not_found","message":"no such route","field":null}}'
head -c 70000 /dev/zero | tr '\0' ' ' >"$D/big.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/big.json" "http://127.0.0.1:$PORT/v1/decide")
expect_eq "a body over --max-body: 413" 413 "$code"
long=$(head -c 6000 /dev/zero | tr '\0' 'a')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Long: $long" "http://127.0.0.1:$PORT/healthz")
case "$code" in 400 | 413 | 431) expect_eq "headers over --max-headers refused" 1 1 ;; *) expect_eq "headers over --max-headers refused" "400, 413 or 431" "$code" ;; esac
# A client that never finishes its request is cut off after --idle-timeout,
# and the others are answered meanwhile.
python3 - "$PORT" >"$D/slow" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
t = time.time()
s.settimeout(20)
try:
    while s.recv(4096):
        pass
except socket.timeout:
    print("still open after 20 s")
    sys.exit(1)
print("closed after %d s" % round(time.time() - t))
PY
SLOW=$!
call "others are answered while a client is slow" GET /healthz /healthz 200
wait $SLOW
expect_eq "a slow client is cut off by the idle timeout" 0 "$?"
expect_run "the slow client was closed within the timeout" 0 "*" "" -- grep -qE '^closed after [0-4] s' "$D/slow"
call "still up after all of that" GET /readyz /readyz 200

# --- record: true keeps the decision where the cycle reads it ----------------------------------------------
printf '{"id":"rec","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY"},"debt":{"id":"D1"},"record":true}' >"$D/rec.json"
call "decide with record" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/rec.json"
expect_eq "decide with record: the same decision as tallyman decide" "$("$T" decide "$D/rec.json" 2>/dev/null)" "$(cat "$D/body")"
expect_run "the decision is in the decision log" 0 "1" "" -- sqlite3 "$DB" "SELECT count(*) FROM gate_decisions"
expect_run "and the audit chain holds" 0 "*" "" -- "$T" --db "$DB" audit verify

# --- accounts, events, debts ------------------------------------------------------------------------------
cat >"$D/acc.json" <<'JSON'
[{"external_id":"C1","debt_id":"D1","first_name":"Zelda","last_name":"Quintero","phone":"+16175550101","state":"MA","balance":"1234.56","currency":"USD","debt_type":"credit_card"},
 {"external_id":"C2","debt_id":"D2","state":"ZZ","balance":"10.00","currency":"USD"}]
JSON
call "accounts: dialer may not" POST /v1/accounts /v1/accounts 403 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/acc.json"
call "accounts: import" POST /v1/accounts /v1/accounts 200 -H "$J" -H "Authorization: Bearer $INTEG" --data-binary @"$D/acc.json"
body_has "accounts: one accepted, one rejected naming its field" '"results":[{"index":0,"status":"accepted"},{"index":1,"status":"rejected","error":{"code":"invalid_item","message":"state: '
call "accounts: again, as JSON lines" POST /v1/accounts /v1/accounts 200 -H 'Content-Type: application/x-ndjson' -H "Authorization: Bearer $INTEG" --data-binary "$(sed -n 1p "$D/acc.json" | sed 's/^\[//; s/,$//')"
body_has "accounts: importing again changes nothing" '"unchanged":1'
cat >"$D/ev.jsonl" <<'JSON'
{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"34.56"}
{"key":"e2","type":"payment","debt_id":"NOPE","at":"2026-11-20T10:00:00Z","amount":"1.00"}
JSON
call "events: JSON lines" POST /v1/events /v1/events 200 -H 'Content-Type: application/x-ndjson' -H "Authorization: Bearer $INTEG" --data-binary @"$D/ev.jsonl"
body_has "events: applied and rejected, per item" '"results":[{"index":0,"status":"applied"},{"index":1,"status":"rejected","error":{"code":"invalid_item","message":"debt_id: unknown debt'
{ printf '['; paste -sd, "$D/ev.jsonl" | tr -d '\n'; printf ']'; } >"$D/ev.json"
call "events: the same as an array" POST /v1/events /v1/events 200 -H "$J" -H "Authorization: Bearer $INTEG" --data-binary @"$D/ev.json"
body_has "events: sent again, a duplicate" '{"index":0,"status":"duplicate"}'
call "events: malformed" POST /v1/events /v1/events 400 -H "$J" -H "Authorization: Bearer $INTEG" --data '[{"key":'
call "events: empty" POST /v1/events /v1/events 400 -H "$J" -H "Authorization: Bearer $INTEG" --data ''
call "debt" GET "/v1/debts/{id}" /v1/debts/D1 200 -H "Authorization: Bearer $INTEG"
body_has "debt: the balance after the payment" '"balance":120000'
call "unknown debt" GET "/v1/debts/{id}" /v1/debts/NOPE 404 -H "Authorization: Bearer $INTEG"
call "debt: dialer may not" GET "/v1/debts/{id}" /v1/debts/D1 403 -H "Authorization: Bearer $DIALER"
call "debt: wrong method" POST "/v1/debts/{id}" /v1/debts/D1 405 -H "Authorization: Bearer $INTEG"
call "metrics: wrong method" POST /metrics /metrics 405 -H "Authorization: Bearer $ENG"
for route in /v1/events /v1/accounts; do
    call "$route without credentials" POST $route $route 401 -H "$J" --data '[]'
    call "$route for a dialer" POST $route $route 403 -H "$J" -H "Authorization: Bearer $DIALER" --data '[]'
    call "$route: wrong method" GET $route $route 405 -H "Authorization: Bearer $INTEG"
    call "$route: wrong content type" POST $route $route 415 -H 'Content-Type: text/csv' -H "Authorization: Bearer $INTEG" --data 'a,b'
    call "$route: malformed" POST $route $route 400 -H "$J" -H "Authorization: Bearer $INTEG" --data '[{'
done
call "debt without credentials" GET "/v1/debts/{id}" /v1/debts/D1 401
expect_run "the store's chain holds after the service's writes" 0 "*" "" -- "$T" --db "$DB" audit verify

# --- the request log ----------------------------------------------------------------------------------------------
stop_serve "plain"
expect_run "one JSON log line per request, with route, status, latency, token" 0 "*" "" -- \
    grep -q '"method":"POST","route":"/v1/decide","status":200,"latency_ms":[0-9.]*,"bytes":[0-9]*,"token":"dialer1"}' "$D/log1"
expect_run "the log has no personal data" 1 "" "" -- grep -E 'Zelda|Quintero|6175550101|/v1/debts/D1' "$D/log1"
expect_run "every log line is JSON" 0 "*" "" -- python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]" "$D/log1"

# --- the connection cap: a flood waits in the kernel's queue ------------------------------------------------------------
start_serve "$D/log5" --listen 127.0.0.1:0 --workers 1 --max-connections 1 || exit 1
rm -f "$D/held"
python3 - "$PORT" "$D/held" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(4096)
open(sys.argv[2], "w").write("held\n")
time.sleep(3)
s.close()
PY
HELD=$!
i=0
while [ ! -f "$D/held" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
# (It waits in the kernel's queue, or, accepted before the worker stopped
# accepting, is answered 503 and closed.)
code=$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
case "$code" in 000 | 503) code=refused ;; esac
expect_eq "cap: a connection over --max-connections is not served meanwhile" refused "$code"
wait $HELD
call "cap: served once the held connection is closed" GET /healthz /healthz 200 -m 10
stop_serve "cap"

# --- TLS with a throw-away CA ------------------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/ca.key" -out "$D/ca.pem" -days 2 -subj "/CN=tallyman test CA" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$D/srv.key" -out "$D/srv.csr" -subj "/CN=127.0.0.1" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$D/san.ext"
openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial -out "$D/srv.pem" -days 2 -extfile "$D/san.ext" >/dev/null 2>&1
expect_run "serve: a certificate that is not PEM" 1 "" "not a usable certificate" -- "$T" --db "$DB" serve --listen 127.0.0.1:0 --tls-cert "$D/san.ext" --tls-key "$D/srv.key"
expect_run "serve: TLS files go together" 2 "" "go together" -- "$T" --db "$DB" serve --listen 127.0.0.1:0 --tls-cert "$D/srv.pem"
start_serve "$D/log2" --listen 127.0.0.1:0 --tls-cert "$D/srv.pem" --tls-key "$D/srv.key" || exit 1
BASE="https://127.0.0.1:$PORT"
call "TLS: healthz" GET /healthz /healthz 200 --cacert "$D/ca.pem"
call "TLS: decide" POST /v1/decide /v1/decide 200 --cacert "$D/ca.pem" -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json"
expect_eq "TLS: the same bytes as tallyman decide" "$(tail -n 1 "$D/cli.jsonl")" "$(cat "$D/body")"
expect_run "TLS: 1.3 is offered first" 0 "*" "" -- sh -c "curl -s -v --cacert '$D/ca.pem' '$BASE/healthz' 2>&1 | grep -q 'TLSv1.3'"
expect_run "TLS: a client that does not trust the certificate fails" 60 "*" "*" -- curl -s -o /dev/null "$BASE/healthz"
expect_run "TLS: 1.1 is refused" 1 "*" "*" -- sh -c "echo | openssl s_client -connect 127.0.0.1:$PORT -tls1_1 >/dev/null 2>&1 && exit 0 || exit 1"
expect_run "TLS: plain HTTP to the TLS port gets no answer" 0 "*" "*" -- sh -c "! curl -s -m 5 -o /dev/null 'http://127.0.0.1:$PORT/healthz'"
expect_run "TLS: a client sending garbage is closed" 0 "*" "" -- python3 -c "
import socket,sys
s=socket.create_connection(('127.0.0.1',$PORT)); s.settimeout(10)
s.sendall(b'\x16\x03\x01\x00\x05garbagegarbage'*10)
try:
    while s.recv(4096): pass
except socket.timeout: sys.exit(1)
"
call "TLS: the others are unaffected" GET /healthz /healthz 200 --cacert "$D/ca.pem"
# SIGHUP re-reads the TLS files: a new certificate from the same CA is served.
openssl req -newkey rsa:2048 -nodes -keyout "$D/srv2.key" -out "$D/srv2.csr" -subj "/CN=127.0.0.1 second" >/dev/null 2>&1
openssl x509 -req -in "$D/srv2.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial -out "$D/srv2.pem" -days 2 -extfile "$D/san.ext" >/dev/null 2>&1
cp "$D/srv2.pem" "$D/srv.pem"
cp "$D/srv2.key" "$D/srv.key"
kill -HUP "$SERVE_PID"
sleep 0.5
expect_run "TLS: SIGHUP re-reads the certificate" 0 "*" "" -- sh -c "curl -s -v --cacert '$D/ca.pem' '$BASE/healthz' 2>&1 | grep -q 'CN=127.0.0.1 second'"
stop_serve "TLS"
BASE=""

# --- graceful shutdown with a request in flight ------------------------------------------------------------------------
# The service stops itself inside the decide handler (TM_STOP_AT); SIGTERM
# comes while it is there; once let go, the reply is written whole and the
# service ends with exit 0.
SERVE_ENV=TM_STOP_AT=serve.decide
start_serve "$D/log3" --listen 127.0.0.1:0 || exit 1
SERVE_ENV=
curl -s -o "$D/inflight" -w '%{http_code}' -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json" "http://127.0.0.1:$PORT/v1/decide" >"$D/inflight.code" &
CURL=$!
i=0
while [ "$(awk '{print $3}' "/proc/$SERVE_PID/stat" 2>/dev/null)" != "T" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "shutdown: the request is in the handler" T "$(awk '{print $3}' "/proc/$SERVE_PID/stat")"
kill -TERM "$SERVE_PID"
kill -CONT "$SERVE_PID"
wait $CURL
expect_eq "shutdown: the request in flight is answered" 200 "$(cat "$D/inflight.code")"
expect_eq "shutdown: with the whole decision" "$(tail -n 1 "$D/cli.jsonl")" "$(cat "$D/inflight")"
stop_serve "in flight"
expect_run "shutdown: said in the log" 0 "*" "" -- grep -q '"event":"stopped"' "$D/log3"

# --- SIGHUP under load: a new generation, no failed request ---------------------------------------------------------------
cp -R "$ROOT/scripts" "$D/scripts"
"$T" --scripts "$D/scripts" decide "$D/one.json" >"$D/gen1" 2>/dev/null
start_serve "$D/log4" --listen 127.0.0.1:0 --scripts "$D/scripts" || exit 1
# Requests on keep-alive connections and new ones, in two loops.
load() {
    : >"$D/codes$1"
    k=0
    while [ $k -lt 150 ]; do
        curl -s -o /dev/null -w '%{http_code}\n' -H "$J" -H "Authorization: Bearer $DIALER" \
            --data-binary @"$D/one.json" "http://127.0.0.1:$PORT/v1/decide" \
            --next -s -o /dev/null -w '%{http_code}\n' -H "$J" -H "Authorization: Bearer $DIALER" \
            --data-binary @"$D/one.json" "http://127.0.0.1:$PORT/v1/decide" >>"$D/codes$1"
        k=$((k + 1))
    done
}
load a &
LA=$!
load b &
LB=$!
h=0
while [ $h -lt 15 ]; do
    printf '\n-- change %d\n' "$h" >>"$D/scripts/regulations/federal.lua"
    kill -HUP "$SERVE_PID"
    sleep 0.2
    h=$((h + 1))
done
wait $LA
wait $LB
expect_eq "reload under load: every request answered 200" "300 300" \
    "$(grep -c '^200$' "$D/codes"a) $(grep -c '^200$' "$D/codes"b)"
# Signals sent while a reload is under way are merged into one (the last
# reads the tree as it ends), so there are at least two and at most 15.
RELOADS=$(grep -c '"event":"reloaded"' "$D/log4")
expect_run "reload under load: the generations were loaded" 0 "*" "" -- test "$RELOADS" -ge 2 -a "$RELOADS" -le 15
"$T" --scripts "$D/scripts" decide "$D/one.json" >"$D/gen2" 2>/dev/null
call "after the reloads: the new generation answers" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json"
expect_eq "after the reloads: as tallyman decide on the changed scripts" "$(cat "$D/gen2")" "$(cat "$D/body")"
expect_run "the generation changed" 1 "*" "*" -- cmp -s "$D/gen1" "$D/gen2"
call "metrics show the new generation" GET /metrics /metrics 200 -H "Authorization: Bearer $ENG"
body_has "metrics: the new hash" "tallyman_generation_info{scripts=\"$(sed -n 's/.*"scripts":"\([0-9a-f]*\)".*/\1/p' "$D/gen2")\"} 1"
body_has "metrics: reloads counted" "tallyman_reloads_total{result=\"ok\"} $RELOADS"
# A script set that does not load leaves the one being served.
printf 'this is not lua (\n' >"$D/scripts/regulations/broken.lua"
kill -HUP "$SERVE_PID"
sleep 0.5
call "a broken reload keeps serving" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json"
expect_eq "a broken reload keeps the generation" "$(cat "$D/gen2")" "$(cat "$D/body")"
expect_run "a broken reload is logged" 0 "*" "" -- grep -q '"event":"reload_failed","detail":".*broken.lua:1:' "$D/log4"
stop_serve "reload"

# Every route and method the OpenAPI file describes was called above, and
# every status documented for it (but 413 and 503, which are provoked apart);
# the routes of test_serve_routes.sh are checked there.
spec_covered "every documented route, method and status was checked" '' "$SERVE_ROUTES_ELSEWHERE"

finish
