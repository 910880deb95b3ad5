-- hostile: recursion through pcall, retried forever after each C stack overflow
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction/time limit, sticky
local function f() while true do pcall(f) end end
f()
