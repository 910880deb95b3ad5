-- hostile: swallow the limit error with pcall and keep looping, default limits
-- expect: limit any
-- defence: sticky limit (hook keeps raising)
while true do pcall(function() while true do end end) end
