-- Specs for federal_all.lua: bankruptcy, TCPA and SCRA bind every collector,
-- creditors collecting their own debts included.
local NY = { state = "NY", timezones = { "America/New_York" } }

local function req(extra)
    local r = merge({ channel = "call", now = "2026-11-23T15:00:00Z", consumer = NY,
                      debt = { id = "D1" } }, extra or {})
    return r
end

describe("bankruptcy stay", function()
    it("blocks every collector, for good", function()
        for _, who in ipairs({ "third_party", "debt_buyer", "creditor" }) do
            local d = decide(req({ collector = who, consumer = merge(NY, { flags = { "bankruptcy" } }) }))
            assert_blocked(d, "US-FED-ALL/bankruptcy-stay", who)
            assert_next(d, nil, who)
        end
    end)
    it("does not apply without the flag", function()
        assert_not_blocked(decide(req({ collector = "creditor" })), "US-FED-ALL/bankruptcy-stay")
    end)
end)

describe("TCPA", function()
    it("a creditor's text needs consent too", function()
        assert_blocked(decide(req({ channel = "sms", collector = "creditor" })), "US-FED-ALL/tcpa-sms-consent")
        local c = merge(NY, { consent = { sms = true } })
        assert_not_blocked(decide(req({ channel = "sms", collector = "creditor", consumer = c })),
                           "US-FED-ALL/tcpa-sms-consent")
    end)
    it("a prerecorded call needs consent; a live call does not", function()
        assert_blocked(decide(req({ message = { prerecorded = true } })), "US-FED-ALL/tcpa-autodialed-call")
        assert_not_blocked(decide(req({ message = { prerecorded = false } })), "US-FED-ALL/tcpa-autodialed-call")
        assert_not_blocked(decide(req()), "US-FED-ALL/tcpa-autodialed-call")
    end)
end)

describe("SCRA", function()
    it("forbids a threat of suit to a servicemember", function()
        local c = merge(NY, { flags = { "scra" } })
        assert_blocked(decide(req({ consumer = c, message = { threatens_suit = true } })),
                       "US-FED-ALL/scra-no-suit-threat")
        assert_allowed(decide(req({ consumer = c, message = { threatens_suit = false } })))
    end)
end)
