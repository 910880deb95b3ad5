-- hostile: return a coroutine object to the host printer
-- expect: error cannot
-- defence: result printer refuses non-JSON values
return coroutine.create(function() end)
