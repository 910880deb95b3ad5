-- hostile: to-be-closed variable whose __close loops forever
-- expect: limit any
-- args: --time-limit 500
-- lua: 5.4
-- defence: instruction hook fires inside metamethods (Lua functions); allowhook restored before __close
do
  local x <close> = setmetatable({}, {__close = function() while true do end end})
end
return "closed"
