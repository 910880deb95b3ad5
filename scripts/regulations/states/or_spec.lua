-- Specs for states/or.lua (ORS 646.639, 646A.670). Oregon here is Pacific time, PST
-- (UTC-8) in late November; 2026-11-23 is a Monday. Most cases use a creditor collecting
-- its own debt: Oregon binds it, federal law does not, so the Oregon rules show alone.
local OR = { state = "OR", timezones = { "America/Los_Angeles" } }
local NOW = "2026-11-23T18:00:00Z" -- Monday 10:00 PST
local HOME_TRY = { channel = "call", place = "personal", at = "2026-11-16T18:00:00Z", outcome = "attempt" }

local function req(now, extra)
    local r = merge({ channel = "call", dialer = "manual", place = "work", collector = "creditor", consumer = OR,
                      debt = { id = "D1" } }, extra or {})
    r.now = now
    return r
end

local function with_work(entry)
    local w = merge({ channel = "call", place = "work", at = "2026-11-17T18:00:00Z", outcome = "attempt" }, entry or {})
    return { HOME_TRY, w }
end

describe("workplace contact at most once a week (ORS 646.639(2))", function()
    it("blocks a second work contact on day 7 until local midnight of day 8", function()
        local d = decide(req(NOW, { history = with_work() }))
        assert_blocked(d, "US-OR/work-contact-weekly")
        assert_next(d, "2026-11-24T08:00:00Z")
        assert_blocked(decide(req("2026-11-24T07:59:59Z", { history = with_work() })), "US-OR/work-contact-weekly")
        assert_allowed(decide(req("2026-11-24T08:00:00Z", { history = with_work() })))
    end)
    it("allows it when the last work contact is on day 8", function()
        assert_allowed(decide(req(NOW, { history = with_work({ at = "2026-11-16T18:00:00Z" }) })))
    end)
    it("binds creditors and third parties alike (a third party also waits for 8 am)", function()
        local d = decide(req(NOW, { collector = "third_party", history = with_work() }))
        assert_blocked(d, "US-OR/work-contact-weekly")
        assert_next(d, "2026-11-24T16:00:00Z")
    end)
    it("counts a visit, an email or a letter at work, and contacts about another debt", function()
        for _, e in ipairs({ { channel = "visit", outcome = "conversation" },
                             { channel = "email", outcome = "delivered" },
                             { channel = "letter", outcome = "delivered" },
                             { debt = "D2" } }) do
            assert_blocked(decide(req(NOW, { history = with_work(e) })), "US-OR/work-contact-weekly", show(e))
        end
    end)
    it("limits every channel at work, not only calls", function()
        assert_blocked(decide(req(NOW, { channel = "visit", history = with_work() })), "US-OR/work-contact-weekly")
    end)
    it("does not count calls that never connected, failed mail, or the debtor's own call", function()
        for _, e in ipairs({ { outcome = "not_connected" }, { channel = "letter", outcome = "failed" },
                             { direction = "inbound", outcome = "conversation" } }) do
            assert_allowed(decide(req(NOW, { history = with_work(e) })), show(e))
        end
    end)
    it("does not limit contacts at home, or in another state", function()
        assert_not_blocked(decide(req(NOW, { place = "personal", history = with_work() })), "US-OR/work-contact-weekly")
        local wa = { state = "WA", timezones = { "America/Los_Angeles" } }
        assert_not_blocked(decide(req(NOW, { consumer = wa, history = with_work() })), "US-OR/work-contact-weekly")
    end)
end)

describe("a work call only after an unsuccessful call at home", function()
    it("blocks a work call with no home call on record, for good", function()
        local d = decide(req(NOW))
        assert_blocked(d, "US-OR/work-call-after-home-attempt")
        assert_next(d, nil)
    end)
    it("allows it after an unanswered home call, a voicemail or a busy line", function()
        for _, o in ipairs({ "attempt", "voicemail", "not_connected" }) do
            assert_allowed(decide(req(NOW, { history = { merge(HOME_TRY, { outcome = o }) } })), o)
        end
    end)
    it("blocks it when the latest home call reached the debtor", function()
        local talk = merge(HOME_TRY, { at = "2026-11-18T18:00:00Z", outcome = "conversation" })
        assert_blocked(decide(req(NOW, { history = { HOME_TRY, talk } })), "US-OR/work-call-after-home-attempt")
        local later_try = merge(HOME_TRY, { at = "2026-11-19T18:00:00Z" })
        assert_allowed(decide(req(NOW, { history = { talk, later_try } })))
    end)
    it("does not count a home call the debtor made, or a text", function()
        assert_blocked(decide(req(NOW, { history = { merge(HOME_TRY, { direction = "inbound" }) } })),
                       "US-OR/work-call-after-home-attempt")
        assert_blocked(decide(req(NOW, { history = { merge(HOME_TRY, { channel = "sms" }) } })),
                       "US-OR/work-call-after-home-attempt")
    end)
    it("does not apply to calls at home, letters to work, or another state", function()
        assert_allowed(decide(req(NOW, { place = "personal" })))
        assert_allowed(decide(req(NOW, { channel = "letter" })))
        local id = { state = "ID", timezones = { "America/Los_Angeles" } }
        assert_not_blocked(decide(req(NOW, { consumer = id })), "US-OR/work-call-after-home-attempt")
    end)
end)

describe("debt buyers: no suit on time-barred debt (ORS 646A.670)", function()
    local function buyer(tb, threat, extra)
        return req(NOW, merge({ place = "personal", collector = "debt_buyer",
                                debt = { id = "D1", time_barred = tb }, message = { threatens_suit = threat } },
                              extra or {}))
    end
    it("blocks a threat of suit on a time-barred debt, for good", function()
        local d = decide(buyer(true, true))
        assert_blocked(d, "US-OR/debt-buyer-no-suit")
        assert_next(d, nil)
    end)
    it("allows the same message on a debt still within the period", function()
        assert_allowed(decide(buyer(false, true)))
    end)
    it("allows a message on a time-barred debt without a threat", function()
        assert_allowed(decide(buyer(true, false)))
    end)
    it("works the status out: 6 years for a credit card, day before, day of and day after", function()
        local function card(last)
            return buyer(nil, true, { debt = { id = "D1", type = "credit_card", last_payment_date = last,
                                               default_date = last } })
        end
        assert_allowed(decide(card("2020-11-24")))
        assert_allowed(decide(card("2020-11-23")))
        assert_blocked(decide(card("2020-11-22")), "US-OR/debt-buyer-no-suit")
    end)
    it("does not bind a creditor, or apply in another state", function()
        assert_allowed(decide(buyer(true, true, { collector = "creditor" })))
        local wa = { state = "WA", timezones = { "America/Los_Angeles" } }
        assert_not_blocked(decide(buyer(true, true, { consumer = wa })), "US-OR/debt-buyer-no-suit")
    end)
end)
