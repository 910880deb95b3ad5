-- examples/strategies/dpd/early_stage.lua: 1 to 30 days past due, digital first; also
-- a debt placed without days_past_due that is not charged off (strategy.stage).
--
-- Champion/challenger: ONE journey with `variants` (champion 90%, sms_first 10%),
-- not two journeys sharing a segment. Why: the split is then done by the runtime
-- (tm.bucket("early_stage:" .. debt id)), stable per debt, and both arms share the
-- same states, timers, event handling and stop rules, so the only difference
-- measured is the one tested (which channel goes first). Two journeys would need
-- two segments kept in step by hand and a split written in each segment function.
--
--   champion : email, then SMS after 3 days, then a call 2 business days later
--   sms_first: SMS, then email after 3 days, then the same call
-- A week after the call the cycle starts again.
local journey = require("lib.journey")
local strategy = require("lib.strategy")

return journey {
    id = "early_stage",
    version = 1,
    priority = 20,
    segment = function(d) return not strategy.flagged(d) and strategy.stage(d) == "early" end,
    variants = { champion = 90, sms_first = 10 },
    send_window = { "09:00", "19:00" },
    start = "remind",
    states = {
        -- Each send goes on the first channel of its list the consumer may be
        -- reached on (consent, opt-outs, contact points on file); a send the
        -- gate refuses for good moves on by strategy.fallback.
        remind = {
            enter = function(j)
                if j.variant == "sms_first" then
                    strategy.send_first(j, "early_reminder", { "sms", "email", "letter" })
                else
                    strategy.send_first(j, "early_reminder", { "email", "sms", "letter" })
                end
            end,
            after = { days(3), "nudge" },
        },
        nudge = {
            enter = function(j)
                if j.variant == "sms_first" then
                    strategy.send_first(j, "early_reminder", { "email", "letter" })
                else
                    strategy.send_first(j, "early_reminder", { "sms", "letter" })
                end
            end,
            after = { business_days(2), "call" },
        },
        call = { enter = function(j) j:send("call", "early_call") end,
                 after = { days(7), "remind" } },
        paid = { final = "paid" },
        promised = strategy.handoff("promise_watch"),
        disputed = strategy.handoff("dispute_hold"),
        hardship = strategy.handoff("hardship"),
        stopped = strategy.stopped(),
    },
    blocked = strategy.fallback(),
    on = strategy.stop_events({ payment = "paid", promise = "promised", dispute = "disputed",
                                hardship = "hardship",
                                partial_payment = function(j) j:note("partial payment") end }),
}
