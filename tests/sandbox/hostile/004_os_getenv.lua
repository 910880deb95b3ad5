-- hostile: leak host secrets through os.getenv
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
return os.getenv("HOME")
