-- hostile: load with env = {} and look for io, os, require, load from inside
-- expect: ok
-- output: 0
-- defence: load wrapper: text only, binary refused, no function readers, env honoured
local f = assert(load("return io, os, string, _G, getmetatable, require, load", "x", "t", {}))
local r = {f()}
local n = 0
for i = 1, 7 do if r[i] ~= nil then n = n + 1 end end
return n
