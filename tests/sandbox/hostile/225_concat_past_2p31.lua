-- hostile: table.concat over keys past 2^31, which LuaJIT wrapped to negative indices
-- expect: ok
-- output: "a-b"
-- defence: ranges past 2^31 are read as Lua 5.4 reads them (lsurface.c)
local t = {[2^32 + 1] = "a", [2^32 + 2] = "b"}
return table.concat(t, "-", 2^32 + 1, 2^32 + 2)
