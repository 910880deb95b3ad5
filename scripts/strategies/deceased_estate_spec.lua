-- Specs for strategies/deceased_estate.lua: no contact with the consumer; the
-- estate claim is queued.
local J = require("strategies.deceased_estate")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local ctx, debt = jspec.ctx, jspec.debt

describe("deceased_estate", function()
    it("takes a debt flagged deceased (bankruptcy comes first)", function()
        assert_eq(journeys.select(debt({ flags = { deceased = true } })).id, "deceased_estate")
        assert_eq(journeys.select(debt({ flags = { deceased = true, bankruptcy = true } })).id, "bankruptcy")
        assert_true(not J:matches(debt()))
    end)
    it("queues the estate claim and sends nothing, whatever happens", function()
        local r = J:start(debt({ flags = { deceased = true } }), ctx())
        assert_state(r, "estate")
        assert_sends(r, {})
        assert_eq(jspec.actions(r, "queue")[1].queue, "estate_claims")
        assert_eq(jspec.all_sends(J, debt(), ctx()), {})
        for _, ev in ipairs({ "promise", "dispute", "hardship", "inbound_reply", "consent", "partial_payment" }) do
            assert_sends(J:event(jspec.js(r), debt(), { type = ev }, ctx()), {}, ev)
        end
    end)
    it("a bankruptcy hands over; a payment closes", function()
        assert_eq(J:event(in_state(J, "estate"), debt(), { type = "bankruptcy" }, ctx()).closed, "handoff:bankruptcy")
        assert_eq(J:event(in_state(J, "estate"), debt(), { type = "payment" }, ctx()).closed, "paid")
    end)
end)
