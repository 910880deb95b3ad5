-- hostile: use NaN as a table key
-- expect: error NaN
-- defence: stock check
local t = {}
t[0/0] = 1
