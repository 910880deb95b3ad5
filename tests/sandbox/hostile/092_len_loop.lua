-- hostile: __len that never returns
-- expect: limit any
-- args: --time-limit 500
-- lua: 5.4
-- defence: instruction hook fires inside metamethods (Lua functions)
local a = setmetatable({}, {__len = function() while true do end end})
return #a
