-- hostile: string.char with a value above 255
-- expect: error bad argument #2
-- defence: stock argument check
return string.char(65, 256)
