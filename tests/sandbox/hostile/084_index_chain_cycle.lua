-- hostile: __index tables that point at each other
-- expect: error loop
-- defence: stock MAXTAGLOOP: '__index' chain too long; possible loop
local a, b = {}, {}
setmetatable(a, {__index = b})
setmetatable(b, {__index = a})
return a.x
