-- hostile: __close loop that runs while the instruction-limit error unwinds
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- lua: 5.4
-- defence: sticky limit: __close is stopped too and the message stays the limit
local x <close> = setmetatable({}, {__close = function() while true do end end})
while true do end
