-- hostile: catch the time limit raised in a __close handler through coroutine.close
-- expect: limit time
-- args: --instr-limit 10000000000 --time-limit 300
-- lua: 5.4
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky (coroutine.close too)
local co = coroutine.create(function()
  local guard <close> = setmetatable({}, {__close = function() while true do end end})
  coroutine.yield()
end)
coroutine.resume(co)
local ok, e = coroutine.close(co)
return "survived", ok, e
