-- hostile: return NaN (not representable in JSON)
-- expect: error cannot
-- defence: result printer refuses values it cannot print
return 0/0
