-- Specs for strategies/reaged_returned.lua. 2026-11-23 is a Monday; 15:00Z is
-- 10:00 in New York. Thanksgiving is Thursday 2026-11-26.
local J = require("strategies.reaged_returned")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local seg = require("strategies.segment")
local ctx = jspec.ctx

local function debt(over)
    return jspec.debt(merge({ days_past_due = 40, charge_off_date = "2025-06-30", debt_type = "credit_card",
                              state = "NY", balance = 125000, placed_balance = 125000,
                              last_payment_date = "2026-10-01" }, over or {}))
end

describe("reaged_returned", function()
    it("takes a charged-off debt under 180 days past due; not one past 180, not one not charged off", function()
        assert_eq(journeys.select(debt()).id, "reaged_returned")
        assert_eq(journeys.select(debt({ days_past_due = 200 })).id, "settlement_campaign")
        local d = debt()
        d.charge_off_date = nil
        assert_true(not J:matches(d))
    end)
    it("restates the debt by letter and email, then a plan of six, a call, a settlement at 60%", function()
        local r = J:start(debt(), ctx())
        assert_sends(r, { "letter:mid_letter", "email:mid_reminder" })
        assert_timer(r, "plan", "2026-11-30T15:00:00Z")
        local p = J:timer(jspec.js(r), debt(), ctx())
        assert_eq(jspec.actions(p, "offer_plan")[1].plan.count, 6)
        assert_timer(p, "call", "2026-11-27T15:00:00Z")
        local c = J:timer(jspec.js(p), debt(), ctx())
        assert_sends(c, { "call:mid_call" })
        assert_sends(J:timer(jspec.js(p), debt({ channels = { email = true } }), ctx()), { "email:mid_reminder" })
        local s = J:timer(jspec.js(c), debt(), ctx())
        local o = jspec.actions(s, "offer_settlement")[1]
        assert_eq({ o.percent, o.role }, { 60, "agent" })
        assert_timer(s, "review", "2026-12-23T15:00:00Z")
        assert_eq(jspec.missing_templates(J, debt(), ctx()), {})
        assert_eq(jspec.stop_problems(J, debt(), ctx(), seg.STOP_HANDOFFS), {})
    end)
end)
