-- hostile: 200 KB string under --mem-limit 1 MiB must still work (cap is not a false positive)
-- expect: ok
-- output: 200000
-- args: --mem-limit 1048576
-- defence: none needed
local s = ("x"):rep(200000)
return #s
