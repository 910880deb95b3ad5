-- scripts/strategies/deceased_estate.lua: the consumer has died. Nothing goes
-- to the consumer's own number, address or email; the debt is a claim on the
-- estate, and only its personal representative may be spoken to (12 CFR
-- 1006.2(e), 1006.6(a)(4)). An agent finds the representative and files the
-- claim in probate: the debt goes to the estate_claims queue once and waits
-- for the estate's payment. No collection pressure on the family.
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "deceased_estate",
    version = 1,
    priority = 2,
    description = "deceased: no contact with the consumer; a claim on the estate",
    segment = function(d) return seg.flag(d, "deceased") and not seg.flag(d, "bankruptcy") end,
    start = "estate",
    states = {
        estate = { description = "queue the estate claim, then wait for the estate",
                   enter = function(j)
                       j:note("deceased: no contact with the consumer")
                       j:queue("estate_claims", { reason = "find the personal representative; claim on the estate" })
                   end,
                   on = { promise = strategy.ignore, broken_promise = strategy.ignore, dispute = strategy.ignore,
                          dispute_verified = strategy.ignore, hardship = strategy.ignore,
                          inbound_reply = strategy.ignore, consent = strategy.ignore, contact = strategy.ignore,
                          placement = strategy.ignore, deceased = strategy.ignore,
                          partial_payment = function(j) j:note("payment from the estate") end } },
        paid = { final = "paid" },
        stopped = strategy.stopped("no contact: cease or attorney for the estate"),
        to_bankruptcy = strategy.handoff("bankruptcy"),
    },
    on = { payment = "paid", cease = "stopped", attorney = "stopped", bankruptcy = "to_bankruptcy" },
}
