-- hostile: swallow the limit error with pcall and return normally
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- defence: sticky limit (hook keeps raising)
local ok, e = pcall(function() while true do end end)
return "survived", e
