-- examples/strategies/dpd/pre_delinquency.lua: not yet past due (days_past_due <= 0),
-- a payment coming due. A debt without days_past_due is never taken here
-- (strategy.stage: it was placed for collection, so it is past due). An email and a push notification now, an SMS 3 days
-- later, then wait. Nothing is sent when no due date is known.
local journey = require("lib.journey")
local strategy = require("lib.strategy")

return journey {
    id = "pre_delinquency",
    version = 1,
    priority = 10,
    segment = function(d) return not strategy.flagged(d) and strategy.stage(d) == "pre" end,
    send_window = { "09:00", "19:00" },
    start = "start",
    states = {
        start = { enter = function(j, d)
                      if d.due_date then j:move("remind") else j:move("waiting") end
                  end },
        remind = { enter = function(j)
                       j:send("email", "pre_due_reminder")
                       j:send("push", "pre_due_reminder")
                   end,
                   after = { days(3), "nudge" } },
        nudge = { enter = function(j) j:send("sms", "pre_due_reminder") end,
                  after = { days(4), "waiting" } },
        waiting = { description = "no more reminders; the debt moves on when it goes past due" },
        paid = { final = "paid" },
        promised = strategy.handoff("promise_watch"),
        disputed = strategy.handoff("dispute_hold"),
        hardship = strategy.handoff("hardship"),
        stopped = strategy.stopped(),
    },
    on = strategy.stop_events({ payment = "paid", promise = "promised", dispute = "disputed",
                                hardship = "hardship", partial_payment = strategy.ignore }),
}
