-- hostile: plain infinite loop, default limits
-- expect: limit any
-- defence: instruction hook and deadline
while true do end
