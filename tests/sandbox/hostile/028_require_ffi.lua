-- hostile: get LuaJIT ffi through require
-- expect: error not found
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused
local ffi = require("ffi")
return ffi.C
