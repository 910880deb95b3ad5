-- hostile: return a table with a non-integer number key
-- expect: error cannot
-- defence: result printer refuses values it cannot print
return {[1.5] = 1}
