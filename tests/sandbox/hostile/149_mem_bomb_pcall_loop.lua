-- hostile: retry a memory bomb forever under pcall
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit; sticky limit
while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end
