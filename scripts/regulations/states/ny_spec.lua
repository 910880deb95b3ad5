-- Specs for states/ny.lua (23 NYCRR 1.6): both sides of every condition.
-- 2026-11-23 is a Monday; 15:00Z is 10:00 EST in Albany.
local NY = { state = "NY", city = "Albany", timezones = { "America/New_York" } }
local base = { channel = "email", consumer = NY, debt = { id = "D1" }, message = { optout_notice = true } }

local function at(now, extra)
    local r = merge(base, extra or {})
    r.now = now
    return r
end

local CONSENT = merge(NY, { consent = { email = true } })

describe("email needs the consumer's consent (23 NYCRR 1.6(a))", function()
    it("blocks email without consent on file, for good", function()
        local d = decide(at("2026-11-23T15:00:00Z"))
        assert_blocked(d, "US-NY/email-consent")
        assert_next(d, nil)
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { collector = "debt_buyer" })), "US-NY/email-consent")
    end)
    it("allows email with consent", function()
        local d = decide(at("2026-11-23T15:00:00Z", { consumer = CONSENT }))
        assert_not_blocked(d, "US-NY/email-consent")
        assert_allowed(d)
    end)
    it("does not bind a creditor collecting its own debt", function()
        local d = decide(at("2026-11-23T15:00:00Z", { collector = "creditor" }))
        assert_not_blocked(d, "US-NY/email-consent")
        assert_allowed(d)
    end)
    it("does not touch calls or letters", function()
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { channel = "call", dialer = "manual" })))
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { channel = "letter" })))
    end)
    it("does not apply outside New York", function()
        local nj = { state = "NJ", timezones = { "America/New_York" } }
        assert_none(decide(at("2026-11-23T15:00:00Z", { consumer = nj })), "US-NY/")
    end)
    it("is not a time rule: the federal window still judges the hour", function()
        local d = decide(at("2026-11-23T12:59:59Z", { consumer = CONSENT }))
        assert_not_blocked(d, "US-NY/email-consent")
        assert_blocked(d, "US-FED/inconvenient-time")
    end)
end)

describe("no email to an employer-provided address (23 NYCRR 1.6(b))", function()
    it("blocks it even with the consumer's consent", function()
        local d = decide(at("2026-11-23T15:00:00Z", { consumer = CONSENT, place = "work" }))
        assert_blocked(d, "US-NY/work-email")
        assert_not_blocked(d, "US-FED/work-email")      -- consent satisfies the federal rule
        assert_next(d, nil)
    end)
    it("allows the consumer's personal address", function()
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { consumer = CONSENT })), "US-NY/work-email")
    end)
    it("does not stop a call to a work number", function()
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "call", dialer = "manual", place = "work" })), "US-NY/work-email")
    end)
    it("does not bind creditors", function()
        local d = decide(at("2026-11-23T15:00:00Z", { consumer = CONSENT, place = "work", collector = "creditor" }))
        assert_not_blocked(d, "US-NY/work-email")
        assert_allowed(d)
    end)
    it("does not apply outside New York", function()
        local nj = { state = "NJ", timezones = { "America/New_York" }, consent = { email = true } }
        assert_none(decide(at("2026-11-23T15:00:00Z", { consumer = nj, place = "work" })), "US-NY/")
    end)
end)
