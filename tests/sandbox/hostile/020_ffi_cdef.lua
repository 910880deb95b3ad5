-- hostile: declare and call C functions through LuaJIT ffi
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
ffi.cdef("int system(const char *);")
