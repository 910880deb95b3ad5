-- hostile: catch the instruction limit raised in a __close handler through coroutine.close, then return normally
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- lua: 5.4
-- defence: coroutine.create/wrap/resume re-arm the hook on each coroutine; limits are sticky (coroutine.close too)
local co = coroutine.create(function()
  local guard <close> = setmetatable({}, {__close = function() while true do end end})
  coroutine.yield()
end)
coroutine.resume(co)
local ok, e = coroutine.close(co)
return "survived", ok, e
