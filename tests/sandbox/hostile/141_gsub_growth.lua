-- hostile: gsub that turns 1 MB into 100 MB inside one C call
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
local r = (("x"):rep(1000000)):gsub("x", ("y"):rep(100))
return #r
