-- hostile: write into the string library with table.insert (lua_seti)
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable); table.insert honours __newindex
table.insert(string, "pwned")
