-- scripts/strategies/bankruptcy.lua: the consumer filed for bankruptcy. The
-- automatic stay (11 U.S.C. 362(a)) forbids any act to collect: no message
-- goes to the consumer. The creditor's remedy is a proof of claim in the case,
-- which an agent files: the debt goes to the bankruptcy_claims queue once,
-- then waits for a distribution from the trustee (a payment).
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "bankruptcy",
    version = 1,
    priority = 1,
    description = "bankruptcy: no contact (automatic stay); a proof of claim is filed",
    segment = function(d) return seg.flag(d, "bankruptcy") end,
    start = "claim",
    states = {
        claim = { description = "queue the proof of claim, then wait for the trustee",
                  enter = function(j)
                      j:note("bankruptcy: automatic stay, no contact")
                      j:queue("bankruptcy_claims", { reason = "file a proof of claim (11 U.S.C. 501)" })
                  end,
                  on = { promise = strategy.ignore, broken_promise = strategy.ignore, dispute = strategy.ignore,
                         dispute_verified = strategy.ignore, hardship = strategy.ignore,
                         inbound_reply = strategy.ignore, consent = strategy.ignore, contact = strategy.ignore,
                         placement = strategy.ignore, partial_payment = function(j) j:note("trustee payment") end,
                         bankruptcy = strategy.ignore } },
        paid = { final = "paid" },
        stopped = strategy.stopped("no contact: cease or attorney, in bankruptcy"),
    },
    on = { payment = "paid", cease = "stopped", attorney = "stopped", deceased = strategy.ignore },
}
