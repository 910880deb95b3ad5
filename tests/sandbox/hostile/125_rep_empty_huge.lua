-- hostile: string.rep("", 1e18): 1e18 empty memcpy iterations in C, no allocation, no hook
-- expect: ok
-- output: 0
-- args: --time-limit 500
-- defence: the string.rep wrapper answers "" at once when nothing would be copied
return #string.rep("", 1e18)
