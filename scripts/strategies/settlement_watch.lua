-- scripts/strategies/settlement_watch.lua: the consumer accepted a settlement
-- (a promise for less than the balance on a charged-off debt, or one over 180
-- days past due: segment.settlement_promise). No collection messages while it
-- runs: one reminder three days before the due date, the debt closes as
-- settled once the agreed amount is paid, and a settlement not paid goes back
-- to the settlement campaign after one email and a call.
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "settlement_watch",
    version = 1,
    priority = 5,
    description = "an accepted settlement: remind once, close as settled when paid",
    segment = function(d) return not seg.any_stop(d) and seg.settlement_promise(d) end,
    send_window = { "09:00", "19:00" },
    start = "watching",
    states = seg.contact_states({
        watching = {
            description = "wait until three days before the due date",
            enter = function(j, d)
                local due = d.promise and d.promise.due
                if type(due) ~= "string" then return j:move("remind") end
                local n = strategy.days_between(j.zone, strategy.today(j), tm.time.add_days(due, -3))
                if n < 0 then return j:move("remind") end
                j:at("10:00", "remind", n)
            end,
        },
        remind = { description = "one reminder of the settlement's due date",
                   enter = function(j) strategy.send_first(j, "promise_reminder", { "sms", "email" }) end },
        broken = { description = "the settlement was not paid: one email and a call",
                   enter = function(j)
                       strategy.send_first(j, "broken_promise", { "email", "letter" })
                       if seg.callable(j.debt) then j:send("call", "settlement_call", { at = seg.SEND_AT }) end
                   end,
                   after = { business_days(5), "back" } },
        back = strategy.handoff("settlement_campaign"),
        settled = { final = "settled" },
    }),
    on = seg.stop_events({
        payment = "paid", broken_promise = "broken", promise = "watching",
        -- The promise is kept (closed) once the payments since it add up to
        -- its amount: the debt is settled although a balance is left.
        partial_payment = function(j, d)
            if type(d.promise) ~= "table" then return j:move("settled") end
            j:note("part of the settlement paid")
        end,
    }),
}
