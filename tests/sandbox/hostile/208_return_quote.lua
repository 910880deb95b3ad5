-- hostile: return a string with quotes to break out of the JSON string
-- expect: ok
-- output: "say \"hi\""
-- defence: JSON string escaping
return 'say "hi"'
