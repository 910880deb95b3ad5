-- Specs for strategies/skip_trace.lua: no usable contact point.
local J = require("strategies.skip_trace")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local seg = require("strategies.segment")
local ctx, debt = jspec.ctx, jspec.debt

describe("skip_trace", function()
    it("takes a debt with no channel left; one with a letter goes on", function()
        assert_eq(journeys.select(debt({ channels = {} })).id, "skip_trace")
        assert_true(not J:matches(debt({ channels = { letter = true } })))
        assert_true(not J:matches(debt()))
    end)
    it("queues for tracing, sends nothing, traces again in 30 days", function()
        local r = J:start(debt({ channels = {} }), ctx())
        assert_sends(r, {})
        assert_eq(jspec.actions(r, "queue")[1].queue, "skip_trace")
        assert_timer(r, "retrace", "2026-12-23T15:00:00Z")
        assert_eq(jspec.all_sends(J, debt(), ctx()), {})
    end)
    it("a new phone, email or address hands the debt back to segmentation", function()
        for _, ev in ipairs({ "phone_change", "email_change", "address_change" }) do
            assert_eq(J:event(in_state(J, "trace"), debt(), { type = ev }, ctx()).closed, "handoff:segment", ev)
        end
        assert_eq(jspec.stop_problems(J, debt(), ctx(), seg.STOP_HANDOFFS), {})
    end)
end)
