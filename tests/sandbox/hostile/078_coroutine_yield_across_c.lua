-- hostile: yield from a table.sort comparator (across a C boundary)
-- expect: error yield
-- defence: stock: attempt to yield across a C-call boundary
coroutine.wrap(function() table.sort({3, 2, 1}, function() coroutine.yield() end) end)()
