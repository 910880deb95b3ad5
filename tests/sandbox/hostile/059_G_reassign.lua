-- hostile: replace _G with a table that answers every name; hidden names must stay hidden
-- expect: ok
-- output: "A"\n"nil"
-- defence: _G is just a name; lookups go through _ENV
pcall(function()
  _G = setmetatable({}, {__index = function() return function() return "pwned" end end})
end)
return ("a"):upper(), type(os)
