-- hostile: string.unpack of a fixed string of 2^63-1 bytes from 3 bytes
-- expect: error too short
-- lua: 5.4
-- defence: stock check
return string.unpack("c9223372036854775807", "abc")
