-- Specs for states/wa.lua (RCW 19.16.250): both sides of every boundary.
-- 2026-11-23 is a Monday; Seattle is UTC-8 (PST) then and UTC-7 (PDT) from
-- 2026-03-08 to 2026-11-01. 18:00Z on 2026-11-23 is 10:00 in Seattle; 08:00 PST
-- (the federal start) is 16:00Z.
local WA = { state = "WA", timezones = { "America/Los_Angeles" } }
local base = { channel = "call", dialer = "manual", consumer = WA, debt = { id = "D1" } }

local function at(now, extra)
    local r = merge(base, extra or {})
    r.now = now
    return r
end

-- history entries: { at, channel, outcome, place =, direction =, debt = }
local function hist(list)
    local h = {}
    for i, e in ipairs(list) do
        h[i] = { at = e[1], channel = e[2] or "call", outcome = e[3] or "attempt",
                 place = e.place, direction = e.direction, debt = e.debt }
    end
    return h
end

local THREE = hist({ { "2026-11-19T18:00:00Z" }, { "2026-11-20T18:00:00Z", "letter", "delivered" },
                     { "2026-11-21T18:00:00Z", "email", "delivered" } })

describe("3 communications a week (RCW 19.16.250(13)(a))", function()
    it("allows the 3rd communication in the week", function()
        local h = hist({ { "2026-11-19T18:00:00Z" }, { "2026-11-20T18:00:00Z", "letter", "delivered" } })
        local d = decide(at("2026-11-23T18:00:00Z", { history = h }))
        assert_not_blocked(d, "US-WA/communication-frequency")
        assert_allowed(d)
    end)
    it("blocks the 4th, in any channel, until the oldest leaves the week", function()
        local d = decide(at("2026-11-23T18:00:00Z", { history = THREE }))
        assert_blocked(d, "US-WA/communication-frequency")
        -- 11-19 is day 1; on 11-26 the week is 11-20..11-26; 08:00 PST
        assert_next(d, "2026-11-26T16:00:00Z")
        local l = decide(at("2026-11-23T18:00:00Z", { history = THREE, channel = "letter" }))
        assert_blocked(l, "US-WA/communication-frequency")
        assert_next(l, "2026-11-26T08:00:00Z")      -- letters are not timed: local midnight
    end)
    it("day 7 counts, day 8 does not", function()
        local h = hist({ { "2026-11-17T17:00:00Z" }, { "2026-11-17T18:00:00Z", "letter", "delivered" },
                         { "2026-11-17T19:00:00Z", "email", "delivered" } })
        local L = { history = h, channel = "letter" }
        assert_blocked(decide(at("2026-11-24T07:59:59Z", L)), "US-WA/communication-frequency")   -- 23:59:59 on 11-23
        assert_allowed(decide(at("2026-11-24T08:00:00Z", L)))                                    -- 00:00 on 11-24
    end)
    it("counts the debtor's other debts", function()
        local h = hist({ { "2026-11-19T18:00:00Z", debt = "D2" }, { "2026-11-20T18:00:00Z", "letter", "delivered", debt = "D3" },
                         { "2026-11-21T18:00:00Z", "email", "delivered" } })
        assert_blocked(decide(at("2026-11-23T18:00:00Z", { history = h })), "US-WA/communication-frequency")
    end)
    it("does not count inbound contacts, calls never connected or failed messages", function()
        local h = hist({ { "2026-11-19T18:00:00Z" }, { "2026-11-20T18:00:00Z", "call", "not_connected" },
                         { "2026-11-21T18:00:00Z", "email", "failed" },
                         { "2026-11-22T18:00:00Z", "call", "conversation", direction = "inbound" } })
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", { history = h })), "US-WA/communication-frequency")
    end)
    it("does not bind a creditor collecting its own debt, nor apply outside Washington", function()
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", { history = THREE, collector = "creditor" })),
                           "US-WA/communication-frequency")
        assert_blocked(decide(at("2026-11-23T18:00:00Z", { history = THREE, collector = "debt_buyer" })),
                       "US-WA/communication-frequency")
        local or_ = { state = "OR", timezones = { "America/Los_Angeles" } }
        assert_none(decide(at("2026-11-23T18:00:00Z", { history = THREE, consumer = or_ })), "US-WA/")
    end)
    it("counts dates across the spring-forward day (2026-03-08)", function()
        local h = hist({ { "2026-03-02T18:00:00Z" }, { "2026-03-03T18:00:00Z", "letter", "delivered" },
                         { "2026-03-04T18:00:00Z", "email", "delivered" } })
        local d = decide(at("2026-03-08T17:00:00Z", { history = h }))       -- 10:00 PDT, day 7
        assert_blocked(d, "US-WA/communication-frequency")
        assert_next(d, "2026-03-09T15:00:00Z")                              -- 08:00 PDT on 03-09
        assert_allowed(decide(at("2026-03-09T15:00:00Z", { history = h })))
    end)
end)

describe("once a week at the place of employment (RCW 19.16.250(13)(b))", function()
    local W = { place = "work" }
    local once = hist({ { "2026-11-20T18:00:00Z", place = "work" } })
    it("allows the first communication at work in the week", function()
        assert_allowed(decide(at("2026-11-23T18:00:00Z", W)))
    end)
    it("blocks the second until the first leaves the week", function()
        local d = decide(at("2026-11-23T18:00:00Z", merge(W, { history = once })))
        assert_blocked(d, "US-WA/workplace-frequency")
        assert_next(d, "2026-11-27T16:00:00Z")
    end)
    it("day 7 counts, day 8 does not", function()
        local h = hist({ { "2026-11-17T18:00:00Z", place = "work" } })
        assert_blocked(decide(at("2026-11-23T18:00:00Z", merge(W, { history = h }))), "US-WA/workplace-frequency")
        assert_allowed(decide(at("2026-11-24T16:00:00Z", merge(W, { history = h }))))
    end)
    it("counts other debts, but not contacts at home", function()
        local other = hist({ { "2026-11-20T18:00:00Z", place = "work", debt = "D2" } })
        assert_blocked(decide(at("2026-11-23T18:00:00Z", merge(W, { history = other }))), "US-WA/workplace-frequency")
        local home = hist({ { "2026-11-20T18:00:00Z" } })
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", merge(W, { history = home }))), "US-WA/workplace-frequency")
    end)
    it("does not limit contacts at home", function()
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", { history = once })), "US-WA/workplace-frequency")
    end)
    it("does not bind creditors, nor apply outside Washington", function()
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", merge(W, { history = once, collector = "creditor" }))),
                           "US-WA/workplace-frequency")
        local or_ = { state = "OR", timezones = { "America/Los_Angeles" } }
        assert_none(decide(at("2026-11-23T18:00:00Z", merge(W, { history = once, consumer = or_ }))), "US-WA/")
    end)
end)

describe("twice a day to a cell phone (RCW 19.16.250(18))", function()
    local today2 = hist({ { "2026-11-23T16:30:00Z" }, { "2026-11-23T17:00:00Z" } })
    it("allows the 2nd call of the day", function()
        local d = decide(at("2026-11-23T18:00:00Z", { history = hist({ { "2026-11-23T16:30:00Z" } }) }))
        assert_not_blocked(d, "US-WA/cell-daily-limit")
        assert_allowed(d)
    end)
    it("blocks the 3rd until the next day (08:00 with the federal window)", function()
        local d = decide(at("2026-11-23T18:00:00Z", { history = today2 }))
        assert_blocked(d, "US-WA/cell-daily-limit")
        assert_not_blocked(d, "US-WA/communication-frequency")
        assert_next(d, "2026-11-24T16:00:00Z")
    end)
    it("counts texts, and blocks a text as the 3rd", function()
        local h = hist({ { "2026-11-23T16:30:00Z" }, { "2026-11-23T17:00:00Z", "sms", "delivered" } })
        assert_blocked(decide(at("2026-11-23T18:00:00Z", { history = h })), "US-WA/cell-daily-limit")
        local c = merge(WA, { consent = { sms = true } })
        assert_blocked(decide(at("2026-11-23T18:00:00Z", { history = today2, channel = "sms", consumer = c,
                                                           message = { optout_notice = true } })),
                       "US-WA/cell-daily-limit")
    end)
    it("counts calls that never connected", function()
        local h = hist({ { "2026-11-23T16:30:00Z", "call", "not_connected" }, { "2026-11-23T17:00:00Z", "call", "not_connected" } })
        assert_blocked(decide(at("2026-11-23T18:00:00Z", { history = h })), "US-WA/cell-daily-limit")
    end)
    it("yesterday's calls do not count", function()
        local h = hist({ { "2026-11-23T07:00:00Z" }, { "2026-11-23T07:30:00Z" } })   -- 23:00, 23:30 PST on 11-22
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", { history = h })), "US-WA/cell-daily-limit")
    end)
    it("does not count or stop email", function()
        local h = hist({ { "2026-11-23T16:30:00Z", "email", "delivered" }, { "2026-11-23T17:00:00Z", "email", "delivered" } })
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", { history = h })), "US-WA/cell-daily-limit")
        local e = decide(at("2026-11-23T18:00:00Z", { history = today2, channel = "email", message = { optout_notice = true } }))
        assert_not_blocked(e, "US-WA/cell-daily-limit")
        assert_allowed(e)
    end)
    it("does not bind creditors, nor apply outside Washington", function()
        assert_not_blocked(decide(at("2026-11-23T18:00:00Z", { history = today2, collector = "creditor" })),
                           "US-WA/cell-daily-limit")
        local or_ = { state = "OR", timezones = { "America/Los_Angeles" } }
        assert_none(decide(at("2026-11-23T18:00:00Z", { history = today2, consumer = or_ })), "US-WA/")
    end)
    it("follows the spring-forward day", function()
        local h = hist({ { "2026-03-08T16:00:00Z" }, { "2026-03-08T16:30:00Z" } })   -- 09:00, 09:30 PDT
        local d = decide(at("2026-03-08T17:00:00Z", { history = h }))
        assert_blocked(d, "US-WA/cell-daily-limit")
        assert_next(d, "2026-03-09T15:00:00Z")
    end)
    it("counts the date in every zone of the consumer", function()
        -- 06:00Z on 11-23 is 01:00 on 11-23 in New York but 22:00 on 11-22 in Seattle
        local h = hist({ { "2026-11-23T06:00:00Z" }, { "2026-11-23T17:00:00Z" } })
        local now = "2026-11-23T20:00:00Z"
        assert_not_blocked(decide(at(now, { history = h })), "US-WA/cell-daily-limit")
        local two = { state = "WA", timezones = { "America/Los_Angeles", "America/New_York" } }
        local d = decide(at(now, { history = h, consumer = two }))
        assert_blocked(d, "US-WA/cell-daily-limit")
        -- midnight in New York (05:00Z) is 21:00 in Seattle; both windows open at 08:00 Pacific
        assert_next(d, "2026-11-24T16:00:00Z")
    end)
end)
