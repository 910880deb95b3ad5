-- hostile: ("x"):rep(1e10): a 10 GB string; stock 5.4 refuses results over INT_MAX bytes before allocating anything (a memory-limit error would be as good, but nothing is allocated)
-- expect: limit instructions
-- lua: 5.4
-- defence: the string.rep wrapper charges the copy to the instruction budget before it starts
return #("x"):rep(1e10)
