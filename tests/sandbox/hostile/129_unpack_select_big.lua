-- hostile: select('#', table.unpack(t)) with a million elements (C stack)
-- expect: error too many results
-- defence: stock lua_checkstack in unpack
local t = {}
for i = 1, 1000000 do t[i] = i end
return select("#", table.unpack(t))
