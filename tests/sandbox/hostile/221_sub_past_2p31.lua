-- hostile: string.sub and string.byte with positions past 2^31, which LuaJIT wrapped to small ones
-- expect: ok
-- output: ""\n"abc"\n0
-- defence: positions are clamped to what a string can hold, which keeps Lua 5.4's answer (lsurface.c)
return string.sub("abc", 2^32 + 1), string.sub("abc", -2^32), select("#", string.byte("abc", 2^32 + 1))
