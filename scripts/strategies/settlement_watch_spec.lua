-- Specs for strategies/settlement_watch.lua. 2026-11-23 is a Monday; 15:00Z is
-- 10:00 in New York.
local J = require("strategies.settlement_watch")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local seg = require("strategies.segment")
local ctx = jspec.ctx

local function debt(over)
    return jspec.debt(merge({ days_past_due = 400, charge_off_date = "2026-01-01", balance = 200000,
                              promise = { amount = 100000, due = "2026-12-10" } }, over or {}))
end

describe("settlement_watch", function()
    it("takes a promise for less than the balance on a charged-off debt; a full promise is promise_watch", function()
        assert_eq(journeys.select(debt()).id, "settlement_watch")
        assert_eq(journeys.select(debt({ promise = { amount = 200000, due = "2026-12-10" } })).id, "promise_watch")
    end)
    it("one reminder 3 days before the due date at 10:00", function()
        local r = J:start(debt(), ctx())
        assert_state(r, "watching")
        assert_sends(r, {})
        assert_timer(r, "remind", "2026-12-07T15:00:00Z")
        assert_sends(J:timer(jspec.js(r), debt(), ctx("2026-12-07T15:00:00Z")), { "sms:promise_reminder" })
    end)
    it("the agreed amount paid (the promise closed) settles; part of it is noted", function()
        local d = debt()
        d.promise = nil
        assert_eq(J:event(in_state(J, "watching"), d, { type = "partial_payment" }, ctx()).closed, "settled")
        assert_state(J:event(in_state(J, "watching"), debt(), { type = "partial_payment" }, ctx()), "watching")
    end)
    it("broken: an email and a call, back to the campaign after 5 business days", function()
        local r = J:event(in_state(J, "remind"), debt(), { type = "broken_promise" }, ctx())
        assert_sends(r, { "email:broken_promise", "call:settlement_call" })
        assert_timer(r, "back", "2026-12-01T15:00:00Z")
        assert_eq(J:timer(jspec.js(r), debt(), ctx()).closed, "handoff:settlement_campaign")
        assert_eq(jspec.stop_problems(J, debt(), ctx(), seg.STOP_HANDOFFS), {})
    end)
end)
