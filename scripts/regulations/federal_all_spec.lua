-- Specs for federal_all.lua: bankruptcy, TCPA and SCRA bind every collector,
-- creditors collecting their own debts included.
local NY = { state = "NY", timezones = { "America/New_York" } }

local function req(extra)
    local r = merge({ channel = "call", dialer = "manual", now = "2026-11-23T15:00:00Z", consumer = NY,
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
    it("an autodialled or prerecorded call to a cell needs consent; a manual call does not", function()
        for _, dialer in ipairs({ "autodialer", "prerecorded" }) do
            for _, line in ipairs({ "cell", "voip" }) do
                local d = decide(req({ dialer = dialer, line = line }))
                assert_blocked(d, "US-FED-ALL/tcpa-autodialed-call", dialer .. " " .. line)
                assert_eq(#d.assumed, 0, dialer .. " " .. line .. ": exact")
                local c = merge(NY, { consent = { autodial = true } })
                assert_allowed(decide(req({ dialer = dialer, line = line, consumer = c })), dialer)
            end
        end
        for _, line in ipairs({ "cell", "landline", "voip" }) do
            assert_allowed(decide(req({ dialer = "manual", line = line })), "manual " .. line)
        end
    end)
    it("an autodialled live call to a landline needs no consent; a prerecorded one does", function()
        assert_allowed(decide(req({ dialer = "autodialer", line = "landline" })))
        assert_blocked(decide(req({ dialer = "prerecorded", line = "landline" })),
                       "US-FED-ALL/tcpa-prerecorded-landline")
    end)
    it("assumes an autodialled call to a cell when the request does not say, and says so", function()
        local d = decide({ channel = "call", now = "2026-11-23T15:00:00Z", consumer = NY, debt = { id = "D1" } })
        assert_blocked(d, "US-FED-ALL/tcpa-autodialed-call")
        assert_eq(table.concat(d.assumed, ","), "dialer,line")
        d = decide(req({ dialer = "autodialer" }))
        assert_blocked(d, "US-FED-ALL/tcpa-autodialed-call")
        assert_eq(table.concat(d.assumed, ","), "line")
        -- A rule that does not block assumes nothing.
        local c = merge(NY, { consent = { autodial = true } })
        d = decide({ channel = "call", now = "2026-11-23T15:00:00Z", consumer = c, debt = { id = "D1" } })
        assert_allowed(d)
        assert_eq(#d.assumed, 0)
    end)
    it("refuses an unknown dialer or line, naming the field", function()
        local d, err = decide(req({ dialer = "robot" }))
        assert_eq(d, nil)
        assert_true(err:find("dialer", 1, true) ~= nil, err)
        d, err = decide(req({ line = "fax" }))
        assert_eq(d, nil)
        assert_true(err:find("line", 1, true) ~= nil, err)
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
