-- hostile: string.format("%d", 2.5): LuaJIT cut it to "2"
-- expect: error number has no integer representation
-- defence: the integer conversions of string.format are checked as Lua 5.4 checks them (lsurface.c)
return string.format("%d", 2.5)
