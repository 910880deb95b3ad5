-- hostile: string.format("%s", t) with a looping __tostring
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
return string.format("%s", setmetatable({}, {__tostring = function() while true do end end}))
