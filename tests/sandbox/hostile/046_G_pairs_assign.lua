-- hostile: replace pairs through _G
-- expect: error read-only
-- defence: base globals read-only
_G.pairs = function() return function() end end
