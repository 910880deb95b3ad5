-- hostile: rawlen and table.pack (listed in strategies.md) were missing on the LuaJIT build
-- expect: ok
-- output: 3\n3\n3\n"table or string expected, got number"
-- defence: the LuaJIT build adds them (lsurface.c)
local ok, err = pcall(function() return rawlen(5) end)
return rawlen({1, 2, 3}), rawlen("abc"), table.pack(1, nil, 3).n, err:match("%((.*)%)")
