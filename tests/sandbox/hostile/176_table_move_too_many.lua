-- hostile: table.move with a range of 2^63 elements
-- expect: error too many elements
-- lua: 5.4
-- defence: stock argument check
table.move({}, math.mininteger, -1, 1)
