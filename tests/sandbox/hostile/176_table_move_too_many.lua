-- hostile: table.move with a range of 2^63 elements
-- expect: limit instructions
-- lua: 5.4
-- defence: the table.move wrapper charges the range to the instruction budget before it starts
table.move({}, math.mininteger, -1, 1)
