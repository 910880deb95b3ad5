-- scripts/strategies/reaged_returned.lua: an account charged off whose days
-- past due are under the 180 at which charge-off comes (segment.reaged): the
-- creditor re-aged it after payments, or placed it again after it came back
-- from another agency. Its days past due no longer say how old it is, and the
-- consumer has been through collection before: a first letter restates the
-- debt, then plans first (the consumer paid before, or was worked before
-- without result), a call, and only then a settlement at an agent's authority.
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "reaged_returned",
    version = 1,
    priority = 8,
    description = "re-aged or returned account: restate, plan first, then settle",
    segment = function(d) return not seg.any_stop(d) and seg.reaged(d) end,
    send_window = { "09:00", "19:00" },
    start = "restate",
    states = seg.contact_states({
        restate = { description = "a letter restating the debt, an email",
                    enter = function(j)
                        j:send("letter", "mid_letter")
                        seg.send(j, "mid_reminder", { "email", "sms" })
                    end,
                    after = { days(7), "plan" } },
        plan = { description = "an installment plan: six monthly payments",
                 enter = function(j)
                     j:offer_plan { count = 6, frequency = "monthly",
                                    first = tm.time.add_days(strategy.today(j), 14) }
                     strategy.send_first(j, "plan_offer", { "email", "letter" })
                 end,
                 after = { business_days(3), "call" } },
        call = { enter = function(j)
                     if seg.callable(j.debt) then j:send("call", "mid_call", { at = seg.SEND_AT })
                     else seg.send(j, "mid_reminder", { "sms", "email", "letter" }) end
                 end,
                 after = { days(14), "settle" } },
        settle = { description = "a settlement at 60%, within an agent's authority",
                   enter = function(j)
                       j:offer_settlement { percent = 60, role = "agent" }
                       strategy.send_first(j, "settlement_offer", { "email", "letter" })
                   end,
                   after = { days(30), "review" } },
        review = { enter = function(j) j:queue("returned_review", { reason = "plan and settlement not taken" }) end },
    }),
    blocked = strategy.fallback(),
    on = seg.contact_on(),
}
