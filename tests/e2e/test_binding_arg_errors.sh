#!/bin/sh
# tests/e2e/test_binding_arg_errors.sh: one shape for an argument a binding
# cannot take, in every binding file, on whichever build TM_BIN is (make test
# runs this on Lua 5.4 and on LuaJIT, whose own argument errors would name
# the function '?'):
#   FILE:LINE: bad argument #N to 'NAME' (MESSAGE)
# with NAME the function as the script called it. Each case compares the whole
# of stderr, so the position, the number, the name and the message are all
# checked; the last cases show the shape survives pcall and shows in lint.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
n=0

# shape NAME ARG FUNC MESSAGE LUA: runs LUA (one line, on line 2 of a file)
# through eval and wants exactly "FILE:2: bad argument #ARG to 'FUNC' (MESSAGE)".
shape() {
    n=$((n + 1))
    printf 'local x\nlocal r = %s\nreturn r\n' "$5" >"$D/a$n.lua"
    "$T" eval "$D/a$n.lua" >"$D/out" 2>"$D/err"
    rc=$?
    expect_eq "$1 (exit)" 1 "$rc"
    expect_eq "$1" "$D/a$n.lua:2: bad argument #$2 to '$3' ($4)" "$(cat "$D/err")"
}

# sandbox/lb_pay.c
shape "tm.money.percent: basis points out of range" 2 tm.money.percent \
    "basis points 0 to 1000000 expected, got 1500000" 'tm.money.percent(100, 1500000)'
shape "tm.pay.settlement: a field out of range" 1 tm.pay.settlement \
    "field 'floor_bps': 0 to 10000 expected, got 15000" \
    'tm.pay.settlement{balance = 100, offer = 50, currency = "USD", role = "agent", rules = {}, floor_bps = 15000}'
shape "tm.pay.routing_valid: not a string" 1 tm.pay.routing_valid \
    "string expected, got no value" 'tm.pay.routing_valid()'
# sandbox/lb_time.c
shape "tm.time.add_business_days: too many days" 2 tm.time.add_business_days \
    "-3660 to 3660 business days expected, got 4000" 'tm.time.add_business_days("2026-01-01", 4000)'
shape "tm.time.add_days: not an integer" 2 tm.time.add_days \
    "number has no integer representation" 'tm.time.add_days("2026-01-01", 1.5)'
# sandbox/lb_channel.c
shape "tm.template.render: opts.max out of range" 3 tm.template.render \
    "field 'max': 0 to 16777216 bytes expected, got -1" 'tm.template.render("x", {}, {max = -1})'
shape "tm.sms.measure: not a string" 1 tm.sms.measure \
    "string expected, got number" 'tm.sms.measure(42)'
# sandbox/lb_score.c
shape "tm.score: too many reasons" 3 tm.score \
    "0 to 16 reasons expected, got 17" 'tm.score("ptp", {}, 17)'
# sandbox/lb_contact.c
shape "tm.contact.best_slot: a window over 31 days" 5 tm.contact.best_slot \
    "a window of 1 second to 31 days expected, got 2764800" 'tm.contact.best_slot("contact", {}, {"sms"}, 0, 32 * 86400)'
shape "tm.contact.best_slot: not a channel" 3 tm.contact.best_slot \
    "channels[2]: not a channel: fax" 'tm.contact.best_slot("contact", {}, {"sms", "fax"}, 0, 86400)'
shape "tm.contact.best_slot: an unknown outcome" 6 tm.contact.best_slot \
    "\"rpc\" or \"pay\" expected, got \"reply\"" 'tm.contact.best_slot("contact", {}, {"sms"}, 0, 86400, "reply")'
# sandbox/lb_util.c
shape "tm.bucket: not a string" 1 tm.bucket "string expected, got number" 'tm.bucket(42)'
shape "business_days: zero" 1 business_days "1 to 3660 expected, got 0" 'business_days(0)'
shape "minutes: too many" 1 minutes "1 to 100000 expected, got 100001" 'minutes(100001)'
# sandbox/lb_gate.c
shape "days: too many" 1 days "1 to 3660 expected, got 3661" 'days(3661)'
shape "hours: not a number" 1 hours "number expected, got string" 'hours("x")'
shape "regulation: not a table" 1 regulation "table expected, got nil" 'regulation(nil)'

# Through pcall, the message is the same and still names the script line.
printf 'local ok, e = pcall(tm.money.percent, 1, -1)\nreturn e\n' >"$D/p.lua"
expect_run "the shape through pcall" 0 \
    "\"$D/p.lua:1: bad argument #2 to 'tm.money.percent' (basis points 0 to 1000000 expected, got -1)\"" \
    "" -- "$T" eval "$D/p.lua"

# A regulation that calls days() out of range: lint names the line and the shape.
mkdir -p "$D/tree/regulations"
cat >"$D/tree/regulations/xx.lua" <<'EOF'
return regulation {
    id = "US-XX", applies = { state = "TX" },
    rules = {
        { id = "cap", cite = "none", cap = { count = 1, per = days(0) } },
    },
}
EOF
"$T" lint "$D/tree" >"$D/out" 2>&1
expect_eq "lint shows the shape (exit)" 1 "$?"
case "$(cat "$D/out")" in
    *"regulations/xx.lua:4: bad argument #1 to 'days' (1 to 3660 expected, got 0)"*)
        expect_eq "lint shows the shape" 1 1 ;;
    *) expect_eq "lint shows the shape" "the shape on line 4" "$(cat "$D/out")" ;;
esac

finish
