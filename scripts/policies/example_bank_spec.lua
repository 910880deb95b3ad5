-- Specs for policies/example_bank.lua: a creditor policy adds to the law.
local NY = { state = "NY", timezones = { "America/New_York" } }

local function req(now, extra)
    local r = merge({ channel = "call", dialer = "manual", creditor = "Example Bank", consumer = NY, debt = { id = "D1" } },
                    extra or {})
    r.now = now
    return r
end

describe("Example Bank policy", function()
    it("applies only to its creditor", function()
        local other = req("2026-11-22T15:00:00Z")       -- a Sunday
        other.creditor = "Other Bank"
        assert_allowed(decide(other))
        assert_blocked(decide(req("2026-11-22T15:00:00Z")), "POLICY-EXAMPLE-BANK/no-sundays-or-holidays")
    end)
    it("blocks a federal holiday (Thanksgiving 2026-11-26) until the next morning at 09:00", function()
        local d = decide(req("2026-11-26T15:00:00Z"))
        assert_blocked(d, "POLICY-EXAMPLE-BANK/no-sundays-or-holidays")
        assert_next(d, "2026-11-27T14:00:00Z")
    end)
    it("narrows the calling hours to 09:00-20:00", function()
        assert_blocked(decide(req("2026-11-23T13:59:59Z")), "POLICY-EXAMPLE-BANK/calling-hours")
        assert_allowed(decide(req("2026-11-23T14:00:00Z")))
        assert_allowed(decide(req("2026-11-24T00:59:59Z")))
        assert_blocked(decide(req("2026-11-24T01:00:00Z")), "POLICY-EXAMPLE-BANK/calling-hours")
    end)
    it("allows the third call in 7 days, not the fourth", function()
        local two = { { channel = "call", at = "2026-11-20T15:00:00Z" }, { channel = "call", at = "2026-11-21T15:00:00Z" } }
        assert_allowed(decide(req("2026-11-23T15:00:00Z", { history = two })))
        local three = { two[1], two[2], { channel = "call", at = "2026-11-23T14:00:00Z" } }
        local d = decide(req("2026-11-23T15:00:00Z", { history = three }))
        assert_blocked(d, "POLICY-EXAMPLE-BANK/three-calls-a-week")
        assert_next(d, "2026-11-27T14:00:00Z")   -- the 11-20 call leaves the window on 11-27
    end)
    it("forbids suit language even on a debt that is not time-barred", function()
        assert_blocked(decide(req("2026-11-23T15:00:00Z", { message = { threatens_suit = true } })),
                       "POLICY-EXAMPLE-BANK/no-suit-language")
    end)
end)

describe("a time-barred margin (policy, not law)", function()
    -- New York: 3 years for a credit card (CPLR 214-i); the default on 2023-11-30 makes
    -- 2026-11-30 the last day to sue and 2026-12-01 the first time-barred day.
    local function card(now, creditor)
        return decide(req(now, { creditor = creditor, collector = "creditor", channel = "letter",
                                 debt = { id = "D1", type = "credit_card", last_payment_date = "2023-11-30",
                                          default_date = "2023-11-30" } }))
    end
    it("treats the debt as time-barred 30 days early, and says it is the policy", function()
        local d = card("2026-10-31T15:00:00Z", "Example Bank")
        assert_true(not d.time_barred, "31 days before")
        assert_eq(d.time_barred_on, "2026-12-01")
        assert_eq(d.time_barred_policy.on, "2026-11-01")
        d = card("2026-11-01T15:00:00Z", "Example Bank")
        assert_true(d.time_barred, "30 days before: the margin")
        assert_eq(d.time_barred_by, "policy")
        assert_eq(d.time_barred_policy.rule, "POLICY-EXAMPLE-BANK/time-barred-margin")
        assert_eq(d.time_barred_policy.margin_days, 30)
        d = card("2026-12-01T15:00:00Z", "Example Bank")
        assert_eq(d.time_barred_by, "law")
    end)
    it("does not move another creditor's debts", function()
        local d = card("2026-11-01T15:00:00Z", "Other Bank")
        assert_true(not d.time_barred)
        assert_eq(d.time_barred_policy, nil)
    end)
end)
