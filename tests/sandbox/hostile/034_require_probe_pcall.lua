-- hostile: probe many dangerous module names under pcall and count the ones that load
-- expect: ok
-- output: 0
-- defence: host require: only modules inside the script tree, names with .. / or absolute refused
local names = {"os", "io", "debug", "package", "ffi", "jit", "socket", "lfs", "posix",
  "../../etc/passwd", "/etc/passwd", "/proc/self/environ", "etc.passwd", "..", ".", "",
  "scripts/../../etc/passwd", "\\etc\\passwd"}
local loaded = 0
for _, n in ipairs(names) do
  if pcall(require, n) then loaded = loaded + 1 end
end
return loaded
