-- Specs for federal.lua (FDCPA and Regulation F): both sides of every boundary.
-- 2026-11-23 is a Monday; New York is UTC-5 (EST) then, UTC-4 (EDT) from
-- 2026-03-08 to 2026-11-01.
local NY = { state = "NY", timezones = { "America/New_York" } }
local base = { channel = "call", dialer = "manual", consumer = NY, debt = { id = "D1" } }

local function at(now, extra)
    local r = merge(base, extra or {})
    r.now = now
    return r
end

local function calls(list, outcome)
    local h = {}
    for i, t in ipairs(list) do
        h[i] = { channel = "call", at = t, outcome = outcome or "attempt" }
    end
    return h
end

describe("inconvenient time (8 am to 9 pm local)", function()
    it("blocks 07:59:59", function()
        local d = decide(at("2026-11-23T12:59:59Z"))
        assert_blocked(d, "US-FED/inconvenient-time")
        assert_next(d, "2026-11-23T13:00:00Z")
    end)
    it("allows 08:00:00", function()
        assert_allowed(decide(at("2026-11-23T13:00:00Z")))
    end)
    it("allows 20:59:59", function()
        assert_allowed(decide(at("2026-11-24T01:59:59Z")))
    end)
    it("blocks 21:00:00 until 08:00 the next day", function()
        local d = decide(at("2026-11-24T02:00:00Z"))
        assert_blocked(d, "US-FED/inconvenient-time")
        assert_next(d, "2026-11-24T13:00:00Z")
    end)
    it("judges every zone: Eastern and Pacific leave 11:00-21:00 Eastern", function()
        local two = { state = "NY", timezones = { "America/New_York", "America/Los_Angeles" } }
        local d = decide(at("2026-11-23T15:59:59Z", { consumer = two }))     -- 07:59:59 Pacific
        assert_blocked(d, "US-FED/inconvenient-time")
        assert_next(d, "2026-11-23T16:00:00Z")
        assert_allowed(decide(at("2026-11-23T16:00:00Z", { consumer = two })))
        assert_blocked(decide(at("2026-11-24T02:00:00Z", { consumer = two })), "US-FED/inconvenient-time")
    end)
    it("uses every zone of the state when none is given (Texas: Central and Mountain)", function()
        local r = at("2026-11-23T14:30:00Z")   -- 08:30 Central, 07:30 Mountain
        r.consumer = { state = "TX" }
        local d = decide(r)
        assert_blocked(d, "US-FED/inconvenient-time")
        assert_next(d, "2026-11-23T15:00:00Z")
    end)
    it("applies to texts and emails, not to letters", function()
        assert_blocked(decide(at("2026-11-23T12:00:00Z", { channel = "email" })), "US-FED/inconvenient-time")
        assert_not_blocked(decide(at("2026-11-23T12:00:00Z", { channel = "letter" })), "US-FED/inconvenient-time")
    end)
    it("follows the spring-forward day (2026-03-08, 02:00-03:00 skipped)", function()
        -- 07:59:59 EDT is 11:59:59Z; 08:00:00 EDT is 12:00:00Z
        assert_blocked(decide(at("2026-03-08T11:59:59Z")), "US-FED/inconvenient-time")
        assert_allowed(decide(at("2026-03-08T12:00:00Z")))
        -- at 05:00Z (00:00 EST) the next allowed moment is 08:00 EDT
        assert_next(decide(at("2026-03-08T05:00:00Z")), "2026-03-08T12:00:00Z")
    end)
    it("follows the fall-back day (2026-11-01, 01:00-02:00 repeated)", function()
        -- 08:00 EST on 2026-11-01 is 13:00Z
        assert_blocked(decide(at("2026-11-01T12:59:59Z")), "US-FED/inconvenient-time")
        assert_allowed(decide(at("2026-11-01T13:00:00Z")))
        -- 20:59:59 EST is 01:59:59Z the next day
        assert_allowed(decide(at("2026-11-02T01:59:59Z")))
        assert_blocked(decide(at("2026-11-02T02:00:00Z")), "US-FED/inconvenient-time")
    end)
    it("does not bind a creditor collecting its own debt", function()
        assert_not_blocked(decide(at("2026-11-23T12:00:00Z", { collector = "creditor" })), "US-FED/inconvenient-time")
    end)
end)

describe("times the consumer designated", function()
    it("blocks a designated lunch hour until it ends", function()
        local c = merge(NY, { inconvenient = { { from = "12:00", to = "13:00" } } })
        local d = decide(at("2026-11-23T17:30:00Z", { consumer = c }))   -- 12:30 ET
        assert_blocked(d, "US-FED/consumer-designated-inconvenient")
        assert_next(d, "2026-11-23T18:00:00Z")
        assert_allowed(decide(at("2026-11-23T18:00:00Z", { consumer = c })))
        assert_allowed(decide(at("2026-11-23T16:59:59Z", { consumer = c })))
    end)
    it("blocks a designated Sunday until Monday 08:00", function()
        local c = merge(NY, { inconvenient = { { days = { "sun" } } } })
        local d = decide(at("2026-11-22T15:00:00Z", { consumer = c }))   -- Sunday 10:00 ET
        assert_blocked(d, "US-FED/consumer-designated-inconvenient")
        assert_next(d, "2026-11-23T13:00:00Z")
    end)
end)

describe("7 calls in 7 days (12 CFR 1006.14(b)(2)(i)(A))", function()
    local six = { "2026-11-17T15:00:00Z", "2026-11-18T15:00:00Z", "2026-11-19T15:00:00Z",
                  "2026-11-20T15:00:00Z", "2026-11-21T15:00:00Z", "2026-11-22T15:00:00Z" }
    local seven = { "2026-11-17T15:00:00Z", "2026-11-18T15:00:00Z", "2026-11-19T15:00:00Z",
                    "2026-11-20T15:00:00Z", "2026-11-21T15:00:00Z", "2026-11-22T15:00:00Z",
                    "2026-11-23T14:00:00Z" }
    it("allows the 7th call within 7 days", function()
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { history = calls(six) })))
    end)
    it("blocks the 8th until the oldest call's date leaves the window", function()
        local d = decide(at("2026-11-23T15:00:00Z", { history = calls(seven) }))
        assert_blocked(d, "US-FED/call-frequency")
        -- the call on 11-17 is day 1; on 11-24 (day 8) the window is 11-18..11-24
        assert_next(d, "2026-11-24T13:00:00Z")
    end)
    it("day 7 counts, day 8 does not", function()
        -- seven calls all on 11-17 (day 7 of the window ending 11-23)
        local same = calls({ "2026-11-17T14:00:00Z", "2026-11-17T15:00:00Z", "2026-11-17T16:00:00Z",
                             "2026-11-17T17:00:00Z", "2026-11-17T18:00:00Z", "2026-11-17T19:00:00Z",
                             "2026-11-17T20:00:00Z" })
        assert_blocked(decide(at("2026-11-23T23:00:00Z", { history = same })), "US-FED/call-frequency")
        assert_allowed(decide(at("2026-11-24T13:00:00Z", { history = same })))
    end)
    it("does not count calls that never connected, or texts", function()
        local h = calls(seven)
        h[7].outcome = "not_connected"
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = h })), "US-FED/call-frequency")
        local t = calls(seven)
        t[7].channel = "sms"
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = t })), "US-FED/call-frequency")
    end)
    it("does not count calls about another debt", function()
        local h = calls(seven)
        h[7].debt = "D2"
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = h })), "US-FED/call-frequency")
    end)
end)

describe("7 days after a telephone conversation (1006.14(b)(2)(i)(B))", function()
    local talk = calls({ "2026-11-17T15:00:00Z" }, "conversation")
    it("blocks a call on day 7 (the conversation's date is day 1)", function()
        local d = decide(at("2026-11-23T15:00:00Z", { history = talk }))
        assert_blocked(d, "US-FED/call-after-conversation")
        assert_next(d, "2026-11-24T13:00:00Z")
    end)
    it("allows a call on day 8", function()
        assert_allowed(decide(at("2026-11-24T13:00:00Z", { history = talk })))
    end)
    it("counts a conversation the consumer started", function()
        local h = calls({ "2026-11-22T15:00:00Z" }, "conversation")
        h[1].direction = "inbound"
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { history = h })), "US-FED/call-after-conversation")
    end)
    it("does not stop other channels", function()
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { history = talk, channel = "letter" })),
                           "US-FED/call-after-conversation")
    end)
end)

describe("stops", function()
    local function with_flags(flags, extra)
        return at("2026-11-23T15:00:00Z", merge({ consumer = merge(NY, { flags = flags }) }, extra or {}))
    end
    it("cease: blocks collection for good", function()
        local d = decide(with_flags({ "cease" }))
        assert_blocked(d, "US-FED/cease-communication")
        assert_next(d, nil)
    end)
    it("cease: still allows the notice that collection ends", function()
        assert_not_blocked(decide(with_flags({ "cease" }, { purpose = "cease_notice", channel = "letter" })),
                           "US-FED/cease-communication")
    end)
    it("attorney, deceased, bankruptcy block with no next time", function()
        assert_blocked(decide(with_flags({ "attorney" })), "US-FED/attorney-represented")
        assert_blocked(decide(with_flags({ "deceased" })), "US-FED/deceased-consumer")
        local b = decide(with_flags({ "bankruptcy" }, { collector = "creditor" }))
        assert_blocked(b, "US-FED-ALL/bankruptcy-stay")
        assert_next(b, nil)
    end)
    it("a pending dispute stops collection but not the verification", function()
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { debt = { id = "D1", dispute = "pending" } })),
                       "US-FED/dispute-pending-verification")
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { debt = { id = "D1", dispute = "pending" },
                                                          purpose = "verification", channel = "letter" })))
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { debt = { id = "D1", dispute = "verified" } })))
    end)
    it("no contact at work when the employer prohibits it; home is fine", function()
        assert_blocked(decide(with_flags({ "no_work_contact" }, { place = "work" })), "US-FED/workplace-prohibited")
        assert_allowed(decide(with_flags({ "no_work_contact" })))
    end)
    it("incarcerated: letters only", function()
        assert_blocked(decide(with_flags({ "incarcerated" })), "US-FED/incarcerated")
        assert_allowed(decide(with_flags({ "incarcerated" }, { channel = "letter" })))
    end)
end)

describe("electronic messages", function()
    local email = { channel = "email", consumer = merge(NY, { consent = { email = true, sms = true } }) }
    it("lists the opt-out notice as required when the message is not known yet", function()
        local d = decide(at("2026-11-23T15:00:00Z", email))
        assert_allowed(d)
        assert_requires(d, "optout_notice")
    end)
    it("blocks a message known to lack it, allows one that has it", function()
        assert_blocked(decide(at("2026-11-23T15:00:00Z", merge(email, { message = { optout_notice = false } }))),
                       "US-FED/electronic-optout-notice")
        local d = decide(at("2026-11-23T15:00:00Z", merge(email, { message = { optout_notice = true } })))
        assert_allowed(d)
        assert_not_requires(d, "optout_notice")
    end)
    it("honours an opt-out of the medium", function()
        local c = merge(NY, { optout = { "email" }, consent = { email = true } })
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "email", consumer = c })), "US-FED/medium-optout")
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "call", dialer = "manual", consumer = c })), "US-FED/medium-optout")
    end)
    it("needs consent to text", function()
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "sms" })), "US-FED-ALL/tcpa-sms-consent")
        local c = merge(NY, { consent = { sms = true } })
        assert_not_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "sms", consumer = c })), "US-FED-ALL/tcpa-sms-consent")
    end)
    it("needs consent for an autodialed call", function()
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { dialer = "autodialer", line = "cell" })), "US-FED-ALL/tcpa-autodialed-call")
        local c = merge(NY, { consent = { autodial = true } })
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { dialer = "autodialer", line = "cell", consumer = c })))
    end)
    it("an employer-provided email address needs consent", function()
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "email", place = "work" })), "US-FED/work-email")
    end)
end)

describe("time-barred debts", function()
    it("forbids a threat of suit", function()
        local d = decide(at("2026-11-23T15:00:00Z", { debt = { id = "D1", time_barred = true },
                                                      message = { threatens_suit = true } }))
        assert_blocked(d, "US-FED/time-barred-suit-threat")
        assert_next(d, nil)
    end)
    it("works the status out from the state's statute of limitations", function()
        -- New York: 3 years for a credit card; last payment more than 3 years ago
        local old = decide(at("2026-11-23T15:00:00Z", { debt = { id = "D1", type = "credit_card",
                                                                last_payment_date = "2023-11-22" } }))
        assert_true(old.time_barred, "3 years and a day")
        local young = decide(at("2026-11-23T15:00:00Z", { debt = { id = "D1", type = "credit_card",
                                                                  last_payment_date = "2023-11-24" } }))
        assert_true(not young.time_barred, "a day short of 3 years")
    end)
end)

describe("bad requests", function()
    it("refuses an unknown state", function()
        local d, err = decide({ channel = "call", dialer = "manual", consumer = { state = "ZZ" } })
        assert_eq(d, nil)
        assert_true(err:find("consumer.state", 1, true), err)
    end)
    it("refuses history in the future", function()
        local d, err = decide(at("2026-11-23T15:00:00Z", { history = calls({ "2026-11-24T15:00:00Z" }) }))
        assert_eq(d, nil)
        assert_true(err:find("history[0].at", 1, true), err)
    end)
end)

describe("the attorney exceptions (15 U.S.C. 1692c(a)(2))", function()
    local function rep(att)
        return decide(at("2026-11-23T15:00:00Z", { consumer = merge(NY, { attorney = att }) }))
    end
    it("blocks while the attorney has neither consented nor let 30 days pass, naming what it assumed", function()
        local d = decide(at("2026-11-23T15:00:00Z", { consumer = merge(NY, { flags = { "attorney" } }) }))
        assert_blocked(d, "US-FED/attorney-represented")
        assert_eq(table.concat(d.assumed, ","), "consumer.attorney")
        d = rep({ since = "2026-10-01" })
        assert_blocked(d, "US-FED/attorney-represented")
        assert_eq(table.concat(d.assumed, ","), "consumer.attorney.consented")
    end)
    it("allows contact once the attorney consents", function()
        assert_not_blocked(rep({ since = "2026-10-01", consented = true }), "US-FED/attorney-represented")
        assert_blocked(rep({ since = "2026-10-01", consented = false, responded = true,
                             asked_at = "2026-10-01T15:00:00Z" }), "US-FED/attorney-represented")
    end)
    it("allows it 30 days after an unanswered request, not a second sooner", function()
        local d = rep({ since = "2026-10-01", responded = false, asked_at = "2026-10-24T15:00:01Z" })
        assert_blocked(d, "US-FED/attorney-represented")
        assert_next(d, "2026-11-23T15:00:01Z")
        assert_not_blocked(rep({ since = "2026-10-01", responded = false, asked_at = "2026-10-24T15:00:00Z" }),
                           "US-FED/attorney-represented")
    end)
    it("refuses an attorney known since after now, naming the field", function()
        local d, err = rep({ since = "2026-11-24" })
        assert_eq(d, nil)
        assert_true(err:find("consumer.attorney.since", 1, true) ~= nil, err)
    end)
end)

describe("direct consent to more calls (12 CFR 1006.14(b)(3)(i))", function()
    local function h(days)
        local x = {}
        for i, d in ipairs(days) do
            x[i] = { channel = "call", at = d .. "T15:00:00Z", outcome = "attempt" }
        end
        return x
    end
    local SEVEN = { "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23" }
    it("lets calls through for 7 days from the consent, the consent's date being day 1", function()
        local hist = h(SEVEN)
        assert_blocked(decide(at("2026-11-23T17:00:00Z", { history = hist })), "US-FED/call-frequency")
        local c = merge(NY, { consent = { more_calls_at = "2026-11-17T14:00:00Z" } })
        assert_not_blocked(decide(at("2026-11-23T17:00:00Z", { history = hist, consumer = c })), "US-FED/call-frequency")
        -- Consent on the 10th: its 7 days end on the 16th, before any of these calls.
        c = merge(NY, { consent = { more_calls_at = "2026-11-10T14:00:00Z" } })
        assert_blocked(decide(at("2026-11-23T17:00:00Z", { history = hist, consumer = c })), "US-FED/call-frequency")
    end)
    it("also lifts the 7 days after a conversation within the consent", function()
        local hist = { { channel = "call", at = "2026-11-20T15:00:00Z", outcome = "conversation" } }
        assert_blocked(decide(at("2026-11-23T17:00:00Z", { history = hist })), "US-FED/call-after-conversation")
        local c = merge(NY, { consent = { more_calls_at = "2026-11-20T16:00:00Z" } })
        assert_not_blocked(decide(at("2026-11-23T17:00:00Z", { history = hist, consumer = c })),
                           "US-FED/call-after-conversation")
    end)
end)


describe("the consumer's own requests (1692c(a)(1), 1006.14(h))", function()
    local function with(req_list, extra)
        return decide(at("2026-11-23T15:00:00Z", merge({ consumer = merge(NY, { requests = req_list }) }, extra or {})))
    end
    it("no contact at work, oral or written, without lapse", function()
        local r = { { type = "no_work_contact", at = "2026-01-05T15:00:00Z", form = "oral" } }
        assert_blocked(with(r, { place = "work" }), "US-FED/consumer-requests")
        assert_not_blocked(with(r), "US-FED/consumer-requests")
    end)
    it("no calls in a time range, its start blocked and its end allowed", function()
        local r = { { type = "no_calls_at", at = "2026-11-01T15:00:00Z", from = "10:00", to = "12:00" } }
        assert_blocked(with(r), "US-FED/consumer-requests") -- 10:00 EST
        local d = decide(at("2026-11-23T17:00:00Z", { consumer = merge(NY, { requests = r }) })) -- 12:00
        assert_not_blocked(d, "US-FED/consumer-requests")
        d = decide(at("2026-11-23T14:59:59Z", { consumer = merge(NY, { requests = r }) })) -- 09:59:59
        assert_not_blocked(d, "US-FED/consumer-requests")
    end)
    it("contact only by some media blocks the others", function()
        local r = { { type = "contact_only_by", at = "2026-11-01T15:00:00Z", channels = { "letter" } } }
        assert_blocked(with(r), "US-FED/consumer-requests")
        assert_not_blocked(with(r, { channel = "letter" }), "US-FED/consumer-requests")
    end)
    it("a request made after now does not count; a request in the future is refused", function()
        local d, err = with({ { type = "no_work_contact", at = "2026-11-24T15:00:00Z" } }, { place = "work" })
        assert_eq(d, nil)
        assert_true(err:find("consumer.requests[0].at", 1, true) ~= nil, err)
    end)
end)
