-- hostile: raise a table whose __name says "string" and __tostring fakes a message
-- expect: error error object is a table value
-- defence: host uses lua_type, not __name
error(setmetatable({}, {__name = "string", __tostring = function() return "fake.lua:1: fake" end}))
