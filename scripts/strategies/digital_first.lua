-- scripts/strategies/digital_first.lua: 1 to 90 days past due, for consumers
-- who asked to be reached online (a preferred email, SMS, WhatsApp or push
-- they may be reached on: segment.digital_preference). They answer there, and
-- a message there costs a fraction of a call or a letter: the preferred
-- channel first, the other digital channel 3 days later, the preferred one
-- again 4 days after that; a call only after two weeks without an answer,
-- then the cycle again.
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

local function other(pref)
    if pref == "email" then return { "sms", "whatsapp", "letter" } end
    return { "email", "sms", "letter" }
end

return journey {
    id = "digital_first",
    version = 1,
    priority = 11,
    description = "consumers who answer online: their channel first, calls late",
    segment = function(d)
        local st = strategy.stage(d)
        return not seg.any_stop(d) and (st == "early" or st == "mid") and seg.digital_preference(d) ~= nil
    end,
    send_window = { "09:00", "19:00" },
    start = "preferred",
    states = seg.contact_states({
        preferred = { description = "the consumer's own channel",
                      enter = function(j, d)
                          local ch = seg.digital_preference(d) or "email"
                          seg.send(j, ch == "whatsapp" and "mid_reminder" or "early_reminder", { ch, "email", "sms" })
                      end,
                      after = { days(3), "other" } },
        other = { description = "the other digital channel",
                  enter = function(j, d)
                      seg.send(j, "early_reminder", other(seg.digital_preference(d)))
                  end,
                  after = { days(4), "again" } },
        again = { enter = function(j, d)
                      local ch = seg.digital_preference(d) or "email"
                      seg.send(j, "mid_reminder", { ch, "email", "sms" })
                  end,
                  after = { days(7), "call" } },
        call = { description = "two weeks without an answer: a call",
                 enter = function(j)
                     if seg.callable(j.debt) then j:send("call", "mid_call", { at = seg.SEND_AT }) end
                 end,
                 after = { days(7), "preferred" } },
    }),
    blocked = strategy.fallback(),
    on = seg.contact_on(),
}
