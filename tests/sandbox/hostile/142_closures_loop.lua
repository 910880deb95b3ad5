-- hostile: allocate closures (with upvalues) in a loop
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
local t = {}
for i = 1, 1e8 do t[i] = function() return i end end
