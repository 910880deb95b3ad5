-- scripts/strategies/skip_trace.lua: no channel may be used (no phone, email
-- or address on file that works, or every one opted out or bounced). Any send
-- would be refused, so none is planned: the debt goes to the skip_trace queue,
-- where an agent looks for a new contact point, again every 30 days. A new
-- phone, email or address hands the debt back to segmentation, which routes
-- it to the journey it now fits.
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "skip_trace",
    version = 1,
    priority = 7,
    description = "no usable contact point: trace the consumer",
    segment = function(d) return not seg.any_stop(d) and seg.unreachable(d) end,
    start = "trace",
    states = seg.contact_states({
        trace = { description = "queue for tracing, and again every 30 days",
                  enter = function(j) j:queue("skip_trace", { reason = "no usable phone, email or address" }) end,
                  after = { days(30), "retrace" } },
        retrace = { enter = function(j) j:move("trace") end },
        found = strategy.handoff("segment"),
    }),
    on = seg.contact_on({ address_change = "found", phone_change = "found", email_change = "found",
                          consent = "found" }),
}
