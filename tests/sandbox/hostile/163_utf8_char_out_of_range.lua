-- hostile: utf8.char(0x80000000)
-- expect: error out of range
-- defence: stock argument check (Lua 5.4), the sandbox's checks (LuaJIT)
return utf8.char(0x80000000)
