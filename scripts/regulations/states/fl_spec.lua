-- Specs for states/fl.lua (Fla. Stat. 559.72). Miami is on Eastern time (UTC-5 in
-- November); 2026-11-23 is a Monday.
local FL = { state = "FL", timezones = { "America/New_York" } }

local function req(now, extra)
    local r = merge({ channel = "call", dialer = "manual", collector = "creditor", consumer = FL,
                      debt = { id = "D1" } }, extra or {})
    r.now = now
    return r
end

describe("hours (559.72(17))", function()
    it("binds a creditor: 7:59:59 and 21:00 blocked, 8:00 and 20:59:59 allowed", function()
        assert_blocked(decide(req("2026-11-23T12:59:59Z")), "US-FL/hours")
        assert_allowed(decide(req("2026-11-23T13:00:00Z")))
        assert_allowed(decide(req("2026-11-24T01:59:59Z")))
        assert_blocked(decide(req("2026-11-24T02:00:00Z")), "US-FL/hours")
    end)
    it("leaves e-mail out since 2025-05-16", function()
        local c = merge(FL, { consent = { email = true } })
        assert_none(decide(req("2026-11-24T03:00:00Z", { channel = "email", consumer = c })), "US-FL/")
        assert_blocked(decide(req("2025-05-15T03:00:00Z", { channel = "email", consumer = c })),
                       "US-FL/email-hours-before-2025")
    end)
end)

describe("attorney (559.72(18))", function()
    local function rep(att)
        return decide(req("2026-11-23T15:00:00Z", { consumer = merge(FL, { attorney = att }) }))
    end
    it("binds a creditor until the attorney consents or 30 days pass without a response", function()
        local d = rep({ since = "2026-10-01" })
        assert_blocked(d, "US-FL/attorney-represented")
        assert_eq(table.concat(d.assumed, ","), "consumer.attorney.consented")
        assert_allowed(rep({ since = "2026-10-01", consented = true }))
        d = rep({ since = "2026-10-01", responded = false, asked_at = "2026-10-25T15:00:00Z" })
        assert_blocked(d, "US-FL/attorney-represented")
        assert_next(d, "2026-11-24T15:00:00Z")
        assert_allowed(rep({ since = "2026-10-01", responded = false, asked_at = "2026-10-24T15:00:00Z" }))
        assert_blocked(rep({ since = "2026-10-01", responded = true, asked_at = "2026-10-01T15:00:00Z" }),
                       "US-FL/attorney-represented")
    end)
end)
