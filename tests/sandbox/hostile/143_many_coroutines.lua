-- hostile: create ten million coroutines (each a lua_State)
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
local t = {}
for i = 1, 1e7 do t[i] = coroutine.create(function() end) end
