-- hostile: add __gc to the metatable after setmetatable, then churn memory to trigger a collection
-- expect: ok
-- output: "done"
-- defence: 5.4 marks finalizers only at setmetatable time, when __gc was absent
local mt = {}
local victim = setmetatable({}, mt)
mt.__gc = function() while true do end end
victim = nil
local junk
for i = 1, 200000 do junk = {i} end
return "done"
