-- scripts/lib/journeys.lua: every journey of the strategy set in priority
-- order, and select(debt): the first whose segment takes the debt. Segments
-- may overlap; the priority order makes each debt land in exactly one journey.
-- The set names its journeys in strategies/library.lua, so a strategy folder
-- laid over the tree (scripts/strategies, examples/strategies/dpd) routes
-- with its own list.
local M = {}

local NAMES = require("strategies.library")

local list = {}
for _, n in ipairs(NAMES) do list[#list + 1] = require("strategies." .. n) end
table.sort(list, function(a, b)
    if a.priority ~= b.priority then return a.priority < b.priority end
    return a.id < b.id
end)
M.list = list

function M.select(debt)
    for _, J in ipairs(list) do
        if J:matches(debt) then return J end
    end
    return nil
end

function M.get(id)
    for _, J in ipairs(list) do
        if J.id == id then return J end
    end
end

return M
