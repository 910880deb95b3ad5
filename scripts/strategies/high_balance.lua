-- scripts/strategies/high_balance.lua: past due, a balance of $5,000 or more,
-- and a propensity to pay under the low-risk band (segment.capacity is "low"):
-- the consumer is unlikely to clear it in one payment, and asking for the
-- whole balance gets nothing. Plans first: a 12-month plan with the first
-- payment in 14 days, a call 3 business days later to talk it through, a
-- 24-month plan 10 days on, then the plan desk (an agent).
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "high_balance",
    version = 1,
    priority = 12,
    description = "high balance, low capacity: installment plans first",
    segment = function(d)
        return not seg.any_stop(d) and strategy.stage(d) ~= "pre" and not seg.settlement_stage(d)
            and seg.capacity(d) == "low"
    end,
    send_window = { "09:00", "19:00" },
    start = "plan",
    states = seg.contact_states({
        plan = { description = "twelve monthly payments",
                 enter = function(j)
                     j:offer_plan { count = 12, frequency = "monthly",
                                    first = tm.time.add_days(strategy.today(j), 14) }
                     strategy.send_first(j, "plan_offer", { "email", "letter" })
                 end,
                 after = { business_days(3), "call" } },
        call = { enter = function(j)
                     if seg.callable(j.debt) then j:send("call", "mid_call", { at = seg.SEND_AT })
                     else seg.send(j, "mid_reminder", { "sms", "email", "letter" }) end
                 end,
                 after = { days(10), "longer" } },
        longer = { description = "a longer plan: twenty-four monthly payments",
                   enter = function(j)
                       j:offer_plan { count = 24, frequency = "monthly",
                                      first = tm.time.add_days(strategy.today(j), 14) }
                       j:send("letter", "plan_offer")
                   end,
                   after = { days(14), "desk" } },
        desk = { enter = function(j) j:queue("plan_desk", { reason = "plans not taken" }) end,
                 after = { days(30), "plan" } },
    }),
    blocked = strategy.fallback(),
    on = seg.contact_on(),
}
