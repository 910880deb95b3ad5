-- examples/strategies/dpd/mid_stage.lua: 31 to 90 days past due. Email and SMS, a
-- call 3 business days later, a letter after 5 more business days, WhatsApp 10
-- days after the letter, and the cycle again a week later.
local journey = require("lib.journey")
local strategy = require("lib.strategy")

return journey {
    id = "mid_stage",
    version = 1,
    priority = 30,
    segment = function(d) return not strategy.flagged(d) and strategy.stage(d) == "mid" end,
    send_window = { "09:00", "19:00" },
    start = "digital",
    states = {
        -- SMS only to those who consented (strategy.can); a channel refused
        -- for good moves on by the fallback below.
        digital = { enter = function(j)
                        strategy.send_first(j, "mid_reminder", { "email", "letter" })
                        if strategy.can(j.debt, "sms") then j:send("sms", "mid_reminder") end
                    end,
                    after = { business_days(3), "call" } },
        call = { enter = function(j) j:send("call", "mid_call") end,
                 after = { business_days(5), "letter" } },
        letter = { enter = function(j) j:send("letter", "mid_letter") end,
                   after = { days(10), "whatsapp" } },
        whatsapp = { enter = function(j) strategy.send_first(j, "mid_reminder", { "whatsapp", "sms", "email" }) end,
                     after = { days(7), "digital" } },
        paid = { final = "paid" },
        promised = strategy.handoff("promise_watch"),
        disputed = strategy.handoff("dispute_hold"),
        hardship = strategy.handoff("hardship"),
        stopped = strategy.stopped(),
    },
    blocked = strategy.fallback({ call = { "sms", "email", "letter" }, whatsapp = { "sms", "email" },
                                  letter = { "email" } }),
    on = strategy.stop_events({ payment = "paid", promise = "promised", dispute = "disputed",
                                hardship = "hardship",
                                partial_payment = function(j) j:note("partial payment") end }),
}
