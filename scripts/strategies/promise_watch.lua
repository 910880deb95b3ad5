-- scripts/strategies/promise_watch.lua: an open promise to pay
-- (debt.promise = { amount =, due = "YYYY-MM-DD" }), and the recovery of a
-- broken one. An SMS reminder at 10:00 the day before the due date; a payment
-- keeps the promise. A broken promise is the strongest sign of willingness we
-- get after a payment: the consumer meant to pay and could not, so the
-- recovery asks again at once and offers a smaller step.
--
--   champion (80%): the broken-promise email, a call the next evening, then a
--                   three-payment plan offer after 3 business days; 7 days on,
--                   back to the debt's own journey
--   email_only (20%): the broken-promise email, then back after 3 business
--                   days (the days-past-due library's recovery)
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "promise_watch",
    version = 2,
    priority = 6,
    segment = function(d) return not seg.any_stop(d) and type(d.promise) == "table" end,
    migrate = { [1] = {} },
    variants = { champion = 80, email_only = 20 },
    start = "watching",
    states = seg.common_states({
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
        broken = { enter = function(j)
                       j:send("email", "broken_promise")
                       if j.variant == "champion" and seg.callable(j.debt) then
                           -- best_slot: the call's moment is the fixed evening hour until
                           -- j:best_slot is in the engine.
                           j:send("call", "mid_call", { at = seg.SEND_AT })
                       end
                       if j.variant == "champion" then j:after(business_days(3), "replan") end
                   end,
                   after = { business_days(3), "back" } },
        replan = { description = "a smaller step: three monthly payments",
                   enter = function(j)
                       j:offer_plan { count = 3, frequency = "monthly",
                                      first = tm.time.add_days(strategy.today(j), 14) }
                       strategy.send_first(j, "plan_offer", { "email", "letter" })
                   end,
                   after = { days(7), "back" } },
        back = strategy.handoff("dpd_journey"),
        kept = { final = "promise_kept" },
    }),
    on = seg.stop_events({ payment = "kept", broken_promise = "broken",
                           partial_payment = strategy.ignore,
                           promise = "watching" }),
}
