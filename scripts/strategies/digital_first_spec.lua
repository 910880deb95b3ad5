-- Specs for strategies/digital_first.lua. 2026-11-23 is a Monday; 15:00Z is
-- 10:00 in New York.
local J = require("strategies.digital_first")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local seg = require("strategies.segment")
local ctx = jspec.ctx

local function debt(over)
    return jspec.debt(merge({ days_past_due = 60, debt_type = "credit_card", state = "NY", balance = 125000,
                              placed_balance = 125000, last_payment_date = "2026-09-01",
                              preferred_channel = "sms" }, over or {}))
end

describe("digital_first", function()
    it("takes a consumer who prefers a digital channel they may be reached on", function()
        assert_eq(journeys.select(debt()).id, "digital_first")
        assert_true(not J:matches(debt({ preferred_channel = "letter" })))
        assert_true(not J:matches(debt({ channels = { email = true, call = true } })))
        assert_true(not J:matches(debt({ days_past_due = 120 })))
    end)
    it("the preferred channel, the other digital one 3 days later, a call only after two weeks", function()
        local r = J:start(debt(), ctx())
        assert_sends(r, { "sms:early_reminder" })
        assert_timer(r, "other", "2026-11-26T15:00:00Z")
        assert_sends(J:timer(jspec.js(r), debt(), ctx()), { "email:early_reminder" })
        assert_sends(J:start(debt({ preferred_channel = "email" }), ctx()), { "email:early_reminder" })
        local a = J:timer(in_state(J, "other", { timer_go = "again" }), debt(), ctx())
        assert_sends(a, { "sms:mid_reminder" })
        assert_timer(a, "call", "2026-11-30T15:00:00Z")
        assert_sends(J:timer(in_state(J, "again", { timer_go = "call" }), debt(), ctx()), { "call:mid_call" })
        assert_sends(J:timer(in_state(J, "again", { timer_go = "call" }), debt({ channels = { sms = true } }), ctx()), {})
        assert_eq(jspec.missing_templates(J, debt(), ctx()), {})
        assert_eq(jspec.stop_problems(J, debt(), ctx(), seg.STOP_HANDOFFS), {})
    end)
end)
