-- Specs for states/ca.lua (Rosenthal Act): both sides of every boundary.
-- 2026-11-23 is a Monday; Los Angeles is UTC-8 (PST) then and UTC-7 (PDT) from
-- 2026-03-08 to 2026-11-01. 18:00Z on 2026-11-23 is 10:00 PST; 08:00 PST is 16:00Z.
local CA = { state = "CA", timezones = { "America/Los_Angeles" } }
local base = { channel = "call", dialer = "manual", collector = "creditor", consumer = CA, debt = { id = "D1" } }

local function at(now, extra)
    local r = merge(base, extra or {})
    r.now = now
    return r
end

local function with_flags(flags, extra)
    return at("2026-11-23T18:00:00Z", merge({ consumer = merge(CA, { flags = flags }) }, extra or {}))
end

describe("creditors: 8 a.m. to 9 p.m. (1788.17; 15 U.S.C. 1692c(a)(1))", function()
    it("blocks 07:59:59 and allows 08:00:00", function()
        local d = decide(at("2026-11-23T15:59:59Z"))
        assert_blocked(d, "US-CA/inconvenient-time-creditor")
        assert_next(d, "2026-11-23T16:00:00Z")
        assert_allowed(decide(at("2026-11-23T16:00:00Z")))
    end)
    it("allows 20:59:59 and blocks 21:00:00 until 08:00", function()
        assert_allowed(decide(at("2026-11-24T04:59:59Z")))
        local d = decide(at("2026-11-24T05:00:00Z"))
        assert_blocked(d, "US-CA/inconvenient-time-creditor")
        assert_next(d, "2026-11-24T16:00:00Z")
    end)
    it("follows the spring-forward day (2026-03-08)", function()
        assert_blocked(decide(at("2026-03-08T14:59:59Z")), "US-CA/inconvenient-time-creditor")   -- 07:59:59 PDT
        assert_allowed(decide(at("2026-03-08T15:00:00Z")))
        assert_next(decide(at("2026-03-08T08:00:00Z")), "2026-03-08T15:00:00Z")                 -- 00:00 PST
    end)
    it("follows the fall-back day (2026-11-01)", function()
        assert_blocked(decide(at("2026-11-01T15:59:59Z")), "US-CA/inconvenient-time-creditor")   -- 07:59:59 PST
        assert_allowed(decide(at("2026-11-01T16:00:00Z")))
        assert_allowed(decide(at("2026-11-02T04:59:59Z")))                                       -- 20:59:59 PST
        assert_blocked(decide(at("2026-11-02T05:00:00Z")), "US-CA/inconvenient-time-creditor")
    end)
    it("judges every zone: Pacific and Eastern leave 08:00-18:00 Pacific", function()
        local two = { state = "CA", timezones = { "America/Los_Angeles", "America/New_York" } }
        assert_allowed(decide(at("2026-11-24T01:59:59Z", { consumer = two })))                  -- 17:59:59 PT
        local d = decide(at("2026-11-24T02:00:00Z", { consumer = two }))                        -- 21:00 ET
        assert_blocked(d, "US-CA/inconvenient-time-creditor")
        assert_next(d, "2026-11-24T16:00:00Z")
    end)
    it("applies to texts and email, not to letters", function()
        local c = merge(CA, { consent = { sms = true } })
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "sms", consumer = c, message = { optout_notice = true } })),
                       "US-CA/inconvenient-time-creditor")
        assert_blocked(decide(at("2026-11-23T15:00:00Z", { channel = "email", message = { optout_notice = true } })),
                       "US-CA/inconvenient-time-creditor")
        assert_allowed(decide(at("2026-11-23T15:00:00Z", { channel = "letter" })))
    end)
    it("leaves debt collectors to the federal rule, and does not apply outside California", function()
        local d = decide(at("2026-11-23T15:00:00Z", { collector = "third_party" }))
        assert_not_blocked(d, "US-CA/inconvenient-time-creditor")
        assert_blocked(d, "US-FED/inconvenient-time")
        local nv = { state = "NV", timezones = { "America/Los_Angeles" } }
        assert_none(decide(at("2026-11-23T15:00:00Z", { consumer = nv })), "US-CA/")
    end)
end)

describe("creditors: attorney, workplace, cease (1788.14(c); 1788.17)", function()
    it("attorney: blocks every contact by the creditor", function()
        local d = decide(with_flags({ "attorney" }))
        assert_blocked(d, "US-CA/attorney-represented-creditor")
        assert_next(d, nil)
        assert_blocked(decide(with_flags({ "attorney" }, { channel = "letter" })), "US-CA/attorney-represented-creditor")
        assert_allowed(decide(at("2026-11-23T18:00:00Z")))
    end)
    it("attorney: the federal rule covers debt collectors", function()
        local d = decide(with_flags({ "attorney" }, { collector = "third_party" }))
        assert_not_blocked(d, "US-CA/attorney-represented-creditor")
        assert_blocked(d, "US-FED/attorney-represented")
    end)
    it("workplace: blocks work when the employer forbids it, not home", function()
        assert_blocked(decide(with_flags({ "no_work_contact" }, { place = "work" })), "US-CA/workplace-prohibited-creditor")
        assert_allowed(decide(with_flags({ "no_work_contact" })))
        assert_allowed(decide(at("2026-11-23T18:00:00Z", { place = "work" })))
    end)
    it("cease: blocks collection, allows the closing notice", function()
        local d = decide(with_flags({ "cease" }))
        assert_blocked(d, "US-CA/cease-communication-creditor")
        assert_next(d, nil)
        assert_allowed(decide(with_flags({ "cease" }, { channel = "letter", purpose = "cease_notice" })))
    end)
    it("does not apply outside California", function()
        local nv = { state = "NV", timezones = { "America/Los_Angeles" }, flags = { "attorney", "cease", "no_work_contact" } }
        assert_none(decide(at("2026-11-23T18:00:00Z", { consumer = nv })), "US-CA/")
        assert_none(decide(at("2026-11-23T18:00:00Z", { consumer = nv, place = "work" })), "US-CA/")
    end)
    it("does not extend 1692g to creditors: a pending dispute does not block them", function()
        assert_allowed(decide(at("2026-11-23T18:00:00Z", { debt = { id = "D1", dispute = "pending" } })))
    end)
end)

describe("debt buyers' written statements need the 1788.52(a) records", function()
    local DB = { collector = "debt_buyer", channel = "letter" }
    it("lists the certification as required when the message is not known yet", function()
        local d = decide(at("2026-11-23T18:00:00Z", DB))
        assert_allowed(d)
        assert_requires(d, "debt_buyer_records")
    end)
    it("blocks a statement known to lack it, allows one that has it", function()
        local no = decide(at("2026-11-23T18:00:00Z", merge(DB, { message = { debt_buyer_records = false } })))
        assert_blocked(no, "US-CA/debt-buyer-records")
        assert_next(no, nil)
        local yes = decide(at("2026-11-23T18:00:00Z", merge(DB, { message = { debt_buyer_records = true, ca_license_number = true } })))
        assert_allowed(yes)
        assert_not_requires(yes, "debt_buyer_records")
    end)
    it("covers email, not calls, and not other collectors", function()
        local e = decide(at("2026-11-23T18:00:00Z", merge(DB, { channel = "email", message = { optout_notice = true } })))
        assert_requires(e, "debt_buyer_records")
        assert_not_requires(decide(at("2026-11-23T18:00:00Z", merge(DB, { channel = "call", dialer = "manual" }))), "debt_buyer_records")
        assert_not_requires(decide(at("2026-11-23T18:00:00Z", { channel = "letter", collector = "third_party" })), "debt_buyer_records")
        assert_not_requires(decide(at("2026-11-23T18:00:00Z", { channel = "letter" })), "debt_buyer_records")
    end)
    it("does not apply to the closing notice or outside California", function()
        assert_not_requires(decide(at("2026-11-23T18:00:00Z", merge(DB, { purpose = "cease_notice" }))), "debt_buyer_records")
        local az = { state = "AZ", timezones = { "America/Phoenix" } }
        assert_not_requires(decide(at("2026-11-23T18:00:00Z", merge(DB, { consumer = az }))), "debt_buyer_records")
    end)
end)

describe("written and digital communications show the license number (1788.11(f))", function()
    local TP = { collector = "third_party", channel = "letter" }
    it("lists it as required for a collector's letter", function()
        local d = decide(at("2026-11-23T18:00:00Z", TP))
        assert_allowed(d)
        assert_requires(d, "ca_license_number")
    end)
    it("blocks a message known to lack it, allows one that has it", function()
        assert_blocked(decide(at("2026-11-23T18:00:00Z", merge(TP, { message = { ca_license_number = false } }))),
                       "US-CA/license-number")
        local d = decide(at("2026-11-23T18:00:00Z", merge(TP, { message = { ca_license_number = true } })))
        assert_allowed(d)
        assert_not_requires(d, "ca_license_number")
    end)
    it("covers texts, not calls, and not creditors", function()
        local c = merge(CA, { consent = { sms = true } })
        local s = decide(at("2026-11-23T18:00:00Z", merge(TP, { channel = "sms", consumer = c, message = { optout_notice = true } })))
        assert_requires(s, "ca_license_number")
        assert_not_requires(decide(at("2026-11-23T18:00:00Z", merge(TP, { channel = "call", dialer = "manual" }))), "ca_license_number")
        assert_not_requires(decide(at("2026-11-23T18:00:00Z", { channel = "letter" })), "ca_license_number")
    end)
    it("does not apply outside California", function()
        local az = { state = "AZ", timezones = { "America/Phoenix" } }
        assert_not_requires(decide(at("2026-11-23T18:00:00Z", merge(TP, { consumer = az }))), "ca_license_number")
    end)
end)
