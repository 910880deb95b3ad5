#!/bin/sh
# tests/e2e/test_graph.sh: `tallyman graph JOURNEY` writes DOT alone (it pipes
# into `dot -Tsvg`), Mermaid with --mermaid.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$D/tree/lib" "$D/tree/strategies"
cp "$ROOT/scripts/lib/journey.lua" "$D/tree/lib/"
cat >"$D/tree/strategies/demo.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "demo", start = "remind",
  states = {
    remind = { enter = function(j) j:send("sms", "r") end, after = { days(3), "nudge" },
               on = { payment = "paid" } },
    nudge = { after = { business_days(2), "remind" } },
    paid = { final = "paid" },
  },
  on = { cease = "paid" },
}
LUA
expect_run "dot" 0 'digraph "demo" {
  rankdir=LR;
  node [shape=box, style=rounded];
  "(start)" [shape=point];
  "(end)" [shape=doublecircle, label=""];
  "remind" [label="remind\nsends sms r"];
  "(start)" -> "remind" [label="start"];
  "nudge" -> "remind" [label="after 2 business days"];
  "paid" -> "(end)" [label="paid"];
  "remind" -> "paid" [label="payment"];
  "remind" -> "nudge" [label="after 3 days"];
  "(any state)" -> "paid" [label="cease", style=dashed];
}' "" -- "$T" --scripts "$D/tree" graph demo --dot
expect_run "mermaid" 0 '```mermaid
stateDiagram-v2
  %% journey demo
  remind : sends sms r
  [*] --> remind : start
  nudge --> remind : after 2 business days
  paid --> [*] : paid
  remind --> paid : payment
  remind --> nudge : after 3 days
  any_state --> paid : cease
```' "" -- "$T" --scripts "$D/tree" graph demo --mermaid
"$T" --scripts "$D/tree" graph demo --dot >"$D/dot.txt"
expect_run "DOT alone by default, so it pipes into dot" 0 "$(cat "$D/dot.txt")" "" -- "$T" --scripts "$D/tree" graph demo
expect_run "the last of --dot and --mermaid counts" 0 "$(cat "$D/dot.txt")" "" -- "$T" --scripts "$D/tree" graph demo --mermaid --dot
cat >"$D/tree/strategies/split.lua" <<'LUA'
local journey = require("lib.journey")
return journey {
  id = "split", start = "remind", variants = { champion = 90, sms_first = 10 },
  states = {
    remind = { enter = function(j)
      if j.variant == "sms_first" then j:send("sms", "r") else j:send("email", "r") end
    end, on = { payment = "paid" } },
    paid = { final = "paid" },
  },
}
LUA
expect_run "the variant split on the start edge" 0 "*" "" -- sh -c "'$T' --scripts '$D/tree' graph split | grep -qx '  \"(start)\" -> \"remind\" \\[label=\"start: champion 90%, sms_first 10%\"\\];'"
expect_run "what each state sends, by variant" 0 "*" "" -- sh -c "'$T' --scripts '$D/tree' graph split | grep -qxF '  \"remind\" [label=\"remind\\nsends champion: email r; sms_first: sms r\"];'"
expect_run "  ...and a state whose sends turn on the debt says so" 0 "*" "" -- sh -c "'$T' --scripts '$ROOT/scripts' graph early_stage | grep -qxF '  \"remind\" [label=\"remind\\nsends (depends on the debt)\"];'"
expect_run "  ...the same for every variant said once" 0 "*" "" -- sh -c "'$T' --scripts '$ROOT/scripts' graph early_stage | grep -qxF '  \"call\" [label=\"call\\nsends call early_call\"];'"
expect_run "  ...in Mermaid too" 0 "*" "" -- sh -c "'$T' --scripts '$D/tree' graph split --mermaid | grep -qx '  \\[\\*\\] --> remind : start: champion 90%, sms_first 10%'"
expect_run "unknown journey lists the known" 1 "" "no journey 'nope' (journeys: demo split)" -- "$T" --scripts "$D/tree" graph nope
expect_run "needs a journey" 2 "" "graph needs a JOURNEY" -- "$T" graph
sed -i 's/"paid" } },/"payd" } },/' "$D/tree/strategies/demo.lua"
expect_run "a broken journey is reported" 1 "" "no state 'payd'" -- "$T" --scripts "$D/tree" graph demo
finish
