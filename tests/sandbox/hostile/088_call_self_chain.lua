-- hostile: a table whose __call is itself: Lua 5.4.4 retries __call in C, shifting the stack each time (quadratic, no hook); stopping it needs a watchdog or a rejection
-- expect: error __call must be a function
-- args: --time-limit 500
-- lua: 5.4
-- defence: setmetatable refuses a __call that is not a function
local t = {}
setmetatable(t, {__call = t})
t()
