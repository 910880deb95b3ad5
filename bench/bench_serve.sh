#!/bin/sh
# bench/bench_serve.sh: `tallyman serve` under wrk on loopback (prints
# figures, asserts nothing): POST /v1/decide one request at a time with
# keep-alive, at full load and at about half of it (requests/s, p50, p99,
# p99.9), and the array form (decisions/s). wrk shares the machine's cores
# with the service, as it would with a dialer on the same host.
# Environment: TM_BIN; BENCH_SECONDS (default 10).
set -u
: "${TM_BIN:?}"
if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed (tools/deps.sh installs it): skipped"
    exit 0
fi
SECS=${BENCH_SECONDS:-10}
D=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-bench-serve.XXXXXX")
PID=""
trap '[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
TOKEN=$("$TM_BIN" --db "$D/b.db" tokens create --role dialer --name bench 2>/dev/null | tail -n 1)
"$TM_BIN" --db "$D/b.db" serve --listen 127.0.0.1:0 --workers 2 --log /dev/null 2>"$D/log" &
PID=$!
i=0
PORT=""
while [ -z "$PORT" ] && [ $i -lt 100 ]; do
    sleep 0.1
    PORT=$(sed -n 's/^tallyman: serving .*(port \([0-9]*\),.*/\1/p' "$D/log")
    i=$((i + 1))
done
[ -n "$PORT" ] || { echo "the service did not start"; cat "$D/log"; exit 1; }
URL="http://127.0.0.1:$PORT/v1/decide"
REQ='{"id":"r1","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY","timezones":["America/New_York"]},"debt":{"id":"D1","type":"credit_card"},"history":[{"channel":"call","at":"2026-11-20T15:00:00Z","outcome":"attempt"}]}'

# script BODY DELAY_MS: a wrk script posting BODY, waiting DELAY_MS between
# requests on a connection (0: none), printing the figures in done().
script() {
    cat <<LUA
wrk.method = "POST"
wrk.body = [==[$1]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
local pause = $2
if pause > 0 then function delay() return pause end end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read +
              summary.errors.write + summary.errors.timeout
  io.write(string.format("  %.0f requests/s, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, %d failed\\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, bad))
  local f = io.open("$D/rate", "w"); f:write(string.format("%.0f", summary.requests / secs)); f:close()
end
LUA
}

script "$REQ" 0 >"$D/one.lua"
echo "POST /v1/decide, one request each, keep-alive, full load (wrk 1 thread, 32 connections, ${SECS} s):"
wrk -t1 -c32 -d"${SECS}s" -s "$D/one.lua" "$URL" | grep requests/s
FULL=$(cat "$D/rate")
# About half the full rate: each connection waits 1 ms between requests.
HALF=$((FULL / 2))
CONNS=$((HALF / 900))
[ "$CONNS" -lt 1 ] && CONNS=1
script "$REQ" 1 >"$D/half.lua"
echo "POST /v1/decide at about half that load ($CONNS connections, 1 ms apart, target $HALF/s):"
wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$D/half.lua" "$URL" | grep requests/s

N=1000
BODY=$(awk -v n=$N -v r="$REQ" 'BEGIN { printf "["; for (i = 0; i < n; i++) printf "%s%s", (i ? "," : ""), r; printf "]" }')
script "$BODY" 0 >"$D/array.lua"
echo "POST /v1/decide, arrays of $N requests (wrk 1 thread, 4 connections, ${SECS} s):"
wrk -t1 -c4 -d"${SECS}s" -s "$D/array.lua" "$URL" | grep requests/s
echo "  = $(($(cat "$D/rate") * N)) decisions/s"
