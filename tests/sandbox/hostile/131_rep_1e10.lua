-- hostile: ("x"):rep(1e10): a 10 GB string; stock 5.4 refuses results over INT_MAX bytes before allocating anything (a memory-limit error would be as good, but nothing is allocated)
-- expect: error too large
-- lua: 5.4
-- defence: stock str_rep size check (MAXSIZE = INT_MAX), nothing allocated
return #("x"):rep(1e10)
