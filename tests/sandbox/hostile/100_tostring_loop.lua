-- hostile: tostring on a table whose __tostring loops
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
return tostring(setmetatable({}, {__tostring = function() while true do end end}))
