-- hostile: table.unpack of 200000 values still works (limit is not a false positive)
-- lua: 5.4
-- expect: ok
-- output: 200000
-- defence: none needed
local t = {}
for i = 1, 200000 do t[i] = i end
return select("#", table.unpack(t))
