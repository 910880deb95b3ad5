-- hostile: reach the LuaJIT jit library
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
jit.off()
