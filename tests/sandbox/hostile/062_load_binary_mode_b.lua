-- hostile: ask load for binary mode explicitly, with an env
-- expect: ok
-- output: true\ntrue
-- defence: load wrapper: text only, binary refused, no function readers, env honoured
local f, e = load("\27Lua", "=x", "b", {})
return f == nil, type(e) == "string" and e:find("binary", 1, true) ~= nil
