-- hostile: string.rep("x", 2.5): LuaJIT cut the count to 2
-- expect: error number has no integer representation
-- defence: integer arguments are read as Lua 5.4 reads them on every build (lcompat.h)
return string.rep("x", 2.5)
