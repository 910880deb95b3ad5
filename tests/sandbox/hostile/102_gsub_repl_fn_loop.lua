-- hostile: gsub with a replacement function that loops
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
return ("aaa"):gsub("a", function() while true do end end)
