-- hostile: swallow the memory error of a string-doubling loop inside a coroutine with coroutine.resume
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit; sticky limit
local co = coroutine.create(function() local s = "x" while true do s = s .. s end end)
local ok, e = coroutine.resume(co)
return "survived", ok, e
