-- hostile: math.mininteger // -1 and friends (SIGFPE/UB in naive C)
-- expect: ok
-- output: true\ntrue\ntrue\ntrue\ntrue\ntrue
-- lua: 5.4
-- defence: stock wrap-around integer arithmetic
local m = math.mininteger
return m // -1 == m, m % -1 == 0, math.fmod(m, -1) == 0, math.abs(m) == m, -m == m,
  string.format("%d", m) == "-9223372036854775808"
