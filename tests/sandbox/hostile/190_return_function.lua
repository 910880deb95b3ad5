-- hostile: return a function
-- expect: error cannot
-- defence: result printer refuses values it cannot print
return function() end
