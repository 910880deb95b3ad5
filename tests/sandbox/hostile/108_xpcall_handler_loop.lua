-- hostile: xpcall message handler that loops (stock 5.4 runs it with hooks off)
-- expect: limit any
-- defence: xpcall re-implemented: handler runs after unwinding, under the hook; limits are sticky
xpcall(error, function() while true do end end)
