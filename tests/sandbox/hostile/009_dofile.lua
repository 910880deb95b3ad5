-- hostile: execute an arbitrary file with dofile
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
dofile("/etc/passwd")
