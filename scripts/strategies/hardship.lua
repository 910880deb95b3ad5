-- scripts/strategies/hardship.lua: the consumer told us of a hardship (low
-- capacity, stated). Pause (no contact) for 14 days, then offer an installment
-- plan (6 monthly payments, the first 30 days out) by email and letter, then
-- hand to an agent.
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "hardship",
    version = 2,
    priority = 4,
    segment = function(d) return not seg.any_stop(d) and d.hardship == true end,
    migrate = { [1] = {} },
    send_window = { "09:00", "19:00" },
    start = "pause",
    states = seg.common_states({
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
    }),
    on = seg.stop_events({ payment = "paid", promise = "on_plan", hardship = "pause",
                           partial_payment = strategy.ignore }),
}
