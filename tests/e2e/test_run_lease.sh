#!/bin/sh
# tests/e2e/test_run_lease.sh: one run at a time on a store. A run holds the
# store's cycle lease; a second run (even with another spool) is refused at
# once, naming the holder's pid, host and since when, and spools nothing, so
# no message goes out twice. A lease left by a run that was killed is taken
# over (said, and audited); one held from another host only once it expired.
# simulate works on a copy and is not held up.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TREE="$D/tree"
HOST=$(hostname)
mkdir -p "$TREE/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$TREE/"
cat >"$TREE/strategies/demo.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo",
  segment = function(d) return true end,
  start = "remind",
  send_window = { "10:00", "18:00" },
  states = {
    remind = { enter = function(j) j:send("email", "early_reminder") end },
  },
}
LUA
awk 'BEGIN {
    print "external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip";
    for (i = 1; i <= 40; i++)
        printf "C%d,D%d,Name%d,Family%d,MA,America/New_York,%d.00,USD,10,+1617%07d,c%d@example.com,%d Main St,Springfield,01101\n", i, i, i, i, 100 + i, i, i, i;
}' >"$D/a.csv"
DB="$D/a.db"
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
# $RUN DB ARGS...: the day's run on store DB (a script, so it can be started
# in the background and stopped).
RUN="$D/run"
printf '#!/bin/sh\ndb=$1\nshift\nexec "%s" --db "$db" --scripts "%s" --draft run --date 2026-11-23 "$@"\n' "$T" "$TREE" >"$RUN"
chmod +x "$RUN"
check_once() { # check_once LABEL: every message spooled once, in one spool
    expect_run "$1: 40 messages sent" 0 "40" "" -- sqlite3 "$DB" "select count(*) from outbox where status = 'sent'"
    expect_run "$1: each spooled once, all in one spool" 0 "40" "" -- sh -c "cat '$D'/spool*/email/*.json | grep -o '\"key\":\"[^\"]*\"' | sort -u | wc -l | tr -d ' '"
    expect_run "$1: no file twice" 0 "40" "" -- sh -c "ls '$D'/spool*/email/ | grep -c json"
    expect_run "$1: audit chain intact" 0 "*" "" -- "$T" --db "$DB" audit verify
}

# 1. A second run while the first works (stopped before dispatch: its
# messages are rendered and ready) is refused at once.
if start_stopped run.dispatch "$D/run1.log" "$RUN" "$DB" --spool "$D/spool1"; then
    expect_run "the first run holds the lease" 0 "$STOPPED_PID|$HOST" "" -- sqlite3 "$DB" "select pid, host from leases where name = 'cycle'"
    start=$(date +%s)
    expect_run "a second run with another spool is refused (exit 1)" 1 "*" "the store is in use by another run: pid $STOPPED_PID on host $HOST since 20" -- "$RUN" "$DB" --spool "$D/spool2"
    took=$(( $(date +%s) - start ))
    expect_run "  ...at once, without waiting for the first (${took}s)" 0 "*" "" -- test "$took" -le 5
    expect_run "  ...and it spooled nothing" 0 "0" "" -- sh -c "ls '$D/spool2/email' 2>/dev/null | wc -l | tr -d ' '"
    expect_run "simulate is not held up by the lease" 0 "*" "*" -- "$T" --db "$DB" --scripts "$TREE" --draft simulate --date 2026-11-23 --days 1 --strategy "$TREE/strategies" --quiet
    kill -CONT "$STOPPED_PID"
    wait "$STOPPED_PID"
    rc=$?
    expect_run "the first run goes on and finishes (exit 0)" 0 "0" "" -- echo "$rc"
    expect_run "  ...and releases the lease" 0 "0" "" -- sqlite3 "$DB" "select count(*) from leases"
else
    expect_run "the first run stops before dispatch" 0 "*" "*" -- false
fi
check_once "two runs, one refused"
expect_run "a run after it is not refused" 0 "*" "" -- "$RUN" "$DB" --spool "$D/spool1"
check_once "a rerun"

# 2. A run killed while it held the lease: the next run takes it over, says
# so, audits it, and sends each message once.
DB="$D/b.db"
rm -rf "$D"/spool*
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
if start_stopped run.dispatch "$D/run2.log" "$RUN" "$DB" --spool "$D/spool1"; then
    DEAD=$STOPPED_PID
    kill -9 "$DEAD"
    wait "$DEAD" 2>/dev/null
    expect_run "the killed run's lease is left behind" 0 "$DEAD" "" -- sqlite3 "$DB" "select pid from leases"
    expect_run "the next run takes it over and says so" 0 "*" "taking over the cycle lease of pid $DEAD on host $HOST" -- "$RUN" "$DB" --spool "$D/spool1"
    cp "$E2E_TMP/err" "$D/takeover.err"
    expect_run "  ...because that process has ended" 0 "*" "" -- grep -q "that process has ended" "$D/takeover.err"
    expect_run "  ...and audits it" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export | grep -c '\"action\":\"lease.taken_over\".*\"pid\":$DEAD,'"
    check_once "after a killed run"
else
    expect_run "the run to kill stops before dispatch" 0 "*" "*" -- false
fi

# 3. A lease held from another host cannot be checked there: it binds until
# it has not been renewed for an hour (TM_LEASE_EXPIRY).
DB="$D/c.db"
rm -rf "$D"/spool*
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
sqlite3 "$DB" "insert into leases (name, holder, pid, host, pid_start, since, renewed) values ('cycle', 'x', 4242, 'elsewhere.example', 0, strftime('%s', 'now') - 7200, strftime('%s', 'now') - 60)"
expect_run "a live lease from another host: refused, naming it" 1 "*" "pid 4242 on host elsewhere.example since 20" -- "$RUN" "$DB" --spool "$D/spool1"
expect_run "  ...and nothing was sent" 0 "0" "" -- sqlite3 "$DB" "select count(*) from outbox"
sqlite3 "$DB" "update leases set renewed = strftime('%s', 'now') - 3700"
expect_run "one not renewed for over an hour is taken over" 0 "*" "not renewed for over an hour" -- "$RUN" "$DB" --spool "$D/spool1"
check_once "after an expired lease"

# 4. A pid that runs again on this host, but for a process started later
# than the holder, is not the holder.
DB="$D/d.db"
rm -rf "$D"/spool*
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
sleep 30 &
OTHER=$!
sqlite3 "$DB" "insert into leases (name, holder, pid, host, pid_start, since, renewed) values ('cycle', 'x', $OTHER, '$HOST', 1, strftime('%s', 'now'), strftime('%s', 'now'))"
expect_run "a pid used again by another process is taken over" 0 "*" "taking over the cycle lease of pid $OTHER" -- "$RUN" "$DB" --spool "$D/spool1"
kill "$OTHER" 2>/dev/null
wait "$OTHER" 2>/dev/null
check_once "after a reused pid"

# 5. A run whose lease was taken over meanwhile (it was thought gone) learns
# it at its next commit and stops with nothing more written or sent.
DB="$D/e.db"
rm -rf "$D"/spool*
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
if start_stopped run.gate "$D/run5.log" "$RUN" "$DB" --spool "$D/spool1"; then
    sqlite3 "$DB" "update leases set holder = 'other', pid = 4343, host = 'elsewhere.example'"
    kill -CONT "$STOPPED_PID"
    wait "$STOPPED_PID"
    rc=$?
    expect_run "a run whose lease was taken over stops (exit 1)" 0 "1" "" -- echo "$rc"
    expect_run "  ...saying by whom" 0 "*" "" -- grep -q "the cycle lease was taken over by pid 4343 on host elsewhere.example" "$D/run5.log"
    expect_run "  ...having sent nothing" 0 "0" "" -- sqlite3 "$DB" "select count(*) from outbox where status <> 'planned'"
    expect_run "  ...and leaves the other's lease alone" 0 "other" "" -- sqlite3 "$DB" "select holder from leases"
else
    expect_run "the run stops before the gate" 0 "*" "*" -- false
fi
finish
