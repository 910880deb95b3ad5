-- hostile: utf8.codepoint on invalid UTF-8
-- expect: error invalid UTF-8
-- defence: stock decoder check (Lua 5.4), the sandbox's own utf8 (LuaJIT)
return utf8.codepoint("\xff")
