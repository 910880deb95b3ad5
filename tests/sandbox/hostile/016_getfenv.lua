-- hostile: read the host environment with getfenv(0)
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
return getfenv(0)
