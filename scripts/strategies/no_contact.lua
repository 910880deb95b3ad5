-- scripts/strategies/no_contact.lua: the consumer asked us to stop (cease) or
-- is represented by an attorney when the debt is segmented. Priority 0: tried
-- before every other journey. Sends nothing, ever. A bankruptcy or a death
-- learnt later hands the debt to its own journey (which sends nothing either
-- but files the claim).
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "no_contact",
    version = 2,
    priority = 0,
    description = "cease or attorney: no contact",
    segment = function(d) return seg.stopped(d) end,
    migrate = { [1] = {} },
    start = "stopped",
    states = seg.common_states({ stopped = strategy.stopped("no contact: cease or attorney") }),
    on = seg.stop_events({ payment = "paid" }),
}
