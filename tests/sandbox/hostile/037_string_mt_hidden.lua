-- hostile: getmetatable("") must not hand out the real string metatable
-- expect: ok
-- output: true
-- defence: string metatable has __metatable set
return type(getmetatable("")) ~= "table"
