-- Specs for time_barred.lua: the state time-barred disclosures and suit bars generated from
-- sol.lua. NOW is Monday 2026-11-23 18:00Z: 13:00 Eastern, 12:00 Central, 11:00 Mountain,
-- 10:00 Pacific, inside every federal window. Letters keep consent and opt-out rules out of
-- the way unless a case is about another channel.
local sol = require("regulations.sol")
local tb = require("regulations.time_barred")

local NOW = "2026-11-23T18:00:00Z"
local ZONE = { CA = "America/Los_Angeles", NY = "America/New_York", TX = "America/Chicago",
               MA = "America/New_York", NM = "America/Denver", WV = "America/New_York",
               NC = "America/New_York", FL = "America/New_York", CT = "America/New_York",
               CO = "America/Denver", WA = "America/Los_Angeles", OR = "America/Los_Angeles" }

-- A fresh request for a consumer in `st`; `barred` sets debt.time_barred (nil: work it out).
local function req(st, barred, extra)
    local r = merge({ channel = "letter", collector = "third_party",
                      consumer = { state = st, timezones = { ZONE[st] } },
                      debt = { id = "D1", time_barred = barred } }, extra or {})
    r.now = NOW
    return r
end

describe("the generated list", function()
    it("has one regulation per state with a disclosure, sorted by id", function()
        local want = {}
        for code, st in pairs(sol.states) do
            if st.time_barred and st.time_barred.disclosure == true then
                want[#want + 1] = "US-" .. code
            end
        end
        table.sort(want)
        assert_eq(#tb, #want, "count")
        for i, r in ipairs(tb) do
            assert_eq(r.id, want[i], "position " .. i)
        end
    end)
    it("gives each the disclosure rule, and the no-suit rule exactly where sol says suit_prohibited", function()
        for _, r in ipairs(tb) do
            local code = r.id:sub(4)
            local t = sol.states[code].time_barred
            assert_eq(r.rules[1].id, "time-barred-disclosure", r.id)
            assert_true(r.rules[1].cite:find(t.cite, 1, true) == 1, r.id .. " cites sol")
            assert_eq(r.rules[2] and r.rules[2].id or nil, t.suit_prohibited and "time-barred-no-suit" or nil, r.id)
        end
    end)
end)

describe("the disclosure is required on time-barred debt only", function()
    for _, st in ipairs({ "CA", "NY", "TX", "MA", "NM", "WV", "NC", "CT", "CO", "WA" }) do
        -- TX binds debt buyers only; an NC debt buyer or agency may not collect time-barred
        -- debt at all (states/nc.lua), so NC is shown with a creditor (who must also say
        -- the letter is to collect a debt, G.S. 75-54(2)).
        local who = ({ TX = "debt_buyer", NC = "creditor" })[st] or "third_party"
        local base = { collector = who, message = st == "NC" and { debt_collection_disclosure = true } or {} }
        local function with(msg) return merge(base, { message = msg }) end
        it(st .. ": listed when the debt is time-barred, not otherwise; a message without it is blocked", function()
            local d = decide(req(st, true, base))
            assert_allowed(d, st)
            assert_requires(d, "time_barred_notice", st)
            assert_not_requires(decide(req(st, false, base)), "time_barred_notice", st)
            local bad = decide(req(st, true, with({ time_barred_notice = false })))
            assert_blocked(bad, "US-" .. st .. "/time-barred-disclosure", st)
            assert_next(bad, nil, st)
            local good = decide(req(st, true, with({ time_barred_notice = true })))
            assert_allowed(good, st)
            assert_not_requires(good, "time_barred_notice", st)
        end)
    end
    it("is not required in a state without a disclosure rule (FL, OR)", function()
        for _, st in ipairs({ "FL", "OR" }) do
            local d = decide(req(st, true, { message = { time_barred_notice = false } }))
            assert_not_requires(d, "time_barred_notice", st)
            assert_true(not has_rule("US-" .. st .. "/time-barred-disclosure"), st)
        end
    end)
    it("is never required on the notice that collection stops", function()
        assert_not_requires(decide(req("NM", true, { purpose = "cease_notice" })), "time_barred_notice")
    end)
end)

describe("who and which medium", function()
    it("CA, WV: every collector, written communications only", function()
        for _, st in ipairs({ "CA", "WV" }) do
            assert_requires(decide(req(st, true, { collector = "creditor" })), "time_barred_notice", st)
            local email = decide(req(st, true, { channel = "email", consumer = { state = st, timezones = { ZONE[st] },
                                                 consent = { email = true } }, message = { optout_notice = true } }))
            assert_requires(email, "time_barred_notice", st .. " email")
            local call = decide(req(st, true, { channel = "call", dialer = "manual" }))
            assert_allowed(call, st)
            assert_not_requires(call, "time_barred_notice", st .. " call")
        end
    end)
    it("NM: every collector and every medium, calls included", function()
        assert_requires(decide(req("NM", true, { channel = "call", dialer = "manual" })), "time_barred_notice")
        assert_requires(decide(req("NM", true, { collector = "creditor", channel = "call", dialer = "manual" })), "time_barred_notice")
    end)
    it("NY: only a contact that accepts payment needs the 23 NYCRR 1.3 disclosure", function()
        local d = decide(req("NY", true, { channel = "call", dialer = "manual", message = { accepts_payment = true } }))
        assert_requires(d, "time_barred_notice")
        assert_eq(#d.assumed, 0)
        d = decide(req("NY", true, { channel = "call", dialer = "manual", message = { accepts_payment = false } }))
        assert_allowed(d)
        assert_not_requires(d, "time_barred_notice")
        d = decide(req("NY", true, { channel = "call", dialer = "manual",
                                     message = { accepts_payment = true, time_barred_notice = false } }))
        assert_blocked(d, "US-NY/time-barred-disclosure")
        assert_allowed(decide(req("NY", true, { channel = "call", dialer = "manual",
                                               message = { accepts_payment = false, time_barred_notice = false } })))
        -- Not said: taken to accept a payment, and named.
        d = decide(req("NY", true, { channel = "call", dialer = "manual" }))
        assert_requires(d, "time_barred_notice")
        assert_eq(table.concat(d.assumed, ","), "message.accepts_payment")
    end)
    it("NY: third parties and debt buyers in any medium, not creditors", function()
        assert_requires(decide(req("NY", true, { channel = "call", dialer = "manual" })), "time_barred_notice")
        assert_requires(decide(req("NY", true, { collector = "debt_buyer" })), "time_barred_notice")
        assert_not_requires(decide(req("NY", true, { collector = "creditor" })), "time_barred_notice")
    end)
    it("TX: debt buyers only, in writing", function()
        assert_not_requires(decide(req("TX", true)), "time_barred_notice")
        assert_not_requires(decide(req("TX", true, { collector = "creditor" })), "time_barred_notice")
        assert_not_requires(decide(req("TX", true, { collector = "debt_buyer", channel = "call", dialer = "manual" })), "time_barred_notice")
    end)
    it("NC and MA reach creditors", function()
        local nc = decide(req("NC", true, { collector = "creditor", message = { time_barred_notice = false,
                                                                                  debt_collection_disclosure = true } }))
        assert_blocked(nc, "US-NC/time-barred-disclosure")
        assert_requires(decide(req("MA", true, { collector = "creditor" })), "time_barred_notice")
    end)
end)

describe("no suit where state law bars it", function()
    it("CA binds creditors too", function()
        local d = decide(req("CA", true, { collector = "creditor", message = { threatens_suit = true } }))
        assert_blocked(d, "US-CA/time-barred-no-suit")
        assert_next(d, nil)
        assert_not_blocked(decide(req("CA", false, { collector = "creditor", message = { threatens_suit = true } })),
                           "US-CA/time-barred-no-suit")
        assert_not_blocked(decide(req("CA", true, { collector = "creditor", message = { threatens_suit = false } })),
                           "US-CA/time-barred-no-suit")
    end)
    it("CT, NC, TX bind debt buyers and agencies, not original creditors", function()
        for _, st in ipairs({ "CT", "TX" }) do
            assert_blocked(decide(req(st, true, { collector = "debt_buyer", message = { threatens_suit = true } })),
                           "US-" .. st .. "/time-barred-no-suit", st)
            assert_blocked(decide(req(st, true, { message = { threatens_suit = true } })),
                           "US-" .. st .. "/time-barred-no-suit", st)
            assert_not_blocked(decide(req(st, true, { collector = "creditor", message = { threatens_suit = true } })),
                               "US-" .. st .. "/time-barred-no-suit", st)
        end
        assert_blocked(decide(req("NC", true, { message = { threatens_suit = true } })), "US-NC/time-barred-no-suit")
        assert_not_blocked(decide(req("NC", true, { collector = "creditor",
                                                     message = { threatens_suit = true, debt_collection_disclosure = true } })),
                           "US-NC/time-barred-no-suit")
    end)
    it("has no no-suit rule in a disclosure-only state (NY)", function()
        local d = decide(req("NY", true, { collector = "creditor", message = { threatens_suit = true } }))
        assert_true(not has_rule("US-NY/time-barred-no-suit"))
        assert_none(d, "US-NY/time-barred")
    end)
end)

describe("working the status out from the dates", function()
    -- Counted as the courts count (CONTRACT.md): the accrual day excluded, the
    -- anniversary included (the last day to sue), time-barred from the day after,
    -- in the consumer's local date.
    local function card(st, accrued, now, extra)
        local r = req(st, nil, merge({ debt = { id = "D1", type = "credit_card", last_payment_date = accrued,
                                                default_date = accrued } }, extra or {}))
        r.debt.time_barred = nil
        r.now = now or NOW
        return r
    end
    -- Every state and DC with a credit-card period: the last day is Wednesday
    -- 2026-11-18 (no holiday anywhere), so the accrual is `years` earlier (Ohio:
    -- 30 days after the last payment, R.C. 2305.07(C)).
    it("every state: the day before, the day of and the day after the last day", function()
        local n = 0
        for code, st in pairs(sol.states) do
            local years = st.years.credit_card
            if years and years > 0 then
                n = n + 1
                local accrued = (2026 - years) .. "-11-18"
                if st.accrual == "last_charge_or_payment_plus_30d" then
                    accrued = (2026 - years) .. "-10-19"
                end
                local zone = { state = code, timezones = { "America/New_York" } }
                local function on(day)
                    return decide(card(code, accrued, day .. "T17:00:00Z", { consumer = zone }))
                end
                local before, last, after = on("2026-11-17"), on("2026-11-18"), on("2026-11-19")
                assert_true(not before.time_barred, code .. ": the day before the last day")
                assert_true(not last.time_barred, code .. ": the last day (" .. years .. " years)")
                assert_true(after.time_barred, code .. ": the day after the last day")
                assert_eq(after.time_barred_on, "2026-11-19", code)
                assert_eq(before.time_barred_on, "2026-11-19", code)
                assert_eq(after.time_barred_by, "law", code)
            end
        end
        assert_eq(n, 51, "50 states and DC")
    end)
    it("CA: the disclosure follows, and only from the day after the last day", function()
        assert_eq(sol.states.CA.years.credit_card, 4)
        local last = decide(card("CA", "2022-11-18", "2026-11-18T20:00:00Z"))
        assert_not_requires(last, "time_barred_notice")
        local old = decide(card("CA", "2022-11-18", "2026-11-19T20:00:00Z"))
        assert_requires(old, "time_barred_notice")
        assert_blocked(decide(card("CA", "2022-11-18", "2026-11-19T20:00:00Z", { message = { time_barred_notice = false } })),
                       "US-CA/time-barred-disclosure")
    end)
    it("uses the consumer's local date, not the UTC date", function()
        -- 2026-11-19T05:00Z is 21:00 on the 18th in Los Angeles: still the last day there.
        local d = decide(card("CA", "2022-11-18", "2026-11-19T05:00:00Z"))
        assert_true(not d.time_barred, "evening of the last day in California")
        d = decide(card("CA", "2022-11-18", "2026-11-19T08:00:00Z"))
        assert_true(d.time_barred, "past midnight in California")
    end)
    it("CA: a last day on a court holiday moves to the next court day (CCP 12, 12a, 135)", function()
        -- Thanksgiving 2026-11-26, the day after, then the weekend: suit is timely on Monday the 30th.
        local on = function(now) return decide(card("CA", "2022-11-26", now)) end
        assert_true(not on("2026-11-27T20:00:00Z").time_barred, "the day after Thanksgiving")
        assert_true(not on("2026-11-30T20:00:00Z").time_barred, "Monday, the last court day")
        local d = on("2026-12-01T20:00:00Z")
        assert_true(d.time_barred, "Tuesday")
        assert_eq(d.time_barred_on, "2026-12-01")
        -- Christmas 2027 is a Saturday: observed Friday the 24th, so the last day is Monday the 27th.
        d = decide(card("CA", "2023-12-24", "2027-12-24T20:00:00Z"))
        assert_eq(d.time_barred_on, "2027-12-28")
        -- Cesar Chavez Day (March 31, a state holiday) on a Wednesday.
        d = decide(card("CA", "2023-03-31", "2027-03-31T20:00:00Z"))
        assert_true(not d.time_barred)
        assert_eq(d.time_barred_on, "2027-04-02")
    end)
    it("a state without a holiday roll counts the anniversary as it falls", function()
        -- Florida: 4 years; 2026-11-22 is a Sunday, and the roll statute was not read.
        assert_eq(sol.states.FL.roll, nil)
        local d = decide(card("FL", "2022-11-22", "2026-11-23T17:00:00Z"))
        assert_true(d.time_barred)
        assert_eq(d.time_barred_on, "2026-11-23")
    end)
    it("a period ending in a shorter month ends on its last day", function()
        -- Alaska, 3 years from a leap day: 2023 has no February 29, so the last day is the 28th.
        local d = decide(card("AK", "2020-02-29", "2023-03-01T17:00:00Z", { consumer = { state = "AK", timezones = { "America/Anchorage" } } }))
        assert_eq(d.time_barred_on, "2023-03-01")
        assert_true(d.time_barred)
    end)
    it("names the date it stood in for, and accrues from the default when given", function()
        -- Only the last payment: the default is no earlier, so the gate counts from the
        -- payment and says it assumed the default date.
        assert_eq(sol.states.CA.accrual, "default")
        local r = req("CA", nil, { debt = { id = "D1", type = "credit_card", last_payment_date = "2022-11-18" } })
        r.now = "2026-11-19T20:00:00Z"
        local d = decide(r)
        assert_true(d.time_barred)
        assert_eq(table.concat(d.assumed, ","), "debt.default_date")
        -- The first missed payment a month later: the period runs from it.
        r.debt.default_date = "2022-12-18"
        d = decide(r)
        assert_true(not d.time_barred)
        assert_eq(d.time_barred_on, "2026-12-19")
        assert_eq(#d.assumed, 0)
    end)
    it("accrues from the last payment where the state says so (NM: the last item)", function()
        assert_eq(sol.states.NM.accrual, "last_item")
        local r = req("NM", nil, { debt = { id = "D1", type = "credit_card", last_payment_date = "2022-11-18",
                                           default_date = "2022-12-18" } })
        r.now = "2026-11-19T17:00:00Z"
        local d = decide(r)
        assert_true(d.time_barred, "from the last payment, not the later default")
        assert_eq(d.time_barred_on, "2026-11-19")
    end)
    it("Ohio: 30 days after the last payment (R.C. 2305.07(C))", function()
        assert_eq(sol.states.OH.accrual, "last_charge_or_payment_plus_30d")
        local r = req("OH", nil, { debt = { id = "D1", type = "credit_card", last_payment_date = "2020-10-19" } })
        r.consumer.timezones = { "America/New_York" }
        r.now = "2026-11-18T17:00:00Z"
        assert_eq(decide(r).time_barred_on, "2026-11-19")
    end)
    it("a medical debt in NM follows its own period", function()
        local years = sol.states.NM.years.medical
        local y = 2026 - years
        local function med(now)
            local r = req("NM", nil, { debt = { id = "D1", type = "medical", last_payment_date = y .. "-11-18",
                                               default_date = y .. "-11-18" } })
            r.now = now
            return decide(r)
        end
        assert_true(not med("2026-11-18T19:00:00Z").time_barred, years .. " years: the last day")
        assert_true(med("2026-11-19T19:00:00Z").time_barred, years .. " years: the day after")
    end)
    it("is not worked out when the request says", function()
        local d = decide(req("CA", true))
        assert_true(d.time_barred)
        assert_eq(d.time_barred_by, "request")
        assert_eq(d.time_barred_on, nil)
    end)
end)
