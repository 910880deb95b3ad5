-- hostile: math.random(3, 1): empty interval
-- expect: error interval is empty
-- lua: 5.4
-- defence: stock argument check
return math.random(3, 1)
