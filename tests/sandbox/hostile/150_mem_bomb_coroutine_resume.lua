-- hostile: swallow the memory error of a 1 GB rep inside a coroutine with coroutine.resume
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit; sticky limit
local ok = coroutine.resume(coroutine.create(function() return ("x"):rep(1e9) end))
return ok, "survived"
