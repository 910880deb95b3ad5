-- hostile: table.move whose destination wraps around math.maxinteger
-- expect: error wrap around
-- lua: 5.4
-- defence: stock argument check
table.move({}, 1, math.maxinteger, 2)
