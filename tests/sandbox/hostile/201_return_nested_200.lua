-- hostile: return a table nested 200 levels deep
-- expect: error too deep
-- defence: printer depth limit (100)
local t = {1}
for i = 1, 200 do t = {t} end
return t
