-- hostile: return a table that contains itself
-- expect: error cannot
-- defence: result printer refuses values it cannot print (cycle detection)
local t = {}
t.self = t
return t
