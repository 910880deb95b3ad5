-- Segmenting a small portfolio the way a strategy script would: pure
-- functions over plain tables, money in integer minor units (cents).
local portfolio = {
    { id = "D1", state = "MA", balance = 45000,  dpd = 12 },
    { id = "D2", state = "TX", balance = 310000, dpd = 75 },
    { id = "D3", state = "CA", balance = 9900,   dpd = 130 },
    { id = "D4", state = "NY", balance = 150000, dpd = 3 },
    { id = "D5", state = "WA", balance = 72000,  dpd = 200 },
}

local function segment(d)
    if d.dpd <= 30 then return "early" end
    if d.dpd <= 90 then return "mid" end
    if d.dpd <= 180 then return "late" end
    return "recovery"
end

local counts, totals = {}, {}
for _, d in ipairs(portfolio) do
    local s = segment(d)
    counts[s] = (counts[s] or 0) + 1
    totals[s] = (totals[s] or 0) + d.balance
end

-- Format money without floating point: whole dollars and cents from integers.
local function money(cents)
    return string.format("$%d.%02d", cents // 100, cents % 100)
end

local report = {}
for s, n in pairs(counts) do
    report[s] = { debts = n, balance = money(totals[s]) }
end
return report
