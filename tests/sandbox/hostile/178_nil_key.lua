-- hostile: use nil as a table key
-- expect: error index is nil
-- defence: stock check
local t = {}
t[nil] = 1
