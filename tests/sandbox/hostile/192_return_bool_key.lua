-- hostile: return a table with a boolean key
-- expect: error cannot
-- defence: result printer refuses values it cannot print
return {[true] = 1}
