-- hostile: from loaded source, walk _ENV and its metatable looking for hidden libraries
-- expect: ok
-- output: 0
-- lua: 5.4
-- defence: load wrapper: text only, binary refused, no function readers, env honoured
local f = assert(load([[
  local e = _ENV
  local mt = getmetatable(e)
  local base = type(mt) == "table" and rawget(mt, "__index") or nil
  local hits = 0
  for _, k in ipairs({"io", "os", "debug", "package"}) do
    if rawget(e, k) ~= nil or e[k] ~= nil then hits = hits + 1 end
    if type(base) == "table" and rawget(base, k) ~= nil then hits = hits + 1 end
  end
  return hits
]]))
return f()
