-- hostile: __newindex function that never returns
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
local t = setmetatable({}, {__newindex = function() while true do end end})
t.x = 1
