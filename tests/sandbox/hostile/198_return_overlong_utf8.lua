-- hostile: return an overlong UTF-8 encoding of NUL (C0 80)
-- expect: error cannot
-- defence: result printer refuses values it cannot print (strict UTF-8)
return "\xC0\x80"
