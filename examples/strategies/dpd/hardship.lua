-- examples/strategies/dpd/hardship.lua: the consumer told us of a hardship. Pause
-- (no contact) for 14 days, then offer an installment plan (6 monthly payments,
-- the first 30 days out) by email and letter, then hand to an agent.
local journey = require("lib.journey")
local strategy = require("lib.strategy")

return journey {
    id = "hardship",
    version = 1,
    priority = 2,
    segment = function(d) return not strategy.flagged(d) and d.hardship == true end,
    send_window = { "09:00", "19:00" },
    start = "pause",
    states = {
        pause = { description = "no contact for 14 days",
                  enter = function(j) j:note("hardship: contact paused") end,
                  after = { days(14), "offer" } },
        offer = {
            enter = function(j)
                j:offer_plan { count = 6, frequency = "monthly",
                               first = tm.time.add_days(strategy.today(j), 30) }
                j:send("email", "plan_offer")
                j:send("letter", "plan_offer")
            end,
            after = { days(10), "review" },
        },
        review = { enter = function(j) j:queue("hardship_review", { reason = "plan offer not taken" }) end },
        on_plan = { description = "plan accepted: wait for its payments",
                    on = { broken_promise = "review" } },
        paid = { final = "paid" },
        stopped = strategy.stopped(),
    },
    on = strategy.stop_events({ payment = "paid", promise = "on_plan", hardship = "pause",
                                partial_payment = strategy.ignore }),
}
