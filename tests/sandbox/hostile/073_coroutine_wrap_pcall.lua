-- hostile: catch the limit from a coroutine.wrap function with pcall
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky
local f = coroutine.wrap(function() while true do end end)
local ok = pcall(f)
return "survived", ok
