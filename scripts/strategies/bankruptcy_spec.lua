-- Specs for strategies/bankruptcy.lua: no contact; a proof of claim is queued.
local J = require("strategies.bankruptcy")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local ctx, debt = jspec.ctx, jspec.debt

describe("bankruptcy", function()
    it("takes a debt flagged bankruptcy, before a dispute or a cease", function()
        assert_eq(journeys.select(debt({ flags = { bankruptcy = true, cease = true }, dispute = "pending" })).id,
                  "no_contact")
        assert_eq(journeys.select(debt({ flags = { bankruptcy = true }, dispute = "pending" })).id, "bankruptcy")
        assert_true(not J:matches(debt()))
    end)
    it("queues the proof of claim once and sends nothing, ever", function()
        local r = J:start(debt({ flags = { bankruptcy = true } }), ctx())
        assert_state(r, "claim")
        assert_sends(r, {})
        assert_timer(r, nil)
        assert_eq(jspec.actions(r, "queue")[1].queue, "bankruptcy_claims")
        assert_eq(jspec.all_sends(J, debt(), ctx()), {})
        for _, ev in ipairs({ "promise", "dispute", "hardship", "inbound_reply", "contact", "partial_payment" }) do
            local r2 = J:event(jspec.js(r), debt(), { type = ev }, ctx())
            assert_sends(r2, {}, ev)
            assert_state(r2, "claim", ev)
        end
    end)
    it("a payment from the trustee that clears the balance closes it", function()
        assert_eq(J:event(in_state(J, "claim"), debt(), { type = "payment" }, ctx()).closed, "paid")
    end)
end)
