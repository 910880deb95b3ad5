-- hostile: __gc given as a callable table instead of a function
-- expect: error __gc
-- defence: setmetatable wrapper refuses metatables with a __gc field (finalizers run with hooks off)
setmetatable({}, {__gc = setmetatable({}, {__call = function() while true do end end})})
