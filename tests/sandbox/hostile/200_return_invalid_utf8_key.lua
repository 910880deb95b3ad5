-- hostile: return a table whose key is not valid UTF-8
-- expect: error cannot
-- defence: result printer refuses values it cannot print (keys validated too)
return {["\xff"] = 1}
