-- hostile: ("%d"):format(2^63): float with no integer representation
-- expect: error no integer representation
-- lua: 5.4
-- defence: stock conversion check
return ("%d"):format(2^63)
