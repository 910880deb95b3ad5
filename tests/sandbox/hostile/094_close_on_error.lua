-- hostile: __close loop that runs while an error unwinds the stack
-- expect: limit any
-- args: --time-limit 500
-- lua: 5.4
-- defence: instruction hook fires inside metamethods (Lua functions); sticky limit during unwinding
do
  local x <close> = setmetatable({}, {__close = function() while true do end end})
  error("boom")
end
