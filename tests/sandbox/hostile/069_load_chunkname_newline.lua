-- hostile: use a chunk name with a newline to forge a second stderr line
-- expect: error boom
-- defence: host flattens the error message to one line
assert(load("error('boom')", "=first\nsecond"))()
