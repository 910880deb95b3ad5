-- hostile: change a metatable protected with __metatable
-- expect: error protected metatable
-- defence: stock __metatable protection
local t = setmetatable({}, {__metatable = "locked"})
setmetatable(t, {})
