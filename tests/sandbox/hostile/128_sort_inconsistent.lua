-- hostile: table.sort with inconsistent comparators and NaN keys (must end cleanly, not read out of bounds)
-- expect: ok
-- output: "done"
-- defence: stock sort: 'invalid order function for sorting'
local t = {}
for i = 1, 1000 do t[i] = (i * 7919) % 1000 end
pcall(table.sort, t, function(a, b) return true end)
pcall(table.sort, t, function(a, b) return math.random(2) == 1 end)
pcall(table.sort, t, function(a, b) return a <= b end)
pcall(table.sort, {0/0, 1, 0/0, 2, 0/0, 3})
return "done"
