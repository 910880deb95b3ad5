-- scripts/strategies/first_contact.lua: 1 to 90 days past due, and no payment
-- ever on record (segment.willingness is "never"): nothing is known of how
-- this consumer pays, so the first right-party contact decides. The journey
-- aims at reaching the consumer, and on the first conversation (a contact
-- event with outcome "conversation") takes the best action for the debt:
-- a propensity in the low-risk band asks for the balance; otherwise a
-- three-payment plan is offered (or six for $1,000 and more).
--
--   champion (80%) : a call at once (an SMS or email without a number), a
--                    message on the next channel, a letter after 3 days
--   letter_first (20%): the letter first, then the call 3 days later
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

-- The best action once the consumer is reached.
local function best_action(j, d)
    if seg.ptp(d) >= seg.RISK_LOW_FROM then
        j:note("first contact: ask for the balance")
        return seg.send(j, "mid_reminder", { "sms", "email", "letter" })
    end
    local n = (d.balance or 0) >= 100000 and 6 or 3
    j:offer_plan { count = n, frequency = "monthly", first = tm.time.add_days(strategy.today(j), 14) }
    strategy.send_first(j, "plan_offer", { "email", "letter" })
end

return journey {
    id = "first_contact",
    version = 1,
    priority = 13,
    description = "never paid: reach the consumer, then the best action for the debt",
    segment = function(d)
        local st = strategy.stage(d)
        return not seg.any_stop(d) and (st == "early" or st == "mid") and seg.willingness(d) == "never"
    end,
    variants = { champion = 80, letter_first = 20 },
    send_window = { "09:00", "19:00" },
    start = "reach",
    states = seg.contact_states({
        reach = { description = "a call (champion) or a letter (letter_first)",
                  enter = function(j)
                      if j.variant == "letter_first" then
                          j:send("letter", "mid_letter")
                          return j:after(days(3), "call")
                      end
                      j:move("call")
                  end },
        call = { enter = function(j)
                     if seg.callable(j.debt) then j:send("call", "early_call", { at = seg.SEND_AT }) end
                     seg.send(j, "early_reminder", { "sms", "email" })
                 end,
                 after = { days(3), "write" } },
        write = { enter = function(j)
                      if j.variant == "letter_first" then seg.send(j, "mid_reminder", { "email", "sms", "letter" })
                      else j:send("letter", "mid_letter") end
                  end,
                  after = { days(7), "call" } },
        reached = { description = "the consumer was reached: the best action, then a week to answer",
                    enter = function(j, d) best_action(j, d) end,
                    after = { days(7), "follow" } },
        follow = { enter = function(j) seg.send(j, "mid_reminder", { "sms", "email", "letter" }) end,
                   after = { days(7), "call" } },
    }),
    blocked = strategy.fallback(),
    on = seg.contact_on({
        contact = function(j, _, ev)
            if ev and ev.outcome == "conversation" and j.state ~= "reached" and j.state ~= "follow" then
                j:move("reached")
            end
        end,
    }),
}
