-- Specs for strategies/self_cure.lua. 2026-11-23 is a Monday; 15:00Z is 10:00
-- in New York, 22:30Z is 17:30.
local J = require("strategies.self_cure")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local seg = require("strategies.segment")
local ctx, iso = jspec.ctx, jspec.iso

local function debt(over)
    return jspec.debt(merge({ days_past_due = 10, debt_type = "auto_loan", state = "NY", balance = 20000,
                              placed_balance = 20000, last_payment_date = "2026-10-01" }, over or {}))
end
local function id_in(variant)
    for i = 1, 1000 do if J:variant_for("D" .. i) == variant then return "D" .. i end end
end

describe("self_cure", function()
    it("takes a likely self-curer; not a large balance, not 31 days past due", function()
        assert_eq(journeys.select(debt()).id, "self_cure")
        assert_true(not J:matches(debt({ balance = 600000 })))
        assert_true(not J:matches(debt({ days_past_due = 31 })))
    end)
    it("champion: one email at 17:30, then 10 quiet days; silent: nothing", function()
        local r = J:start(debt({ debt_id = id_in("champion") }), ctx())
        assert_sends(r, { "email:early_reminder" })
        assert_eq(iso(r.actions[1].at), "2026-11-23T22:30:00Z")
        assert_timer(r, "nudge", "2026-12-03T15:00:00Z")
        local s = J:start(debt({ debt_id = id_in("silent") }), ctx())
        assert_sends(s, {})
        assert_timer(s, "nudge", "2026-12-03T15:00:00Z")
    end)
    it("then a reminder, and a call 2 business days later", function()
        local r = J:timer(in_state(J, "gentle", { variant = "silent", timer_go = "nudge" }), debt(), ctx())
        assert_sends(r, { "sms:early_reminder" })
        assert_timer(r, "call", "2026-11-25T15:00:00Z")
        local c = J:timer(in_state(J, "nudge", { variant = "silent", timer_go = "call" }), debt(), ctx())
        assert_sends(c, { "call:early_call" })
        assert_timer(c, "nudge", "2026-11-30T15:00:00Z")
        assert_eq(jspec.missing_templates(J, debt(), ctx()), {})
        assert_eq(jspec.stop_problems(J, debt(), ctx(), seg.STOP_HANDOFFS), {})
    end)
end)
