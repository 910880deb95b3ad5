-- hostile: replace the metatable of the string metatable
-- expect: error table expected
-- defence: getmetatable("") is not a table
setmetatable(getmetatable(""), {__index = function() return "pwned" end})
