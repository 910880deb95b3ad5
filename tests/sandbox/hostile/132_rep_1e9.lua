-- hostile: ("x"):rep(1e9): a 1 GB string, under the stock INT_MAX cap, so it must hit the allocator cap
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
return #("x"):rep(1e9)
