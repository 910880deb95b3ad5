-- hostile: select(2^32 + 1, ...), which LuaJIT wrapped to select(1, ...)
-- expect: ok
-- output: 0
-- defence: select's index is read as Lua 5.4 reads it (lsurface.c)
return select("#", select(2^32 + 1, "a", "b"))
