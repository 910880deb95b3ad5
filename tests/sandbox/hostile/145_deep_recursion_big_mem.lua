-- hostile: unbounded Lua recursion with room to spare: LUAI_MAXSTACK stops it first
-- expect: error stack overflow
-- args: --mem-limit 536870912
-- defence: stock LUAI_MAXSTACK: clean stack overflow error
local function f(n) return 1 + f(n + 1) end
return f(1)
