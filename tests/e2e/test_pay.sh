#!/bin/sh
# tests/e2e/test_pay.sh: tm.money and tm.pay as scripts see them, through
# `tallyman eval`: values on both sides of each boundary, and errors that name
# the function, the field and the script line.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
n=0
# The expressions sit on line 2 and not in a tail call (LuaJIT drops a
# tail-called frame's line from error positions).
body() {
    printf 'local function pack(...) return select("#", ...), {...} end\nlocal n, r = pack(%s)\nreturn (table.unpack or unpack)(r, 1, n)\n' "$1" >"$D/p$n.lua"
}
# ok NAME EXPECTED_STDOUT LUA_EXPRESSIONS
ok() {
    n=$((n + 1))
    body "$3"
    expect_run "$1" 0 "$2" "" -- "$T" eval "$D/p$n.lua"
}
# bad NAME STDERR_SUBSTRING LUA_EXPRESSION (the error must point at line 2)
bad() {
    n=$((n + 1))
    body "$3"
    expect_run "$1" 1 "" "$D/p$n.lua:2: $2" -- "$T" eval "$D/p$n.lua"
}

# Money: formatting, parsing, exponents, percentages in integers.
ok "format USD" '"1,234.56 USD"' 'tm.money.format(123456, "USD")'
ok "format negative" '"-0.05 USD"' 'tm.money.format(-5, "USD")'
ok "format JPY" '"1,000 JPY"' 'tm.money.format(1000, "JPY")'
ok "format KWD" '"12.345 KWD"' 'tm.money.format(12345, "KWD")'
ok "parse" '1250
-500
1000' 'tm.money.parse("12.5", "USD"), tm.money.parse("-5.00", "USD"), tm.money.parse("1000", "JPY")'
ok "exponents" '2
0
3' 'tm.money.exponent("USD"), tm.money.exponent("JPY"), tm.money.exponent("KWD")'
ok "percent rounds half away from zero" '60001
60000
-60001
0' 'tm.money.percent(100001, 6000), tm.money.percent(100000, 6000), tm.money.percent(-100001, 6000), tm.money.percent(1, 4999)'
bad "float amount refused" "bad argument #1 to 'tm.money.format' (whole number of minor units expected, got 2.5)" 'tm.money.format(2.5, "USD")'
bad "string amount refused" "bad argument #1 to 'tm.money.format' (integer amount in minor units expected, got string)" 'tm.money.format("250", "USD")'
bad "too many decimals" "bad argument #1 to 'tm.money.parse' (invalid amount: 3 decimals" 'tm.money.parse("1.234", "USD")'
bad "JPY has no decimals" "bad argument #1 to 'tm.money.parse' (invalid amount" 'tm.money.parse("1.5", "JPY")'
bad "unknown currency" "bad argument #1 to 'tm.money.exponent' (unknown currency 'XYZ'" 'tm.money.exponent("XYZ")'

# Plans: even split, remainder last, month ends, business days.
ok "monthly plan, remainder last" '[{"amount":33333,"due":"2026-01-15"},{"amount":33333,"due":"2026-02-15"},{"amount":33334,"due":"2026-03-15"}]' \
   'tm.pay.plan{total = 100000, currency = "USD", count = 3, first = "2026-01-15"}'
ok "month-end anchor clamps" '[{"amount":100,"due":"2026-01-31"},{"amount":100,"due":"2026-02-28"},{"amount":100,"due":"2026-03-31"},{"amount":100,"due":"2026-04-30"}]' \
   'tm.pay.plan{total = 400, currency = "USD", count = 4, first = "2026-01-31"}'
ok "business days move off weekends and holidays" '[{"amount":100,"due":"2026-02-02"},{"amount":100,"due":"2026-03-02"},{"amount":100,"due":"2026-03-31"}]' \
   'tm.pay.plan{total = 300, currency = "USD", count = 3, first = "2026-01-31", business_days = true}'
ok "weekly and biweekly" '[{"amount":50,"due":"2026-06-01"},{"amount":50,"due":"2026-06-08"}]
[{"amount":50,"due":"2026-06-01"},{"amount":50,"due":"2026-06-15"}]' \
   'tm.pay.plan{total = 100, currency = "USD", count = 2, first = "2026-06-01", frequency = "weekly"}, tm.pay.plan{total = 100, currency = "USD", count = 2, first = "2026-06-01", frequency = "biweekly"}'
ok "120 installments is the most" '120' '#tm.pay.plan{total = 12000, currency = "USD", count = 120, first = "2026-01-01"}'
bad "121 installments refused" "bad argument #1 to 'tm.pay.plan' (field 'count': 1 to 120 expected, got 121)" 'tm.pay.plan{total = 12100, currency = "USD", count = 121, first = "2026-01-01"}'
bad "zero installments refused" "bad argument #1 to 'tm.pay.plan' (field 'count': 1 to 120 expected, got 0)" 'tm.pay.plan{total = 100, currency = "USD", count = 0, first = "2026-01-01"}'
bad "missing total" "bad argument #1 to 'tm.pay.plan' (field 'total' is required)" 'tm.pay.plan{currency = "USD", count = 1, first = "2026-01-01"}'
bad "bad frequency" "bad argument #1 to 'tm.pay.plan' (field 'frequency': weekly, biweekly or monthly expected, got 'daily')" 'tm.pay.plan{total = 100, currency = "USD", count = 1, first = "2026-01-01", frequency = "daily"}'
bad "bad first date" "bad argument #1 to 'tm.pay.plan' (field 'first': invalid date" 'tm.pay.plan{total = 100, currency = "USD", count = 1, first = "2026-02-30"}'
bad "unknown plan currency" "bad argument #1 to 'tm.pay.plan' (field 'currency': currency codes are upper case" 'tm.pay.plan{total = 100, currency = "usd", count = 1, first = "2026-01-01"}'
bad "not a table" "bad argument #1 to 'tm.pay.plan' (table of named fields expected, got number)" 'tm.pay.plan(5)'

# Plans written by hand: checked, with the installment and field named.
ok "a plan that adds up" 'true' 'tm.pay.plan_check{total = 1000, currency = "USD", installments = {{due = "2026-01-01", amount = 500}, {due = "2026-02-01", amount = 500}}}'
ok "one cent short" 'false
"installments: add up to 9.99 USD, not the total 10.00 USD"' 'tm.pay.plan_check{total = 1000, currency = "USD", installments = {{due = "2026-01-01", amount = 500}, {due = "2026-02-01", amount = 499}}}'
ok "one cent over" 'false
"installments: add up to 10.01 USD, not the total 10.00 USD"' 'tm.pay.plan_check{total = 1000, currency = "USD", installments = {{due = "2026-01-01", amount = 500}, {due = "2026-02-01", amount = 501}}}'
ok "dates out of order" 'false
"installments[2].due: 2026-01-01 is not after the installment before"' 'tm.pay.plan_check{total = 1000, currency = "USD", installments = {{due = "2026-01-01", amount = 500}, {due = "2026-01-01", amount = 500}}}'
ok "zero installment" 'false
"installments[1].amount: must be more than zero"' 'tm.pay.plan_check{total = 500, currency = "USD", installments = {{due = "2026-01-01", amount = 0}, {due = "2026-02-01", amount = 500}}}'
ok "empty plan" 'false
"installments: 0 installments, expected 1 to 120"' 'tm.pay.plan_check{total = 500, currency = "USD", installments = {}}'
bad "fractional installment" "bad argument #1 to 'tm.pay.plan_check' (field 'installments[2].amount': whole number of minor units expected, got 499.5)" 'tm.pay.plan_check{total = 1000, currency = "USD", installments = {{due = "2026-01-01", amount = 500}, {due = "2026-02-01", amount = 499.5}}}'
bad "impossible due date" "bad argument #1 to 'tm.pay.plan_check' (field 'installments[1].due': invalid date" 'tm.pay.plan_check{total = 1000, currency = "USD", installments = {{due = "2026-13-01", amount = 1000}}}'

# Settlements against authority rules held as policy data.
R='rules = {{role = "agent", min_bps = 6000}, {role = "supervisor", min_bps = 4000}, {state = "NY", min_bps = 5000}}'
ok "agent at the minimum" '"allowed"' "tm.pay.settlement{balance = 100000, offer = 60000, currency = \"USD\", role = \"agent\", $R}.verdict"
ok "agent one cent below" '"needs_override"' "tm.pay.settlement{balance = 100000, offer = 59999, currency = \"USD\", role = \"agent\", $R}.verdict"
ok "supervisor override is marked" '"allowed"
true' "(function() local d = tm.pay.settlement{balance = 100000, offer = 55000, currency = \"USD\", role = \"supervisor\", state = \"NY\", override = true, rules = {{role = \"supervisor\", min_bps = 6000}}}; return d.verdict, d.overridden end)()"
ok "agent override refused" '"refused"' "tm.pay.settlement{balance = 100000, offer = 55000, currency = \"USD\", role = \"agent\", override = true, $R}.verdict"
ok "below the floor refused" '"refused"' "tm.pay.settlement{balance = 100000, offer = 29999, currency = \"USD\", role = \"supervisor\", override = true, floor_bps = 3000, $R}.verdict"
ok "no applicable rule refused" '"refused"' 'tm.pay.settlement{balance = 100000, offer = 90000, currency = "USD", role = "manager", rules = {{role = "agent", min_bps = 1000}}}.verdict'
bad "unknown role" "bad argument #1 to 'tm.pay.settlement' (field 'role': agent, supervisor or manager expected, got 'boss')" 'tm.pay.settlement{balance = 1, offer = 1, currency = "USD", role = "boss", rules = {}}'
bad "bad rule names its index" "bad argument #1 to 'tm.pay.settlement' (field 'rules[2].min_bps': 0 to 10000 expected, got 10001)" 'tm.pay.settlement{balance = 1, offer = 1, currency = "USD", role = "agent", rules = {{min_bps = 1}, {min_bps = 10001}}}'

# Promises: the grace day boundary, partial and full payments.
P='amount = 5000, currency = "USD", due = "2026-03-01", grace = 3'
ok "last grace day still open" '"open"
2000' "tm.pay.promise{$P, today = \"2026-03-04\", payments = {{amount = 2000, date = \"2026-03-02\"}}}"
ok "day after grace partially kept" '"partially_kept"
2000' "tm.pay.promise{$P, today = \"2026-03-05\", payments = {{amount = 2000, date = \"2026-03-02\"}}}"
ok "nothing paid is broken" '"broken"
0' "tm.pay.promise{$P, today = \"2026-03-05\"}"
ok "paid in full early is kept" '"kept"
5000' "tm.pay.promise{$P, today = \"2026-02-10\", payments = {{amount = 5000, date = \"2026-02-09\"}}}"
ok "payment after grace does not count" '"broken"
0' "tm.pay.promise{$P, today = \"2026-03-10\", payments = {{amount = 5000, date = \"2026-03-05\"}}}"
bad "payment without a date" "bad argument #1 to 'tm.pay.promise' (field 'payments[1].date' is required)" "tm.pay.promise{$P, today = \"2026-03-05\", payments = {{amount = 1}}}"

# Application order: fees, interest, principal.
ok "fees then interest then principal" '{"fees":0,"interest":0,"overpayment":0,"principal":7500}' \
   'tm.pay.apply{amount = 3000, currency = "USD", fees = 1000, interest = 500, principal = 9000}'
ok "overpayment reported" '{"fees":0,"interest":0,"overpayment":100,"principal":0}' \
   'tm.pay.apply{amount = 1100, currency = "USD", fees = 500, principal = 500}'
bad "negative bucket refused" "bad argument #1 to 'tm.pay.apply' (balances must not be negative)" 'tm.pay.apply{amount = 1, currency = "USD", fees = -1}'

# Routing numbers; no function takes a card number.
ok "routing checksum" 'true
false
"routing number fails the checksum"' 'tm.pay.routing_valid("021000021"), tm.pay.routing_valid("021000022")'
ok "no card functions in scripts" 'true' 'tm.pay.tokenize == nil and tm.pay.card_check == nil'
bad "libraries are read-only" "attempt to modify read-only table 'tm.pay'" '(function() tm.pay.plan = nil end)()'
finish
