-- hostile: math.tointeger at the edges of the integer range
-- expect: ok
-- output: 9007199254740992\ntrue\n0
-- lua: 5.4
-- defence: stock conversion
return math.tointeger(2^53), math.tointeger(2^63) == nil, math.tointeger(-0.0)
