-- Specs for states/wv.lua (W. Va. Code 46A-2-125(d)). Eastern time (UTC-5 in November).
local WV = { state = "WV", timezones = { "America/New_York" } }

local function req(now, extra)
    local r = merge({ channel = "call", dialer = "manual", collector = "creditor", consumer = WV,
                      debt = { id = "D1" } }, extra or {})
    r.now = now
    return r
end

local function calls(n, outcome, first_day)
    local h = {}
    for i = 1, n do
        local day = (first_day or 17) + (i - 1) % 7
        h[i] = { channel = "call", at = string.format("2026-11-%02dT%02d:00:00Z", day, 14 + math.floor((i - 1) / 7)),
                 outcome = outcome or "attempt" }
    end
    return h
end

describe("30 calls a week (46A-2-125(d))", function()
    it("allows the 30th call and blocks the 31st, creditors included", function()
        assert_not_blocked(decide(req("2026-11-23T20:00:00Z", { history = calls(29) })), "US-WV/calls-per-week")
        assert_blocked(decide(req("2026-11-23T20:00:00Z", { history = calls(30) })), "US-WV/calls-per-week")
    end)
    it("does not count calls that never connected", function()
        assert_not_blocked(decide(req("2026-11-23T20:00:00Z", { history = calls(30, "not_connected") })),
                           "US-WV/calls-per-week")
    end)
end)

describe("10 conversations a week (46A-2-125(d))", function()
    it("blocks the call after the 10th conversation, whoever called", function()
        local h = calls(10, "conversation")
        h[1].direction = "inbound"
        assert_blocked(decide(req("2026-11-23T20:00:00Z", { history = h })), "US-WV/conversations-per-week")
        assert_not_blocked(decide(req("2026-11-23T20:00:00Z", { history = calls(9, "conversation") })),
                           "US-WV/conversations-per-week")
    end)
end)

describe("hours", function()
    it("binds a creditor at 7:59:59, not at 8:00", function()
        assert_blocked(decide(req("2026-11-23T12:59:59Z")), "US-WV/hours")
        assert_not_blocked(decide(req("2026-11-23T13:00:00Z")), "US-WV/hours")
    end)
end)
