-- hostile: table.unpack over indices past 2^31, which LuaJIT wrapped
-- expect: ok
-- output: 3\n"x"
-- defence: ranges past 2^31 are read as Lua 5.4 reads them (lsurface.c)
local t = {[2^32 + 3] = "x"}
return select("#", table.unpack(t, 2^32 + 1, 2^32 + 3)), (select(3, table.unpack(t, 2^32 + 1, 2^32 + 3)))
