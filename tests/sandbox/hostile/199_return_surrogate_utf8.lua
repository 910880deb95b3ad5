-- hostile: return a UTF-8 encoded surrogate (ED A0 80)
-- expect: error cannot
-- defence: result printer refuses values it cannot print (strict UTF-8)
return "\xED\xA0\x80"
