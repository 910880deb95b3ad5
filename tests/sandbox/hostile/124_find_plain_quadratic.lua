-- hostile: plain find of a 2 MB needle with its odd byte in the middle, in a 4 MB haystack (O(n*m) compares in C)
-- expect: limit any
-- args: --time-limit 500
-- defence: budgeted find: every compared byte is charged to the instruction budget
local s = ("a"):rep(4000000)
local half = ("a"):rep(1000000)
return s:find(half .. "b" .. half, 1, true)
