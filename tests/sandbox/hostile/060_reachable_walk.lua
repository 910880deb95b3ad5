-- hostile: walk every table reachable from _G (including metatables and __index) looking for dangerous functions
-- expect: ok
-- output: ""
-- defence: allowlisted, read-only environment; nothing dangerous reachable
local bad = {execute = 1, popen = 1, loadlib = 1, sethook = 1, getregistry = 1, setupvalue = 1,
  getupvalue = 1, upvaluejoin = 1, setlocal = 1, tmpname = 1, getenv = 1, cdef = 1, setfenv = 1,
  getfenv = 1, dofile = 1, loadfile = 1, collectgarbage = 1, rawset = 1, newproxy = 1}
local seen, found, queue = {}, {}, {}
local function push(t, path)
  if type(t) == "table" and not seen[t] then
    seen[t] = true
    queue[#queue + 1] = {t, path}
  end
end
push(_G, "_G")
local smt = getmetatable("")
push(smt, "getmetatable('')")
local i = 1
while i <= #queue and i < 100000 do
  local t, path = queue[i][1], queue[i][2]
  i = i + 1
  local mt = getmetatable(t)
  if type(mt) == "table" then
    push(mt, path .. "<mt>")
    push(rawget(mt, "__index"), path .. "<mt>.__index")
  end
  local k, v = next(t)
  while k ~= nil do
    if type(k) == "string" and bad[k] and v ~= nil then found[#found + 1] = path .. "." .. k end
    push(k, path .. "[key]")
    push(v, path .. "." .. tostring(k))
    k, v = next(t, k)
  end
end
table.sort(found)
return table.concat(found, " ")
