-- hostile: replace the global next
-- expect: error read-only
-- defence: base globals read-only
next = function() return nil end
