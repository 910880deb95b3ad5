-- hostile: give strings a new metatable with setmetatable
-- expect: error table expected
-- defence: setmetatable only accepts tables
setmetatable("", {__index = {upper = function() return "pwned" end}})
