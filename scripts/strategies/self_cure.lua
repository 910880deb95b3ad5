-- scripts/strategies/self_cure.lua: early-stage debts (1 to 30 days past due,
-- under $5,000) that the self-cure model puts in the top quarter
-- (segment.likely_self_cure): most of them pay on their own. A light touch
-- saves contact cost and the complaints that pressure brings; a debt that has
-- not paid after the quiet days gets the early-stage sequence.
--
--   champion (80%): one email (or SMS) at once, then 10 quiet days
--   silent (20%)  : nothing for 10 days
-- then, for both: an SMS or email, a call 2 business days later, and the
-- cycle again 7 days after the call.
local journey = require("lib.journey")
local seg = require("strategies.segment")
local strategy = require("lib.strategy")

return journey {
    id = "self_cure",
    version = 1,
    priority = 10,
    description = "likely self-curer: a gentle reminder or nothing, then early-stage work",
    segment = function(d) return not seg.any_stop(d) and seg.likely_self_cure(d) end,
    variants = { champion = 80, silent = 20 },
    send_window = { "09:00", "19:00" },
    start = "gentle",
    states = seg.contact_states({
        gentle = { description = "one reminder (champion) or none (silent)",
                   enter = function(j)
                       if j.variant == "champion" then seg.send(j, "early_reminder", { "email", "sms" }) end
                   end,
                   after = { days(10), "nudge" } },
        nudge = { enter = function(j) seg.send(j, "early_reminder", { "sms", "email", "letter" }) end,
                  after = { business_days(2), "call" } },
        call = { enter = function(j)
                     if seg.callable(j.debt) then j:send("call", "early_call", { at = seg.SEND_AT }) end
                 end,
                 after = { days(7), "nudge" } },
    }),
    blocked = strategy.fallback(),
    on = seg.contact_on(),
}
