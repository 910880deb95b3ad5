-- hostile: finalizer that loops forever (GCTM runs with allowhook = 0)
-- expect: error __gc
-- defence: setmetatable wrapper refuses metatables with a __gc field (finalizers run with hooks off)
setmetatable({}, {__gc = function() while true do end end})
