-- hostile: inside an empty env, string methods still work but give no way out
-- expect: ok
-- output: "ABC"\ntrue\ntrue
-- defence: load wrapper: text only, binary refused, no function readers, env honoured
local f = assert(load("return ('abc'):upper(), io == nil, os == nil", "x", "t", {}))
return f()
