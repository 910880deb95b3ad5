-- hostile: get the real io library through require
-- expect: error not found
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused
local io = require("io")
return io.open("/etc/passwd"):read("a")
