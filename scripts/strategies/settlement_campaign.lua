-- scripts/strategies/settlement_campaign.lua: charged off, or more than 180
-- days past due (segment.settlement_stage; also a charged-off debt placed
-- without days_past_due). The balance is unlikely to be paid whole: a
-- settlement campaign within the authority of lib/authority.lua (agent 50%,
-- supervisor 40%, manager 25%; the engine checks each offer and parks the
-- debt on one beyond its role).
--
--   champion (80%)  : 60% (agent) by letter and email, a call 7 days later,
--                     50% (agent) after 14 more days, 40% (supervisor) 21
--                     days on, then the settlement desk
--   deep_first (20%): 50% (agent) at once, the call, 40% (supervisor), then
--                     the desk; the question is whether a deeper first offer
--                     brings more money sooner than it gives away
local journey = require("lib.journey")
local strategy = require("lib.strategy")
local seg = require("strategies.segment")

local OFFERS = {
    champion = { { 60, "agent" }, { 50, "agent" }, { 40, "supervisor" } },
    deep_first = { { 50, "agent" }, { 40, "supervisor" } },
}

local function offer(j, n)
    local o = OFFERS[j.variant][n]
    j:offer_settlement { percent = o[1], role = o[2] }
    j:send("letter", "settlement_offer")
    strategy.send_first(j, "settlement_offer", { "email" })
end

return journey {
    id = "settlement_campaign",
    version = 1,
    priority = 17,
    description = "charged off or past 180 days: settlements within authority",
    segment = function(d) return not seg.any_stop(d) and seg.settlement_stage(d) end,
    variants = { champion = 80, deep_first = 20 },
    send_window = { "09:00", "19:00" },
    start = "first",
    states = seg.contact_states({
        first = { description = "the first offer",
                  enter = function(j) offer(j, 1) end,
                  after = { days(7), "call" } },
        call = { enter = function(j)
                     if seg.callable(j.debt) then j:send("call", "settlement_call", { at = seg.SEND_AT }) end
                 end,
                 after = { days(14), "second" } },
        second = { description = "the second offer",
                   enter = function(j) offer(j, 2) end,
                   after = { days(21), "third" } },
        third = { description = "the third offer (champion), or the desk",
                  enter = function(j)
                      if OFFERS[j.variant][3] then offer(j, 3) else j:move("desk") end
                  end,
                  after = { days(21), "desk" } },
        desk = { enter = function(j) j:queue("settlement_desk", { reason = "offers not taken" }) end },
    }),
    blocked = strategy.fallback({ call = { "letter", "email" }, letter = { "email" } }),
    on = seg.contact_on(),
}
