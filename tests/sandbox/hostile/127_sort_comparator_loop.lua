-- hostile: table.sort with a comparator that never returns
-- expect: limit any
-- args: --time-limit 500
-- defence: instruction hook fires inside metamethods (Lua functions)
table.sort({3, 1, 2}, function() while true do end end)
