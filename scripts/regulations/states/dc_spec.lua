-- Specs for states/dc.lua (D.C. Code 28-3814). 2026-11-23 is a Monday; DC is on
-- Eastern time (UTC-5 in November).
local DC = { state = "DC", timezones = { "America/New_York" } }

local function req(now, extra)
    local r = merge({ channel = "call", dialer = "manual", collector = "creditor", consumer = DC,
                      debt = { id = "D1" } }, extra or {})
    r.now = now
    return r
end

local function calls(days, outcome)
    local h = {}
    for i, d in ipairs(days) do
        h[i] = { channel = "call", at = d .. "T15:00:00Z", outcome = outcome or "attempt" }
    end
    return h
end

describe("4 calls per account in any 7 days (28-3814(d)(4)(A)(i))", function()
    it("allows the 4th and blocks the 5th until the oldest leaves the 7 days", function()
        assert_allowed(decide(req("2026-11-23T15:00:00Z", { history = calls({ "2026-11-18", "2026-11-19", "2026-11-20" }) })))
        local d = decide(req("2026-11-23T15:00:00Z", { history = calls({ "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20" }) }))
        assert_blocked(d, "US-DC/call-cap")
        assert_next(d, "2026-11-24T13:00:00Z")
    end)
    it("binds creditors, third parties and debt buyers alike", function()
        local h = calls({ "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20" })
        for _, who in ipairs({ "creditor", "third_party", "debt_buyer" }) do
            assert_blocked(decide(req("2026-11-23T15:00:00Z", { collector = who, history = h })), "US-DC/call-cap", who)
        end
    end)
    it("does not count calls that never connected, or another account's", function()
        assert_allowed(decide(req("2026-11-23T15:00:00Z",
            { history = calls({ "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20" }, "not_connected") })))
        local h = calls({ "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20" })
        for _, e in ipairs(h) do e.debt = "D2" end
        assert_not_blocked(decide(req("2026-11-23T15:00:00Z", { history = h })), "US-DC/call-cap")
    end)
end)

describe("7 days after a completed call (28-3814(d)(4)(A)(ii))", function()
    it("blocks on day 7 and allows on day 8", function()
        local h = calls({ "2026-11-17" }, "conversation")
        assert_blocked(decide(req("2026-11-23T15:00:00Z", { history = h })), "US-DC/call-after-conversation")
        assert_not_blocked(decide(req("2026-11-24T15:00:00Z", { history = h })), "US-DC/call-after-conversation")
    end)
end)

describe("calls and texts 8 a.m. to 9 p.m. Eastern (28-3814(k))", function()
    it("binds a creditor at 7:59 and 21:00, not at 8:00 or 20:59", function()
        assert_blocked(decide(req("2026-11-23T12:59:59Z")), "US-DC/call-text-hours")
        assert_not_blocked(decide(req("2026-11-23T13:00:00Z")), "US-DC/call-text-hours")
        assert_not_blocked(decide(req("2026-11-24T01:59:59Z")), "US-DC/call-text-hours")
        assert_blocked(decide(req("2026-11-24T02:00:00Z")), "US-DC/call-text-hours")
    end)
    it("does not cover e-mail", function()
        local c = merge(DC, { consent = { email = true } })
        assert_not_blocked(decide(req("2026-11-24T03:00:00Z", { channel = "email", consumer = c })), "US-DC/call-text-hours")
    end)
end)

describe("electronic messages (28-3814(d)(4)(B))", function()
    it("need express consent per method and carry opt-out language", function()
        assert_blocked(decide(req("2026-11-23T15:00:00Z", { channel = "email" })), "US-DC/electronic-consent")
        local c = merge(DC, { consent = { email = true } })
        local d = decide(req("2026-11-23T15:00:00Z", { channel = "email", consumer = c }))
        assert_allowed(d)
        assert_requires(d, "optout_notice")
    end)
    it("at most 5 per account in 7 days", function()
        local c = merge(DC, { consent = { email = true } })
        local h = {}
        for i = 1, 5 do
            h[i] = { channel = "email", at = "2026-11-" .. (16 + i) .. "T15:00:00Z", outcome = "delivered" }
        end
        assert_blocked(decide(req("2026-11-23T15:00:00Z", { channel = "email", consumer = c, history = h })),
                       "US-DC/electronic-cap")
        h[1] = nil
        assert_not_blocked(decide(req("2026-11-23T15:00:00Z", { channel = "email", consumer = c, history = { h[2], h[3], h[4], h[5] } })),
                           "US-DC/electronic-cap")
    end)
end)

describe("visits and attorneys", function()
    it("blocks every visit, and contact with a represented consumer even after the attorney's silence", function()
        assert_blocked(decide(req("2026-11-23T15:00:00Z", { channel = "visit" })), "US-DC/no-visits")
        local c = merge(DC, { attorney = { since = "2026-09-01", responded = false, asked_at = "2026-09-02T15:00:00Z" } })
        assert_blocked(decide(req("2026-11-23T15:00:00Z", { consumer = c })), "US-DC/attorney-represented")
    end)
    it("does not apply in another state", function()
        local md = { state = "MD", timezones = { "America/New_York" } }
        assert_none(decide(req("2026-11-23T15:00:00Z", { channel = "visit", consumer = md })), "US-DC/")
    end)
end)
