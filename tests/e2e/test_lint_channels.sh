#!/bin/sh
# tests/e2e/test_lint_channels.sh: `tallyman lint` checks channel templates
# (unknown placeholders, missing languages, SMS length) and journeys
# (unknown states and events) by loading them.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mk() { rm -rf "$D/tree" && mkdir -p "$D/tree/channels" "$D/tree/strategies" && cp -r "$ROOT/scripts/lib" "$D/tree/"; }
tpl() { # tpl BODY: one sms template file
    cat >"$D/tree/channels/t.lua" <<LUA
local template = require("lib.template")
return {
  template {
    id = "t1", channel = "sms", placeholders = { ["consumer.first_name"] = "text", ["debt.balance"] = "money" },
    $1
  },
}
LUA
}
mk
tpl 'en = { text = "Hi {{consumer.first_name}}, {{debt.balance|money}} is due." }, es = { text = "Hola {{consumer.first_name}}, {{debt.balance|money}} vence." },'
expect_run "a good template lints clean" 0 "" "" -- "$T" lint "$D/tree"
tpl 'en = { text = "Hi {{consumer.first_name}}, {{debt.balance|money}} is due." },'
expect_run "a missing language is named" 1 "*" "" -- "$T" lint "$D/tree"
expect_run "  ...as es, with the file, line and template" 0 "*" "" -- sh -c "'$T' lint '$D/tree' | grep -q 'channels/t.lua:3: template t1: es: missing'"
tpl 'en = { text = "Hi {{consumer.nickname}}" }, es = { text = "Hola {{consumer.first_name}}" },'
expect_run "an unknown placeholder is named" 0 "*" "" -- sh -c "'$T' lint '$D/tree' | grep -q 'consumer.nickname'"
tpl "en = { text = string.rep(\"x\", 400) }, es = { text = \"Hola\" },"
expect_run "an SMS over its segments is refused" 1 "*" "" -- "$T" lint "$D/tree"
mk
cat >"$D/tree/strategies/j.lua" <<'LUA'
local journey = require("lib.journey")
return journey { id = "j", start = "a", states = { a = { on = { payment = "gone" } } } }
LUA
expect_run "a journey's unknown state is named" 0 "*" "" -- sh -c "'$T' lint '$D/tree' | grep -q \"no state 'gone'\""
expect_run "  ...and lint fails" 1 "*" "" -- "$T" lint "$D/tree"
expect_run "the shipped tree lints clean" 0 "" "" -- "$T" lint "$ROOT/scripts"
finish
