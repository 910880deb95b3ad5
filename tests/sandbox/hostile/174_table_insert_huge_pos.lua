-- hostile: table.insert(t, 1e18, x)
-- expect: error out of bounds
-- defence: stock argument check (Lua 5.4), the sandbox's checks (LuaJIT)
local t = {}
table.insert(t, 1e18, "x")
