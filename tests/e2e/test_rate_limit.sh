#!/bin/sh
# tests/e2e/test_rate_limit.sh: the service's rate limit, a token bucket per
# token (or person): `serve --rate-limit N/s` lets each caller make N
# requests at once and N a second after; beyond, 429 with Retry-After and
# nothing done. A token made with its own --rate-limit has that instead;
# one caller at its limit does not slow another.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/r.db"
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null; rm -rf "$E2E_TMP"' EXIT

expect_run "a rate is N/s" 2 "" "--rate-limit: requests a second" -- "$T" --db "$DB" serve --listen 127.0.0.1:0 --rate-limit 5
expect_run "tokens: a rate is N/s" 2 "" "--rate-limit: requests a second" -- "$T" --db "$DB" tokens create --role engineer --name x --rate-limit 0/s
A=$("$T" --db "$DB" tokens create --role engineer --name a 2>/dev/null | tail -n 1)
B=$("$T" --db "$DB" tokens create --role engineer --name b | tail -n 1)
C=$("$T" --db "$DB" tokens create --role engineer --name c --rate-limit 1/s | tail -n 1)
expect_run "the token's own limit is audited" 0 "*" "" -- sh -c "'$T' --db '$DB' audit export | grep '\"token.created\"' | grep -q '\"rate_limit\":1'"
"$T" --db "$DB" serve --workers 2 --listen 127.0.0.1:0 --rate-limit 2/s 2>"$D/serve.log" &
SERVE_PID=$!
i=0
while [ $i -lt 300 ]; do
    PORT=$(sed -n 's/^tallyman: serving .*(port \([0-9]*\),.*/\1/p' "$D/serve.log" | head -n 1)
    [ -n "$PORT" ] && break
    sleep 0.1
    i=$((i + 1))
done
[ -n "$PORT" ] || { echo "FAIL the service did not start"; cat "$D/serve.log"; exit 1; }
U="http://127.0.0.1:$PORT/metrics"
# burst TOKEN N: N requests in one go, on one connection; prints their
# statuses on one line. The headers of all go to $D/headers, the last body
# to $D/body.
burst() {
    n=$2 args=""
    while [ "$n" -gt 1 ]; do args="$args -o /dev/null $U"; n=$((n - 1)); done
    # shellcheck disable=SC2086 # the pairs of -o and URL
    curl -s -D "$D/headers" -w '%{http_code} ' -H "Authorization: Bearer $1" $args -o "$D/body" "$U" |
        sed 's/ $//'
}
expect_eq "2/s: two at once pass, the third is 429" "200 200 429" "$(burst "$A" 3)"
expect_eq "  ...with Retry-After" 1 "$(grep -c '^Retry-After: 1' "$D/headers")"
expect_eq "  ...and a JSON error" 1 "$(grep -c '"code":"rate_limited"' "$D/body")"
expect_eq "another token is not slowed" "200 200" "$(burst "$B" 2)"
expect_eq "a token's own limit (1/s)" "200 429" "$(burst "$C" 2)"
sleep 1.5
expect_eq "a second later the bucket has refilled" "200 200" "$(burst "$A" 2)"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; SERVE_PID=""
finish
