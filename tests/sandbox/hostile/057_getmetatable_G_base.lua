-- hostile: follow getmetatable(_G).__index to the shared base and look for hidden io/os/debug, then write into it
-- expect: ok
-- output: ""\nfalse
-- defence: allowlisted base without dangerous names; base table read-only or unreachable
local names = {"io", "os", "debug", "package", "dofile", "loadfile", "collectgarbage",
  "rawset", "print", "getfenv", "setfenv", "newproxy", "jit", "ffi", "loadstring"}
local mt = getmetatable(_G)
local idx = type(mt) == "table" and rawget(mt, "__index") or nil
local found = {}
for _, k in ipairs(names) do
  local v = rawget(_G, k)
  if v == nil and type(idx) == "table" then v = rawget(idx, k) end
  if v == nil and type(idx) == "function" then
    local ok, r = pcall(idx, _G, k)
    if ok then v = r end
  end
  if v ~= nil then found[#found + 1] = k end
end
local writable = false
if type(idx) == "table" then
  writable = pcall(function() idx.tallyman_probe = 1 end) and rawget(idx, "tallyman_probe") ~= nil
end
return table.concat(found, ","), writable
