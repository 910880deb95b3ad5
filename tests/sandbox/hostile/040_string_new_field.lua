-- hostile: add a new field to the shared string table (the __newindex path)
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable)
string.evil = function() return "pwned" end
