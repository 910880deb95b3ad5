#!/bin/sh
# bench/bench_serve.sh: `tallyman serve` under wrk on loopback (prints
# figures, asserts nothing): POST /v1/decide one request at a time with
# keep-alive, at full load and at about half of it (requests/s, p50, p99,
# p99.9), and the array form (decisions/s); then a run during which a
# script set is activated (and rolled back) every second by `tallyman
# scripts`, counting the requests that failed (the target is none). wrk
# shares the machine's cores with the service, as it would with a dialer on
# the same host. wrk2 (a fixed request rate) is not in Debian: the half-load
# run is wrk with a Lua script that makes each connection wait 1 ms between
# requests, with as many connections as give about half the full rate.
# Environment: TM_BIN; BENCH_SECONDS (default 10); SWAP_SECONDS, the length
# of the activation run (default 60; 0 skips it).
set -u
: "${TM_BIN:?}"
if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed (tools/deps.sh installs it): skipped"
    exit 0
fi
SECS=${BENCH_SECONDS:-10}
SWAP_SECS=${SWAP_SECONDS:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-bench-serve.XXXXXX")
PID=""
trap '[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
TOKEN=$("$TM_BIN" --db "$D/b.db" tokens create --role dialer --name bench 2>/dev/null | tail -n 1)
ENG=$("$TM_BIN" --db "$D/b.db" tokens create --role engineer --name bench-ops 2>/dev/null | tail -n 1)
# start ARGS...: the service on a free port (PID, PORT, URL).
start() {
    "$TM_BIN" --db "$D/b.db" "$@" serve --listen 127.0.0.1:0 --workers 2 --log /dev/null \
        2>"$D/log" &
    PID=$!
    i=0
    PORT=""
    while [ -z "$PORT" ] && [ $i -lt 300 ]; do
        sleep 0.1
        PORT=$(sed -n 's/^tallyman: serving .*(port \([0-9]*\),.*/\1/p' "$D/log")
        i=$((i + 1))
    done
    [ -n "$PORT" ] || { echo "the service did not start"; cat "$D/log"; exit 1; }
    URL="http://127.0.0.1:$PORT/v1/decide"
}
# The shipped tree, served as a draft: what is measured is the service.
start --scripts "$ROOT/scripts" --draft
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

# --- A set activated every second ---------------------------------------------------------
# Two approved sets, A and B (A with one rule text changed); while wrk runs,
# B is activated and rolled back in turn, one switch a second, by the
# command line in another process: the service follows the store's active
# set. Approving takes a second person: a system user made for it (root only).
[ "$SWAP_SECS" -gt 0 ] || exit 0
kill -TERM "$PID" 2>/dev/null
wait "$PID" 2>/dev/null
PID=""
REV=tm-e2e-reviewer
if [ "$(id -u)" != 0 ] || ! { id "$REV" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$REV" >/dev/null 2>&1; }; then
    echo "activation run: skipped (approving takes a second person: run as root)"
    exit 0
fi
as_rev() {
    setpriv --reuid="$REV" --regid="$REV" --clear-groups --inh-caps=+dac_override \
        --ambient-caps=+dac_override -- "$@"
}
"$TM_BIN" --db "$D/b.db" users add "$(id -un)" --role admin >/dev/null 2>&1
"$TM_BIN" --db "$D/b.db" users add "$REV" --role compliance --role strategy --role engineer >/dev/null 2>&1
cp -R "$ROOT/scripts" "$D/a"
cp -R "$ROOT/scripts" "$D/b"
printf '\n-- set B\n' >>"$D/b/regulations/federal.lua"
for t in a b; do
    h=$("$TM_BIN" --db "$D/b.db" scripts propose "$D/$t" 2>/dev/null | head -n 1)
    as_rev "$TM_BIN" --db "$D/b.db" scripts approve "$h" >/dev/null 2>&1
    [ $t = a ] && "$TM_BIN" --db "$D/b.db" scripts activate "$h" >/dev/null 2>&1
    [ $t = b ] && SETB=$h
done
start
echo "POST /v1/decide while a set is activated or rolled back every second (wrk 1 thread, 32 connections, ${SWAP_SECS} s):"
wrk -t1 -c32 -d"${SWAP_SECS}s" -s "$D/one.lua" "$URL" | grep requests/s &
WRK=$!
n=0
ok=0
while [ $n -lt $((SWAP_SECS - 2)) ]; do
    sleep 1
    if [ $((n % 2)) -eq 0 ]; then
        "$TM_BIN" --db "$D/b.db" scripts activate "$SETB" >/dev/null 2>&1 && ok=$((ok + 1))
    else
        "$TM_BIN" --db "$D/b.db" scripts rollback >/dev/null 2>&1 && ok=$((ok + 1))
    fi
    n=$((n + 1))
done
wait $WRK
TAKEN=$(curl -s -H "Authorization: Bearer $ENG" "http://127.0.0.1:$PORT/metrics" |
    sed -n 's/^tallyman_reloads_total{result="ok"} //p')
echo "  $ok switches made, ${TAKEN:-?} taken up by the service (the failed count above: target 0)"
