-- hostile: string.byte(s, 1, -1) on a 2 MB string
-- expect: error string slice too long
-- defence: stock luaL_checkstack in str_byte
local s = ("x"):rep(2000000)
return #{s:byte(1, -1)}
