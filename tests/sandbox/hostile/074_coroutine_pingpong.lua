-- hostile: yield/resume ping-pong forever (control goes back to the main thread constantly)
-- expect: limit any
-- args: --time-limit 500
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky
local co = coroutine.wrap(function() while true do coroutine.yield() end end)
while true do co() end
