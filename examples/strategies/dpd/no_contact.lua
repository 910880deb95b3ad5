-- examples/strategies/dpd/no_contact.lua: debts that carry a no-contact flag when they
-- are segmented (cease, attorney, bankruptcy, deceased; see lib/strategy.lua).
-- Priority 0: tried before every other journey. Sends nothing, ever.
local journey = require("lib.journey")
local strategy = require("lib.strategy")

return journey {
    id = "no_contact",
    version = 1,
    priority = 0,
    description = "cease, attorney, bankruptcy or deceased: no contact",
    segment = function(d) return strategy.flagged(d) end,
    start = "stopped",
    states = {
        stopped = strategy.stopped(),
        paid = { final = "paid" },
    },
    on = strategy.stop_events({ payment = "paid" }),
}
