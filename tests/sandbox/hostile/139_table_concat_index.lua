-- hostile: table.concat over an __index table that returns a 1 MB string for every index
-- expect: limit memory
-- lua: 5.4
-- defence: capped lua_Alloc (per state), reported as the memory limit
local s = ("x"):rep(1000000)
local t = setmetatable({}, {__index = function() return s end})
return #table.concat(t, "", 1, 1000000)
