-- hostile: ("x"):rep(2^31): LuaJIT read the count as a 32-bit int, wrapped it to a negative number and answered ""
-- expect: error resulting string too large
-- defence: the string.rep wrapper reads the count as Lua 5.4 does and refuses results past 2^31 - 256 bytes on every build
return #("x"):rep(2^31)
