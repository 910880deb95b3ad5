#!/bin/sh
# examples/demo.sh: the main job, run by `make demo`.
#   1. The compliance gate: every request in examples/requests.jsonl judged
#      against the shipped regulations, with a summary by rule.
#   2. The store: the synthetic portfolio imported, with the payments its
#      debts make, then 30 days of the daily cycle (journeys, the gate at
#      each contact's planned time, the outbox), and the audit chain checked.
#      The scripts that run are the store's active set: proposed, approved
#      by a second person and activated first.
#   3. The sandbox: the example scripts evaluated, including a runaway
#      script stopped at its limit.
set -u
cd "$(dirname "$0")/.." || exit 1
mkdir -p out
T="${TM_BIN:-./tallyman}"
echo "== $("$T" --version)"
echo
echo "== tallyman decide examples/requests.jsonl  (decisions in out/decisions.jsonl)"
mkdir -p out
"$T" decide --summary examples/requests.jsonl >out/decisions.jsonl
echo
echo "first decision:"
head -n 1 out/decisions.jsonl
echo
echo "== tallyman import accounts examples/portfolio/accounts.csv  (store: out/demo.db)"
rm -f out/demo.db out/demo.db-wal out/demo.db-shm  # a fresh store each run (the key file stays)
"$T" --db out/demo.db import accounts examples/portfolio/accounts.csv
echo
echo "== the script set: proposed, approved by someone else, activated"
# What runs on a store is its active script set. The one running the demo is
# the store's first person (its admin) and proposes the shipped scripts; a
# second person approves (never the proposer): as root, a system user made
# for the demo, acting through setpriv; otherwise there is no second person,
# and the cycle runs the working tree as a draft, which its output says.
ME=$(id -un)
REVIEWER=tallyman-demo-reviewer
RUNSET=""
"$T" --db out/demo.db users add "$ME" --role admin
if [ "$(id -u)" = 0 ] && { id "$REVIEWER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$REVIEWER" 2>/dev/null; }; then
    "$T" --db out/demo.db users add "$REVIEWER" --role compliance --role strategy --role engineer
    echo "-- tallyman scripts propose scripts  (as $ME; the whole proposal in out/proposal.txt)"
    "$T" --db out/demo.db scripts propose scripts >out/proposal.txt
    GEN=$(head -n 1 out/proposal.txt)
    head -n 8 out/proposal.txt
    echo "-- tallyman scripts approve ${GEN%"${GEN#????????????}"}  (as $REVIEWER)"
    setpriv --reuid="$REVIEWER" --regid="$REVIEWER" --clear-groups --inh-caps=+dac_override \
        --ambient-caps=+dac_override -- "$T" --db out/demo.db scripts approve "$GEN"
    echo "-- tallyman scripts activate  (as $ME)"
    "$T" --db out/demo.db scripts activate "$GEN"
else
    echo "(no second person to approve a set: not running as root; the cycle runs the working"
    echo " tree scripts/ as a DRAFT instead)"
    RUNSET="--scripts scripts --draft"
fi
echo
echo "== tallyman run --date 2026-11-23 --days 30 --events examples/portfolio/outcomes.jsonl"
echo "   (the daily cycle for 30 days; the debts' payments and the answers to their first"
echo "    messages (bounces, STOP replies, receipts) fed in on the day they happen;"
echo "    messages in out/spool, each with its recipient)"
rm -rf out/spool
# shellcheck disable=SC2086 # RUNSET is two options or none
"$T" --db out/demo.db $RUNSET run --date 2026-11-23 --days 30 --events examples/portfolio/outcomes.jsonl \
    --spool out/spool --quiet
echo
# Counts only: the recipients are personal data and stay in the spool files.
echo "messages by channel, with a recipient resolved (counts; the addresses stay in out/spool):"
for ch in sms email letter call whatsapp push; do
    [ -d "out/spool/$ch" ] || continue
    files=$(find "out/spool/$ch" -name '*.json' | wc -l | tr -d ' ')
    [ "$files" -gt 0 ] || continue
    with=$(find "out/spool/$ch" -name '*.json' -exec cat {} + | grep -o '"to":"' | wc -l | tr -d ' ')
    printf '  %-8s %6s messages, %6s with a recipient\n' "$ch" "$files" "$with"
done
echo "answers fed back from examples/portfolio/outcomes.jsonl:"
"$T" --db out/demo.db audit export >out/audit.jsonl
for a in delivered bounced inbound_reply; do
    printf '  %-14s %5s\n' "$a" "$(grep -c "\"action\":\"event.$a\"" out/audit.jsonl)"
done
printf '  %-14s %5s  (12 CFR 1006.6(e); 47 CFR 64.1200(a)(10))\n' "STOP opt-outs" \
    "$(grep -c '"action":"consumer.optout"' out/audit.jsonl)"
echo "(the channels the journeys moved to when one was refused: \"moved to another channel\" above)"
echo
debt=$(sed -n 2p examples/portfolio/accounts.csv | cut -d, -f2)
echo "== tallyman why $debt  (a debt's story: journey steps, gate verdicts with their rules, messages)"
"$T" --db out/demo.db why "$debt"
echo
echo "== tallyman decide --replay  (every decision of the month judged again by the set that made it)"
"$T" --db out/demo.db decide --replay
echo
echo "== tallyman graph early_stage --mermaid"
"$T" graph early_stage --mermaid
echo
echo "== tallyman audit verify"
"$T" --db out/demo.db audit verify
for f in examples/eval/*.lua; do
    echo
    echo "== tallyman eval $f"
    "$T" eval "$f"
    echo "(exit $?)"
done
