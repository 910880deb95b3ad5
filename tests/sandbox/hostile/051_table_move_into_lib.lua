-- hostile: write into the math library with table.move
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable); table.move honours __newindex
table.move({function() return "pwned" end}, 1, 1, 1, math)
