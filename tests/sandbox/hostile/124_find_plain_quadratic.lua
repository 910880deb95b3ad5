-- hostile: plain find of a 2 MB needle in a 4 MB haystack (string.rep + find, O(n*m) memcmp in C)
-- expect: limit any
-- args: --time-limit 500
-- defence: time limit enforced outside the hook (watchdog) or budgeted find
local s = ("a"):rep(4000000)
return s:find(("a"):rep(2000000) .. "b", 1, true)
