-- hostile: utf8.offset with a position of 1e18
-- expect: error out of bounds
-- defence: stock argument check (Lua 5.4), the sandbox's checks (LuaJIT)
return utf8.offset("abc", 1, 1e18)
