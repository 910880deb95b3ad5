-- hostile: utf8.char(0x7FFFFFFF) builds a 6-byte sequence
-- expect: ok
-- output: 6
-- defence: stock utf8.char (Lua 5.4), the sandbox's own utf8 (LuaJIT)
return #utf8.char(0x7FFFFFFF)
