-- hostile: return an array whose __len claims 1e15 elements
-- expect: ok
-- output: [1,2,3]
-- defence: printer uses raw length
return setmetatable({1, 2, 3}, {__len = function() return 1e15 end, __index = function(_, k) return k end})
