-- hostile: load an absolute path with require("/etc/passwd")
-- expect: error not found
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused
return require("/etc/passwd")
