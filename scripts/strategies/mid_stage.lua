-- scripts/strategies/mid_stage.lua: 31 to 90 days past due, by risk band.
--
--   low risk   : email and SMS, a letter 7 days later, a call after 7 more,
--                then again
--   medium risk: email and SMS, a call 3 business days later, a letter after
--                5 more business days, WhatsApp 10 days after the letter, the
--                cycle again a week later (the days-past-due library's)
--   high risk  : a call at once with an SMS or email, a letter 3 days later, a
--                second call 3 business days on, a three-payment plan after 7
--                days, then the cycle again
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "mid_stage",
    version = 2,
    priority = 15,
    segment = function(d) return not seg.any_stop(d) and strategy.stage(d) == "mid" end,
    migrate = { [1] = {} },
    send_window = { "09:00", "19:00" },
    start = "band",
    states = seg.contact_states({
        band = { description = "route by risk band",
                 enter = function(j, d)
                     local r = seg.risk(d)
                     j:note("risk " .. r)
                     if r == "low" then return j:move("low") end
                     if r == "high" then return j:move("high") end
                     j:move("digital")
                 end },
        low = { enter = function(j)
                    seg.send(j, "mid_reminder", { "email", "letter" })
                    if strategy.can(j.debt, "sms") then j:send("sms", "mid_reminder", { at = seg.SEND_AT }) end
                end,
                after = { days(7), "low_letter" } },
        low_letter = { enter = function(j) j:send("letter", "mid_letter") end,
                       after = { days(7), "low_call" } },
        low_call = { enter = function(j) j:send("call", "mid_call", { at = seg.SEND_AT }) end,
                     after = { days(10), "low" } },
        digital = { enter = function(j)
                        seg.send(j, "mid_reminder", { "email", "letter" })
                        if strategy.can(j.debt, "sms") then j:send("sms", "mid_reminder", { at = seg.SEND_AT }) end
                    end,
                    after = { business_days(3), "call" } },
        call = { enter = function(j) j:send("call", "mid_call", { at = seg.SEND_AT }) end,
                 after = { business_days(5), "letter" } },
        letter = { enter = function(j) j:send("letter", "mid_letter") end,
                   after = { days(10), "whatsapp" } },
        whatsapp = { enter = function(j) seg.send(j, "mid_reminder", { "whatsapp", "sms", "email" }) end,
                     after = { days(7), "digital" } },
        high = { enter = function(j)
                     j:send("call", "mid_call", { at = seg.SEND_AT })
                     seg.send(j, "mid_reminder", { "sms", "email" })
                 end,
                 after = { days(3), "high_letter" } },
        high_letter = { enter = function(j) j:send("letter", "mid_letter") end,
                        after = { business_days(3), "high_call" } },
        high_call = { enter = function(j) j:send("call", "mid_call", { at = seg.SEND_AT }) end,
                      after = { days(7), "high_plan" } },
        high_plan = { description = "three monthly payments",
                      enter = function(j)
                          j:offer_plan { count = 3, frequency = "monthly",
                                         first = tm.time.add_days(strategy.today(j), 14) }
                          strategy.send_first(j, "plan_offer", { "email", "letter" })
                      end,
                      after = { days(10), "high" } },
    }),
    blocked = strategy.fallback({ call = { "sms", "email", "letter" }, whatsapp = { "sms", "email" },
                                  letter = { "email" } }),
    on = seg.contact_on(),
}
