-- Specs for strategies/library.lua: every journey file of the set is listed.
local list = require("strategies.library")

describe("library", function()
    it("names journeys that load, each with its own id", function()
        for _, name in ipairs(list) do
            local J = require("strategies." .. name)
            assert_eq(J.id, name)
        end
    end)
end)
