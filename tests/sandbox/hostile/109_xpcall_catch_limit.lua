-- hostile: catch the instruction limit with xpcall and return a value
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- defence: xpcall re-implemented: handler runs after unwinding, under the hook; limits are sticky
return xpcall(function() while true do end end, function(m) return "caught" end)
