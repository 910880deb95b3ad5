-- Specs for states/ct.lua (Connecticut creditors). Connecticut is on Eastern time, EST
-- (UTC-5) in late November; 2026-11-23 is a Monday, 10:00 EST is 15:00Z. The cases use a
-- creditor collecting its own debt (federal law does not bind it), unless they say otherwise.
local CT = { state = "CT", timezones = { "America/New_York" } }
local NOW = "2026-11-23T15:00:00Z"

local function req(extra)
    local r = merge({ channel = "call", dialer = "manual", collector = "creditor", consumer = CT, debt = { id = "D1" } }, extra or {})
    r.now = NOW
    return r
end

describe("a creditor's call discloses the caller (36a-647-5(6))", function()
    it("lists the disclosure as required when the call script is not known yet", function()
        local d = decide(req())
        assert_allowed(d)
        assert_requires(d, "caller_identity_disclosure")
    end)
    it("blocks a call known not to identify the caller, for good", function()
        local d = decide(req({ message = { caller_identity_disclosure = false } }))
        assert_blocked(d, "US-CT/creditor-caller-identity")
        assert_next(d, nil)
    end)
    it("allows a call that identifies the caller", function()
        local d = decide(req({ message = { caller_identity_disclosure = true } }))
        assert_allowed(d)
        assert_not_requires(d, "caller_identity_disclosure")
    end)
    it("does not apply to letters", function()
        assert_not_requires(decide(req({ channel = "letter" })), "caller_identity_disclosure")
    end)
    it("does not apply to third parties or in another state", function()
        local tp = decide(req({ collector = "third_party", message = { caller_identity_disclosure = false } }))
        assert_not_blocked(tp, "US-CT/creditor-caller-identity")
        local ny = { state = "NY", timezones = { "America/New_York" } }
        assert_not_blocked(decide(req({ consumer = ny, message = { caller_identity_disclosure = false } })),
                           "US-CT/creditor-caller-identity")
    end)
end)

describe("a creditor does not contact a consumer represented by an attorney (36a-647-3(b)(5))", function()
    local lawyered = merge(CT, { flags = { "attorney" } })
    it("blocks a creditor's call and letter, for good", function()
        local d = decide(req({ consumer = lawyered }))
        assert_blocked(d, "US-CT/creditor-attorney-represented")
        assert_next(d, nil)
        assert_blocked(decide(req({ consumer = lawyered, channel = "letter" })), "US-CT/creditor-attorney-represented")
    end)
    it("allows the contact when no attorney is known", function()
        assert_not_blocked(decide(req({ message = { caller_identity_disclosure = true } })),
                           "US-CT/creditor-attorney-represented")
        assert_allowed(decide(req({ channel = "letter" })))
    end)
    it("leaves third parties to the federal rule", function()
        local d = decide(req({ consumer = lawyered, collector = "third_party" }))
        assert_not_blocked(d, "US-CT/creditor-attorney-represented")
        assert_blocked(d, "US-FED/attorney-represented")
    end)
    it("does not apply in another state", function()
        local ri = { state = "RI", timezones = { "America/New_York" }, flags = { "attorney" } }
        assert_not_blocked(decide(req({ consumer = ri })), "US-CT/creditor-attorney-represented")
    end)
end)
