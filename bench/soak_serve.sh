#!/bin/sh
# bench/soak_serve.sh (`make soak`): `tallyman serve` under wrk for
# SOAK_SECONDS (default 600), POST /v1/decide one request at a time, with a
# script set activated (or rolled back) every 30 seconds when run as root
# (approving takes a second person, a system user made for it); prints the
# service's resident memory (VmRSS, /proc/PID/status) after a warm-up, every
# minute, and at the end. Prints figures, asserts nothing.
# Environment: TM_BIN; SOAK_SECONDS.
set -u
: "${TM_BIN:?}"
if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed (tools/deps.sh installs it): skipped"
    exit 0
fi
SECS=${SOAK_SECONDS:-600}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-soak.XXXXXX")
PID=""
WRK=""
trap '[ -n "$WRK" ] && kill "$WRK" 2>/dev/null; [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
DB="$D/soak.db"
TOKEN=$("$TM_BIN" --db "$DB" tokens create --role dialer --name soak 2>/dev/null | tail -n 1)
REV=tm-e2e-reviewer
SWITCH=0
if [ "$(id -u)" = 0 ] && { id "$REV" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$REV" >/dev/null 2>&1; }; then
    SWITCH=1
    "$TM_BIN" --db "$DB" users add "$(id -un)" --role admin >/dev/null 2>&1
    "$TM_BIN" --db "$DB" users add "$REV" --role compliance --role strategy --role engineer >/dev/null 2>&1
    cp -R "$ROOT/scripts" "$D/a"
    cp -R "$ROOT/scripts" "$D/b"
    printf '\n-- set B\n' >>"$D/b/regulations/federal.lua"
    for t in a b; do
        h=$("$TM_BIN" --db "$DB" scripts propose "$D/$t" 2>/dev/null | head -n 1)
        setpriv --reuid="$REV" --regid="$REV" --clear-groups --inh-caps=+dac_override \
            --ambient-caps=+dac_override -- "$TM_BIN" --db "$DB" scripts approve "$h" >/dev/null 2>&1
        [ $t = a ] && "$TM_BIN" --db "$DB" scripts activate "$h" >/dev/null 2>&1
        [ $t = b ] && SETB=$h
    done
    "$TM_BIN" --db "$DB" serve --listen 127.0.0.1:0 --workers 2 --log /dev/null 2>"$D/log" &
else
    echo "(not root: no second person to approve a set; the tree is served as a draft, without switches)"
    "$TM_BIN" --db "$DB" --scripts "$ROOT/scripts" --draft serve --listen 127.0.0.1:0 --workers 2 \
        --log /dev/null 2>"$D/log" &
fi
PID=$!
i=0
PORT=""
while [ -z "$PORT" ] && [ $i -lt 300 ]; do
    sleep 0.1
    PORT=$(sed -n 's/^tallyman: serving .*(port \([0-9]*\),.*/\1/p' "$D/log")
    i=$((i + 1))
done
[ -n "$PORT" ] || { echo "the service did not start"; cat "$D/log"; exit 1; }
cat >"$D/one.lua" <<LUA
wrk.method = "POST"
wrk.body = [==[{"id":"r1","now":"2026-11-23T15:00:00Z","channel":"call","consumer":{"state":"NY","timezones":["America/New_York"]},"debt":{"id":"D1"}}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read +
              summary.errors.write + summary.errors.timeout
  io.write(string.format("  %d requests (%.0f/s), p99 %.3f ms, %d failed\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, bad))
end
LUA
rss() { sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$PID/status"; }
echo "soak: POST /v1/decide for ${SECS} s (wrk 1 thread, 16 connections)"
wrk -t1 -c16 -d"${SECS}s" -s "$D/one.lua" "http://127.0.0.1:$PORT/v1/decide" >"$D/wrk.out" &
WRK=$!
sleep 10
echo "  RSS after 10 s warm-up: $(rss)"
t=10
n=0
while [ $t -lt $((SECS - 5)) ] && kill -0 "$WRK" 2>/dev/null; do
    sleep 5
    t=$((t + 5))
    if [ "$SWITCH" = 1 ] && [ $((t % 30)) -eq 0 ]; then
        if [ $((n % 2)) -eq 0 ]; then
            "$TM_BIN" --db "$DB" scripts activate "$SETB" >/dev/null 2>&1
        else
            "$TM_BIN" --db "$DB" scripts rollback >/dev/null 2>&1
        fi
        n=$((n + 1))
    fi
    [ $((t % 60)) -eq 0 ] && echo "  RSS at ${t} s: $(rss)"
done
echo "  RSS at the end: $(rss)"
wait "$WRK"
WRK=""
grep requests "$D/wrk.out"
[ "$SWITCH" = 1 ] && echo "  $n switches of the active set during the run"
