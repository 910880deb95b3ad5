-- hostile: integer division by zero (SIGFPE in naive C)
-- expect: error divide by zero
-- lua: 5.4
-- defence: stock luaV_idiv check
local z = 0
return 1 // z
