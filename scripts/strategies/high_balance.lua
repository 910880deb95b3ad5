-- scripts/strategies/high_balance.lua: past due, a balance of $5,000 or more,
-- and a propensity to pay under the low-risk band (segment.capacity is "low"):
-- the consumer is unlikely to clear it in one payment, and asking for the
-- whole balance gets nothing. Plans first, and no less contact than the
-- stage journeys give (these are the largest balances: a right-party contact
-- is worth the most here, and a journey that only waits for a plan to be
-- taken collects less; see strategies.md, "The segmented library against the
-- days-past-due library"):
--
--   a 12-month plan (first payment in 14 days) with an SMS, a call 2 business
--   days later, a reminder 3 days on, a 24-month plan by letter and email 4
--   days later, a second call, a reminder, the plan desk, and the cycle again.
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

local function call(j)
    if seg.callable(j.debt) then j:send("call", "mid_call", { at = seg.SEND_AT })
    else seg.send(j, "mid_reminder", { "sms", "email", "letter" }) end
end

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
                     if strategy.can(j.debt, "sms") then j:send("sms", "mid_reminder", { at = seg.SEND_AT }) end
                 end,
                 after = { business_days(2), "call" } },
        call = { enter = call, after = { days(3), "remind" } },
        remind = { enter = function(j) seg.send(j, "mid_reminder", { "sms", "whatsapp", "email" }) end,
                   after = { days(4), "longer" } },
        longer = { description = "a longer plan: twenty-four monthly payments",
                   enter = function(j)
                       j:offer_plan { count = 24, frequency = "monthly",
                                      first = tm.time.add_days(strategy.today(j), 14) }
                       j:send("letter", "plan_offer")
                       strategy.send_first(j, "plan_offer", { "email" })
                   end,
                   after = { business_days(3), "call2" } },
        call2 = { enter = call, after = { days(4), "remind2" } },
        remind2 = { enter = function(j) seg.send(j, "mid_reminder", { "sms", "whatsapp", "email" }) end,
                    after = { days(7), "desk" } },
        desk = { enter = function(j) j:queue("plan_desk", { reason = "plans not taken" }) end,
                 after = { days(7), "plan" } },
    }),
    blocked = strategy.fallback(),
    on = seg.contact_on(),
}
