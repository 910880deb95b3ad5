-- hostile: return a table whose __pairs/__index/__len/__tostring loop; the printer must use raw access
-- expect: ok
-- output: {"a":1}
-- defence: printer uses lua_next/lua_rawlen, never metamethods
local loop = function() while true do end end
return setmetatable({a = 1}, {__pairs = loop, __index = loop, __len = loop, __tostring = loop})
