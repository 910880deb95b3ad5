-- hostile: load with an explicit nil env, hoping for the host globals
-- expect: ok
-- output: true
-- defence: load wrapper: text only, binary refused, no function readers, env honoured
local ok, f = pcall(load, "return io", "x", "t", nil)
if not ok or f == nil then return true end
local ok2, r = pcall(f)
return (not ok2) or r == nil
