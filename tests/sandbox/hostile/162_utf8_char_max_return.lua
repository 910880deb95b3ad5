-- hostile: return the 6-byte (non-UTF-8) sequence from utf8.char(0x7FFFFFFF) to the JSON printer
-- expect: error cannot
-- defence: printer validates strict UTF-8
return utf8.char(0x7FFFFFFF)
