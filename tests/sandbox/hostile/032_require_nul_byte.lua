-- hostile: truncate the module path at an embedded NUL, then traverse
-- expect: error not found
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused
return require("x\0/../../../../etc/passwd")
