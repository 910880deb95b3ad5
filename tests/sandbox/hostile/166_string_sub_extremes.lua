-- hostile: string.sub/byte with math.mininteger and math.maxinteger positions
-- expect: ok
-- output: "abc"\n""
-- lua: 5.4
-- defence: stock position clamping
return ("abc"):sub(math.mininteger, math.maxinteger), ("abc"):sub(math.maxinteger), ("abc"):byte(math.mininteger)
