-- hostile: recursion through pcall until the C stack limit
-- expect: ok
-- output: true
-- defence: LUAI_MAXCCALLS: C stack overflow is a catchable error
local depth = 0
local function f() depth = depth + 1; pcall(f) end
f()
return depth > 10
