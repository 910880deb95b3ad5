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
        assert_eq(ids, { "no_contact", "bankruptcy", "deceased_estate", "dispute_hold", "hardship",
                         "settlement_watch", "promise_watch", "skip_trace", "reaged_returned", "pre_delinquency",
                         "self_cure", "digital_first", "high_balance", "first_contact", "early_stage", "mid_stage",
                         "late_stage", "settlement_campaign" })
    end)
    it("the library has at least 15 journeys, each listed once", function()
        local n, seen = 0, {}
        for _, name in ipairs(require("strategies.library")) do
            assert_true(not seen[name], name .. " listed twice")
            seen[name] = true
            n = n + 1
        end
        assert_true(n >= 15, n .. " journeys")
    end)
end)

-- A debt imported with only the required fields: every shipped journey
-- handles every optional field being absent, in its segment and in every
-- state it can enter (issue: pre_delinquency compared nil with a number and
-- the debt never got a journey).
describe("a debt with only the required fields", function()
    local bare = jspec.bare
    it("starts early: it was placed for collection, so it is past due (never paid: first contact)", function()
        assert_eq(journeys.select(bare()).id, "first_contact")
        assert_eq(journeys.select(bare({ last_payment_date = "2026-10-01" })).id, "early_stage")
    end)
    it("charged off (charge_off_date, no days_past_due): the settlement campaign", function()
        assert_eq(journeys.select(bare({ charge_off_date = "2025-01-31" })).id, "settlement_campaign")
    end)
    it("is never told a payment is coming due", function()
        assert_true(not journeys.get("pre_delinquency"):matches(bare()))
    end)
    it("each journey's segment answers without an error", function()
        for _, J in ipairs(journeys.list) do
            local ok, err = pcall(J.matches, J, bare())
            assert_true(ok, J.id .. ": " .. tostring(err))
        end
    end)
    it("each journey starts and enters every state without an error", function()
        for _, J in ipairs(journeys.list) do
            for _, d in ipairs({ bare(), bare({ charge_off_date = "2025-01-31" }),
                                 bare({ promise = { due = "2026-12-01", amount = 100 } }) }) do
                local ok, err = pcall(J.start, J, d, jspec.ctx())
                assert_true(ok, J.id .. " start: " .. tostring(err))
                ok, err = pcall(jspec.all_sends, J, d, jspec.ctx())
                assert_true(ok, J.id .. " states: " .. tostring(err))
            end
        end
    end)
    it("each journey takes the events it handles without an error", function()
        for _, J in ipairs(journeys.list) do
            local r = J:start(bare(), jspec.ctx())
            for _, ev in ipairs({ "payment", "partial_payment", "promise", "broken_promise", "dispute",
                                  "dispute_verified", "hardship", "cease", "contact", "inbound_reply" }) do
                local ok, err = pcall(J.event, J, jspec.js(r), bare(), { type = ev, amount = 100, balance = 500 },
                                      jspec.ctx())
                assert_true(ok, J.id .. " " .. ev .. ": " .. tostring(err))
            end
        end
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
    it("a debt without days_past_due in the grid too", function()
        for _, flags in ipairs({ {}, { cease = true } }) do
            for _, dispute in ipairs({ "none", "pending", "verified" }) do
                for _, hardship in ipairs({ false, true }) do
                    for _, promise in ipairs({ false, true }) do
                        for _, co in ipairs({ false, true }) do
                            local d = jspec.bare({ flags = flags, dispute = dispute, hardship = hardship or nil,
                                                   promise = promise and { due = "2026-12-01", amount = 100 } or nil,
                                                   charge_off_date = co and "2025-01-31" or nil })
                            assert_true(journeys.select(d) ~= nil, "no journey for " .. show(d))
                        end
                    end
                end
            end
        end
    end)
    it("the dpd boundaries: 0|1, 30|31, 90|91", function()
        local want = { [0] = "pre_delinquency", [1] = "early_stage", [30] = "early_stage",
                       [31] = "mid_stage", [90] = "mid_stage", [91] = "late_stage", [180] = "late_stage",
                       [181] = "settlement_campaign" }
        for dpd, id in pairs(want) do
            assert_eq(journeys.select(debt({ days_past_due = dpd, last_payment_date = "2026-01-01", debt_type = "medical", state = "NY" })).id, id,
                      "dpd " .. dpd)
        end
    end)
end)
