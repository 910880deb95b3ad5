-- hostile: the same subtable twice is not a cycle
-- expect: ok
-- output: [[1],[1]]
-- defence: cycle detection tracks the current path, not all visited tables
local a = {1}
return {a, a}
