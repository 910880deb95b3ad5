-- hostile: return infinity (not representable in JSON)
-- expect: error cannot
-- defence: result printer refuses values it cannot print
return 1/0
