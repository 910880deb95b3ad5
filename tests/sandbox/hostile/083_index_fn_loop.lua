-- hostile: __index function that never returns
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
local t = setmetatable({}, {__index = function() while true do end end})
return t.x
