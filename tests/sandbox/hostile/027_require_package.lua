-- hostile: get the package library through require
-- expect: error not found
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused
local p = require("package")
return p.loadlib("libc.so.6", "system")
