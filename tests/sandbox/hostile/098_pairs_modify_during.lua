-- hostile: add and remove keys while traversing with pairs (undefined order, must not crash)
-- expect: ok
-- output: "done"
-- defence: stock next() raises or finishes; no crash
local t = {}
for i = 1, 100 do t["k" .. i] = i end
pcall(function()
  local n = 0
  for k in pairs(t) do
    n = n + 1
    if n > 10000 then break end
    t[k] = nil
    t[k .. "x"] = true
  end
end)
return "done"
