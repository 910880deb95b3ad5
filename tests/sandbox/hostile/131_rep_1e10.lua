-- hostile: ("x"):rep(1e10): a 10 GB string; refused before anything is copied or allocated, with Lua 5.4's error, on every build
-- expect: error resulting string too large
-- defence: the string.rep wrapper checks the result's size (at most 2^31 - 256 bytes) before it charges or copies
return #("x"):rep(1e10)
