-- examples/strategies/dpd/promise_watch.lua: an open promise to pay
-- (debt.promise = { amount =, due = "YYYY-MM-DD" }). An SMS reminder at 10:00 the
-- day before the due date; a payment keeps the promise; a broken promise gets an
-- email, then after 3 business days the debt goes back to its days-past-due
-- journey.
local journey = require("lib.journey")
local strategy = require("lib.strategy")

return journey {
    id = "promise_watch",
    version = 1,
    priority = 3,
    segment = function(d) return not strategy.flagged(d) and type(d.promise) == "table" end,
    start = "watching",
    states = {
        watching = {
            description = "wait for the day before the due date",
            enter = function(j, d)
                local due = d.promise and d.promise.due
                if type(due) ~= "string" then return j:move("remind") end
                local n = strategy.days_between(j.zone, strategy.today(j), tm.time.add_days(due, -1))
                if n < 0 then return j:move("remind") end
                j:at("10:00", "remind", n)
            end,
        },
        remind = { enter = function(j) j:send("sms", "promise_reminder") end },
        broken = { enter = function(j) j:send("email", "broken_promise") end,
                   after = { business_days(3), "back" } },
        back = strategy.handoff("dpd_journey"),
        kept = { final = "promise_kept" },
        stopped = strategy.stopped(),
    },
    on = strategy.stop_events({ payment = "kept", broken_promise = "broken",
                                partial_payment = strategy.ignore,
                                promise = "watching" }),
}
