-- hostile: 1 GB memory bomb inside coroutine.wrap, caught with pcall
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit; sticky limit
local ok = pcall(coroutine.wrap(function() return ("x"):rep(1e9) end))
return ok, "survived"
