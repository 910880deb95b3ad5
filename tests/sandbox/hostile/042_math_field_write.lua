-- hostile: change math.pi
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable)
math.pi = 3
