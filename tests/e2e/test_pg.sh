#!/bin/sh
# tests/e2e/test_pg.sh: the PostgreSQL store end to end. The same work
# (import, script set activation, two days of runs with events between,
# decide --db, why, the agent queue, a simulation on a copy, audit verify) is done on a SQLite file
# and on a PostgreSQL store, from the same inputs; every command's output
# and the spooled messages must be the same, byte for byte. Then what goes
# wrong with a URL: one that does not parse, a server that is not there, a
# wrong password, a store newer than the build, no key file named.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

pg_start || { echo "FAIL no PostgreSQL server"; echo "0 passed, 1 failed"; exit 1; }
U=$(pg_fresh e2e_main) || { echo "FAIL cannot make a schema"; echo "0 passed, 1 failed"; exit 1; }

mkdir -p "$D/in/tree/strategies"
cp -r "$ROOT/scripts/regulations" "$ROOT/scripts/lib" "$ROOT/scripts/channels" "$ROOT/scripts/models" \
    "$D/in/tree/"
cat >"$D/in/tree/strategies/demo.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo",
  segment = function(d) return d.state ~= "ZZ" end,
  start = "remind",
  send_window = { "10:00", "18:00" },
  states = {
    remind = { enter = function(j) j:send("email", "early_reminder") end,
               after = { days(3), "letter" }, on = { payment = "paid", dispute = "hold" } },
    letter = { enter = function(j) j:send("letter", "mid_letter") end, on = { payment = "paid" } },
    hold = { enter = function(j) j:queue("disputes", "consumer disputes the debt") end },
    paid = { final = "paid" },
  },
  on = { cease = "hold" },
}
LUA
cat >"$D/in/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due,phone,email,address1,city,zip
C1,D1,Zenobia,Quillfeather,MA,America/New_York,100.00,USD,10,+16175551001,c1@example.com,1 Main St,Springfield,01101
C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20,+16175551002,c2@example.com,2 Main St,Springfield,01101
C3,D3,Cy,Fox,CA,America/Los_Angeles,300.00,USD,40,+16175551003,c3@example.com,3 Main St,Springfield,01101
C4,D4,Di,Moe,FL,America/New_York,400.00,USD,50,+16175551004,c4@example.com,4 Main St,Springfield,01101
C6,D6,Ed,Ng,NY,America/New_York,50.00,USD,5,+16175551005,c5@example.com,5 Main St,Springfield,01101
CSV
cat >"$D/in/e.jsonl" <<'JSON'
{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-24T10:00:00Z","amount":"34.56"}
{"key":"e2","type":"promise","debt_id":"D2","at":"2026-11-24T11:00:00Z","amount":"100.00","due":"2026-12-01"}
{"key":"e3","type":"dispute","debt_id":"D3","at":"2026-11-24T12:00:00Z"}
{"key":"e4","type":"contact","debt_id":"D4","at":"2026-11-24T15:00:00Z","channel":"call","outcome":"conversation"}
{"key":"e5","type":"payment","debt_id":"D4","at":"2026-11-24T16:00:00Z","amount":"400.00"}
{"key":"e6","type":"payment","debt_id":"NOPE","at":"2026-11-24T16:00:00Z","amount":"1.00"}
JSON
head -n 40 "$ROOT/examples/requests.jsonl" >"$D/in/requests.jsonl"

# work DIR DB: the whole day's work in DIR against store DB, each command's
# exit code and output in DIR/log, with file names relative to DIR so the
# two stores' logs can be compared.
work() {
    mkdir -p "$1"
    cp -r "$D/in/." "$1/"
    (
        cd "$1" || exit 1
        K="--key-file t.key"
        step() { echo "== $*"; "$T" --db "$DB" $K "$@" 2>&1; echo "exit $?"; }
        DB=$2
        {
            step import accounts a.csv
            gen=$(activate_set "$DB" tree $K) && echo "activated $gen"
            step run --date 2026-11-23 --spool spool
            step event e.jsonl
            step event e.jsonl
            step run --date 2026-11-26 --spool spool
            step decide requests.jsonl
            step why D1
            step why D3
            step queue list
            step simulate --days 5
            step audit verify
        } | grep -v '^time: ' >log # the run's timings are the one thing that differs
    )
}
# The PostgreSQL store first: its first import makes the key file, which the
# SQLite store then starts with (a key file named and missing is never made
# for a SQLite file).
work "$D/pg" "$U"
grep -v "^tallyman: created the key file t.key" "$D/pg/log" >"$D/pg/log2" && mv "$D/pg/log2" "$D/pg/log"
mkdir -p "$D/sqlite"
cp "$D/pg/t.key" "$D/sqlite/t.key"
work "$D/sqlite" t.db

expect_run "same output on both stores" 0 "" "" -- diff "$D/sqlite/log" "$D/pg/log"
expect_run "  ...and every command worked but the one naming an unknown debt" 0 "1" "" -- \
    sh -c "grep -c '^exit 1' '$D/pg/log'"
expect_run "  ...the unknown debt named" 0 "*" "" -- grep -q "e.jsonl:6: debt_id: unknown debt 'NOPE'" "$D/pg/log"
expect_run "  ...the audit chain verified" 0 "*" "" -- grep -q "^audit chain intact: [0-9]* records" "$D/pg/log"
expect_run "  ...messages were sent" 0 "*" "" -- grep -q "^messages: 4 sent" "$D/pg/log"
expect_run "  ...the disputed debt went to its queue" 0 "*" "" -- grep -q "disputes" "$D/pg/log"
expect_run "same messages spooled, byte for byte" 0 "" "" -- diff -r "$D/sqlite/spool" "$D/pg/spool"
expect_run "no plaintext personal data in the PostgreSQL store" 0 "0" "" -- \
    sh -c "psql -At '$U' -c \"SELECT count(*) FROM consumers WHERE encode(pii, 'escape') LIKE '%Zenobia%'\""
expect_run "the store's tables are at the build's schema version" 0 "*" "" -- \
    sh -c "psql -At '$U' -c 'SELECT max(version) FROM schema_migrations' | grep -qx '[0-9][0-9]*'"

# Moving a store: the SQLite file to PostgreSQL and back, everything as it was.
U3=$(pg_fresh e2e_copy)
K="$D/sqlite/t.key"
expect_run "store copy: a SQLite file to PostgreSQL" 0 "*" "" -- \
    sh -c "'$T' store copy --from '$D/sqlite/t.db' --to '$U3' >'$D/copy.out'"
expect_run "  ...every table named with its rows" 0 "*" "" -- grep -qx "audit  *[0-9][0-9]* rows" "$D/copy.out"
expect_run "  ...the audit chain verifies on the copy" 0 "*" "" -- "$T" --db "$U3" --key-file "$K" audit verify
for what in "audit export" "why D1" "why D3" "queue list --all"; do
    "$T" --db "$D/sqlite/t.db" --key-file "$K" $what >"$D/orig.out" 2>&1
    expect_run "  ...$what the same on the copy" 0 "*" "" -- sh -c \
        "'$T' --db '$U3' --key-file '$K' $what 2>&1 | cmp -s - '$D/orig.out'"
done
expect_run "  ...and back to a new file" 0 "*" "" -- "$T" store copy --from "$U3" --to "$D/back.db"
expect_run "  ...which verifies too" 0 "*" "" -- "$T" --db "$D/back.db" --key-file "$K" audit verify
"$T" --db "$D/sqlite/t.db" --key-file "$K" audit export >"$D/orig.out" 2>&1
expect_run "  ...with the same audit records" 0 "*" "" -- sh -c \
    "'$T' --db '$D/back.db' --key-file '$K' audit export 2>&1 | cmp -s - '$D/orig.out'"
expect_run "a copy to a store holding data is refused" 1 "" "holds data already" -- \
    "$T" store copy --from "$D/sqlite/t.db" --to "$U3"
expect_run "  ...and the store is as it was" 0 "*" "" -- "$T" --db "$U3" --key-file "$K" audit verify

# The server goes away in the middle of a run (a cluster of this test's own,
# stopped at once while a batch of journey steps is uncommitted): the run
# says so and ends with exit 1, nothing half-written; the next run, with the
# server back, finishes the day with the same messages a run on SQLite sends.
P2=$(mktemp -d -u /tmp/tm-pg.XXXXXX)
trap 'sh "$E2E_ROOT/tests/pg/stop.sh" "$P2"; [ -z "${E2E_PG_DIR:-}" ] || sh "$E2E_ROOT/tests/pg/stop.sh" "$E2E_PG_DIR"; rm -rf "$E2E_TMP"' EXIT
U4=$(sh "$ROOT/tests/pg/start.sh" "$P2")
mkdir -p "$D/gone"
K4="--key-file $D/gone/k.key"
"$T" --db "$U4" $K4 import accounts "$D/in/a.csv" >/dev/null 2>&1
cp "$D/gone/k.key" "$D/gone/ref.key"
"$T" --db "$D/gone/ref.db" --key-file "$D/gone/ref.key" import accounts "$D/in/a.csv" >/dev/null 2>&1
"$T" --db "$D/gone/ref.db" --key-file "$D/gone/ref.key" --scripts "$D/in/tree" --draft run --date 2026-11-23 \
    --spool "$D/gone/ref-spool" --workers 0 >/dev/null 2>&1
if start_stopped run.step@2 "$D/gone/run.log" "$T" --db "$U4" $K4 --scripts "$D/in/tree" --draft run \
    --date 2026-11-23 --spool "$D/gone/spool" --workers 0; then
    sh "$ROOT/tests/pg/stop.sh" "$P2" --keep
    kill -CONT "$STOPPED_PID"
    wait "$STOPPED_PID"
    expect_eq "a run whose server goes away ends with exit 1" 1 "$?"
    expect_run "  ...saying the store failed" 0 "*" "" -- grep -q "terminat\|connection\|server closed" "$D/gone/run.log"
    cp "$D/gone/run.log" "$D/gone/run1.log"
    sh "$ROOT/tests/pg/start.sh" "$P2" >/dev/null
    expect_run "  ...the next run finishes the day (taking over the ended run's lease)" 0 "*" \
        "taking over the cycle lease" -- "$T" --db "$U4" $K4 --scripts "$D/in/tree" \
        --draft run --date 2026-11-23 --spool "$D/gone/spool" --workers 0
    expect_run "  ...with the messages a run on SQLite sends, once each" 0 "" "" -- diff -r "$D/gone/ref-spool" "$D/gone/spool"
    expect_run "  ...and the audit chain whole" 0 "*" "" -- "$T" --db "$U4" $K4 audit verify
    # Two runs at once on one PostgreSQL store (from two processes, as from
    # two hosts): the second is refused while the first holds the lease.
    if start_stopped run.gate "$D/gone/first.log" "$T" --db "$U4" $K4 --scripts "$D/in/tree" --draft run \
        --date 2026-11-26 --spool "$D/gone/spool" --workers 0; then
        expect_run "a second run while the first holds the store is refused" 1 "*" \
            "the store is in use by another run: pid $STOPPED_PID" -- "$T" --db "$U4" $K4 \
            --scripts "$D/in/tree" --draft run --date 2026-11-26 --spool "$D/gone/spool2" --workers 0
        kill -CONT "$STOPPED_PID"
        wait "$STOPPED_PID"
        expect_eq "  ...and the first finishes its day" 0 "$?"
    else
        expect_eq "the first run stops before its gate" 0 1
    fi
else
    expect_eq "the run stops at its journey steps" 0 1
fi

# TALLYMAN_DB and TALLYMAN_KEY_FILE name the store instead of the options.
expect_run "TALLYMAN_DB selects the store" 0 "*" "" -- \
    env TALLYMAN_DB="$U" TALLYMAN_KEY_FILE="$D/pg/t.key" "$T" audit verify

# Bad input.
expect_run "a URL that does not parse" 1 "" "not a PostgreSQL URL" -- \
    "$T" --db "postgresql://u@h/db?nonsense=1" --key-file "$D/pg/t.key" audit verify
expect_run "a server that is not there" 1 "" "cannot connect to the store" -- \
    "$T" --db "postgresql://tallyman@/tallyman?host=$D/no-such-socket-dir" --key-file "$D/pg/t.key" audit verify
BAD=$(printf '%s' "$U" | sed 's|tallyman:tallyman@|tallyman:wrong@|')
expect_run "a wrong password, never shown" 1 "" "password authentication failed" -- \
    "$T" --db "$BAD" --key-file "$D/pg/t.key" audit verify
expect_run "  ...the password is not in the message" 1 "0" "" -- sh -c "grep -c wrong '$E2E_TMP/err'"
expect_run "no key file named" 1 "" "give its key file with --key-file" -- \
    env -u TALLYMAN_KEY_FILE "$T" --db "$U" audit verify
expect_run "run names where the messages go (no spool beside a URL)" 2 "" "needs --spool DIR or --webhook URL" -- \
    "$T" --db "$U" --key-file "$D/pg/t.key" run --date 2026-11-27
U2=$(pg_fresh e2e_newer)
"$T" --db "$U2" --key-file "$D/k2.key" users add "$(id -un)" --role admin >/dev/null 2>&1
psql -q "$U2" -c "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)"
expect_run "a store newer than this build" 1 "" "schema version 999, newer than this tallyman" -- \
    "$T" --db "$U2" --key-file "$D/k2.key" audit verify
finish
