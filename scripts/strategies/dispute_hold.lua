-- scripts/strategies/dispute_hold.lua: a pending dispute stops collection until
-- the debt is verified (15 U.S.C. 1692g(b); 12 CFR 1006.38(d)(2)). No contact
-- at all while on hold; on dispute_verified the journey closes
-- ("dispute_verified") and the engine segments the debt again (the
-- verification itself is mailed by the engine's letter service, outside the
-- journeys).
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "dispute_hold",
    version = 2,
    priority = 3,
    description = "dispute pending: hold, no contact, until verified",
    segment = function(d) return not seg.any_stop(d) and d.dispute == "pending" end,
    migrate = { [1] = {} },
    start = "hold",
    states = seg.common_states({
        hold = { description = "no contact while the dispute is pending",
                 enter = function(j) j:note("on hold: dispute pending") end,
                 on = { promise = strategy.ignore, hardship = strategy.ignore,
                        broken_promise = strategy.ignore, dispute = strategy.ignore } },
        verified = { description = "verification mailed: back to collection", final = "dispute_verified" },
    }),
    on = seg.stop_events({ dispute_verified = "verified", payment = "paid" }),
}
