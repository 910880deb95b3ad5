-- hostile: double a string with string.format in a loop
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit
local s = "x"
while true do s = string.format("%s%s", s, s) end
