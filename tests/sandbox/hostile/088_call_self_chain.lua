-- hostile: a table whose __call is itself: Lua 5.4.4 retries __call in C, shifting the stack each time (quadratic, no hook); stopping it needs a watchdog or a rejection
-- expect: limit any
-- args: --time-limit 500
-- lua: 5.4
-- defence: watchdog outside the hook (C loop in luaD_precall), or refusing non-function __call
local t = {}
setmetatable(t, {__call = t})
t()
