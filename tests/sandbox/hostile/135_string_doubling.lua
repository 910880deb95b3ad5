-- hostile: double a string in a loop
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
local s = "x"
while true do s = s .. s end
