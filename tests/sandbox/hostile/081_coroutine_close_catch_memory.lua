-- hostile: catch the memory limit raised in a __close handler through coroutine.close
-- expect: limit memory
-- lua: 5.4
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky (coroutine.close too)
local co = coroutine.create(function()
  local guard <close> = setmetatable({}, {__close = function() local s = "x" while true do s = s .. s end end})
  coroutine.yield()
end)
coroutine.resume(co)
local ok, e = coroutine.close(co)
return "survived", ok, e
