-- scripts/strategies/early_stage.lua: 1 to 30 days past due, by risk band
-- (segment.risk); also a debt placed without days_past_due that is not
-- charged off (strategy.stage). Likely self-curers, consumers who answer
-- online, large balances and debts never paid go to their own journeys first.
--
--   low risk   : an email (or SMS), an SMS (or email) 4 days later, no call;
--                again every 10 days
--   medium risk: email, SMS after 3 days, a call 2 business days later, the
--                cycle again a week after the call (the days-past-due
--                library's sequence; the sms_first variant, 10%, starts with
--                the SMS)
--   high risk  : SMS and email at once, a call the next business day and
--                another 3 days later, then weekly
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

return journey {
    id = "early_stage",
    version = 2,
    priority = 14,
    segment = function(d) return not seg.any_stop(d) and strategy.stage(d) == "early" end,
    migrate = { [1] = {} },
    variants = { champion = 90, sms_first = 10 },
    send_window = { "09:00", "19:00" },
    start = "band",
    states = seg.contact_states({
        band = { description = "route by risk band",
                 enter = function(j, d)
                     local r = seg.risk(d)
                     j:note("risk " .. r)
                     if r == "low" then return j:move("low") end
                     if r == "high" then return j:move("high") end
                     j:move("remind")
                 end },
        low = { description = "low risk: digital only",
                enter = function(j) seg.send(j, "early_reminder", { "email", "sms", "letter" }) end,
                after = { days(4), "low_nudge" } },
        low_nudge = { enter = function(j) seg.send(j, "early_reminder", { "sms", "email" }) end,
                      after = { days(10), "low" } },
        remind = {
            enter = function(j)
                if j.variant == "sms_first" then
                    seg.send(j, "early_reminder", { "sms", "email", "letter" })
                else
                    seg.send(j, "early_reminder", { "email", "sms", "letter" })
                end
            end,
            after = { days(3), "nudge" },
        },
        nudge = {
            enter = function(j)
                if j.variant == "sms_first" then
                    seg.send(j, "early_reminder", { "email", "letter" })
                else
                    seg.send(j, "early_reminder", { "sms", "letter" })
                end
            end,
            after = { business_days(2), "call" },
        },
        call = { enter = function(j) j:send("call", "early_call", { at = seg.SEND_AT }) end,
                 after = { days(7), "remind" } },
        high = { description = "high risk: SMS and email now, calls soon",
                 enter = function(j)
                     seg.send(j, "early_reminder", { "sms", "letter" })
                     seg.send(j, "early_reminder", { "email" })
                 end,
                 after = { business_days(1), "high_call" } },
        high_call = { enter = function(j) j:send("call", "early_call", { at = seg.SEND_AT }) end,
                      after = { days(3), "high_call2" } },
        high_call2 = { enter = function(j) j:send("call", "early_call", { at = seg.SEND_AT }) end,
                       after = { days(7), "high" } },
    }),
    blocked = strategy.fallback(),
    on = seg.contact_on(),
}
