-- hostile: return a string with a stray 0xFF byte
-- expect: error cannot
-- defence: result printer refuses values it cannot print (UTF-8 validation)
return "a\xffb"
