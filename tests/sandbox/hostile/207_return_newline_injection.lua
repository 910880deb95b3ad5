-- hostile: return a string with a newline to forge an extra JSON line
-- expect: ok
-- output: "1\\n2"
-- defence: JSON string escaping
return "1\n2"
