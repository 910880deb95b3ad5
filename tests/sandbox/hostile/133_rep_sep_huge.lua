-- hostile: string.rep with a 100-byte separator, 1e7 times (1 GB)
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
return #("x"):rep(1e7, ("y"):rep(100))
