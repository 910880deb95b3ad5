-- hostile: compile code with the 5.1 loadstring (no env/mode control)
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
return loadstring("return 1")()
