-- hostile: reach the real library tables through getmetatable(lib).__index and write there
-- expect: ok
-- output: ""
-- defence: library metatables protected by __metatable
local libs = {string = string, table = table, math = math, utf8 = utf8, coroutine = coroutine}
local hits = {}
for name, lib in pairs(libs) do
  local mt = getmetatable(lib)
  if type(mt) == "table" then
    local idx = rawget(mt, "__index")
    if type(idx) == "table" and pcall(function() idx.tallyman_probe = true end)
        and rawget(idx, "tallyman_probe") then
      hits[#hits + 1] = name .. ".__index"
    end
    if pcall(function() mt.__newindex = nil end) and pcall(function() lib.tallyman_probe = true end) then
      hits[#hits + 1] = name .. ".__newindex"
    end
  end
end
table.sort(hits)
return table.concat(hits, ",")
