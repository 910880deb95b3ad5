-- hostile: raise a 10 MB error string (log flooding)
-- expect: error xxxxxxxxxx
-- defence: host truncates error messages
error(("x"):rep(10000000))
