-- Specs for strategies/high_balance.lua. 2026-11-23 is a Monday; 15:00Z is
-- 10:00 in New York. Thanksgiving is Thursday 2026-11-26.
local J = require("strategies.high_balance")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local seg = require("strategies.segment")
local ctx = jspec.ctx

local function debt(over)
    return jspec.debt(merge({ days_past_due = 60, debt_type = "credit_card", state = "NY", balance = 600000,
                              placed_balance = 600000, last_payment_date = "2026-09-01" }, over or {}))
end

describe("high_balance", function()
    it("takes $5,000 and more below the low-risk band; not a smaller or a low-risk one", function()
        assert_eq(journeys.select(debt()).id, "high_balance")
        assert_true(not J:matches(debt({ balance = 499999 })))
        assert_true(not J:matches(debt({ days_past_due = -1 })))
        assert_true(not J:matches(debt({ days_past_due = 400 })))
    end)
    it("plans first: 12 payments, a call 3 business days later, then 24", function()
        local r = J:start(debt(), ctx())
        assert_eq(jspec.actions(r, "offer_plan")[1].plan.count, 12)
        assert_sends(r, { "email:plan_offer" })
        assert_timer(r, "call", "2026-11-27T15:00:00Z")
        local c = J:timer(jspec.js(r), debt(), ctx())
        assert_sends(c, { "call:mid_call" })
        assert_sends(J:timer(jspec.js(r), debt({ channels = { sms = true } }), ctx()), { "sms:mid_reminder" })
        local l = J:timer(jspec.js(c), debt(), ctx())
        assert_eq(jspec.actions(l, "offer_plan")[1].plan.count, 24)
        assert_timer(l, "desk", "2026-12-07T15:00:00Z")
        assert_eq(jspec.actions(J:timer(jspec.js(l), debt(), ctx()), "queue")[1].queue, "plan_desk")
        assert_eq(jspec.missing_templates(J, debt(), ctx()), {})
        assert_eq(jspec.stop_problems(J, debt(), ctx(), seg.STOP_HANDOFFS), {})
    end)
end)
