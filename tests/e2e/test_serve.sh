#!/bin/sh
# tests/e2e/test_serve.sh: `tallyman serve` and `tallyman tokens` over real
# HTTP and HTTPS on 127.0.0.1 (a free port chosen by the kernel): every route,
# status and error shape (checked against docs/openapi.json), tokens and roles,
# limits, TLS with a throw-away CA, graceful shutdown with a request in flight,
# serving the store's active script set (and a working tree only as a draft),
# reloading under load and moving onto each set activated or rolled back by
# the command line while requests run, without a failed request.
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

expect_run "serve: a working tree needs --draft" 2 "" "add --draft to serve the tree as a draft" -- "$T" --db "$DB" --scripts "$ROOT/scripts" serve --listen 127.0.0.1:0

start_serve "$D/log1" --listen 127.0.0.1:0 --max-body 65536 --max-headers 4096 --idle-timeout 2 || exit 1

# --- the store's active set: none yet, then one activated while the service runs -------------
expect_run "serve: started without an active set, it says so" 0 "*" "" -- grep -q 'has no active script set' "$D/log1"
call "readyz without an active set" GET /readyz /readyz 503
body_has "readyz: why" 'no active script set'
call "decide without an active set" POST /v1/decide /v1/decide 503 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary '{"channel":"call","consumer":{"state":"NY"}}'
body_has "decide: why" '"code":"no_active_set"'
ACTIVE=$(activate_set "$DB" "$ROOT/scripts")
expect_eq "the set is activated" 64 "${#ACTIVE}"
# wait_active HASH: until /readyz serves HASH (at most 5 s); prints the
# milliseconds it took.
wait_active() {
    t0=$(date +%s%N)
    i=0
    while [ $i -lt 100 ]; do
        curl -s "http://127.0.0.1:$PORT/readyz" | grep -q "\"scripts\":\"$1\"" && break
        sleep 0.05
        i=$((i + 1))
    done
    echo $((($(date +%s%N) - t0) / 1000000))
}
WAITED=$(wait_active "$ACTIVE")
expect_run "serve: takes up the set activated in another process, without a signal (${WAITED} ms)" 0 "*" "" -- test "$WAITED" -lt 5000
expect_run "serve: the activation is logged" 0 "*" "" -- grep -q "\"event\":\"activated\",\"detail\":\"$ACTIVE\"" "$D/log1"

# --- health, readiness, metrics ----------------------------------------------------------------
call "healthz without credentials" GET /healthz /healthz 200
body_has "healthz" '"status":"ok"'
call "readyz" GET /readyz /readyz 200
HASH=$(sed -n 's/.*"scripts":"\([0-9a-f]*\)".*/\1/p' "$D/body")
expect_eq "readyz: the store's active set" "$ACTIVE" "$HASH"
call "metrics without credentials" GET /metrics /metrics 401
expect_run "401 says how to authenticate" 0 "*" "" -- grep -qi '^WWW-Authenticate: Bearer' "$D/headers"
call "metrics with a dialer token" GET /metrics /metrics 403 -H "Authorization: Bearer $DIALER"
body_has "403 error shape" '{"error":{"code":"forbidden","message":'
call "metrics with an unknown token" GET /metrics /metrics 401 -H "Authorization: Bearer tm_0000"
body_has "unknown token: one message whatever was wrong" '"the credentials are not valid"'
call "metrics with an engineer token" GET /metrics /metrics 200 -H "Authorization: Bearer $ENG"
body_has "metrics: requests by route and status" 'tallyman_http_requests_total{route="/healthz",status="200"} 1'
body_has "metrics: the generation served" "tallyman_generation_info{scripts=\"$HASH\",draft=\"false\"} 1"
body_has "metrics: a set is active" "tallyman_generation_active 1"
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
call "decide an array" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/arr.json"
expect_eq "decide an array: the decisions in order, as tallyman decide" "[$(paste -sd, "$D/cli.jsonl")]" "$(cat "$D/body")"
call "an admin does not decide (least privilege)" POST /v1/decide /v1/decide 403 -H "$J" -H "Authorization: Bearer $ADMIN" --data-binary @"$D/arr.json"
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
body_has "revoked: one message whatever was wrong" 'the credentials are not valid'
expect_run "  ...the audit record says why" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export | grep '\"access.refused\"' | grep -q 'revoked token'"
call "an expired token" POST /v1/decide /v1/decide 401 -H "$J" -H "Authorization: Bearer $OLD" --data-binary @"$D/one.json"
body_has "expired: one message whatever was wrong" 'the credentials are not valid'
expect_run "  ...the audit record says why" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export | grep '\"access.refused\"' | grep -q 'expired token'"
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

# --- SIGHUP under load: a draft tree's new generation, no failed request -------------------------------------------------
cp -R "$ROOT/scripts" "$D/scripts"
"$T" --scripts "$D/scripts" --draft decide "$D/one.json" >"$D/gen1" 2>/dev/null
start_serve "$D/log4" --listen 127.0.0.1:0 --scripts "$D/scripts" --draft || exit 1
expect_run "a draft is said to be one" 0 "*" "" -- grep -q 'as a draft' "$D/log4"
call "a draft's decision says so" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json"
expect_eq "a draft's decision: as decide --draft writes it" "$(cat "$D/gen1")" "$(cat "$D/body")"
body_has "a draft's decision" '"draft":true}'
call "a draft's decisions in an array say so" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary "[$(cat "$D/one.json"),{\"channel\":1}]"
expect_eq "an array from a draft: the decision marked, the error item not" 1 \
    "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(int(a[0]["draft"] is True and "draft" not in a[1]))' "$D/body")"
call "readyz of a draft" GET /readyz /readyz 200
body_has "readyz of a draft" '"draft":true'
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
"$T" --scripts "$D/scripts" --draft decide "$D/one.json" >"$D/gen2" 2>/dev/null
call "after the reloads: the new generation answers" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json"
expect_eq "after the reloads: as tallyman decide on the changed scripts" "$(cat "$D/gen2")" "$(cat "$D/body")"
expect_run "the generation changed" 1 "*" "*" -- cmp -s "$D/gen1" "$D/gen2"
call "metrics show the new generation" GET /metrics /metrics 200 -H "Authorization: Bearer $ENG"
body_has "metrics: the new hash" "tallyman_generation_info{scripts=\"$(sed -n 's/.*"scripts":"\([0-9a-f]*\)".*/\1/p' "$D/gen2")\",draft=\"true\"} 1"
body_has "metrics: reloads counted" "tallyman_reloads_total{result=\"ok\"} $RELOADS"
# A script set that does not load leaves the one being served.
printf 'this is not lua (\n' >"$D/scripts/regulations/broken.lua"
kill -HUP "$SERVE_PID"
sleep 0.5
call "a broken reload keeps serving" POST /v1/decide /v1/decide 200 -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json"
expect_eq "a broken reload keeps the generation" "$(cat "$D/gen2")" "$(cat "$D/body")"
expect_run "a broken reload is logged" 0 "*" "" -- grep -q '"event":"reload_failed","detail":".*broken.lua:1:' "$D/log4"
stop_serve "reload"

# --- Hot swap: sets activated and rolled back by the command line under load ----------------------------------------------
# Two sets, A (active) and B (A with a federal rule text changed); while two
# loops send decide requests (keep-alive and new connections), B is
# activated and rolled back three times by `tallyman scripts`, in another
# process: the service moves onto each without a signal, no request fails,
# and the decisions after each switch carry the new set's hash.
cp -R "$ROOT/scripts" "$D/treeB"
printf '\n-- set B\n' >>"$D/treeB/regulations/federal.lua"
SETB=$("$T" --db "$DB" scripts propose "$D/treeB" 2>"$D/proposeB.err" | head -n 1)
expect_eq "hot swap: set B proposed" 64 "${#SETB}"
as_reviewer "$T" --db "$DB" scripts approve "$SETB" >/dev/null 2>&1
start_serve "$D/log6" --listen 127.0.0.1:0 || exit 1
swapload() {
    : >"$D/swap$1"
    while [ ! -e "$D/swap.stop" ]; do
        curl -s -o /dev/null -w '%{http_code}\n' -H "$J" -H "Authorization: Bearer $DIALER" \
            --data-binary @"$D/one.json" "http://127.0.0.1:$PORT/v1/decide" \
            --next -s -o /dev/null -w '%{http_code}\n' -H "$J" -H "Authorization: Bearer $DIALER" \
            --data-binary @"$D/one.json" "http://127.0.0.1:$PORT/v1/decide" >>"$D/swap$1"
    done
}
rm -f "$D/swap.stop"
swapload a &
SA=$!
swapload b &
SB=$!
# decided_with NAME HASH: a decision made now carries HASH.
decided_with() {
    curl -s -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json" \
        "http://127.0.0.1:$PORT/v1/decide" >"$D/swapdec"
    expect_eq "$1: the decision carries the new set's hash" "$2" \
        "$(sed -n 's/.*"scripts":"\([0-9a-f]*\)".*/\1/p' "$D/swapdec")"
}
r=1
SLOWEST=0
while [ $r -le 3 ]; do
    "$T" --db "$DB" scripts activate "$SETB" >/dev/null 2>"$D/act.err" || cat "$D/act.err"
    WAITED=$(wait_active "$SETB")
    expect_run "hot swap $r: B taken up (${WAITED} ms)" 0 "*" "" -- test "$WAITED" -lt 5000
    [ "$WAITED" -gt "$SLOWEST" ] && SLOWEST=$WAITED
    decided_with "hot swap $r: after activating B" "$SETB"
    "$T" --db "$DB" scripts rollback >/dev/null 2>"$D/act.err" || cat "$D/act.err"
    WAITED=$(wait_active "$ACTIVE")
    expect_run "hot swap $r: rolled back to A (${WAITED} ms)" 0 "*" "" -- test "$WAITED" -lt 5000
    [ "$WAITED" -gt "$SLOWEST" ] && SLOWEST=$WAITED
    decided_with "hot swap $r: after the rollback" "$ACTIVE"
    r=$((r + 1))
done
touch "$D/swap.stop"
wait $SA
wait $SB
SWAPN=$(cat "$D/swapa" "$D/swapb" | wc -l)
expect_eq "hot swap: no request failed ($SWAPN requests)" "$SWAPN" "$(cat "$D/swapa" "$D/swapb" | grep -c '^200$')"
expect_run "hot swap: requests ran across the switches" 0 "*" "" -- test "$SWAPN" -ge 20
echo "hot swap: 6 switches, each served within ${SLOWEST} ms at most; $SWAPN requests, $((SWAPN - $(cat "$D/swapa" "$D/swapb" | grep -c '^200$'))) not 200"
expect_eq "hot swap: each switch logged" 6 "$(grep -c '"event":"activated"' "$D/log6")"
call "metrics after the switches" GET /metrics /metrics 200 -H "Authorization: Bearer $ENG"
body_has "metrics: the active set" "tallyman_generation_info{scripts=\"$ACTIVE\",draft=\"false\"} 1"
stop_serve "hot swap"

# --- Script sets through the service: list, show, diff, approve, activate, roll back --------------------------------------
# Personal tokens act for a person with the roles they hold; each is made by
# its person alone. The lifecycle's checks are those of `tallyman scripts`.
ME=$(id -un)
REV=tm-e2e-reviewer
expect_run "tokens: --role or --user" 2 "" "--role or --user, not both" -- "$T" --db "$DB" tokens create --role admin --user "$ME" --name both
expect_run "tokens: a personal token for someone else is refused" 1 "" "is made by $REV themself" -- "$T" --db "$DB" tokens create --user "$REV" --name not-mine
"$T" --db "$D/other.db" tokens create --role dialer --name d >/dev/null 2>&1
expect_run "tokens: a personal token for one of the store's people only" 1 "" "is not one of the store's people" -- "$T" --db "$D/other.db" tokens create --user "$ME" --name mine
MYTOK=$("$T" --db "$DB" tokens create --user "$ME" --name me-personal | tail -n 1)
REVTOK=$(as_reviewer "$T" --db "$DB" tokens create --user "$REV" --name reviewer-personal | tail -n 1)
expect_eq "tokens: personal tokens made" "1 1" "$(printf '%s\n' "$MYTOK" | grep -cE '^tm_[0-9a-f]{64}$') $(printf '%s\n' "$REVTOK" | grep -cE '^tm_[0-9a-f]{64}$')"
expect_run "tokens: a personal token is listed with its person" 0 "*" "" -- sh -c "'$T' --db '$DB' tokens list | grep -q '^me-personal *person:$ME '"
# The one running the tests holds admin and strategy; the reviewer proposes
# a set changing a regulation (it needs the compliance role).
"$T" --db "$DB" users add "$ME" --role strategy >/dev/null
cp -R "$ROOT/scripts" "$D/treeC"
printf '\n-- set C\n' >>"$D/treeC/regulations/federal.lua"
SETC=$(as_reviewer "$T" --db "$DB" scripts propose "$D/treeC" 2>"$D/proposeC.err" | head -n 1)
expect_eq "scripts: set C proposed by the reviewer" 64 "${#SETC}"
C8=$(printf '%s' "$SETC" | cut -c1-8)
start_serve "$D/log7" --listen 127.0.0.1:0 || exit 1
# The daily cycle runs on the store while the service answers; /metrics
# then shows the outbox's waiting messages and the cycle's phase times
# (read off the request path, every 5 s).
call "metrics: the outbox before any cycle" GET /metrics /metrics 200 -H "Authorization: Bearer $ENG"
body_has "metrics: an empty outbox" 'tallyman_outbox_messages{status="planned"} 0'
head -n 41 "$ROOT/examples/portfolio/accounts.csv" >"$D/accounts40.csv"
"$T" --db "$DB" import accounts "$D/accounts40.csv" >/dev/null 2>&1
"$T" --db "$DB" run --date 2026-11-23 >/dev/null 2>"$D/run.err" || cat "$D/run.err"
PLANNED=$(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE status = 'planned'")
READY=$(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE status = 'ready'")
i=0
while [ $i -lt 100 ]; do
    curl -s -H "Authorization: Bearer $ENG" "http://127.0.0.1:$PORT/metrics" >"$D/m"
    grep -q '^tallyman_cycle_phase_seconds{phase="gate"}' "$D/m" && break
    sleep 0.1
    i=$((i + 1))
done
call "metrics after a cycle" GET /metrics /metrics 200 -H "Authorization: Bearer $ENG"
body_has "metrics: the outbox's planned messages" "tallyman_outbox_messages{status=\"planned\"} $PLANNED"
body_has "metrics: the outbox's ready messages" "tallyman_outbox_messages{status=\"ready\"} $READY"
for ph in events starts timers gate dispatch; do
    body_has "metrics: the cycle's $ph phase" "tallyman_cycle_phase_seconds{phase=\"$ph\"} "
done
A_ME="Authorization: Bearer $MYTOK"
A_REV="Authorization: Bearer $REVTOK"
call "scripts: list" GET /v1/scripts /v1/scripts 200 -H "Authorization: Bearer $ADMIN"
body_has "scripts: list names the active set" "\"active\":\"$ACTIVE\""
body_has "scripts: list holds C" "\"hash\":\"$SETC\",\"status\":\"proposed\""
call "scripts: list needs credentials" GET /v1/scripts /v1/scripts 401
call "scripts: list is not the dialer's" GET /v1/scripts /v1/scripts 403 -H "Authorization: Bearer $DIALER"
call "scripts: propose is not offered here" POST /v1/scripts /v1/scripts 405 -H "$A_ME" -H "$J" --data-binary '{}'
call "scripts: show" GET /v1/scripts/{gen} "/v1/scripts/$C8" 200 -H "$A_ME"
body_has "scripts: show, by a prefix" "\"hash\":\"$SETC\""
body_has "scripts: show, who proposed" "\"proposed_by\":\"$REV\""
body_has "scripts: show, what it needs" '"needs":["compliance"]'
call "scripts: show a bad name" GET /v1/scripts/{gen} /v1/scripts/zz 400 -H "$A_ME"
call "scripts: show an unknown one" GET /v1/scripts/{gen} /v1/scripts/0000000000 404 -H "$A_ME"
call "scripts: show needs credentials" GET /v1/scripts/{gen} "/v1/scripts/$C8" 401
call "scripts: show is not the dialer's" GET /v1/scripts/{gen} "/v1/scripts/$C8" 403 -H "Authorization: Bearer $DIALER"
call "scripts: diff" GET /v1/scripts/{gen}/diff "/v1/scripts/$C8/diff" 200 -H "$A_ME"
body_has "scripts: diff from its base" "\"base\":\"$ACTIVE\""
body_has "scripts: diff names the file" 'regulations/federal.lua'
call "scripts: diff against another set is not offered" GET /v1/scripts/{gen}/diff "/v1/scripts/$C8/diff?against=$ACTIVE" 400 -H "$A_ME"
call "scripts: diff of an unknown one" GET /v1/scripts/{gen}/diff /v1/scripts/0000000000/diff 404 -H "$A_ME"
call "scripts: diff needs credentials" GET /v1/scripts/{gen}/diff "/v1/scripts/$C8/diff" 401
call "scripts: diff is not the dialer's" GET /v1/scripts/{gen}/diff "/v1/scripts/$C8/diff" 403 -H "Authorization: Bearer $DIALER"
# Approving: people only, never the proposer, only with a role it needs.
call "approve: needs credentials" POST /v1/scripts/{gen}/approve "/v1/scripts/$C8/approve" 401
call "approve: not a machine's (admin) token" POST /v1/scripts/{gen}/approve "/v1/scripts/$C8/approve" 403 -H "Authorization: Bearer $ADMIN"
call "approve: not by its proposer" POST /v1/scripts/{gen}/approve "/v1/scripts/$C8/approve" 403 -H "$A_REV"
body_has "approve: the proposer is told why" "a set is approved by someone other than its proposer"
call "approve: not without the role it needs" POST /v1/scripts/{gen}/approve "/v1/scripts/$C8/approve" 403 -H "$A_ME"
body_has "approve: the missing role is named" "it still needs approval by the compliance role"
call "approve: takes POST" GET /v1/scripts/{gen}/approve "/v1/scripts/$C8/approve" 405 -H "$A_ME"
"$T" --db "$DB" users add "$ME" --role compliance >/dev/null
call "approve: a bad name" POST /v1/scripts/{gen}/approve /v1/scripts/zz/approve 400 -H "$A_ME"
call "approve: an unknown one" POST /v1/scripts/{gen}/approve /v1/scripts/0000000000/approve 404 -H "$A_ME"
call "approve: by another person holding the role (taken up at once)" POST /v1/scripts/{gen}/approve "/v1/scripts/$C8/approve" 200 -H "$A_ME"
body_has "approve: by whom" "\"approved_by\":\"$ME\""
body_has "approve: binds to the generation's hash" "\"hash\":\"$SETC\",\"status\":\"approved\""
call "approve: once only" POST /v1/scripts/{gen}/approve "/v1/scripts/$C8/approve" 409 -H "$A_ME"
expect_eq "approve: the audit names the person" "$ME" \
    "$(sqlite3 "$DB" "SELECT actor FROM audit WHERE action = 'scripts.approved' AND subject = 'scripts:$SETC'")"
expect_eq "approve: the proposer's refusal is audited" 1 \
    "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'scripts.refused' AND actor = '$REV' AND subject = 'scripts:$SETC'")"
# Activating and rolling back: people with a role that switches sets.
call "activate: needs credentials" POST /v1/scripts/{gen}/activate "/v1/scripts/$C8/activate" 401
call "activate: not the dialer's" POST /v1/scripts/{gen}/activate "/v1/scripts/$C8/activate" 403 -H "Authorization: Bearer $DIALER"
call "activate: not a machine's" POST /v1/scripts/{gen}/activate "/v1/scripts/$C8/activate" 403 -H "Authorization: Bearer $ADMIN"
body_has "activate: a person is asked for" "takes a person"
call "activate: a bad name" POST /v1/scripts/{gen}/activate /v1/scripts/zz/activate 400 -H "$A_ME"
call "activate: an unknown one" POST /v1/scripts/{gen}/activate /v1/scripts/0000000000/activate 404 -H "$A_ME"
call "activate" POST /v1/scripts/{gen}/activate "/v1/scripts/$C8/activate" 200 -H "$A_ME"
body_has "activate: now active" "\"active\":\"$SETC\""
body_has "activate: what was" "\"was\":\"$ACTIVE\""
WAITED=$(wait_active "$SETC")
expect_run "activate: the service moves onto it (${WAITED} ms)" 0 "*" "" -- test "$WAITED" -lt 5000
curl -s -H "$J" -H "Authorization: Bearer $DIALER" --data-binary @"$D/one.json" "http://127.0.0.1:$PORT/v1/decide" >"$D/cdec"
expect_eq "activate: decisions carry C's hash" "$SETC" "$(sed -n 's/.*"scripts":"\([0-9a-f]*\)".*/\1/p' "$D/cdec")"
call "activate: active already" POST /v1/scripts/{gen}/activate "/v1/scripts/$C8/activate" 409 -H "$A_ME"
call "rollback: needs credentials" POST /v1/scripts/rollback /v1/scripts/rollback 401
call "rollback: not the dialer's" POST /v1/scripts/rollback /v1/scripts/rollback 403 -H "Authorization: Bearer $DIALER"
call "rollback" POST /v1/scripts/rollback /v1/scripts/rollback 200 -H "$A_ME"
body_has "rollback: back to A" "\"active\":\"$ACTIVE\""
WAITED=$(wait_active "$ACTIVE")
expect_run "rollback: the service moves back (${WAITED} ms)" 0 "*" "" -- test "$WAITED" -lt 5000
n=0
while [ $n -lt 20 ]; do
    code=$(curl -s -o "$D/body" -w '%{http_code}' -X POST -H "$A_ME" "http://127.0.0.1:$PORT/v1/scripts/rollback")
    [ "$code" = 200 ] || break
    n=$((n + 1))
done
call "rollback: nothing further back" POST /v1/scripts/rollback /v1/scripts/rollback 409 -H "$A_ME"
body_has "rollback: why" "no earlier active set"
expect_run "scripts: the audit chain holds" 0 "*" "" -- "$T" --db "$DB" audit verify
stop_serve "scripts"

# Every route and method the OpenAPI file describes was called above, and
# every status documented for it (but 413 and 503, which are provoked apart);
# the routes of test_serve_routes.sh are checked there, login and logout
# (and the rate limit's 429) by test_login.sh and test_rate_limit.sh.
spec_covered "every documented route, method and status was checked" '' "$SERVE_ROUTES_ELSEWHERE|^/v1/log(in|out)$"

finish
