-- hostile: raise a table whose __tostring loops (host must not call it)
-- expect: error error object is a table value
-- defence: host never calls __tostring on error objects
error(setmetatable({}, {__tostring = function() while true do end end}))
