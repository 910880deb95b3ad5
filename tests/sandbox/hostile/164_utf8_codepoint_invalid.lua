-- hostile: utf8.codepoint on invalid UTF-8
-- expect: error invalid UTF-8
-- lua: 5.4
-- defence: stock decoder check
return utf8.codepoint("\xff")
