-- hostile: set a __gc finalizer from inside a coroutine
-- expect: error __gc
-- defence: setmetatable wrapper refuses metatables with a __gc field (finalizers run with hooks off)
coroutine.wrap(function() setmetatable({}, {__gc = function() while true do end end}) end)()
