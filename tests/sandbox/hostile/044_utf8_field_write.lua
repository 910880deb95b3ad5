-- hostile: change utf8.charpattern
-- lua: 5.4
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable)
utf8.charpattern = "."
