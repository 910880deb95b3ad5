-- hostile: swap _ENV for another table and back to look for leftovers
-- expect: ok
-- output: true\ntrue\n"function"
-- lua: 5.4
-- defence: _ENV is an ordinary upvalue of the chunk
local saved = _ENV
_ENV = {}
local inner_io = io
_ENV = saved
return inner_io == nil, io == nil, type(string.upper)
