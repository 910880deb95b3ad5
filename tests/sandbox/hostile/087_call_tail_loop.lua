-- hostile: __call that tail-calls itself forever (no stack growth)
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
local t = setmetatable({}, {__call = function(self) return self() end})
t()
