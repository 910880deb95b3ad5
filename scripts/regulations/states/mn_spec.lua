-- Specs for states/mn.lua (Minn. Stat. 332.37). Minnesota is on Central time, CST (UTC-6)
-- in late November; 2026-11-23 is a Monday, 10:00 CST is 16:00Z.
local MN = { state = "MN", timezones = { "America/Chicago" } }
local NOW = "2026-11-23T16:00:00Z"

local function req(threat, extra)
    local r = merge({ channel = "letter", consumer = MN, debt = { id = "D1" },
                      message = { unretained_lawyer_threat = threat } }, extra or {})
    r.now = NOW
    return r
end

describe("no threat of suit by a lawyer not retained (332.37(1))", function()
    it("blocks a letter threatening suit by an unretained lawyer, for good", function()
        local d = decide(req(true))
        assert_blocked(d, "US-MN/unretained-lawyer-threat")
        assert_next(d, nil)
    end)
    it("allows the letter when the threat is not there, or not yet known", function()
        assert_allowed(decide(req(false)))
        assert_allowed(decide(req(nil)))
    end)
    it("covers oral communication: a call at 10:00 with the threat is blocked", function()
        assert_blocked(decide(req(true, { channel = "call", dialer = "manual" })), "US-MN/unretained-lawyer-threat")
        assert_allowed(decide(req(false, { channel = "call", dialer = "manual" })))
    end)
    it("binds debt buyers, not a creditor collecting its own debt", function()
        assert_blocked(decide(req(true, { collector = "debt_buyer" })), "US-MN/unretained-lawyer-threat")
        assert_allowed(decide(req(true, { collector = "creditor" })))
    end)
    it("does not apply in another state", function()
        local d = decide(req(true, { consumer = { state = "WI", timezones = { "America/Chicago" } } }))
        assert_not_blocked(d, "US-MN/unretained-lawyer-threat")
    end)
end)
