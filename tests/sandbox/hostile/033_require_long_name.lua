-- hostile: overflow a fixed-size path buffer with a 1 MB module name
-- expect: error not found
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused; no fixed-size path buffer
return require(("a"):rep(1000000))
