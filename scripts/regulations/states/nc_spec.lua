-- Specs for states/nc.lua. North Carolina is on Eastern time, EST (UTC-5) in late
-- November; 2026-11-23 is a Monday, 10:00 EST is 15:00Z.
local NC = { state = "NC", timezones = { "America/New_York" } }
local NOW = "2026-11-23T15:00:00Z"

local function req(extra)
    local r = merge({ channel = "letter", consumer = NC, debt = { id = "D1" } }, extra or {})
    r.now = NOW
    return r
end

describe("creditors: no contact once an attorney gave notice (75-55(3))", function()
    local lawyered = merge(NC, { flags = { "attorney" } })
    it("blocks a creditor's letter and call, for good", function()
        local d = decide(req({ collector = "creditor", consumer = lawyered }))
        assert_blocked(d, "US-NC/creditor-attorney-represented")
        assert_next(d, nil)
        assert_blocked(decide(req({ collector = "creditor", consumer = lawyered, channel = "call", dialer = "manual" })),
                       "US-NC/creditor-attorney-represented")
    end)
    it("allows the creditor's letter when no attorney is known", function()
        assert_allowed(decide(req({ collector = "creditor", message = { debt_collection_disclosure = true } })))
    end)
    it("leaves third parties to the federal rule", function()
        local d = decide(req({ consumer = lawyered }))
        assert_not_blocked(d, "US-NC/creditor-attorney-represented")
        assert_blocked(d, "US-FED/attorney-represented")
    end)
    it("does not apply in another state", function()
        local sc = { state = "SC", timezones = { "America/New_York" }, flags = { "attorney" } }
        assert_not_blocked(decide(req({ collector = "creditor", consumer = sc })), "US-NC/creditor-attorney-represented")
    end)
end)

describe("creditors disclose that they are collecting a debt (75-54(2))", function()
    it("lists the disclosure as required when the message is not known yet", function()
        local d = decide(req({ collector = "creditor" }))
        assert_allowed(d)
        assert_requires(d, "debt_collection_disclosure")
    end)
    it("blocks a creditor's message known to lack it, in any channel, for good", function()
        local d = decide(req({ collector = "creditor", message = { debt_collection_disclosure = false } }))
        assert_blocked(d, "US-NC/creditor-collection-disclosure")
        assert_next(d, nil)
        assert_blocked(decide(req({ collector = "creditor", channel = "call", dialer = "manual",
                                    message = { debt_collection_disclosure = false } })),
                       "US-NC/creditor-collection-disclosure")
    end)
    it("allows one that carries it", function()
        local d = decide(req({ collector = "creditor", message = { debt_collection_disclosure = true } }))
        assert_allowed(d)
        assert_not_requires(d, "debt_collection_disclosure")
    end)
    it("does not apply to the notice that collection stops, to third parties, or in another state", function()
        assert_not_requires(decide(req({ collector = "creditor", purpose = "cease_notice" })), "debt_collection_disclosure")
        assert_not_requires(decide(req()), "debt_collection_disclosure")
        local va = { state = "VA", timezones = { "America/New_York" } }
        assert_not_requires(decide(req({ collector = "creditor", consumer = va })), "debt_collection_disclosure")
    end)
end)

describe("debt buyers: no collection at all on time-barred debt (58-70-115(4))", function()
    local function buyer(tb, extra)
        return req(merge({ collector = "debt_buyer", debt = { id = "D1", time_barred = tb } }, extra or {}))
    end
    it("blocks a debt buyer's letter on a time-barred debt, for good", function()
        local d = decide(buyer(true))
        assert_blocked(d, "US-NC/debt-buyer-time-barred")
        assert_next(d, nil)
    end)
    it("allows it on a debt within the period", function()
        assert_allowed(decide(buyer(false)))
    end)
    it("works the status out: 3 years for a credit card, day before, day of and day after", function()
        local function card(last)
            return buyer(nil, { debt = { id = "D1", type = "credit_card", last_payment_date = last,
                                         default_date = last } })
        end
        assert_allowed(decide(card("2023-11-24")))
        assert_allowed(decide(card("2023-11-23")))
        assert_blocked(decide(card("2023-11-22")), "US-NC/debt-buyer-time-barred")
    end)
    it("covers the validation notice and an agency that may act for a debt buyer", function()
        assert_blocked(decide(buyer(true, { purpose = "validation_notice" })), "US-NC/debt-buyer-time-barred")
        assert_blocked(decide(buyer(true, { collector = "third_party" })), "US-NC/debt-buyer-time-barred")
    end)
    it("still lets the notice that collection stops go out", function()
        assert_allowed(decide(buyer(true, { purpose = "cease_notice" })))
    end)
    it("does not bind a creditor collecting its own debt, or apply in another state", function()
        local d = decide(buyer(true, { collector = "creditor", message = { debt_collection_disclosure = true } }))
        assert_not_blocked(d, "US-NC/debt-buyer-time-barred")
        local sc = { state = "SC", timezones = { "America/New_York" } }
        assert_not_blocked(decide(buyer(true, { consumer = sc })), "US-NC/debt-buyer-time-barred")
    end)
end)
