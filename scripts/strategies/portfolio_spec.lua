-- Specs across scripts/strategies: every debt lands in exactly one journey (the
-- first, in priority order, whose segment takes it), and the priorities are
-- distinct.
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local debt = jspec.debt

describe("priorities", function()
    it("are distinct and in the documented order", function()
        local ids, seen = {}, {}
        for i, J in ipairs(journeys.list) do
            ids[i] = J.id
            assert_true(not seen[J.priority], "priority " .. J.priority .. " used twice")
            seen[J.priority] = true
        end
        assert_eq(ids, { "no_contact", "dispute_hold", "hardship", "promise_watch", "pre_delinquency",
                         "early_stage", "mid_stage", "late_stage" })
    end)
end)

describe("every debt lands in one journey", function()
    it("over a grid of dpd, flags, disputes, hardship and promises", function()
        local n = 0
        for _, dpd in ipairs({ -5, 0, 1, 2, 29, 30, 31, 32, 89, 90, 91, 92, 179, 180, 181, 1000 }) do
            for _, flags in ipairs({ {}, { cease = true }, { scra = true } }) do
                for _, dispute in ipairs({ "none", "pending", "verified" }) do
                    for _, hardship in ipairs({ false, true }) do
                        for _, promise in ipairs({ false, true }) do
                            local d = debt({ days_past_due = dpd, flags = flags, dispute = dispute,
                                             hardship = hardship, promise = promise and { due = "2026-12-01" } or nil })
                            local J = journeys.select(d)
                            assert_true(J ~= nil, "no journey for " .. show(d))
                            n = n + 1
                        end
                    end
                end
            end
        end
        assert_eq(n, 16 * 3 * 3 * 2 * 2)
    end)
    it("the dpd boundaries: 0|1, 30|31, 90|91", function()
        local want = { [0] = "pre_delinquency", [1] = "early_stage", [30] = "early_stage",
                       [31] = "mid_stage", [90] = "mid_stage", [91] = "late_stage" }
        for dpd, id in pairs(want) do
            assert_eq(journeys.select(debt({ days_past_due = dpd })).id, id, "dpd " .. dpd)
        end
    end)
end)
