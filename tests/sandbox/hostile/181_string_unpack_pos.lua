-- hostile: string.unpack starting at position 1e18
-- expect: error out of string
-- lua: 5.4
-- defence: stock check
return string.unpack("z", "abc", 1e18)
