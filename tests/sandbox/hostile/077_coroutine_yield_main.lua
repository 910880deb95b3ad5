-- hostile: yield from the main chunk to suspend the host
-- expect: error yield
-- defence: main chunk is not a coroutine (error from lua_yield)
coroutine.yield(1)
return "resumed"
