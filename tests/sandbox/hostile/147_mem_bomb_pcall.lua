-- hostile: swallow the memory error of a string-doubling loop with pcall
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit; sticky limit
local ok = pcall(function() local s = "x" while true do s = s .. s end end)
return ok, "survived"
