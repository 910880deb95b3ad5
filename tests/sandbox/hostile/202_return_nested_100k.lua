-- hostile: return a table nested 100000 levels deep (recursive printer would blow the C stack)
-- expect: error too deep
-- defence: printer depth limit (100)
local t = {1}
for i = 1, 100000 do t = {t} end
return t
