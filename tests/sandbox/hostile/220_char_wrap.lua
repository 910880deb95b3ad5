-- hostile: string.char(2^32 + 65): LuaJIT wrapped the value to 65 and answered "A"
-- expect: error value out of range
-- defence: string.char's arguments are checked as Lua 5.4 checks them (lsurface.c)
return string.char(2^32 + 65)
