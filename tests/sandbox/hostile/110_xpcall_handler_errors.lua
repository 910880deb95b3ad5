-- hostile: message handler that raises again (error in error handling)
-- expect: ok
-- output: "done"
-- defence: xpcall re-implemented: handler runs after unwinding, under the hook; limits are sticky
pcall(xpcall, error, function(m) error(m) end)
pcall(xpcall, function() error("x") end, function(m) error({}) end)
return "done"
