-- hostile: compile an arbitrary file with loadfile
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
return loadfile("/etc/passwd")
