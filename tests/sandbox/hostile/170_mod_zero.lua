-- hostile: integer modulo by zero (SIGFPE in naive C)
-- expect: error attempt to perform
-- lua: 5.4
-- defence: stock luaV_mod check
local z = 0
return 1 % z
