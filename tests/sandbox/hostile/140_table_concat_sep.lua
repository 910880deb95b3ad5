-- hostile: table.concat with a 1 MB separator
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
local t = {}
for i = 1, 1000 do t[i] = "a" end
return #table.concat(t, ("x"):rep(1000000))
