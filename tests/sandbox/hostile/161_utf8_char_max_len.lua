-- hostile: utf8.char(0x7FFFFFFF) builds a 6-byte sequence
-- expect: ok
-- output: 6
-- lua: 5.4
-- defence: stock utf8.char
return #utf8.char(0x7FFFFFFF)
