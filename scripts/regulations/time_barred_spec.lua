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
            local call = decide(req(st, true, { channel = "call" }))
            assert_allowed(call, st)
            assert_not_requires(call, "time_barred_notice", st .. " call")
        end
    end)
    it("NM: every collector and every medium, calls included", function()
        assert_requires(decide(req("NM", true, { channel = "call" })), "time_barred_notice")
        assert_requires(decide(req("NM", true, { collector = "creditor", channel = "call" })), "time_barred_notice")
    end)
    it("NY: third parties and debt buyers in any medium, not creditors", function()
        assert_requires(decide(req("NY", true, { channel = "call" })), "time_barred_notice")
        assert_requires(decide(req("NY", true, { collector = "debt_buyer" })), "time_barred_notice")
        assert_not_requires(decide(req("NY", true, { collector = "creditor" })), "time_barred_notice")
    end)
    it("TX: debt buyers only, in writing", function()
        assert_not_requires(decide(req("TX", true)), "time_barred_notice")
        assert_not_requires(decide(req("TX", true, { collector = "creditor" })), "time_barred_notice")
        assert_not_requires(decide(req("TX", true, { collector = "debt_buyer", channel = "call" })), "time_barred_notice")
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
    -- CA: credit card 4 years (CCP 337); NM: credit card 4 years (NMSA 37-1-4).
    local function card(st, last, extra)
        return req(st, nil, merge({ debt = { id = "D1", type = "credit_card", last_payment_date = last } }, extra or {}))
    end
    it("CA: a day short of 4 years is not time-barred; 4 years to the day is", function()
        assert_eq(sol.states.CA.years.credit_card, 4)
        local young = decide(card("CA", "2022-11-24"))
        assert_true(not young.time_barred, "day before")
        assert_not_requires(young, "time_barred_notice")
        local old = decide(card("CA", "2022-11-23"))
        assert_true(old.time_barred, "day of")
        assert_requires(old, "time_barred_notice")
        assert_blocked(decide(card("CA", "2022-11-23", { message = { time_barred_notice = false } })),
                       "US-CA/time-barred-disclosure")
    end)
    it("NM: the same boundary, and a charge-off earlier than the last payment starts the clock", function()
        assert_eq(sol.states.NM.years.credit_card, 4)
        assert_not_requires(decide(card("NM", "2022-11-24")), "time_barred_notice")
        assert_requires(decide(card("NM", "2022-11-23")), "time_barred_notice")
        local d = decide(req("NM", nil, { debt = { id = "D1", type = "credit_card", last_payment_date = "2024-01-10",
                                                   charge_off_date = "2022-11-23" } }))
        assert_true(d.time_barred, "charged off 4 years ago")
        assert_requires(d, "time_barred_notice")
    end)
    it("a medical debt in NM follows its own period", function()
        local years = sol.states.NM.years.medical
        local y = 2026 - years
        local before = decide(req("NM", nil, { debt = { id = "D1", type = "medical", last_payment_date = y .. "-11-24" } }))
        local on = decide(req("NM", nil, { debt = { id = "D1", type = "medical", last_payment_date = y .. "-11-23" } }))
        assert_true(not before.time_barred and on.time_barred, years .. " years")
    end)
end)
