-- Specs for strategies/settlement_campaign.lua. 2026-11-23 is a Monday; 15:00Z
-- is 10:00 in New York.
local J = require("strategies.settlement_campaign")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local seg = require("strategies.segment")
local authority = require("lib.authority")
local ctx = jspec.ctx

local function debt(over)
    return jspec.debt(merge({ days_past_due = 400, charge_off_date = "2026-01-01", debt_type = "credit_card",
                              state = "NY", balance = 125000, placed_balance = 125000,
                              last_payment_date = "2025-10-01" }, over or {}))
end
local function id_in(variant)
    for i = 1, 1000 do if J:variant_for("D" .. i) == variant then return "D" .. i end end
end

-- Whether an offer is within the role's authority, as the engine checks it.
local function allowed(d, o)
    local offer = math.ceil(d.balance * o.percent / 100)
    local v = tm.pay.settlement { balance = d.balance, offer = offer, currency = "USD", role = o.role,
                                  state = d.state, floor_bps = authority.floor_bps, rules = authority.rules }
    return v.verdict == "allowed"
end

describe("settlement_campaign", function()
    it("takes a charged-off debt or one past 180 days", function()
        assert_eq(journeys.select(debt()).id, "settlement_campaign")
        assert_eq(journeys.select(debt({ charge_off_date = nil, days_past_due = 181 })).id, "settlement_campaign")
        local d = debt({ days_past_due = 150 })
        d.charge_off_date = nil
        assert_true(not J:matches(d))
    end)
    it("champion: 60%, the call, 50%, 40% (supervisor), the desk; each within authority", function()
        local id = id_in("champion")
        local r = J:start(debt({ debt_id = id }), ctx())
        assert_sends(r, { "letter:settlement_offer", "email:settlement_offer" })
        assert_timer(r, "call", "2026-11-30T15:00:00Z")
        local want = { { 60, "agent" }, { 50, "agent" }, { 40, "supervisor" } }
        for i, st in ipairs({ "first", "second", "third" }) do
            local s = J:timer(in_state(J, "first", { variant = "champion", timer_go = st }), debt(), ctx())
            local o = jspec.actions(s, "offer_settlement")[1]
            assert_eq({ o.percent, o.role }, want[i], st)
            assert_true(allowed(debt(), o), st)
        end
        local c = J:timer(in_state(J, "first", { variant = "champion", timer_go = "call" }), debt(), ctx())
        assert_sends(c, { "call:settlement_call" })
        assert_timer(c, "second", "2026-12-07T15:00:00Z")
    end)
    it("deep_first: 50% at once, then 40% (supervisor), then the desk", function()
        local r = J:start(debt({ debt_id = id_in("deep_first") }), ctx())
        assert_eq(jspec.actions(r, "offer_settlement")[1].percent, 50)
        local s = J:timer(in_state(J, "call", { variant = "deep_first", timer_go = "second" }), debt(), ctx())
        local o = jspec.actions(s, "offer_settlement")[1]
        assert_eq({ o.percent, o.role }, { 40, "supervisor" })
        local t = J:timer(in_state(J, "second", { variant = "deep_first", timer_go = "third" }), debt(), ctx())
        assert_state(t, "desk")
        assert_eq(jspec.actions(t, "queue")[1].queue, "settlement_desk")
    end)
    it("an offer below the agent's authority is refused by the policy it is checked against", function()
        assert_true(not allowed(debt(), { percent = 40, role = "agent" }))
        assert_eq(jspec.missing_templates(J, debt(), ctx()), {})
        assert_eq(jspec.stop_problems(J, debt(), ctx(), seg.STOP_HANDOFFS), {})
    end)
end)
