-- hostile: math.fmod(1, 0) with integers
-- expect: error zero
-- defence: stock argument check
return math.fmod(1, 0)
