-- Sanity specs for regulations/sol.lua (statutes of limitation by state and debt type).
-- Spot values are the ones checked again while writing the state scripts (2026-11-23):
--   CT 52-576(a) "No action for an account, or on any simple or implied contract, or on any
--      contract in writing, shall be brought but within six years" (quoted by tryascend.com);
--      52-581 three years for express contracts not reduced to writing (same source).
--   CO 13-80-103.5(1)(a) six years for "a liquidated debt or an unliquidated, determinable
--      amount of money" (quoted by debexpert.com).
--   IL credit cards five years (Portfolio Acquisitions v. Feltman, 391 Ill. App. 3d 642
--      (2009), per nationallist.com's Illinois summary).
--   NV open accounts 4, written contracts 6; MN open accounts and written contracts 6
--      (collectionagency.info tables: secondary).
local sol = require("regulations.sol")

local STATES = { "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
                 "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
                 "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
                 "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY" }
local TYPES = { "credit_card", "personal_loan", "auto_loan", "medical", "utility", "telecom", "other" }

describe("sol.lua: shape", function()
    it("has every state and DC, and nothing else", function()
        assert_eq(#STATES, 51, "the list itself")
        for _, code in ipairs(STATES) do
            assert_true(type(sol.states[code]) == "table", code .. " present")
        end
        local n = 0
        for code in pairs(sol.states) do
            n = n + 1
            assert_true(#code == 2, code .. " is a USPS code")
        end
        assert_eq(n, 51, "no extra entries")
    end)
    it("gives every state all 7 debt types as positive whole numbers of years", function()
        for _, code in ipairs(STATES) do
            local y = sol.states[code].years
            assert_true(type(y) == "table", code .. " years")
            for _, t in ipairs(TYPES) do
                local v = y[t]
                assert_true(type(v) == "number" and v == math.floor(v) and v > 0, code .. "." .. t .. " = " .. show(v))
                assert_true(v <= 20, code .. "." .. t .. " plausible")
            end
        end
    end)
    it("names each state and cites a source for every basis it uses", function()
        for _, code in ipairs(STATES) do
            local s = sol.states[code]
            assert_true(type(s.name) == "string" and #s.name > 0, code .. " name")
            for _, t in ipairs(TYPES) do
                local basis = s.basis and s.basis[t]
                assert_true(type(basis) == "string" and type(s.cite[basis]) == "string",
                            code .. "." .. t .. " basis " .. show(basis) .. " is cited")
            end
        end
    end)
    it("gives every time_barred block a citation and the flags the gate reads", function()
        for _, code in ipairs(STATES) do
            local t = sol.states[code].time_barred
            if t then
                assert_true(type(t.cite) == "string" and #t.cite > 0, code .. " cite")
                assert_true(type(t.disclosure) == "boolean", code .. " disclosure")
                assert_true(type(t.suit_prohibited) == "boolean", code .. " suit_prohibited")
            end
        end
    end)
end)

describe("sol.lua: spot values", function()
    it("Connecticut: accounts and written contracts 6, oral express contracts 3", function()
        local y = sol.states.CT.years
        assert_eq(y.credit_card, 6)
        assert_eq(y.medical, 6)
        assert_eq(y.personal_loan, 6)
        assert_eq(y.other, 3)
    end)
    it("Colorado: 6 years for every liquidated or determinable debt", function()
        for _, t in ipairs(TYPES) do
            assert_eq(sol.states.CO.years[t], 6, t)
        end
    end)
    it("Illinois: credit cards 5 (Feltman)", function()
        assert_eq(sol.states.IL.years.credit_card, 5)
    end)
    it("Nevada: open accounts 4, written loans 6", function()
        assert_eq(sol.states.NV.years.credit_card, 4)
        assert_eq(sol.states.NV.years.personal_loan, 6)
    end)
    it("Minnesota: 6 years on contracts", function()
        assert_eq(sol.states.MN.years.credit_card, 6)
        assert_eq(sol.states.MN.years.personal_loan, 6)
    end)
end)
