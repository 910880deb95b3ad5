-- hostile: table.concat of 1000 references to a 1 MB string (1 GB result)
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
local s = ("x"):rep(1000000)
local t = {}
for i = 1, 1000 do t[i] = s end
return #table.concat(t)
