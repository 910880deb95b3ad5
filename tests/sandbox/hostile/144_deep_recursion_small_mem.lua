-- hostile: unbounded Lua recursion under a 4 MiB cap (the stack grows into the cap)
-- expect: limit memory
-- args: --mem-limit 4194304
-- lua: 5.4
-- defence: capped lua_Alloc (per state), reported as the memory limit
local function f(n) return 1 + f(n + 1) end
return f(1)
