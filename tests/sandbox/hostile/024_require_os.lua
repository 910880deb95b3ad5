-- hostile: get the real os library through require
-- expect: error not found
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused
local os = require("os")
return os.getenv("HOME")
