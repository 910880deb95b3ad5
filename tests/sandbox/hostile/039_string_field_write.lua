-- hostile: overwrite an existing string function
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable)
string.upper = function() return "pwned" end
