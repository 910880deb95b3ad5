-- hostile: table.insert(t, 1e18, x)
-- expect: error out of bounds
-- lua: 5.4
-- defence: stock argument check
local t = {}
table.insert(t, 1e18, "x")
