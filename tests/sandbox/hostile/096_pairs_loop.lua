-- hostile: __pairs returning an iterator that never ends
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
local t = setmetatable({}, {__pairs = function(t) return function() return 1, 1 end, t, nil end})
for k in pairs(t) do end
