-- hostile: math.random with 0, reversed and extreme ranges (must not crash)
-- expect: ok
-- output: "done"
-- defence: stock argument checks
pcall(math.random, 0)
pcall(math.random, 3, 1)
pcall(math.random, math.mininteger, math.maxinteger)
pcall(math.random, 1, 0)
pcall(math.random, 1.5)
return "done"
