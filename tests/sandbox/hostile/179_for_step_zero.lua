-- hostile: numeric for with step 0
-- expect: error step is zero
-- lua: 5.4
-- defence: stock check
for i = 1, 10, 0 do end
