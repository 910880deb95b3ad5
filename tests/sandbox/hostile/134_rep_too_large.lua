-- hostile: string.rep whose size overflows size_t
-- expect: error too large
-- lua: 5.4
-- defence: stock overflow check in str_rep
return #("x"):rep(math.maxinteger, "y")
