-- hostile: ephemeron (__mode="k") table churn: memory may plateau, so whichever limit comes first
-- expect: limit any
-- args: --time-limit 500
-- defence: limits; __mode is harmless without __gc
local w = setmetatable({}, {__mode = "k"})
local i = 0
while true do
  i = i + 1
  w[{}] = ("x"):rep(64) .. i
end
