-- hostile: create userdata with a __gc via newproxy (5.1/LuaJIT)
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
return newproxy(true)
