-- hostile: replace or remove the metatable of _G/_ENV to reach hidden names or unfreeze libraries
-- expect: ok
-- output: true\ntrue\ntrue
-- defence: environment metatable protected; base has no dangerous names; libraries stay read-only
local pcall, setmetatable, type, str = pcall, setmetatable, type, string
pcall(setmetatable, _G, {__index = function(_, k) return k end, __newindex = function() end})
pcall(setmetatable, _ENV, nil)
return type(io) ~= "table", type(os) ~= "table", not pcall(function() str.upper = nil end)
