-- hostile: load a precompiled chunk (\27Lua...), the classic bytecode RCE
-- expect: ok
-- output: true\ntrue
-- defence: load wrapper: text only, binary refused, no function readers, env honoured
local f, e = load("\27LuaT\0\25\147\r\n\26\n\4\8\8")
return f == nil, type(e) == "string" and e:find("binary", 1, true) ~= nil
