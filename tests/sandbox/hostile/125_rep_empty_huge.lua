-- hostile: string.rep("", 1e18): 1e18 empty memcpy iterations in C, no allocation, no hook
-- expect: limit any
-- args: --time-limit 500
-- lua: 5.4
-- defence: watchdog or a string.rep wrapper that budgets n
return #string.rep("", 1e18)
