-- hostile: string.find with a fractional start, which LuaJIT cut to a whole number
-- expect: error number has no integer representation
-- defence: the budgeted matcher reads its integer arguments as Lua 5.4 does (lpattern.c)
return ("abc"):find("b", 1.5)
