-- hostile: the script file is not valid UTF-8
-- expect: error UTF-8
-- defence: host validates the source encoding
-- the next comment holds bytes that are not UTF-8: ÿþÀ€
return 1
