-- Specs for states/nv.lua (NRS 649). Nevada is on Pacific time: PDT (UTC-7) until
-- 2026-11-01, PST (UTC-8) after. 2026-11-23 is a Monday.
-- The 649.366 notice below is mailed on 2026-09-23 (20:00Z, 13:00 PDT): the day after is
-- day 1, day 60 is 2026-11-22, collection may start at 2026-11-23 00:00 PST = 08:00Z.
local NV = { state = "NV", timezones = { "America/Los_Angeles" } }
local MAILED = "2026-09-23T20:00:00Z"
local NOTICE = { { channel = "letter", at = MAILED, outcome = "delivered" } }

local function req(now, extra)
    local r = merge({ channel = "letter", consumer = NV, debt = { id = "D1", type = "medical" } }, extra or {})
    r.now = now
    return r
end

describe("medical debt: 60 days after the NRS 649.366 notice", function()
    it("blocks a collection letter at 23:59:59 on day 60 until local midnight", function()
        local d = decide(req("2026-11-23T07:59:59Z", { history = NOTICE }))
        assert_blocked(d, "US-NV/medical-debt-notice-wait")
        assert_next(d, "2026-11-23T08:00:00Z")
    end)
    it("allows it at 00:00:00 on day 61", function()
        assert_allowed(decide(req("2026-11-23T08:00:00Z", { history = NOTICE })))
    end)
    it("a call on day 60 waits for day 61 and the federal 8 am start", function()
        local d = decide(req("2026-11-22T18:00:00Z", { channel = "call", dialer = "manual", history = NOTICE }))
        assert_blocked(d, "US-NV/medical-debt-notice-wait")
        assert_next(d, "2026-11-23T16:00:00Z")
        assert_allowed(decide(req("2026-11-23T16:00:00Z", { channel = "call", dialer = "manual", history = NOTICE })))
    end)
    it("counts from the earliest letter about the debt, not a later one", function()
        local h = { NOTICE[1], { channel = "letter", at = "2026-11-01T20:00:00Z", outcome = "delivered" } }
        assert_allowed(decide(req("2026-11-23T08:00:00Z", { history = h })))
    end)
    it("blocks every collection contact until a notice is mailed, with no next time", function()
        local d = decide(req("2026-11-23T18:00:00Z", { channel = "call", dialer = "manual" }))
        assert_blocked(d, "US-NV/medical-debt-notice-wait")
        assert_next(d, nil)
        assert_blocked(decide(req("2026-11-23T18:00:00Z", { purpose = "validation_notice" })),
                       "US-NV/medical-debt-notice-wait")
    end)
    it("lets the notice itself go by mail, not by email", function()
        assert_allowed(decide(req("2026-11-23T18:00:00Z", { message = { nv_medical_debt_notice = true } })))
        local c = merge(NV, { consent = { email = true } })
        local d = decide(req("2026-11-23T18:00:00Z", { channel = "email", consumer = c,
                                                       message = { nv_medical_debt_notice = true, optout_notice = true } }))
        assert_blocked(d, "US-NV/medical-debt-notice-wait")
    end)
    it("does not count a returned letter, a letter about another debt or an inbound one", function()
        for _, h in ipairs({
            { channel = "letter", at = MAILED, outcome = "failed" },
            { channel = "letter", at = MAILED, outcome = "delivered", debt = "D2" },
            { channel = "letter", at = MAILED, outcome = "delivered", direction = "inbound" },
            { channel = "call", at = MAILED, outcome = "conversation" },
        }) do
            assert_blocked(decide(req("2026-11-23T18:00:00Z", { history = { h } })),
                           "US-NV/medical-debt-notice-wait", show(h))
        end
    end)
    it("applies to debt buyers, not to a provider collecting its own bill", function()
        assert_blocked(decide(req("2026-11-23T18:00:00Z", { collector = "debt_buyer" })),
                       "US-NV/medical-debt-notice-wait")
        assert_allowed(decide(req("2026-11-23T18:00:00Z", { collector = "creditor" })))
    end)
    it("does not apply to other debts, other states, or the notice that collection stops", function()
        assert_allowed(decide(req("2026-11-23T18:00:00Z", { debt = { id = "D1", type = "credit_card" } })))
        local ca = { state = "CA", timezones = { "America/Los_Angeles" } }
        assert_not_blocked(decide(req("2026-11-23T18:00:00Z", { consumer = ca })), "US-NV/medical-debt-notice-wait")
        assert_allowed(decide(req("2026-11-23T18:00:00Z", { purpose = "cease_notice" })))
    end)
end)

describe("the notice date given as debt.notices.medical_60_day", function()
    local function with_notice(now, date, extra)
        return decide(req(now, merge({ debt = { id = "D1", type = "medical", notices = { medical_60_day = date } } }, extra or {})))
    end
    it("day 60 blocked until local midnight, day 61 allowed, without a history", function()
        local d = with_notice("2026-11-23T07:59:59Z", "2026-09-23")
        assert_blocked(d, "US-NV/medical-debt-notice-wait")
        assert_next(d, "2026-11-23T08:00:00Z")
        assert_eq(#d.assumed, 0)
        assert_allowed(with_notice("2026-11-23T08:00:00Z", "2026-09-23"))
        assert_allowed(with_notice("2026-11-24T08:00:00Z", "2026-09-23"))
    end)
    it("without it, a block names the field it stood in for", function()
        local d = decide(req("2026-11-23T18:00:00Z"))
        assert_blocked(d, "US-NV/medical-debt-notice-wait")
        assert_eq(table.concat(d.assumed, ","), "debt.notices.medical_60_day")
    end)
    it("refuses a notice date that does not exist, or after now, naming the field", function()
        local d, err = with_notice("2026-11-23T18:00:00Z", "2026-02-30")
        assert_eq(d, nil)
        assert_true(err:find("debt.notices.medical_60_day", 1, true) ~= nil, err)
        d, err = with_notice("2026-11-23T18:00:00Z", "2026-11-24")
        assert_eq(d, nil)
        assert_true(err:find("debt.notices.medical_60_day", 1, true) ~= nil, err)
    end)
end)
