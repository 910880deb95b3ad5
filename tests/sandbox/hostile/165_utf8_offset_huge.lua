-- hostile: utf8.offset with a position of 1e18
-- expect: error out of bounds
-- lua: 5.4
-- defence: stock argument check
return utf8.offset("abc", 1, 1e18)
