-- hostile: get the real debug library through require
-- expect: error not found
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused
local d = require("debug")
d.sethook()
