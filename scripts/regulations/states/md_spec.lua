-- Specs for states/md.lua: Maryland holds creditors to the FDCPA's conduct rules.
local MD = { state = "MD", timezones = { "America/New_York" } }

local function req(now, extra)
    local r = merge({ channel = "call", dialer = "manual", collector = "creditor", consumer = MD,
                      debt = { id = "D1" } }, extra or {})
    r.now = now
    return r
end

describe("creditors held to FDCPA 804-812 (14-202(11))", function()
    it("hours: 7:59:59 blocked, 8:00 allowed", function()
        assert_blocked(decide(req("2026-11-23T12:59:59Z")), "US-MD/creditor-hours")
        assert_allowed(decide(req("2026-11-23T13:00:00Z")))
    end)
    it("represented and cease", function()
        assert_blocked(decide(req("2026-11-23T15:00:00Z", { consumer = merge(MD, { flags = { "attorney" } }) })),
                       "US-MD/creditor-attorney")
        assert_blocked(decide(req("2026-11-23T15:00:00Z", { consumer = merge(MD, { flags = { "cease" } }) })),
                       "US-MD/creditor-cease")
        assert_allowed(decide(req("2026-11-23T15:00:00Z", { purpose = "cease_notice", channel = "letter",
                                                            consumer = merge(MD, { flags = { "cease" } }) })))
    end)
    it("leaves third parties to US-FED", function()
        assert_none(decide(req("2026-11-23T12:59:59Z", { collector = "third_party" })), "US-MD/")
    end)
end)
