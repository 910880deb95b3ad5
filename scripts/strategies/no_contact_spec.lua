-- Specs for strategies/no_contact.lua: a debt flagged cease, attorney,
-- bankruptcy or deceased is never contacted.
local J = require("strategies.no_contact")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local ctx, debt = jspec.ctx, jspec.debt

describe("segment", function()
    it("each stop flag is taken, at every dpd, before everything else", function()
        local want = { cease = "no_contact", attorney = "no_contact", bankruptcy = "bankruptcy",
                       deceased = "deceased_estate" }
        for f, id in pairs(want) do
            for _, dpd in ipairs({ 0, 15, 60, 120 }) do
                local d = debt({ days_past_due = dpd, flags = { [f] = true }, dispute = "pending", hardship = true })
                assert_eq(journeys.select(d).id, id, f .. " " .. dpd)
            end
        end
    end)
    it("other flags are not", function()
        assert_true(not J:matches(debt({ flags = { scra = true, no_work_contact = true } })))
        assert_true(not J:matches(debt({ flags = {} })))
        assert_true(not J:matches(debt({ flags = { cease = false } })))
    end)
end)

describe("no contact", function()
    it("starts stopped: a note, no send, no timer", function()
        local r = J:start(debt({ flags = { cease = true } }), ctx())
        assert_state(r, "stopped")
        assert_sends(r, {})
        assert_timer(r, nil)
        assert_eq(#jspec.actions(r, "note"), 1)
    end)
    it("sends nothing in any state, whatever happens", function()
        assert_eq(jspec.all_sends(J, debt(), ctx()), {})
        assert_eq(jspec.stop_problems(J, debt(), ctx(), require("strategies.segment").STOP_HANDOFFS), {})
    end)
    it("payment closes", function()
        assert_eq(J:event(in_state(J, "stopped", { variant = "default" }), debt(), { type = "payment" }, ctx()).closed, "paid")
    end)
end)
