-- Specs for states/ma.lua (940 CMR 7.00; 209 CMR 18.00): both sides of every
-- boundary. 2026-11-23 is a Monday; Boston is UTC-5 (EST) then and UTC-4 (EDT)
-- from 2026-03-08 to 2026-11-01. 15:00Z on 2026-11-23 is 10:00 in Boston.
local MA = { state = "MA", timezones = { "America/New_York" } }
local base = { channel = "call", dialer = "manual", consumer = MA, debt = { id = "D1" } }

local function at(now, extra)
    local r = merge(base, extra or {})
    r.now = now
    return r
end

-- history entries: list of { at, channel, outcome, place, direction, debt }
local function hist(list)
    local h = {}
    for i, e in ipairs(list) do
        h[i] = { at = e[1], channel = e[2] or "call", outcome = e[3] or "attempt",
                 place = e.place, direction = e.direction, debt = e.debt }
    end
    return h
end

local TWO = hist({ { "2026-11-20T15:00:00Z" }, { "2026-11-21T15:00:00Z" } })

describe("2 calls or texts in 7 days to personal numbers (940 CMR 7.04(1)(f))", function()
    it("allows the 2nd call in the period", function()
        local d = decide(at("2026-11-23T15:00:00Z", { history = hist({ { "2026-11-20T15:00:00Z" } }) }))
        assert_not_blocked(d, "US-MA/call-frequency-personal")
        assert_allowed(d)
    end)
    it("blocks the 3rd until the oldest call's date leaves the window", function()
        local d = decide(at("2026-11-23T15:00:00Z", { history = TWO }))
        assert_blocked(d, "US-MA/call-frequency-personal")
        -- 11-20 is day 1; on 11-27 the window is 11-21..11-27 (one call); 08:00 EST
        assert_next(d, "2026-11-27T13:00:00Z")
        assert_allowed(decide(at("2026-11-27T13:00:00Z", { history = TWO })))
    end)
    it("day 7 counts, day 8 does not", function()
        local old = hist({ { "2026-11-17T15:00:00Z" }, { "2026-11-17T16:00:00Z" } })
        assert_blocked(decide(at("2026-11-23T23:00:00Z", { history = old })), "US-MA/call-frequency-personal")
        local d = decide(at("2026-11-24T13:00:00Z", { history = old }))
        assert_not_blocked(d, "US-MA/call-frequency-personal")
        assert_allowed(d)
    end)
    it("counts texts, WhatsApp messages and voicemails as calls", function()
        local h = hist({ { "2026-11-20T15:00:00Z", "sms", "delivered" }, { "2026-11-21T15:00:00Z", "whatsapp", "delivered" } })
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { history = h })), "US-MA/call-frequency-personal")
        local v = hist({ { "2026-11-20T15:00:00Z", "call", "voicemail" }, { "2026-11-21T15:00:00Z", "call", "conversation" } })
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { history = v })), "US-MA/call-frequency-personal")
    end)
    it("blocks a text as the 3rd communication", function()
        local c = merge(MA, { consent = { sms = true } })
        local d = decide(at("2026-11-23T15:00:00Z", { channel = "sms", consumer = c, history = TWO,
                                                      message = { optout_notice = true } }))
        assert_blocked(d, "US-MA/call-frequency-personal")
        assert_next(d, "2026-11-27T13:00:00Z")
    end)
    it("does not count calls never connected, failed texts or inbound calls", function()
        local h = hist({ { "2026-11-20T15:00:00Z" }, { "2026-11-21T15:00:00Z", "call", "not_connected" },
                         { "2026-11-21T16:00:00Z", "sms", "failed" },
                         { "2026-11-22T15:00:00Z", "call", "conversation", direction = "inbound" } })
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = h })), "US-MA/call-frequency-personal")
    end)
    it("counts per debt", function()
        local h = hist({ { "2026-11-20T15:00:00Z" }, { "2026-11-21T15:00:00Z", debt = "D2" } })
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = h })), "US-MA/call-frequency-personal")
    end)
    it("does not count calls to a work number, and does not stop letters or email", function()
        local h = hist({ { "2026-11-20T15:00:00Z", place = "work" }, { "2026-11-21T15:00:00Z", place = "work" } })
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = h })), "US-MA/call-frequency-personal")
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = TWO, channel = "letter" })),
                           "US-MA/call-frequency-personal")
        local e = decide(at("2026-11-23T15:00:00Z", { history = TWO, channel = "email",
                                                      message = { optout_notice = true } }))
        assert_not_blocked(e, "US-MA/call-frequency-personal")
        assert_allowed(e)
    end)
    it("binds a creditor collecting its own debt (federal law does not)", function()
        local d = decide(at("2026-11-23T15:00:00Z", { history = TWO, collector = "creditor" }))
        assert_blocked(d, "US-MA/call-frequency-personal")
        assert_not_blocked(d, "US-FED/call-frequency")
        assert_next(d, "2026-11-27T13:00:00Z")
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { history = TWO, collector = "debt_buyer" })),
                       "US-MA/call-frequency-personal")
    end)
    it("does not apply outside Massachusetts", function()
        local nh = { state = "NH", timezones = { "America/New_York" } }
        local d = decide(at("2026-11-23T15:00:00Z", { history = TWO, consumer = nh }))
        assert_not_blocked(d, "US-MA/call-frequency-personal")
        assert_none(d, "US-MA/")
    end)
    it("counts dates across the spring-forward day (2026-03-08)", function()
        local h = hist({ { "2026-03-02T15:00:00Z" }, { "2026-03-03T15:00:00Z" } })   -- EST dates 03-02, 03-03
        local d = decide(at("2026-03-08T15:00:00Z", { history = h }))                 -- 11:00 EDT, day 7
        assert_blocked(d, "US-MA/call-frequency-personal")
        -- the 03-02 call leaves on 03-09; 08:00 EDT is 12:00Z
        assert_next(d, "2026-03-09T12:00:00Z")
        assert_allowed(decide(at("2026-03-09T12:00:00Z", { history = h })))
    end)
    it("counts dates across the fall-back day (2026-11-01)", function()
        local h = hist({ { "2026-10-26T14:00:00Z" }, { "2026-10-27T14:00:00Z" } })   -- EDT dates
        local d = decide(at("2026-11-01T15:00:00Z", { history = h }))                 -- 10:00 EST, day 7
        assert_blocked(d, "US-MA/call-frequency-personal")
        assert_next(d, "2026-11-02T13:00:00Z")
        assert_allowed(decide(at("2026-11-02T13:00:00Z", { history = h })))
    end)
    it("counts dates in every zone of the consumer", function()
        -- 06:30Z on 11-17 is 01:30 on 11-17 in Boston but 22:30 on 11-16 in Los Angeles
        local h = hist({ { "2026-11-17T06:30:00Z" }, { "2026-11-17T18:00:00Z" } })
        local now = "2026-11-23T20:00:00Z"                                            -- 15:00 ET, 12:00 PT
        local east = decide(at(now, { history = h }))
        assert_blocked(east, "US-MA/call-frequency-personal")
        local west = decide(at(now, { history = h, consumer = { state = "MA", timezones = { "America/Los_Angeles" } } }))
        assert_not_blocked(west, "US-MA/call-frequency-personal")
        local both = decide(at(now, { history = h,
            consumer = { state = "MA", timezones = { "America/New_York", "America/Los_Angeles" } } }))
        assert_blocked(both, "US-MA/call-frequency-personal")
        -- free on 11-24 in Boston; 08:00 Pacific is the first moment inside both windows
        assert_next(both, "2026-11-24T16:00:00Z")
    end)
end)

describe("2 calls or texts in 30 days to other numbers (940 CMR 7.04(1)(f))", function()
    local W = { place = "work" }
    local work2 = hist({ { "2026-11-10T15:00:00Z", place = "work" }, { "2026-11-16T15:00:00Z", place = "work" } })
    it("allows the 2nd call to a work number in 30 days", function()
        local d = decide(at("2026-11-23T15:00:00Z", merge(W, { history = hist({ { "2026-11-10T15:00:00Z", place = "work" } }) })))
        assert_not_blocked(d, "US-MA/call-frequency-other")
        assert_allowed(d)
    end)
    it("blocks the 3rd until the oldest call's date leaves the 30-day window", function()
        local d = decide(at("2026-11-23T15:00:00Z", merge(W, { history = work2 })))
        assert_blocked(d, "US-MA/call-frequency-other")
        -- 11-10 is day 1 of a 30-date window: it leaves on 12-10
        assert_next(d, "2026-12-10T13:00:00Z")
        assert_allowed(decide(at("2026-12-10T13:00:00Z", merge(W, { history = work2 }))))
    end)
    it("day 30 counts, day 31 does not", function()
        local old = hist({ { "2026-10-25T14:00:00Z", place = "work" }, { "2026-10-25T15:00:00Z", place = "work" } })
        assert_blocked(decide(at("2026-11-23T15:00:00Z", merge(W, { history = old }))), "US-MA/call-frequency-other")
        assert_allowed(decide(at("2026-11-24T13:00:00Z", merge(W, { history = old }))))
    end)
    it("keeps work and personal numbers in separate buckets", function()
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", merge(W, { history = TWO }))), "US-MA/call-frequency-other")
        local d = decide(at("2026-11-23T15:00:00Z", { history = work2 }))
        assert_not_blocked(d, "US-MA/call-frequency-other")
        assert_not_blocked(d, "US-MA/call-frequency-personal")
    end)
    it("binds creditors", function()
        assert_blocked(decide(at("2026-11-23T15:00:00Z", merge(W, { history = work2, collector = "creditor" }))),
                       "US-MA/call-frequency-other")
    end)
    it("does not stop a letter, nor apply outside Massachusetts", function()
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", merge(W, { history = work2, channel = "letter" }))),
                           "US-MA/call-frequency-other")
        local nh = { state = "NH", timezones = { "America/New_York" } }
        assert_none(decide(at("2026-11-23T15:00:00Z", merge(W, { history = work2, consumer = nh }))), "US-MA/")
    end)
end)

describe("creditors' call hours (940 CMR 7.05(1), (3)(e))", function()
    local C = { collector = "creditor" }
    it("blocks 07:59:59 and allows 08:00:00", function()
        local d = decide(at("2026-11-23T12:59:59Z", C))
        assert_blocked(d, "US-MA/call-hours-creditor")
        assert_next(d, "2026-11-23T13:00:00Z")
        assert_allowed(decide(at("2026-11-23T13:00:00Z", C)))
    end)
    it("allows 20:59:59 and blocks 21:00:00 until 08:00", function()
        assert_allowed(decide(at("2026-11-24T01:59:59Z", C)))
        local d = decide(at("2026-11-24T02:00:00Z", C))
        assert_blocked(d, "US-MA/call-hours-creditor")
        assert_next(d, "2026-11-24T13:00:00Z")
    end)
    it("follows the spring-forward day", function()
        assert_blocked(decide(at("2026-03-08T11:59:59Z", C)), "US-MA/call-hours-creditor")
        assert_allowed(decide(at("2026-03-08T12:00:00Z", C)))
        assert_next(decide(at("2026-03-08T05:00:00Z", C)), "2026-03-08T12:00:00Z")
    end)
    it("follows the fall-back day", function()
        assert_blocked(decide(at("2026-11-01T12:59:59Z", C)), "US-MA/call-hours-creditor")
        assert_allowed(decide(at("2026-11-01T13:00:00Z", C)))
        assert_allowed(decide(at("2026-11-02T01:59:59Z", C)))
        assert_blocked(decide(at("2026-11-02T02:00:00Z", C)), "US-MA/call-hours-creditor")
    end)
    it("judges every zone given for the consumer", function()
        local two = { state = "MA", timezones = { "America/New_York", "America/Los_Angeles" } }
        local d = decide(at("2026-11-23T15:59:59Z", merge(C, { consumer = two })))   -- 07:59:59 Pacific
        assert_blocked(d, "US-MA/call-hours-creditor")
        assert_next(d, "2026-11-23T16:00:00Z")
        assert_allowed(decide(at("2026-11-23T16:00:00Z", merge(C, { consumer = two }))))
    end)
    it("is the federal window's job for debt collectors; letters are not timed", function()
        local d = decide(at("2026-11-23T12:00:00Z"))
        assert_not_blocked(d, "US-MA/call-hours-creditor")
        assert_blocked(d, "US-FED/inconvenient-time")
        assert_allowed(decide(at("2026-11-23T12:00:00Z", merge(C, { channel = "letter" }))))
    end)
    it("does not apply outside Massachusetts", function()
        local nh = { state = "NH", timezones = { "America/New_York" } }
        assert_none(decide(at("2026-11-23T12:00:00Z", merge(C, { consumer = nh }))), "US-MA/")
    end)
end)

describe("household visits (209 CMR 18.17(6))", function()
    local V = { channel = "visit" }
    local talked = hist({ { "2026-11-03T15:00:00Z", "visit", "conversation" } })
    it("allows the first visit in 30 days", function()
        assert_allowed(decide(at("2026-11-23T15:00:00Z", V)))
    end)
    it("blocks a second visit within 30 days until the first leaves the window", function()
        local d = decide(at("2026-11-23T15:00:00Z", merge(V, { history = talked })))
        assert_blocked(d, "US-MA/visit-frequency")
        -- 11-03 is day 1; it leaves on 12-03
        assert_next(d, "2026-12-03T13:00:00Z")
    end)
    it("day 30 counts, day 31 does not", function()
        local h = hist({ { "2026-10-25T15:00:00Z", "visit", "conversation" } })
        assert_blocked(decide(at("2026-11-23T15:00:00Z", merge(V, { history = h }))), "US-MA/visit-frequency")
        assert_allowed(decide(at("2026-11-24T13:00:00Z", merge(V, { history = h }))))
    end)
    it("does not count a visit where no one was contacted", function()
        local h = hist({ { "2026-11-20T15:00:00Z", "visit", "attempt" } })
        assert_allowed(decide(at("2026-11-23T15:00:00Z", merge(V, { history = h }))))
    end)
    it("binds creditors, and does not limit calls", function()
        assert_blocked(decide(at("2026-11-23T15:00:00Z", merge(V, { history = talked, collector = "creditor" }))),
                       "US-MA/visit-frequency")
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = talked })), "US-MA/visit-frequency")
    end)
    it("does not apply outside Massachusetts", function()
        local nh = { state = "NH", timezones = { "America/New_York" } }
        assert_none(decide(at("2026-11-23T15:00:00Z", merge(V, { history = talked, consumer = nh }))), "US-MA/")
    end)
end)

describe("creditors' visit hours (940 CMR 7.04(1); 209 CMR 18.17(6))", function()
    local CV = { channel = "visit", collector = "creditor" }
    it("blocks 07:59:59, allows 08:00:00", function()
        local d = decide(at("2026-11-23T12:59:59Z", CV))
        assert_blocked(d, "US-MA/visit-hours-creditor")
        assert_next(d, "2026-11-23T13:00:00Z")
        assert_allowed(decide(at("2026-11-23T13:00:00Z", CV)))
    end)
    it("allows 20:59:59, blocks 21:00:00", function()
        assert_allowed(decide(at("2026-11-24T01:59:59Z", CV)))
        assert_blocked(decide(at("2026-11-24T02:00:00Z", CV)), "US-MA/visit-hours-creditor")
    end)
    it("follows the spring-forward day", function()
        assert_blocked(decide(at("2026-03-08T11:59:59Z", CV)), "US-MA/visit-hours-creditor")
        assert_allowed(decide(at("2026-03-08T12:00:00Z", CV)))
    end)
    it("leaves debt collectors to the federal window", function()
        local d = decide(at("2026-11-23T12:59:59Z", { channel = "visit" }))
        assert_not_blocked(d, "US-MA/visit-hours-creditor")
        assert_blocked(d, "US-FED/inconvenient-time")
    end)
    it("does not judge calls, nor apply outside Massachusetts", function()
        local c = decide(at("2026-11-23T12:59:59Z", { collector = "creditor" }))
        assert_not_blocked(c, "US-MA/visit-hours-creditor")
        assert_blocked(c, "US-MA/call-hours-creditor")
        local nh = { state = "NH", timezones = { "America/New_York" } }
        assert_none(decide(at("2026-11-23T12:59:59Z", merge(CV, { consumer = nh }))), "US-MA/")
    end)
end)

describe("visits at the place of employment (209 CMR 18.17(7))", function()
    local WV = { channel = "visit", place = "work" }
    it("blocks a visit at work the debtor did not request", function()
        local d = decide(at("2026-11-23T15:00:00Z", WV))
        assert_blocked(d, "US-MA/workplace-visit")
        assert_next(d, nil)
        assert_blocked(decide(at("2026-11-23T15:00:00Z", merge(WV, { collector = "creditor" }))), "US-MA/workplace-visit")
    end)
    it("allows it when the debtor asked for it", function()
        local c = merge(MA, { consent = { visit = true } })
        assert_allowed(decide(at("2026-11-23T15:00:00Z", merge(WV, { consumer = c }))))
    end)
    it("does not touch home visits or calls to work", function()
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "visit" })), "US-MA/workplace-visit")
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { place = "work" })), "US-MA/workplace-visit")
    end)
    it("does not apply outside Massachusetts", function()
        local nh = { state = "NH", timezones = { "America/New_York" } }
        assert_none(decide(at("2026-11-23T15:00:00Z", merge(WV, { consumer = nh }))), "US-MA/")
    end)
end)
