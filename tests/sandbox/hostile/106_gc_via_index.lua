-- hostile: metatable whose __index invents a __gc on demand
-- expect: ok
-- output: "done"
-- defence: the VM looks __gc up raw; either refused or never finalized
local loop = function() while true do end end
local mt = setmetatable({}, {__index = function(_, k) if k == "__gc" then return loop end end})
pcall(setmetatable, {}, mt)
local junk
for i = 1, 200000 do junk = {i} end
return "done"
