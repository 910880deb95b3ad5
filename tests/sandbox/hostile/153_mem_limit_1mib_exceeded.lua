-- hostile: 4 MiB string under --mem-limit 1 MiB
-- expect: limit memory
-- args: --mem-limit 1048576
-- defence: capped lua_Alloc (per state), reported as the memory limit
local s = ("x"):rep(4 * 1024 * 1024)
return #s
