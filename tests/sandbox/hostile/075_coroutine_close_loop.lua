-- hostile: coroutine.close runs a __close handler that loops
-- expect: limit any
-- args: --time-limit 500
-- lua: 5.4
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky
local co = coroutine.create(function()
  local guard <close> = setmetatable({}, {__close = function() while true do end end})
  coroutine.yield()
end)
coroutine.resume(co)
coroutine.close(co)
return "closed"
