-- hostile: pass a reader function to load (could feed bytecode piecewise or loop in C)
-- expect: ok
-- output: true\ntrue
-- defence: load wrapper: text only, binary refused, no function readers, env honoured
local f, e = load(function() while true do end end)
return f == nil, type(e) == "string"
