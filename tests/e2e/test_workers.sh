#!/bin/sh
# tests/e2e/test_workers.sh: the daily cycle on worker threads does exactly
# what it does on one thread: the same steps, decisions, messages (byte for
# byte) and journey states over several days of the shipped strategies, with
# consumers who hold several debts (their contacts are judged in order).
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
head -n 1201 "$ROOT/examples/portfolio/accounts.csv" >"$D/a.csv"
for w in 0 3; do
    "$T" --db "$D/w$w.db" import accounts "$D/a.csv" >/dev/null 2>&1
    activate_set "$D/w$w.db" "$ROOT/scripts" >/dev/null
    expect_run "5 days on $w workers" 0 "*" "" -- "$T" --db "$D/w$w.db" run --date 2026-11-23 --days 5 --workers "$w" --spool "$D/spool$w" --quiet
    sqlite3 "$D/w$w.db" "select o.idempotency_key, o.channel, o.status, o.send_at, coalesce(o.blocked_by, '') from outbox o order by 1" >"$D/outbox$w"
    sqlite3 "$D/w$w.db" "select debt_id, journey, journey_state, variant, journey_step, coalesce(timer_at, '') from debts order by 1" >"$D/debts$w"
    sqlite3 "$D/w$w.db" "select debt_id, at, channel, allow, coalesce(blocked_by, ''), coalesce(next_allowed_at, '') from gate_decisions order by 1, 2, 3, 4, 5" >"$D/decisions$w"
    expect_run "audit chain intact ($w workers)" 0 "*" "*" -- "$T" --db "$D/w$w.db" audit verify
done
expect_run "some consumers hold several debts" 0 "*" "" -- sh -c "test \$(sqlite3 '$D/w0.db' 'select count(*) from (select consumer_id from debts group by consumer_id having count(*) > 1)') -gt 0"
expect_run "messages were sent" 0 "*" "" -- sh -c "test \$(grep -c '|sent|' '$D/outbox0') -gt 500"
expect_run "same outbox" 0 "" "" -- cmp "$D/outbox0" "$D/outbox3"
expect_run "same journey states" 0 "" "" -- cmp "$D/debts0" "$D/debts3"
expect_run "decisions recorded" 0 "*" "" -- sh -c "test \$(wc -l <'$D/decisions0') -gt 500"
expect_run "same decisions" 0 "" "" -- cmp "$D/decisions0" "$D/decisions3"
expect_run "same messages, byte for byte" 0 "" "" -- diff -r "$D/spool0" "$D/spool3"
expect_run "--workers out of range" 2 "" "--workers" -- "$T" --db "$D/w0.db" run --workers 65
finish
