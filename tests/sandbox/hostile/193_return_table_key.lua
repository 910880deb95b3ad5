-- hostile: return a table with a table key
-- expect: error cannot
-- defence: result printer refuses values it cannot print
return {[{}] = 1}
