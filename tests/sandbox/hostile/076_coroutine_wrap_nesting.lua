-- hostile: nest coroutine.wrap calls without bound (C stack)
-- expect: error stack overflow
-- defence: LUAI_MAXCCALLS: C stack overflow is a clean error
local function f(n) return coroutine.wrap(function() return f(n + 1) end)() end
return f(0)
