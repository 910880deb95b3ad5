-- examples/strategies/dpd/late_stage.lua: 91 days past due and more (91-180 is the
-- core of it; older debts stay here too, with a deeper first offer, so that every
-- debt lands in a journey), and a charged-off debt placed without
-- days_past_due (strategy.stage), which gets the older debts' offers. Settlement offers by letter and email, a call, a
-- deeper offer (needs a supervisor's authority), then an agent queue.
--
--   first offer : 70% of the balance (91-180 dpd) or 50% (181+), role agent
--   second offer: 60% (91-180) or 40% (181+), role supervisor
-- Each offer is checked against authority by the engine (tm.pay.settlement).
local journey = require("lib.journey")
local strategy = require("lib.strategy")

-- The offer for the debt's age: a debt without days_past_due is here because
-- it is charged off (strategy.stage), so it gets the older debts' offer.
local function pct(d, young, old)
    local dpd = d.days_past_due
    if dpd and dpd <= 180 then return young end
    return old
end

return journey {
    id = "late_stage",
    version = 1,
    priority = 40,
    segment = function(d) return not strategy.flagged(d) and strategy.stage(d) == "late" end,
    send_window = { "09:00", "19:00" },
    start = "offer",
    states = {
        offer = { enter = function(j, d)
                      j:offer_settlement { percent = pct(d, 70, 50), role = "agent" }
                      j:send("letter", "settlement_offer")
                      j:send("email", "settlement_offer")
                  end,
                  after = { days(14), "call" } },
        call = { enter = function(j) j:send("call", "settlement_call") end,
                 after = { business_days(5), "deeper" } },
        deeper = { enter = function(j, d)
                       j:offer_settlement { percent = pct(d, 60, 40), role = "supervisor" }
                       j:send("letter", "settlement_offer")
                   end,
                   after = { days(30), "review" } },
        review = { enter = function(j) j:queue("late_stage_review", { reason = "offers not taken" }) end },
        paid = { final = "paid" },
        promised = strategy.handoff("promise_watch"),
        disputed = strategy.handoff("dispute_hold"),
        hardship = strategy.handoff("hardship"),
        stopped = strategy.stopped(),
    },
    blocked = strategy.fallback({ call = { "letter", "email" }, letter = { "email" } }),
    on = strategy.stop_events({ payment = "paid", promise = "promised", dispute = "disputed",
                                hardship = "hardship",
                                partial_payment = function(j) j:note("partial payment") end }),
}
