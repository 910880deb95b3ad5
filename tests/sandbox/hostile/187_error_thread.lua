-- hostile: raise a coroutine as the error object
-- expect: error thread
-- defence: host reports non-string error objects by type
error(coroutine.create(function() end))
