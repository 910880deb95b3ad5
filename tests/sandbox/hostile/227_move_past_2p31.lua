-- hostile: table.move to a destination past 2^31, which LuaJIT wrapped
-- expect: ok
-- output: "a"\n"b"
-- defence: ranges past 2^31 are read as Lua 5.4 reads them (lsurface.c)
local t = table.move({"a", "b"}, 1, 2, 2^32)
return t[2^32], t[2^32 + 1]
