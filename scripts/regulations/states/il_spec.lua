-- Specs for states/il.lua (205 ILCS 740). Illinois is on Central time, CST (UTC-6) in late
-- November; 2026-11-23 is a Monday. Letters keep the federal time window out of the way.
local IL = { state = "IL", timezones = { "America/Chicago" } }
local NOW = "2026-11-23T16:00:00Z" -- 10:00 CST

local function req(tb, threat, extra)
    local r = merge({ channel = "letter", collector = "debt_buyer", consumer = IL,
                      debt = { id = "D1", time_barred = tb }, message = { threatens_suit = threat } }, extra or {})
    r.now = NOW
    return r
end

describe("debt buyers: no threat of suit on time-barred debt (205 ILCS 740/8.6(a))", function()
    it("blocks a debt buyer's threat of suit on a time-barred debt, for good", function()
        local d = decide(req(true, true))
        assert_blocked(d, "US-IL/debt-buyer-no-suit")
        assert_next(d, nil)
    end)
    it("allows the threat while the debt is within the period", function()
        assert_allowed(decide(req(false, true)))
    end)
    it("allows a message on a time-barred debt that threatens nothing", function()
        assert_allowed(decide(req(true, false)))
        assert_allowed(decide(req(true, nil)))
    end)
    it("works the status out: 5 years for a credit card, day before, day of and day after", function()
        local function card(last)
            return req(nil, true, { debt = { id = "D1", type = "credit_card", last_payment_date = last,
                                             default_date = last } })
        end
        local young = decide(card("2021-11-24"))
        assert_true(not young.time_barred, "the day before the last day")
        assert_allowed(young)
        local last = decide(card("2021-11-23"))
        assert_true(not last.time_barred, "5 years to the day: the last day to sue")
        assert_allowed(last)
        local old = decide(card("2021-11-22"))
        assert_true(old.time_barred, "the day after the last day")
        assert_eq(old.time_barred_on, "2026-11-23")
        assert_blocked(old, "US-IL/debt-buyer-no-suit")
    end)
    it("binds an agency collecting for a debt buyer, not for the original creditor, nor creditors", function()
        local tp = decide(req(true, true, { collector = "third_party", debt = { owner = "original_creditor" } }))
        assert_not_blocked(tp, "US-IL/debt-buyer-no-suit")
        assert_blocked(tp, "US-FED/time-barred-suit-threat")
        assert_blocked(decide(req(true, true, { collector = "third_party", debt = { owner = "debt_buyer" } })),
                       "US-IL/debt-buyer-no-suit")
        local unknown = decide(req(true, true, { collector = "third_party" }))
        assert_blocked(unknown, "US-IL/debt-buyer-no-suit")
        assert_eq(table.concat(unknown.assumed, ","), "debt.owner")
        assert_allowed(decide(req(true, true, { collector = "creditor" })))
    end)
    it("does not apply in another state", function()
        local d = decide(req(true, true, { consumer = { state = "IN", timezones = { "America/Chicago" } } }))
        assert_not_blocked(d, "US-IL/debt-buyer-no-suit")
    end)
end)
