-- hostile: utf8.char(0x80000000)
-- expect: error out of range
-- lua: 5.4
-- defence: stock argument check
return utf8.char(0x80000000)
