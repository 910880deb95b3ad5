-- hostile: __concat that never returns
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
local a = setmetatable({}, {__concat = function() while true do end end})
return a .. "x"
