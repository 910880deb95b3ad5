-- hostile: remove table.insert for other scripts
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable)
table.insert = nil
