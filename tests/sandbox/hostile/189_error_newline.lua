-- hostile: raise an error with a newline to forge a second stderr line
-- expect: error first line
-- defence: host flattens the message to one line
error("first line\nsecond line")
