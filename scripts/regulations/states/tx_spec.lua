-- Specs for states/tx.lua (Tex. Fin. Code 392.307): both sides of every condition.
-- 2026-11-23 is a Monday. Texas uses Central and Mountain time (El Paso): 18:00Z
-- is 12:00 CST and 11:00 MST.
local TX = { state = "TX" }
local base = { channel = "letter", collector = "debt_buyer", consumer = TX,
               debt = { id = "D1", time_barred = true }, message = { threatens_suit = true } }

local function at(now, extra)
    local r = merge(base, extra or {})
    r.now = now
    return r
end

describe("debt buyers may not threaten suit on time-barred debt (392.307(c))", function()
    it("forbids the threat, for good", function()
        local d = decide(at("2026-11-23T18:00:00Z"))
        assert_blocked(d, "US-TX/debt-buyer-time-barred-suit")
        assert_next(d, nil)
    end)
    it("allows the same letter without the threat", function()
        local d = decide(at("2026-11-23T18:00:00Z", { message = { threatens_suit = false } }))
        assert_not_blocked(d, "US-TX/debt-buyer-time-barred-suit")
        assert_allowed(d)
    end)
    it("does not touch a debt that is not time-barred", function()
        local d = decide(at("2026-11-23T18:00:00Z", { debt = { time_barred = false } }))
        assert_not_blocked(d, "US-TX/debt-buyer-time-barred-suit")
        assert_allowed(d)
    end)
    it("works the status out from the 4-year period (CPRC 16.004)", function()
        local r = at("2026-11-23T18:00:00Z")
        -- a fresh debt table: merge cannot remove the base's time_barred = true
        r.debt = { id = "D1", type = "credit_card", last_payment_date = "2022-11-19", default_date = "2022-11-19" }
        local d = decide(r)
        assert_true(d.time_barred, "the last day was Thursday 2026-11-19")
        assert_eq(d.time_barred_on, "2026-11-20")
        assert_blocked(d, "US-TX/debt-buyer-time-barred-suit")
        -- A last day on a Sunday extends to Monday (CPRC 16.072): still suable on the 23rd.
        r.debt = { id = "D1", type = "credit_card", last_payment_date = "2022-11-22", default_date = "2022-11-22" }
        d = decide(r)
        assert_true(not d.time_barred, "the last day moved from Sunday 2026-11-22 to Monday")
        assert_eq(d.time_barred_on, "2026-11-24")
        assert_not_blocked(d, "US-TX/debt-buyer-time-barred-suit")
        r.debt = { id = "D1", type = "credit_card", last_payment_date = "2022-11-24" }
        local y = decide(r)
        assert_true(not y.time_barred, "a day short of 4 years")
        assert_not_blocked(y, "US-TX/debt-buyer-time-barred-suit")
    end)
    it("binds debt buyers and the agencies they hire, not creditors or their agencies", function()
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", { collector = "creditor" })), "US-TX/debt-buyer-time-barred-suit")
        local tp = decide(at("2026-11-23T18:00:00Z", { collector = "third_party", debt = { owner = "original_creditor" } }))
        assert_not_blocked(tp, "US-TX/debt-buyer-time-barred-suit")
        assert_blocked(tp, "US-FED/time-barred-suit-threat")
        assert_blocked(decide(at("2026-11-23T18:00:00Z", { collector = "third_party", debt = { owner = "debt_buyer" } })),
                       "US-TX/debt-buyer-time-barred-suit")
        local unknown = decide(at("2026-11-23T18:00:00Z", { collector = "third_party" }))
        assert_blocked(unknown, "US-TX/debt-buyer-time-barred-suit")
        assert_true(table.concat(unknown.assumed, ","):find("debt.owner", 1, true) ~= nil)
    end)
    it("applies to every channel and at any hour in both Texas zones", function()
        -- 14:30Z is 08:30 CST but 07:30 MST: the call is early for El Paso, the threat is forbidden anyway
        local d = decide(at("2026-11-23T14:30:00Z", { channel = "call", dialer = "manual" }))
        assert_blocked(d, "US-TX/debt-buyer-time-barred-suit")
        assert_blocked(d, "US-FED/inconvenient-time")
        assert_blocked(decide(at("2026-11-23T18:00:00Z", { channel = "email", message = { optout_notice = true } })),
                       "US-TX/debt-buyer-time-barred-suit")
    end)
    it("does not apply outside Texas", function()
        local ok = { state = "OK", timezones = { "America/Chicago" } }
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", { consumer = ok })), "US-TX/debt-buyer-time-barred-suit")
    end)
end)
