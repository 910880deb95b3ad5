-- hostile: replace coroutine.wrap to bypass the hooked wrapper
-- expect: error read-only
-- defence: shared libraries are read-only proxies (__newindex raises, protected metatable)
coroutine.wrap = function(f) return f end
