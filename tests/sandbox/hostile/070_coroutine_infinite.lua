-- hostile: infinite loop inside a coroutine (hooks are per thread in 5.4)
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky
coroutine.wrap(function() while true do end end)()
