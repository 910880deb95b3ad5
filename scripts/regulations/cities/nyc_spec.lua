-- Specs for cities/nyc.lua (6 RCNY 5-77): both sides of every boundary.
-- 2026-08-24 and 2026-11-23 are Mondays. New York is UTC-4 (EDT) until
-- 2026-11-01 and UTC-5 (EST) after; 14:00Z on 08-24 is 10:00 EDT, 15:00Z on
-- 11-23 is 10:00 EST. The amended rules take effect on 2026-09-01.
local BK = { state = "NY", city = "Brooklyn", timezones = { "America/New_York" } }
local base = { channel = "call", dialer = "manual", consumer = BK, debt = { id = "D1" } }

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

local function city(name)
    return { state = "NY", city = name, timezones = { "America/New_York" } }
end

-- before the amendment: one call about D1, one letter about D2
local MIXED = hist({ { "2026-08-20T14:00:00Z" }, { "2026-08-21T14:00:00Z", "letter", "delivered", debt = "D2" } })

describe("twice in seven calendar days, per consumer, until 2026-09-01 (6 RCNY 5-77(b)(1)(iv))", function()
    it("allows the 2nd communication", function()
        local d = decide(at("2026-08-24T14:00:00Z", { history = hist({ { "2026-08-20T14:00:00Z" } }) }))
        assert_not_blocked(d, "US-NY-NYC/communication-frequency")
        assert_allowed(d)
    end)
    it("blocks the 3rd, counting every debt of the consumer, until the oldest leaves", function()
        local d = decide(at("2026-08-24T14:00:00Z", { history = MIXED }))
        assert_blocked(d, "US-NY-NYC/communication-frequency")
        assert_not_blocked(d, "US-NY-NYC/communication-frequency-per-account")
        -- 08-20 is day 1; free on 08-27, at 08:00 EDT with the federal window
        assert_next(d, "2026-08-27T12:00:00Z")
    end)
    it("counts and limits every channel", function()
        local l = decide(at("2026-08-24T14:00:00Z", { history = MIXED, channel = "letter" }))
        assert_blocked(l, "US-NY-NYC/communication-frequency")
        assert_next(l, "2026-08-27T04:00:00Z")    -- letters are not timed: local midnight
    end)
    it("day 7 counts, day 8 does not", function()
        local h = hist({ { "2026-08-18T14:00:00Z" }, { "2026-08-18T15:00:00Z", "email", "delivered" } })
        local L = { history = h, channel = "letter" }
        assert_blocked(decide(at("2026-08-25T03:59:59Z", L)), "US-NY-NYC/communication-frequency")   -- 23:59:59 on 08-24
        assert_allowed(decide(at("2026-08-25T04:00:00Z", L)))                                        -- 00:00 on 08-25
    end)
    it("does not count inbound contacts, calls never connected or returned mail", function()
        local h = hist({ { "2026-08-20T14:00:00Z" }, { "2026-08-21T14:00:00Z", "call", "not_connected" },
                         { "2026-08-21T15:00:00Z", "letter", "failed" },
                         { "2026-08-22T14:00:00Z", "call", "conversation", direction = "inbound" } })
        assert_not_blocked(decide(at("2026-08-24T14:00:00Z", { history = h })), "US-NY-NYC/communication-frequency")
    end)
    it("does not limit communications required by law", function()
        assert_allowed(decide(at("2026-08-24T14:00:00Z", { history = MIXED, channel = "letter",
                                                           purpose = "validation_notice" })))
    end)
    it("binds creditors collecting their own debts", function()
        local d = decide(at("2026-08-24T14:00:00Z", { history = MIXED, collector = "creditor" }))
        assert_blocked(d, "US-NY-NYC/communication-frequency")
        assert_not_blocked(d, "US-FED/call-frequency")
    end)
    it("applies in every borough, whatever the spelling, and not elsewhere in New York", function()
        for _, name in ipairs({ "New York", "new york city", "N.Y.C.", "Manhattan", "The Bronx", "bronx",
                                "QUEENS", "Staten Island", "statenisland" }) do
            assert_blocked(decide(at("2026-08-24T14:00:00Z", { history = MIXED, consumer = city(name) })),
                           "US-NY-NYC/communication-frequency", name)
        end
        for _, name in ipairs({ "Albany", "Yonkers", "Buffalo" }) do
            assert_not_blocked(decide(at("2026-08-24T14:00:00Z", { history = MIXED, consumer = city(name) })),
                               "US-NY-NYC/communication-frequency", name)
        end
        local nj = { state = "NJ", city = "New York", timezones = { "America/New_York" } }
        assert_none(decide(at("2026-08-24T14:00:00Z", { history = MIXED, consumer = nj })), "US-NY-NYC/")
    end)
end)

describe("per account from 2026-09-01 (amended 6 RCNY 5-77)", function()
    local SAME = hist({ { "2026-11-19T15:00:00Z" }, { "2026-11-20T15:00:00Z", "letter", "delivered" } })
    it("blocks the 3rd communication about the same account", function()
        local d = decide(at("2026-11-23T15:00:00Z", { history = SAME }))
        assert_blocked(d, "US-NY-NYC/communication-frequency-per-account")
        assert_not_blocked(d, "US-NY-NYC/communication-frequency")
        assert_next(d, "2026-11-26T13:00:00Z")
    end)
    it("no longer counts the consumer's other accounts", function()
        local h = hist({ { "2026-11-19T15:00:00Z" }, { "2026-11-20T15:00:00Z", "letter", "delivered", debt = "D2" } })
        local d = decide(at("2026-11-23T15:00:00Z", { history = h }))
        assert_not_blocked(d, "US-NY-NYC/communication-frequency-per-account")
        assert_allowed(d)
    end)
    it("counts dates across the fall-back day (2026-11-01)", function()
        local h = hist({ { "2026-10-26T14:00:00Z" }, { "2026-10-27T14:00:00Z" } })
        local d = decide(at("2026-11-01T15:00:00Z", { history = h }))       -- 10:00 EST, day 7
        assert_blocked(d, "US-NY-NYC/communication-frequency-per-account")
        assert_next(d, "2026-11-02T13:00:00Z")
        assert_allowed(decide(at("2026-11-02T13:00:00Z", { history = h })))
    end)
    it("does not apply outside the City or to communications required by law", function()
        assert_none(decide(at("2026-11-23T15:00:00Z", { history = SAME, consumer = city("Albany") })), "US-NY-NYC/")
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { history = SAME, channel = "letter", purpose = "verification" })))
    end)
    it("hands over from the old rule to the new one around 2026-09-01", function()
        -- D1 on 08-27, D2 on 08-28: two for the consumer, one for the account
        local h = hist({ { "2026-08-27T14:00:00Z", "letter", "delivered" },
                         { "2026-08-28T14:00:00Z", "letter", "delivered", debt = "D2" } })
        local L = { history = h, channel = "letter" }
        assert_blocked(decide(at("2026-08-31T15:00:00Z", L)), "US-NY-NYC/communication-frequency")
        assert_allowed(decide(at("2026-09-01T15:00:00Z", L)))
    end)
    it("switches at midnight in New York, not at midnight UTC", function()
        -- KNOWN ENGINE DEFECT (reported 2026-11-23): effective/expires are compared with
        -- the UTC date, so at 00:00Z on 09-01 (20:00 EDT on 08-31) the engine already
        -- applies the amended rules. The law takes effect on 09-01 in New York.
        local h = hist({ { "2026-08-27T14:00:00Z", "letter", "delivered" },
                         { "2026-08-28T14:00:00Z", "letter", "delivered", debt = "D2" } })
        local L = { history = h, channel = "letter" }
        assert_blocked(decide(at("2026-09-01T03:59:59Z", L)), "US-NY-NYC/communication-frequency")   -- 23:59:59 EDT 08-31
        assert_allowed(decide(at("2026-09-01T04:00:00Z", L)))                                        -- 00:00 EDT 09-01
    end)
end)

describe("creditors: 8 a.m. to 9 p.m. (6 RCNY 5-77(b)(1)(i))", function()
    local C = { collector = "creditor" }
    it("blocks 07:59:59 and allows 08:00:00", function()
        local d = decide(at("2026-11-23T12:59:59Z", C))
        assert_blocked(d, "US-NY-NYC/inconvenient-time-creditor")
        assert_next(d, "2026-11-23T13:00:00Z")
        assert_allowed(decide(at("2026-11-23T13:00:00Z", C)))
    end)
    it("allows 20:59:59 and blocks 21:00:00 until 08:00", function()
        assert_allowed(decide(at("2026-11-24T01:59:59Z", C)))
        local d = decide(at("2026-11-24T02:00:00Z", C))
        assert_blocked(d, "US-NY-NYC/inconvenient-time-creditor")
        assert_next(d, "2026-11-24T13:00:00Z")
    end)
    it("follows the spring-forward day (2026-03-08)", function()
        assert_blocked(decide(at("2026-03-08T11:59:59Z", C)), "US-NY-NYC/inconvenient-time-creditor")
        assert_allowed(decide(at("2026-03-08T12:00:00Z", C)))
        assert_next(decide(at("2026-03-08T05:00:00Z", C)), "2026-03-08T12:00:00Z")
    end)
    it("follows the fall-back day (2026-11-01)", function()
        assert_blocked(decide(at("2026-11-01T12:59:59Z", C)), "US-NY-NYC/inconvenient-time-creditor")
        assert_allowed(decide(at("2026-11-01T13:00:00Z", C)))
        assert_allowed(decide(at("2026-11-02T01:59:59Z", C)))
        assert_blocked(decide(at("2026-11-02T02:00:00Z", C)), "US-NY-NYC/inconvenient-time-creditor")
    end)
    it("judges every zone of the consumer", function()
        local two = { state = "NY", city = "Queens", timezones = { "America/New_York", "America/Los_Angeles" } }
        local d = decide(at("2026-11-23T15:59:59Z", merge(C, { consumer = two })))
        assert_blocked(d, "US-NY-NYC/inconvenient-time-creditor")
        assert_next(d, "2026-11-23T16:00:00Z")
        assert_allowed(decide(at("2026-11-23T16:00:00Z", merge(C, { consumer = two }))))
    end)
    it("leaves debt collectors to the federal rule; letters are not timed", function()
        local d = decide(at("2026-11-23T12:00:00Z"))
        assert_not_blocked(d, "US-NY-NYC/inconvenient-time-creditor")
        assert_blocked(d, "US-FED/inconvenient-time")
        assert_allowed(decide(at("2026-11-23T12:00:00Z", merge(C, { channel = "letter" }))))
    end)
    it("does not apply outside the City", function()
        assert_none(decide(at("2026-11-23T12:00:00Z", merge(C, { consumer = city("Albany") }))), "US-NY-NYC/")
    end)
end)

describe("creditors: attorney, workplace, cease, dispute (6 RCNY 5-77(b), (f)(3))", function()
    -- flags: a list, or nil for none (an empty table would reach the gate as an object)
    local function creditor(flags, extra)
        local c = flags and merge(BK, { flags = flags }) or BK
        return at("2026-11-23T15:00:00Z", merge({ collector = "creditor", consumer = c }, extra or {}))
    end
    it("attorney: blocks collection, not communications required by law", function()
        local d = decide(creditor({ "attorney" }))
        assert_blocked(d, "US-NY-NYC/attorney-represented-creditor")
        assert_next(d, nil)
        assert_allowed(decide(creditor({ "attorney" }, { channel = "letter", purpose = "verification" })))
        assert_allowed(decide(creditor(nil)))
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { consumer = merge(BK, { flags = { "attorney" } }) })),
                           "US-NY-NYC/attorney-represented-creditor")
    end)
    it("workplace: blocks work when the employer forbids it, not home", function()
        assert_blocked(decide(creditor({ "no_work_contact" }, { place = "work" })), "US-NY-NYC/workplace-prohibited-creditor")
        assert_allowed(decide(creditor({ "no_work_contact" })))
        assert_allowed(decide(creditor(nil, { place = "work" })))
    end)
    it("cease: blocks collection, allows the closing notice", function()
        local d = decide(creditor({ "cease" }))
        assert_blocked(d, "US-NY-NYC/cease-communication-creditor")
        assert_next(d, nil)
        assert_allowed(decide(creditor({ "cease" }, { channel = "letter", purpose = "cease_notice" })))
    end)
    it("dispute: blocks collection until verified, allows the verification", function()
        local pending = { debt = { id = "D1", dispute = "pending" } }
        assert_blocked(decide(creditor(nil, pending)), "US-NY-NYC/dispute-pending-creditor")
        assert_allowed(decide(creditor(nil, merge(pending, { channel = "letter", purpose = "verification" }))))
        assert_allowed(decide(creditor(nil, { debt = { id = "D1", dispute = "verified" } })))
    end)
    it("does not apply outside the City", function()
        local albany = { collector = "creditor", consumer = merge(city("Albany"), { flags = { "attorney", "cease", "no_work_contact" } }) }
        assert_none(decide(at("2026-11-23T15:00:00Z", albany)), "US-NY-NYC/")
        assert_none(decide(at("2026-11-23T15:00:00Z", merge(albany, { place = "work" }))), "US-NY-NYC/")
        assert_none(decide(at("2026-11-23T15:00:00Z", { collector = "creditor", consumer = city("Albany"),
                                                           debt = { id = "D1", dispute = "pending" } })), "US-NY-NYC/")
    end)
end)

describe("electronic communications need consent from 2026-09-01 (amended 6 RCNY 5-77)", function()
    local E = { channel = "email", message = { optout_notice = true } }
    it("blocks email without consent, for every collector", function()
        local d = decide(at("2026-11-23T15:00:00Z", E))
        assert_blocked(d, "US-NY-NYC/electronic-consent")
        assert_next(d, nil)
        local c = decide(at("2026-11-23T15:00:00Z", merge(E, { collector = "creditor" })))
        assert_blocked(c, "US-NY-NYC/electronic-consent")
        assert_not_blocked(c, "US-NY/email-consent")    -- the State rule does not bind creditors
    end)
    it("allows email with consent", function()
        local d = decide(at("2026-11-23T15:00:00Z", merge(E, { collector = "creditor", consumer = merge(BK, { consent = { email = true } }) })))
        assert_allowed(d)
    end)
    it("covers texts and push messages, each with its own consent", function()
        local sms = { channel = "sms", collector = "creditor", message = { optout_notice = true } }
        assert_blocked(decide(at("2026-11-23T15:00:00Z", sms)), "US-NY-NYC/electronic-consent")
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", merge(sms, { consumer = merge(BK, { consent = { sms = true } }) }))),
                           "US-NY-NYC/electronic-consent")
        local push = { channel = "push", collector = "creditor", message = { optout_notice = true },
                       consumer = merge(BK, { consent = { email = true } }) }
        assert_blocked(decide(at("2026-11-23T15:00:00Z", push)), "US-NY-NYC/electronic-consent")
    end)
    it("does not touch calls or letters", function()
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { collector = "creditor" })))
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { collector = "creditor", channel = "letter" })))
    end)
    it("does not apply before 2026-09-01, nor outside the City", function()
        local d = decide(at("2026-08-24T14:00:00Z", merge(E, { collector = "creditor" })))
        assert_not_blocked(d, "US-NY-NYC/electronic-consent")
        assert_allowed(d)
        assert_none(decide(at("2026-11-23T15:00:00Z", merge(E, { collector = "creditor", consumer = city("Albany") }))), "US-NY-NYC/")
    end)
end)

describe("creditors: an opt-out stops that electronic medium (amended 6 RCNY 5-77)", function()
    local out = merge(BK, { consent = { email = true, sms = true }, optout = { "email" } })
    local E = { channel = "email", collector = "creditor", consumer = out, message = { optout_notice = true } }
    it("blocks the medium opted out of", function()
        local d = decide(at("2026-11-23T15:00:00Z", E))
        assert_blocked(d, "US-NY-NYC/electronic-optout-creditor")
        assert_next(d, nil)
    end)
    it("not the other media", function()
        assert_allowed(decide(at("2026-11-23T15:00:00Z", merge(E, { channel = "sms" }))))
        assert_allowed(decide(at("2026-11-23T15:00:00Z", merge(E, { channel = "call", dialer = "manual" }))))
    end)
    it("not before 2026-09-01, not for debt collectors, not outside the City", function()
        assert_not_blocked(decide(at("2026-08-24T14:00:00Z", E)), "US-NY-NYC/electronic-optout-creditor")
        local tp = decide(at("2026-11-23T15:00:00Z", merge(E, { collector = "third_party" })))
        assert_not_blocked(tp, "US-NY-NYC/electronic-optout-creditor")
        assert_blocked(tp, "US-FED/medium-optout")
        local albany = merge(city("Albany"), { consent = { email = true }, optout = { "email" } })
        assert_none(decide(at("2026-11-23T15:00:00Z", merge(E, { consumer = albany }))), "US-NY-NYC/")
    end)
end)

describe("the cap's exceptions: the consumer's own contacts and communications required by law", function()
    local function h(entries)
        local out = {}
        for i, e in ipairs(entries) do
            out[i] = merge({ channel = "letter", outcome = "delivered" }, e)
        end
        return out
    end
    it("does not count a notice the law required, nor the consumer's own call", function()
        local two = h({ { at = "2026-11-20T15:00:00Z", required_by_law = true },
                        { at = "2026-11-21T15:00:00Z", channel = "call", outcome = "conversation", direction = "inbound" } })
        local d = decide(at("2026-11-23T15:00:00Z", { channel = "letter", history = two,
                                                      consumer = merge(BK, { language = "en" }) }))
        assert_not_blocked(d, "US-NY-NYC/communication-frequency-per-account")
        assert_eq(#d.assumed, 0)
    end)
    it("counts an entry that does not say, and names the field it assumed", function()
        local two = h({ { at = "2026-11-20T15:00:00Z" }, { at = "2026-11-21T15:00:00Z", required_by_law = false } })
        local d = decide(at("2026-11-23T15:00:00Z", { channel = "letter", history = two }))
        assert_blocked(d, "US-NY-NYC/communication-frequency-per-account")
        assert_true(table.concat(d.assumed, ","):find("history[].required_by_law", 1, true) ~= nil)
        two[1].required_by_law = false
        d = decide(at("2026-11-23T15:00:00Z", { channel = "letter", history = two }))
        assert_blocked(d, "US-NY-NYC/communication-frequency-per-account")
        assert_true(table.concat(d.assumed, ","):find("history[].required_by_law", 1, true) == nil)
    end)
end)

describe("language access", function()
    it("asks for the notice where the language is not English, or not recorded", function()
        local es = merge(BK, { language = "es" })
        assert_requires(decide(at("2026-11-23T15:00:00Z", { channel = "letter", consumer = es })), "language_access_notice")
        local en = merge(BK, { language = "en-US" })
        assert_not_requires(decide(at("2026-11-23T15:00:00Z", { channel = "letter", consumer = en })), "language_access_notice")
        local d = decide(at("2026-11-23T15:00:00Z", { channel = "letter" }))
        assert_requires(d, "language_access_notice")
        assert_true(table.concat(d.assumed, ","):find("consumer.language", 1, true) ~= nil)
    end)
    it("refuses a language that is not a BCP 47 tag, naming the field", function()
        local d, err = decide(at("2026-11-23T15:00:00Z", { channel = "letter", consumer = merge(BK, { language = "Spanish!" }) }))
        assert_eq(d, nil)
        assert_true(err:find("consumer.language", 1, true) ~= nil, err)
    end)
end)
