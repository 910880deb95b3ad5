-- hostile: shadowing shared names with locals only changes the script itself
-- expect: ok
-- output: "shadow"\n"A"\n0
-- defence: lexical scoping; string methods unaffected
local string = {upper = function() return "shadow" end}
local pairs = function() return function() return nil end end
local n = 0
for _ in pairs({1, 2, 3}) do n = n + 1 end
return string.upper("a"), ("a"):upper(), n
