-- hostile: change a function environment with setfenv (5.1/LuaJIT)
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
setfenv(1, {})
