-- Specs for states/others.lua: a statement for every state without a script of its own.
local others = require("regulations.states.others")

local SCRIPTED = { CA = 1, CO = 1, CT = 1, DC = 1, FL = 1, IL = 1, MA = 1, MD = 1, MN = 1, NC = 1, NV = 1,
                   NY = 1, OR = 1, TX = 1, WA = 1, WV = 1 }
local ALL = { "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
              "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
              "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
              "WV", "WI", "WY" }

describe("every state and DC accounted for", function()
    it("has a statement for each state without a script, and none for a scripted one", function()
        local seen = {}
        for _, reg in ipairs(others) do
            local code = reg.id:match("^US%-(%u%u)$")
            assert_true(code ~= nil, reg.id)
            assert_eq(reg.applies.state, code, reg.id)
            assert_true(SCRIPTED[code] == nil, code .. " has its own script")
            assert_true(seen[code] == nil, code .. " twice")
            seen[code] = true
            local st = reg.statement
            assert_true(type(st.checked) == "string" and #st.checked > 0, code .. ": the statute checked")
            assert_true(type(st.finding) == "string" and #st.finding > 0, code .. ": the finding")
            assert_true(st.verified == true or (st.verified == false and type(st.missing) == "string"),
                        code .. ": verified, or what is missing")
        end
        local n = 0
        for _, code in ipairs(ALL) do
            assert_true(seen[code] or SCRIPTED[code], code .. " is not accounted for")
            n = n + 1
        end
        assert_eq(n, 51)
    end)
    it("adds no contact rule: a call in Alabama meets only federal law", function()
        local d = decide({ channel = "call", dialer = "manual", now = "2026-11-23T15:00:00Z",
                           consumer = { state = "AL", timezones = { "America/Chicago" } }, debt = { id = "D1" } })
        assert_allowed(d) -- no rule blocks: Alabama has none of its own to name
    end)
end)
