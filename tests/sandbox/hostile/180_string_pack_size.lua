-- hostile: string.pack with a 17-byte integer
-- expect: error out of limits
-- lua: 5.4
-- defence: stock check
return string.pack("i17", 1)
