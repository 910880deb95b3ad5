-- Specs for states/co.lua (Colorado FDCPA). Colorado is on Mountain time, MST (UTC-7) in
-- late November; 2026-11-23 is a Monday, 10:00 MST is 17:00Z.
local CO = { state = "CO", timezones = { "America/Denver" }, consent = { email = true, sms = true } }
local NOW = "2026-11-23T17:00:00Z"

local function req(extra)
    local r = merge({ channel = "letter", consumer = CO, debt = { id = "D1" } }, extra or {})
    r.now = NOW
    return r
end

describe("the Colorado FDCPA statement in written communications", function()
    it("lists the statement as required when the letter is not known yet", function()
        local d = decide(req())
        assert_allowed(d)
        assert_requires(d, "colorado_fdcpa_notice")
    end)
    it("blocks a letter known to lack it, for good; allows one that has it", function()
        local d = decide(req({ message = { colorado_fdcpa_notice = false } }))
        assert_blocked(d, "US-CO/colorado-fdcpa-notice")
        assert_next(d, nil)
        local ok = decide(req({ message = { colorado_fdcpa_notice = true } }))
        assert_allowed(ok)
        assert_not_requires(ok, "colorado_fdcpa_notice")
    end)
    it("covers the validation notice, emails and texts", function()
        assert_blocked(decide(req({ purpose = "validation_notice", message = { colorado_fdcpa_notice = false } })),
                       "US-CO/colorado-fdcpa-notice")
        for _, ch in ipairs({ "email", "sms" }) do
            local d = decide(req({ channel = ch, message = { colorado_fdcpa_notice = false, optout_notice = true } }))
            assert_blocked(d, "US-CO/colorado-fdcpa-notice", ch)
            assert_allowed(decide(req({ channel = ch, message = { colorado_fdcpa_notice = true, optout_notice = true } })), ch)
        end
    end)
    it("does not apply to calls, verification letters or the notice that collection stops", function()
        local call = decide(req({ channel = "call", dialer = "manual" }))
        assert_allowed(call)
        assert_not_requires(call, "colorado_fdcpa_notice")
        assert_not_requires(decide(req({ purpose = "verification" })), "colorado_fdcpa_notice")
        assert_not_requires(decide(req({ purpose = "cease_notice" })), "colorado_fdcpa_notice")
    end)
    it("binds debt buyers, not a creditor collecting its own debt", function()
        assert_blocked(decide(req({ collector = "debt_buyer", message = { colorado_fdcpa_notice = false } })),
                       "US-CO/colorado-fdcpa-notice")
        assert_not_requires(decide(req({ collector = "creditor" })), "colorado_fdcpa_notice")
    end)
    it("does not apply in another state", function()
        local d = decide(req({ consumer = { state = "UT", timezones = { "America/Denver" } },
                               message = { colorado_fdcpa_notice = false } }))
        assert_not_blocked(d, "US-CO/colorado-fdcpa-notice")
        assert_not_requires(decide(req({ consumer = { state = "UT", timezones = { "America/Denver" } } })),
                            "colorado_fdcpa_notice")
    end)
end)
