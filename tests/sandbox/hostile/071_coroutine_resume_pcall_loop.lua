-- hostile: resume a looping coroutine inside pcall, forever
-- expect: limit any
-- args: --time-limit 500
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky
local co = coroutine.create(function() while true do end end)
while true do pcall(coroutine.resume, co) end
