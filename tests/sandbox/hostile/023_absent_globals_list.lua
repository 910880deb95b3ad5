-- hostile: probe every forbidden global name at once; lists the ones that exist
-- expect: ok
-- output: ""
-- defence: environment allowlist: the name is not in the script environment
local names = {"io", "os", "debug", "package", "dofile", "loadfile", "collectgarbage",
  "rawset", "print", "getfenv", "setfenv", "newproxy", "module", "jit", "ffi", "loadstring", "unpack"}
local present = {}
for _, n in ipairs(names) do
  if _G[n] ~= nil then present[#present + 1] = n end
end
if string.dump ~= nil then present[#present + 1] = "string.dump" end
return table.concat(present, ",")
