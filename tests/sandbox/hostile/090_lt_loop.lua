-- hostile: __lt that never returns
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
local mt = {__lt = function() while true do end end}
local a, b = setmetatable({}, mt), setmetatable({}, mt)
return a < b
