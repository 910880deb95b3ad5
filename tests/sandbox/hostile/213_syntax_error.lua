-- hostile: a plain syntax error must give FILE:LINE
-- expect: error 213_syntax_error.lua:5:
-- defence: host reports FILE:LINE: message
local x = 1
local y = = 2
return y
