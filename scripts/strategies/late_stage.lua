-- scripts/strategies/late_stage.lua: 91 to 180 days past due and not charged
-- off (older and charged-off debts go to settlement_campaign), by risk band.
--
--   low risk        : a call and a letter asking for the balance, a
--                     six-payment plan 7 days later, a settlement at 70%
--                     (agent) 14 days on, then an agent queue
--   medium/high risk: the plan first, a call 3 business days later, the 70%
--                     settlement after 10 days, 60% (agent) 14 days on, then
--                     the queue
-- Each offer is checked against lib/authority.lua by the engine.
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

local function plan(j)
    j:offer_plan { count = 6, frequency = "monthly", first = tm.time.add_days(strategy.today(j), 14) }
    strategy.send_first(j, "plan_offer", { "email", "letter" })
end

return journey {
    id = "late_stage",
    version = 2,
    priority = 16,
    segment = function(d)
        return not seg.any_stop(d) and strategy.stage(d) == "late" and not seg.settlement_stage(d)
    end,
    migrate = { [1] = { states = { offer = "band", deeper = "settle" } } },
    send_window = { "09:00", "19:00" },
    start = "band",
    states = seg.contact_states({
        band = { enter = function(j, d)
                     local r = seg.risk(d)
                     j:note("risk " .. r)
                     if r == "low" then return j:move("ask") end
                     j:move("plan")
                 end },
        ask = { description = "low risk: ask for the balance",
                enter = function(j)
                    j:send("call", "mid_call", { at = seg.SEND_AT })
                    j:send("letter", "mid_letter")
                end,
                after = { days(7), "ask_plan" } },
        ask_plan = { enter = plan, after = { days(14), "settle" } },
        plan = { enter = plan, after = { business_days(3), "call" } },
        -- mid_call: no settlement is offered yet (settlement_call names one)
        call = { enter = function(j) j:send("call", "mid_call", { at = seg.SEND_AT }) end,
                 after = { days(10), "settle" } },
        settle = { description = "a settlement at 70%, an agent's authority",
                   enter = function(j)
                       j:offer_settlement { percent = 70, role = "agent" }
                       strategy.send_first(j, "settlement_offer", { "email", "letter" })
                   end,
                   after = { days(14), "deeper" } },
        deeper = { description = "60%, still an agent's authority",
                   enter = function(j)
                       j:offer_settlement { percent = 60, role = "agent" }
                       j:send("letter", "settlement_offer")
                   end,
                   after = { days(30), "review" } },
        review = { enter = function(j) j:queue("late_stage_review", { reason = "offers not taken" }) end },
    }),
    blocked = strategy.fallback({ call = { "letter", "email" }, letter = { "email" } }),
    on = seg.contact_on(),
}
