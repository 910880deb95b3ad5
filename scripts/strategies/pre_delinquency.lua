-- scripts/strategies/pre_delinquency.lua: not yet past due (days_past_due <= 0),
-- a payment coming due; by risk (segment.pre_risk). A debt without days_past_due
-- is never taken here (strategy.stage: it was placed for collection, so it is
-- past due). Nothing is sent when no due date is known.
--
--   low risk   : one email; they pay on their own
--   medium risk: an email and a push notification, an SMS 3 days later
--   high risk  : an email and an SMS at once, a push and a second SMS 3 days
--                later: the earlier a likely roll is caught, the cheaper
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "pre_delinquency",
    version = 2,
    priority = 9,
    segment = function(d) return not seg.any_stop(d) and strategy.stage(d) == "pre" end,
    migrate = { [1] = {} },
    send_window = { "09:00", "19:00" },
    start = "start",
    states = seg.contact_states({
        start = { enter = function(j, d)
                      if not d.due_date then return j:move("waiting") end
                      local r = seg.pre_risk(d)
                      if r == "low" then return j:move("light") end
                      if r == "high" then return j:move("early_catch") end
                      j:move("remind")
                  end },
        light = { description = "low risk: one email",
                  enter = function(j) seg.send(j, "pre_due_reminder", { "email", "push" }) end,
                  after = { days(7), "waiting" } },
        remind = { enter = function(j)
                       j:send("email", "pre_due_reminder")
                       j:send("push", "pre_due_reminder")
                   end,
                   after = { days(3), "nudge" } },
        nudge = { enter = function(j) j:send("sms", "pre_due_reminder") end,
                  after = { days(4), "waiting" } },
        early_catch = { description = "high risk: email and SMS at once",
                        enter = function(j)
                            j:send("email", "pre_due_reminder")
                            seg.send(j, "pre_due_reminder", { "sms", "push" })
                        end,
                        after = { days(3), "second" } },
        second = { enter = function(j)
                       j:send("push", "pre_due_reminder")
                       seg.send(j, "pre_due_reminder", { "sms", "email" })
                   end,
                   after = { days(4), "waiting" } },
        waiting = { description = "no more reminders; the debt moves on when it goes past due" },
    }),
    on = seg.contact_on({ partial_payment = strategy.ignore }),
}
