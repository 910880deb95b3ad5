-- hostile: catch the limit with coroutine.resume and return normally
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky
local ok, e = coroutine.resume(coroutine.create(function() while true do end end))
return ok, e
