-- hostile: patch string methods for everyone via getmetatable("").__index, string.upper and __index replacement
-- expect: ok
-- output: "ABC"\n"ABC"
-- defence: string metatable hidden by __metatable; shared libraries are read-only proxies (__newindex raises, protected metatable)
local mt = getmetatable("")
pcall(function() mt.__index.upper = function() return "pwned" end end)
pcall(function() mt.__index = {upper = function() return "pwned" end} end)
pcall(function() string.upper = function() return "pwned" end end)
pcall(function() getmetatable("").__index = nil end)
return ("abc"):upper(), string.upper("abc")
