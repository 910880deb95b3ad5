-- hostile: table.move with a range of 3 * 2^61 elements that passes every argument check
-- expect: limit instructions
-- defence: the table.move wrapper charges the range to the instruction budget before it starts
table.move({}, -2^62, 2^61, 1)
