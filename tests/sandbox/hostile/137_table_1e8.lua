-- hostile: fill a table with 1e8 integers
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
local t = {}
for i = 1, 1e8 do t[i] = i end
