-- hostile: change utf8.charpattern
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable)
utf8.charpattern = "."
